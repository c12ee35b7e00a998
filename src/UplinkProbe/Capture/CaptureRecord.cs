using UplinkProbe.Decoding;

namespace UplinkProbe.Capture;

/// <summary>
/// Metadata of one captured packet. The packet bytes travel beside it as a <see cref="ReadOnlySpan{T}"/>
/// that is valid only until the source produces the next record.
/// </summary>
public readonly record struct CaptureRecord
{
    /// <summary>1-based record number in the source, counting packet records only (pcap records, EPB, SPB, PB).</summary>
    public long Number { get; init; }

    /// <summary>Nanoseconds since the Unix epoch (UTC). Meaningless when <see cref="HasTimestamp"/> is false (pcapng SPB).</summary>
    public long TimestampNs { get; init; }

    public bool HasTimestamp { get; init; }

    /// <summary>Interface id inside its pcapng section (0 for classic pcap and live capture of one NIC).</summary>
    public int InterfaceId { get; init; }

    /// <summary>0-based pcapng section (each SHB starts one); 0 for classic pcap.</summary>
    public int Section { get; init; }

    /// <summary>Index into the source's interface list (unique across sections).</summary>
    public int InterfaceIndex { get; init; }

    /// <summary>Link type, already masked to 16 bits.</summary>
    public LinkType LinkType { get; init; }

    /// <summary>Direction from pcapng epb_flags bits 0-1, or from a live capture's direction.</summary>
    public PacketDirection Direction { get; init; }

    /// <summary>The whole epb_flags word (RFC draft-ietf-opsawg-pcapng section 4.3.1) when present.</summary>
    public uint EpbFlags { get; init; }

    public bool HasEpbFlags { get; init; }

    /// <summary>Length of the packet on the wire.</summary>
    public int OriginalLength { get; init; }

    /// <summary>Bytes captured, equal to the span's length handed with this record.</summary>
    public int CapturedLength { get; init; }

    /// <summary>Byte offset of the record (pcap record header or pcapng block) in the file.</summary>
    public long FileOffset { get; init; }

    /// <summary>
    /// The record claimed more captured bytes than its container holds (a pcapng EPB/PB/SPB whose captured length
    /// runs past the block body); the data was cut to what exists. Counted in <see cref="CaptureReaderStatistics.ClampedRecords"/>.
    /// </summary>
    public bool CaptureLengthClamped { get; init; }

    /// <summary>
    /// The captured length is above the interface snap length or above the original length. The bytes are returned as
    /// written (tshark does the same). Counted in <see cref="CaptureReaderStatistics.InconsistentLengthRecords"/>.
    /// </summary>
    public bool CapturedLengthInconsistent { get; init; }
}
