using UplinkProbe.Analysis.Inventory;

namespace UplinkProbe.Analysis;

/// <summary>
/// A small analyzer in the style of Zeek: it consumes decoded packets one at a time and, at the end, contributes
/// its part of the report and its findings. The per-packet path must not allocate for ordinary traffic.
/// </summary>
public abstract class UplinkAnalyzer
{
    public abstract void OnPacket(in UplinkPacket packet);

    /// <summary>Adds what this analyzer learned to the report (called once, after every capture was read).</summary>
    public abstract void Complete(AnalysisContext context, AnalysisReport report);

    /// <summary>
    /// Adds what <paramref name="later"/> (an analyzer of the same type in a part made by
    /// <see cref="AnalysisSession.CreatePart"/>) learned from packets that came after every packet seen here, so that
    /// the state is exactly what feeding those packets here would have made. Frame numbers of <paramref name="later"/>
    /// are shifted by <paramref name="frameOffset"/>; its sources are the same (by index) as <paramref name="sources"/>,
    /// this analyzer's own. <paramref name="later"/> is not changed. Costs a pass over its state, not over packets.
    /// </summary>
    internal abstract void Append(UplinkAnalyzer later, long frameOffset, IReadOnlyList<CaptureSource> sources);

    /// <summary>
    /// Writes the whole state, one fact a line, in the order it is kept (which decides ties in the report): two
    /// analyzers with the same text hold the same state. For tests of <see cref="Append"/>; not for the hot path.
    /// </summary>
    internal abstract void WriteState(TextWriter w);
}

/// <summary>What every analyzer can consult when it completes: the inventory, the sources, and shared results.</summary>
public sealed class AnalysisContext
{
    public AnalysisContext(CloudInventory inventory, IReadOnlyList<CaptureSource> sources, AnalysisOptions options)
    {
        Inventory = inventory;
        Sources = sources;
        Options = options;
    }

    public CloudInventory Inventory { get; }

    public IReadOnlyList<CaptureSource> Sources { get; }

    public AnalysisOptions Options { get; }

    public IEnumerable<string> NodeNames => Sources.Select(s => s.Node).Distinct(StringComparer.Ordinal);

    // Per node, the time spans its captures cover (merged, in order): a lookup per question, not a scan of every
    // source (a pcapng file can name thousands of nodes). Made when a report is built, as the sources' times move on.
    private Dictionary<string, List<(long Start, long End)>>? _coverage;
    private HashSet<string>? _nodesCapturedBothWays;

    /// <summary>True when some capture of <paramref name="node"/> covers the instant.</summary>
    public bool NodeObserved(string node, long ns)
    {
        if ((_coverage ?? IndexSources()).TryGetValue(node, out List<(long Start, long End)>? spans))
        {
            int started = SortedLists.CountBefore(spans, s => s.Start <= ns);
            return started > 0 && ns <= spans[started - 1].End;
        }

        return false;
    }

    /// <summary>True when a capture of <paramref name="node"/> records what it received (not transmit-only).</summary>
    public bool NodeCapturedBothWays(string node)
    {
        if (_nodesCapturedBothWays is null)
        {
            IndexSources();
        }

        return _nodesCapturedBothWays!.Contains(node);
    }

    /// <summary>Indexes the sources as they are now; called at the start of every report.</summary>
    internal Dictionary<string, List<(long Start, long End)>> IndexSources()
    {
        _nodesCapturedBothWays = Sources.Where(s => !s.TransmitOnly).Select(s => s.Node).ToHashSet(StringComparer.Ordinal);
        _coverage = new Dictionary<string, List<(long Start, long End)>>(StringComparer.Ordinal);
        foreach (IGrouping<string, CaptureSource> node in Sources.Where(s => s.FirstNs <= s.LastNs).GroupBy(s => s.Node))
        {
            var spans = new List<(long Start, long End)>();
            foreach (CaptureSource s in SortedLists.OrderedBy(node, s => s.FirstNs))
            {
                if (spans.Count > 0 && s.FirstNs <= spans[^1].End)
                {
                    spans[^1] = (spans[^1].Start, Math.Max(spans[^1].End, s.LastNs));
                }
                else
                {
                    spans.Add((s.FirstNs, s.LastNs));
                }
            }

            _coverage[node.Key] = spans;
        }

        return _coverage;
    }

    public long EndNs => Sources.Count == 0 ? 0 : Sources.Max(s => s.LastNs);
}

/// <summary>Thresholds of the analysis, with the reasons for their defaults.</summary>
public sealed class AnalysisOptions
{
    /// <summary>Emissions of one MAC by one node closer than this belong to one run of activity.</summary>
    public long RunGapNs { get; init; } = 2_000_000_000;

    /// <summary>
    /// Another node emitting for less than this inside the owner's activity is a split brain but not a move (e.g.
    /// a chassis that claims for a few milliseconds while its BFD sessions time out).
    /// </summary>
    public long IntrusionNs { get; init; } = 1_000_000_000;

    /// <summary>OVN 23.03 sends GARPs about 1, 3, 7, 15 and 31 s after a claim: gaps up to 16 s belong to one burst.</summary>
    public long GarpBurstGapNs { get; init; } = 20_000_000_000;

    /// <summary>GARPs expected per IP and burst (OVN 23.03).</summary>
    public int GarpsPerBurst { get; init; } = 5;

    /// <summary>How long after a claim the whole burst has been sent (31 s plus slack).</summary>
    public long GarpBurstSpanNs { get; init; } = 35_000_000_000;

    /// <summary>How far from a move a GARP may be and still belong to it.</summary>
    public long GarpMoveWindowNs { get; init; } = 5_000_000_000;

    /// <summary>Two MACs for one IP within this window, back and forth, is a flip-flop.</summary>
    public long FlipFlopWindowNs { get; init; } = 60_000_000_000;

    /// <summary>Uplink MTU assumed for <c>geneve_near_mtu</c>.</summary>
    public int UplinkMtu { get; init; } = 1500;

    /// <summary>Geneve packets whose outer IP packet is at least this close to the MTU are "near" it.</summary>
    public int NearMtuMargin { get; init; } = 50;

    /// <summary>
    /// Geneve flows (source, destination, VNI) itemised at most, and as many BFD sessions and tunnel endpoints: beyond
    /// this (a flood of random addresses) the flows ranked first are kept — between the inventory's tunnel endpoints,
    /// then the lowest — and the packets of the others are only counted. Bounds memory at roughly 20 MB per analysis
    /// part at the default.
    /// </summary>
    public int MaxTunnelFlows { get; init; } = 16_384;

    /// <summary>(capture, source MAC) emission tracks kept at most; beyond: the inventory's MACs, then LXD/OpenStack
    /// prefixes, then the lowest.</summary>
    public int MaxEmitters { get; init; } = 16_384;

    /// <summary>(IP, MAC) bindings and announced IPs kept at most; beyond: the inventory's, then the lowest.</summary>
    public int MaxBindings { get; init; } = 16_384;

    /// <summary>OVN egress port keys itemised per Geneve flow at most (the lowest).</summary>
    public int MaxEgressKeysPerFlow { get; init; } = 64;

    /// <summary>
    /// Runs of activity (stretches with no gap over <see cref="RunGapNs"/>) itemised per (capture, MAC) emission track
    /// and per Geneve flow: the newest; the older ones are only summed. A sparse talker (a frame every few seconds for
    /// days) otherwise adds a run per frame. Held at most twice this many per track, about 11 bytes a run. 0: every run
    /// is itemised; otherwise at least 2.
    /// </summary>
    public int MaxRunsPerTrack
    {
        get => _maxRunsPerTrack;
        init => _maxRunsPerTrack = value is 0 or >= 2 ? value : throw new ArgumentOutOfRangeException(nameof(MaxRunsPerTrack), value, "0 (every run) or at least 2");
    }

    private readonly int _maxRunsPerTrack = 1024;
}
