using System.Runtime.CompilerServices;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis;

/// <summary>
/// One decoded packet as the analyzers see it: which capture and node it came from, and the direction in which it
/// crossed that node's NIC as far as the capture can prove it.
/// </summary>
public readonly ref struct UplinkPacket
{
    private readonly ref readonly CaptureRecord _record;

    public UplinkPacket(CaptureSource source, ref readonly CaptureRecord record, ReadOnlySpan<byte> data, DecodedPacket decoded, PacketDirection direction)
    {
        Source = source;
        _record = ref record;
        Data = data;
        Decoded = decoded;
        Direction = direction;
        LayerMask = decoded.LayerMask;
    }

    public CaptureSource Source { get; }

    /// <summary>The record's metadata, by reference (no copy per access).</summary>
    public ref readonly CaptureRecord Record => ref _record;

    public ReadOnlySpan<byte> Data { get; }

    public DecodedPacket Decoded { get; }

    /// <summary>Outbound: the node sent it; Inbound: the node received it; Unknown: the capture cannot tell.</summary>
    public PacketDirection Direction { get; }

    /// <summary>One bit per <see cref="LayerKind"/> present, so an analyzer can skip a packet with one test.</summary>
    public ulong LayerMask { get; }

    public long TimestampNs => _record.TimestampNs;

    public bool Has(LayerKind kind) => (LayerMask & (1UL << (int)kind)) != 0;
}

/// <summary>One capture given to the analysis and the node whose NIC it was taken on.</summary>
public sealed class CaptureSource
{
    public required string Path { get; init; }

    public required string Node { get; set; }

    /// <summary>How the node name was found: "--node", "pcapng interface", "file name".</summary>
    public required string NodeFrom { get; set; }

    /// <summary>The capture holds only frames the node sent (tcpdump -Q out), so every frame in it is an emission.</summary>
    public bool TransmitOnly { get; init; }

    /// <summary>Position in the analysis' list of sources.</summary>
    public int Index { get; internal set; }

    public CaptureFormat Format { get; internal set; }

    public long Packets { get; internal set; }

    public long FirstNs { get; internal set; } = long.MaxValue;

    public long LastNs { get; internal set; } = long.MinValue;

    /// <summary>Packets whose direction the capture states (epb_flags, SLL/SLL2 packet type, or transmit-only).</summary>
    public long PacketsWithDirection { get; internal set; }

    public long MalformedPackets { get; internal set; }

    public long TruncatedPackets { get; internal set; }

    public string? ReadError { get; internal set; }

    public bool HasDirection => TransmitOnly || PacketsWithDirection > 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Count(in CaptureRecord record, PacketDirection direction, DecodedPacket decoded)
    {
        Packets++;
        if (direction != PacketDirection.Unknown)
        {
            PacketsWithDirection++;
        }

        if (decoded.HasProblem)
        {
            if (decoded.IsMalformed)
            {
                MalformedPackets++;
            }
            else if (decoded.IsTruncated)
            {
                TruncatedPackets++;
            }
        }

        if (record.HasTimestamp)
        {
            FirstNs = Math.Min(FirstNs, record.TimestampNs);
            LastNs = Math.Max(LastNs, record.TimestampNs);
        }
    }

    /// <summary>Adds the counters of the same source in a later part of the packet stream (<see cref="AnalysisSession.Append"/>).</summary>
    internal void Append(CaptureSource later)
    {
        Packets += later.Packets;
        PacketsWithDirection += later.PacketsWithDirection;
        MalformedPackets += later.MalformedPackets;
        TruncatedPackets += later.TruncatedPackets;
        FirstNs = Math.Min(FirstNs, later.FirstNs);
        LastNs = Math.Max(LastNs, later.LastNs);
        if (later.ReadError is not null)
        {
            ReadError = later.ReadError;
        }
    }

    public bool Covers(long ns) => ns >= FirstNs && ns <= LastNs;
}
