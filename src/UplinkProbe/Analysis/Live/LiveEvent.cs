using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis.Live;

/// <summary>What <c>uplinkprobe watch</c> reports as it happens. The JSON names are in <see cref="LiveEventWriter"/>.</summary>
public enum LiveEventKind
{
    /// <summary>A gratuitous ARP (request, reply, announcement), RARP or unsolicited Neighbor Advertisement crossed the NIC.</summary>
    Garp,

    /// <summary>This node started emitting a gateway MAC: the gateway is active here (first seen, moved here, or back).</summary>
    GatewayHere,

    /// <summary>This node stopped emitting a gateway MAC (no frame for the run gap).</summary>
    GatewayStopped,

    /// <summary>Another node announced a gateway MAC (a GARP heard): the gateway moved away from here, or lives elsewhere.</summary>
    GatewayAway,

    /// <summary>A frame with a gateway MAC arrived from another node (not an announcement); while this node emits it, a split brain.</summary>
    GatewayHeard,

    /// <summary>The analysis found something (reported once it has been stable for a while).</summary>
    Finding,

    /// <summary>The periodic one-line status.</summary>
    Status,

    /// <summary>The kernel or the interface dropped packets since the last look.</summary>
    Drops,
}

/// <summary>One event of a live watch. Fields that do not apply to the kind are null.</summary>
public sealed record LiveEvent
{
    public required LiveEventKind Kind { get; init; }

    /// <summary>When it happened (packet time; wall clock for status and drops), ns since the epoch.</summary>
    public required long TimestampNs { get; init; }

    /// <summary>One line for people, without the time.</summary>
    public required string Text { get; init; }

    /// <summary>The node whose capture saw it.</summary>
    public string? Node { get; init; }

    /// <summary>The capture source (the interface name for a live capture).</summary>
    public string? Interface { get; init; }

    public string? Gateway { get; init; }

    public MacAddress? Mac { get; init; }

    public string? Ip { get; init; }

    /// <summary>"out" (this node sent it), "in" (heard from another node) or "unknown".</summary>
    public string? Direction { get; init; }

    /// <summary>For GARPs: gratuitous_request, gratuitous_reply, announcement, rarp, unsolicited_na.</summary>
    public string? ClaimKind { get; init; }

    /// <summary>For <see cref="LiveEventKind.GatewayHere"/>: where the gateway was before, when known ("another node" when only heard).</summary>
    public string? PreviousNode { get; init; }

    /// <summary>Start of the stretch an event closes (<see cref="LiveEventKind.GatewayStopped"/>).</summary>
    public long? SinceNs { get; init; }

    public long? Frames { get; init; }

    public Finding? Finding { get; init; }

    /// <summary>For status and drops: packets fed to the analysis so far.</summary>
    public long? Packets { get; init; }

    public ulong? KernelDrops { get; init; }

    public ulong? InterfaceDrops { get; init; }

    /// <summary>For status: each gateway's state as this watch sees it.</summary>
    public IReadOnlyList<GatewayLiveStatus>? Gateways { get; init; }
}

/// <summary>A gateway as one watch sees it: here, away (another node announced it), heard elsewhere, idle here, or not seen.</summary>
public sealed record GatewayLiveStatus(string Name, MacAddress Mac, string State, long? SinceNs);
