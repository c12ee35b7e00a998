using UplinkProbe.Decoding;

namespace UplinkProbe.L2Test;

/// <summary>What one node of an l2test run sent, received and ignored: the content of its JSON file (docs/l2test.md).</summary>
public sealed class L2NodeResult
{
    public required string Node { get; init; }

    public required string Interface { get; init; }

    public MacAddress NicMac { get; init; }

    public MacAddress ForeignMac { get; init; }

    /// <summary>The VLAN ID tagged copies were sent on, or -1.</summary>
    public int VlanId { get; init; } = -1;

    /// <summary>Listening started (capture filter attached), ns since the Unix epoch, this node's clock.</summary>
    public long StartNs { get; set; }

    /// <summary>Listening ended.</summary>
    public long EndNs { get; set; }

    /// <summary>The send window: probes are sent only inside it (a quiet head and tail let peers that start a bit later or earlier hear everything).</summary>
    public long SendStartNs { get; set; }

    public long SendEndNs { get; set; }

    /// <summary>Why the run ended: "duration reached", "SIGINT", "SIGTERM".</summary>
    public string StopReason { get; set; } = "duration reached";

    public List<L2SentStream> Sent { get; } = [];

    public List<L2ReceivedStream> Received { get; } = [];

    public List<L2Peer> Peers { get; } = [];

    public L2IgnoredCounts Ignored { get; } = new();

    public List<string> Warnings { get; } = [];

    public L2SentStream? FindSent(L2ProbeKind kind, int vlanId, string? to) =>
        Sent.Find(s => s.Kind == kind && s.VlanId == vlanId && s.To == to);

    public L2ReceivedStream? FindReceived(string from, L2ProbeKind kind, int vlanId) =>
        Received.Find(r => r.Kind == kind && r.VlanId == vlanId && r.From == from);
}

/// <summary>One stream of probes sent: a kind (and VLAN), to everyone or, for directed kinds, to one peer.</summary>
public sealed class L2SentStream
{
    public L2ProbeKind Kind { get; init; }

    public int VlanId { get; init; } = -1;

    /// <summary>The peer node a directed stream goes to; null for broadcast and group kinds.</summary>
    public string? To { get; init; }

    public MacAddress ToMac { get; init; }

    /// <summary>Probes sent; their sequence numbers are 1..Count.</summary>
    public int Count => TimesNs.Count;

    /// <summary>Send time of each probe (sequence i+1), ns since the Unix epoch, this node's clock.</summary>
    public List<long> TimesNs { get; } = [];
}

/// <summary>Probes of one (peer, kind, VLAN) received.</summary>
public sealed class L2ReceivedStream
{
    public required string From { get; init; }

    public MacAddress FromMac { get; set; }

    public L2ProbeKind Kind { get; init; }

    public int VlanId { get; init; } = -1;

    /// <summary>For the foreign-source kind: the Ethernet source seen (the peer's non-NIC MAC).</summary>
    public MacAddress EthernetSource { get; set; }

    public long Count { get; set; }

    public uint FirstSequence { get; set; }

    public uint LastSequence { get; set; }

    /// <summary>Probes whose sequence number was not above every one seen before (reordered or duplicated).</summary>
    public long OutOfOrder { get; set; }

    /// <summary>Receive time minus the sender's send time: meaningful only as far as the two clocks agree.</summary>
    public long DelayMinNs { get; set; } = long.MaxValue;

    public long DelayMaxNs { get; set; } = long.MinValue;

    public double DelaySumNs { get; set; }

    public double DelayAverageNs => Count == 0 ? 0 : DelaySumNs / Count;

    public long FirstNs { get; set; }

    public long LastNs { get; set; }
}

/// <summary>A peer learned from its probes.</summary>
public sealed record L2Peer(string Node, MacAddress NicMac, long FirstSeenNs);

/// <summary>Frames that passed the capture filter but were not counted.</summary>
public sealed class L2IgnoredCounts
{
    /// <summary>Not probes: other traffic on the EtherType or port, other signatures, other versions.</summary>
    public long Foreign { get; set; }

    /// <summary>Probe magic, but truncated, an unknown kind or a bad node name.</summary>
    public long Malformed { get; set; }

    /// <summary>A valid signature in a frame whose addresses do not fit the kind.</summary>
    public long ShapeMismatch { get; set; }

    /// <summary>Directed probes between two other nodes, seen because the switch flooded them (or promiscuous mode).</summary>
    public long NotForUs { get; set; }

    /// <summary>Probes carrying this node's own name (a loop, or a second instance with the same --node).</summary>
    public long Own { get; set; }

    /// <summary>Packets the kernel dropped (pcap_stats ps_drop), a reason to distrust a loss figure.</summary>
    public long KernelDropped { get; set; }
}
