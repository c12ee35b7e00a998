using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis;

/// <summary>Everything `uplinkprobe analyze` found, ready for the text, JSON and Markdown writers.</summary>
public sealed class AnalysisReport
{
    public AnalysisReport(CloudInventory inventory, IReadOnlyList<CaptureSource> sources)
    {
        Inventory = inventory;
        Sources = sources;
    }

    public CloudInventory Inventory { get; }

    public IReadOnlyList<CaptureSource> Sources { get; }

    /// <summary>Sources worth listing: a merged file's default source that got no packet (every interface named its node) is left out.</summary>
    public IEnumerable<CaptureSource> ListedSources
    {
        get
        {
            var perPath = Sources.GroupBy(s => s.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            return Sources.Where(s => s.Packets > 0 || s.ReadError is not null || perPath[s.Path] == 1);
        }
    }

    public List<GatewayReport> Gateways { get; } = new();

    public List<AnnouncementReport> Announcements { get; } = new();

    public List<GarpBurst> GarpBursts { get; } = new();

    /// <summary>Every gratuitous announcement a node provably sent (one per frame, duplicates across its captures removed), in time order per binding.</summary>
    public List<GarpEvent> GarpEvents { get; } = new();

    public List<FloatingIpReport> FloatingIps { get; } = new();

    public List<TunnelFlowReport> Tunnels { get; } = new();

    public List<BfdSessionReport> BfdSessions { get; } = new();

    public List<Finding> Findings { get; } = new();

    /// <summary>Passive evidence of which broadcast/multicast kinds each node received from which sources (l2test's question).</summary>
    public List<L2EvidenceRow> L2Evidence { get; } = new();

    /// <summary>Things a reader should know about how far the answers go (no direction, no inventory, ...).</summary>
    public List<string> Notes { get; } = new();

    /// <summary>Findings listed at most per (id, subject), e.g. moves of one gateway that flaps all day: the first and the
    /// latest half (the latest matter to <c>watch</c>); the full count is in a note.</summary>
    public const int MaxFindingsPerSubject = 100;

    public void Add(Finding finding) => Findings.Add(finding);

    /// <summary>Keeps the first and latest <see cref="MaxFindingsPerSubject"/>/2 findings of each (id, subject) that has more, with a note.</summary>
    internal void ListFindingEndsOnly()
    {
        var counts = new Dictionary<(string Id, string? Subject), int>();
        foreach (Finding f in Findings)
        {
            counts[(f.Id, f.Subject)] = counts.GetValueOrDefault((f.Id, f.Subject)) + 1;
        }

        if (counts.Values.All(n => n <= MaxFindingsPerSubject))
        {
            return;
        }

        var seen = new Dictionary<(string Id, string? Subject), int>();
        Findings.RemoveAll(f =>
        {
            int total = counts[(f.Id, f.Subject)];
            int index = seen[(f.Id, f.Subject)] = seen.GetValueOrDefault((f.Id, f.Subject)) + 1;
            return total > MaxFindingsPerSubject && index > MaxFindingsPerSubject / 2 && index <= total - (MaxFindingsPerSubject / 2);
        });
        foreach (((string id, string? subject), int count) in counts.Where(c => c.Value > MaxFindingsPerSubject))
        {
            Notes.Add($"{id}{(subject is null ? string.Empty : $" ({subject})")}: {count} findings; the first and latest {MaxFindingsPerSubject / 2} are listed");
        }
    }
}

/// <summary>How sure the probe is that a node sent a frame.</summary>
public enum Attribution
{
    /// <summary>The capture says the node sent it (pcapng epb_flags outbound, SLL/SLL2 outgoing, transmit-only capture).</summary>
    Proven,

    /// <summary>No direction in the capture, but a unicast frame the node would not have been sent by a learning switch.</summary>
    Probable,
}

/// <summary>A stretch of time during which one node emitted frames with a gateway MAC.</summary>
public sealed record TimelineSegment(string Node, long StartNs, long EndNs, long Frames, Attribution Attribution, Evidence FirstEvidence);

/// <summary>The gateway moved from one node to another.</summary>
/// <remarks>
/// <see cref="AtNs"/> is the first frame the new node emitted with the gateway MAC (often data that OVN forwards as soon
/// as it claims the port); <see cref="FirstGarpNs"/> is its first gratuitous ARP, about a second later with OVN 23.03.
/// <see cref="GapNs"/> is the time with no emitter (null when the old node was still emitting: an overlap).
/// </remarks>
public sealed record FailoverEvent(string? From, string To, long AtNs, long? FromLastNs, long? GapNs, int GarpsSeen, int GarpsExpected, string GarpVerdict, Evidence Evidence)
{
    public long? FirstGarpNs { get; init; }
}

/// <summary>Two nodes emitting the same gateway MAC at the same time.</summary>
public sealed record SplitBrainEvent(IReadOnlyList<string> Nodes, long StartNs, long EndNs, IReadOnlyList<Evidence> Evidence);

/// <summary>One router gateway port (or a MAC that behaves like one) and who emitted it when.</summary>
public sealed class GatewayReport
{
    public required string Name { get; init; }

    public string? Port { get; init; }

    public string? ChassisRedirectPort { get; init; }

    public MacAddress Mac { get; init; }

    public List<string> Ips { get; } = new();

    public required FactSource Source { get; init; }

    public List<TimelineSegment> Timeline { get; } = new();

    public List<FailoverEvent> Failovers { get; } = new();

    public List<SplitBrainEvent> SplitBrains { get; } = new();

    /// <summary>The node that owns the gateway at the end of the captures, and since when (its last move, or the first emission).</summary>
    public string? ActiveNode { get; set; }

    public long? ActiveSinceNs { get; set; }

    /// <summary>The owner before the last move and its last emission before that move.</summary>
    public string? PreviousNode { get; set; }

    public long? PreviousUntilNs { get; set; }

    /// <summary>GARPs from the active node in the burst that started its last segment / expected.</summary>
    public int ActiveGarps { get; set; }

    public int ActiveGarpsExpected { get; set; }

    /// <summary>What the control plane (inventory) says is active.</summary>
    public string? ControlPlaneActive { get; init; }

    public List<GatewayChassisPriority> Candidates { get; } = new();
}

/// <summary>Who announced an (IP, MAC) binding, how often, and when.</summary>
public sealed class AnnouncementReport
{
    /// <summary>IPv4 or IPv6 text; empty for RARP, which announces a MAC only.</summary>
    public required string Ip { get; init; }

    public MacAddress Mac { get; init; }

    /// <summary>gratuitous_request, gratuitous_reply, announcement, reply, rarp, unsolicited_na, solicited_na.</summary>
    public SortedDictionary<string, long> Kinds { get; } = new(StringComparer.Ordinal);

    /// <summary>Nodes proven to have sent it, with the count of frames.</summary>
    public SortedDictionary<string, long> Announcers { get; } = new(StringComparer.Ordinal);

    /// <summary>Frames seen that no capture attributes to a node (received, or without direction).</summary>
    public long Unattributed { get; set; }

    public long FirstNs { get; set; } = long.MaxValue;

    public long LastNs { get; set; } = long.MinValue;

    public List<Evidence> Evidence { get; } = new();
}

/// <summary>One gratuitous announcement (GARP, RFC 5227 announcement, RARP, unsolicited NA) sent by a node.</summary>
public sealed record GarpEvent(string Ip, MacAddress Mac, string Node, long Ns, Evidence Evidence);

/// <summary>GARPs for one (IP, MAC) from one node with gaps of OVN's schedule (1, 3, 7, 15, 31 s after the claim).</summary>
public sealed record GarpBurst(string Ip, MacAddress Mac, string Node, long StartNs, long EndNs, int Count, int Expected, bool CaptureCoversSchedule, Evidence Evidence)
{
    /// <summary>The node stopped emitting the MAC (the gateway moved on) before OVN's schedule could finish.</summary>
    public bool Interrupted { get; init; }

    /// <summary>
    /// complete (all GARPs), interrupted (the node lost the gateway first), partial (the capture ended before the
    /// schedule could finish), incomplete (GARPs missing although the node stayed and the capture went on).
    /// </summary>
    public string Verdict => Count >= Expected ? "complete" : Interrupted ? "interrupted" : CaptureCoversSchedule ? "incomplete" : "partial";
}

public sealed class FloatingIpReport
{
    public required string Ip { get; init; }

    public MacAddress Mac { get; init; }

    public string? LogicalPort { get; init; }

    public string? ExpectedNode { get; init; }

    public SortedDictionary<string, long> EmittedBy { get; } = new(StringComparer.Ordinal);

    public required FactSource Source { get; init; }
}

/// <summary>Geneve traffic from one tunnel endpoint to another on one VNI.</summary>
public sealed class TunnelFlowReport
{
    public required string SourceIp { get; init; }

    public required string DestinationIp { get; init; }

    public string? SourceNode { get; set; }

    public string? DestinationNode { get; set; }

    public uint Vni { get; init; }

    public string? DatapathName { get; set; }

    public long Packets { get; set; }

    public long Bytes { get; set; }

    public long FirstNs { get; set; }

    public long LastNs { get; set; }

    public int MaxOuterIpLength { get; set; }

    public long NearMtuPackets { get; set; }

    /// <summary>Distinct OVN egress port keys seen (class 0x0102 option), with counts, and their names when known.</summary>
    public SortedDictionary<int, long> EgressKeys { get; } = new();

    public Dictionary<int, string> EgressKeyNames { get; } = new();

    /// <summary>Nodes whose captures saw this flow.</summary>
    public SortedSet<string> SeenBy { get; } = new(StringComparer.Ordinal);

    public Evidence? FirstEvidence { get; set; }
}

/// <summary>BFD between two chassis (Geneve VNI 0) as seen from one direction.</summary>
public sealed class BfdSessionReport
{
    public required string SourceIp { get; init; }

    public required string DestinationIp { get; init; }

    public string? SourceNode { get; set; }

    public string? DestinationNode { get; set; }

    public long Packets { get; set; }

    public required string LastState { get; set; }

    public long LastNs { get; set; }

    /// <summary>State changes: (time, state), in order.</summary>
    public List<(long Ns, string State, Evidence Evidence)> Changes { get; } = new();
}
