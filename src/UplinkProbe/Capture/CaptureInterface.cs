using UplinkProbe.Decoding;

namespace UplinkProbe.Capture;

/// <summary>One capture interface: a pcapng IDB, the implicit interface of a classic pcap file, or a live NIC.</summary>
public sealed class CaptureInterface
{
    /// <summary>Index in <see cref="CaptureReader.Interfaces"/>.</summary>
    public int Index { get; init; }

    public int Section { get; init; }

    /// <summary>Interface id within its section (the number EPBs refer to).</summary>
    public int LocalId { get; init; }

    public LinkType LinkType { get; init; }

    /// <summary>Link type field as written, before masking (pcap upper bits carry FCS information).</summary>
    public uint RawLinkType { get; init; }

    /// <summary>Snapshot length; 0 means unlimited (pcapng).</summary>
    public uint SnapLength { get; init; }

    public string? Name { get; init; }

    public string? Description { get; init; }

    public string? Comment { get; init; }

    public string? Filter { get; init; }

    public string? OperatingSystem { get; init; }

    public string? Hardware { get; init; }

    /// <summary>Timestamp units per second (if_tsresol; 10^6 by default, 10^9 for nanosecond pcap).</summary>
    public ulong TicksPerSecond { get; init; } = 1_000_000;

    /// <summary>if_tsoffset in seconds, added to every timestamp of this interface.</summary>
    public long TimestampOffsetSeconds { get; init; }

    /// <summary>Node name this interface belongs to, when the capture says so (UplinkProbe writes it in if_description).</summary>
    public string? Node { get; init; }
}
