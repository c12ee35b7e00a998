using System.Runtime.CompilerServices;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis;

/// <summary>
/// Which node transmitted frames with which source MAC, and when. For router gateway MACs this gives the
/// active-gateway timeline, the moves between nodes and any time two nodes emitted the same MAC at once. Frames
/// inside tunnels never count: only the outermost frame crossed the uplink NIC.
/// </summary>
public sealed class GatewayEmitterAnalyzer : UplinkAnalyzer
{
    // Keyed by source index (high 16 bits) and MAC (low 48 bits): one ulong hashes fastest.
    private readonly OrderedTable<ulong, EmissionTrack, NumberKeyHasher> _tracks;
    private readonly OrderedTable<ulong, long, NumberKeyHasher> _unattributed;
    private readonly IReadOnlyList<CaptureSource> _sources;
    private readonly AnalysisOptions _options;

    // Frames of (capture, MAC) pairs beyond the caps: rejected, or let go when a table kept its first-ranked keys.
    private long _framesNotKept;
    private long _unattributedNotKept;

    internal GatewayEmitterAnalyzer(IReadOnlyList<CaptureSource> sources, AnalysisOptions options, KeepPriorities priorities)
    {
        _sources = sources;
        _options = options;
        var order = new TrackOrder(priorities);
        _tracks = new(options.MaxEmitters, order, t => _framesNotKept += t.Frames);
        _unattributed = new(options.MaxEmitters, order, n => _unattributedNotKept += n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void OnPacket(in UplinkPacket packet)
    {
        if (!FrameFacts.TryGetLinkAddresses(packet.Data, packet.Decoded, out MacAddress source, out MacAddress destination) || source.IsMulticast)
        {
            return;
        }

        Attribution attribution;
        if (packet.Direction == PacketDirection.Outbound)
        {
            attribution = Attribution.Proven;
        }
        else if (packet.Direction == PacketDirection.Unknown && !destination.IsMulticast)
        {
            // No direction in the capture: a unicast frame to another host is not delivered to this NIC by a learning
            // switch, so it was most likely sent from here.
            attribution = Attribution.Probable;
        }
        else
        {
            if (packet.Direction == PacketDirection.Unknown)
            {
                // Broadcast or multicast without direction: any node could have sent it.
                CountUnattributed(packet.Source.Index, source, 1);
            }

            return;
        }

        ref EmissionTrack track = ref _tracks.GetValueRefOrAddDefault(Key(packet.Source.Index, source), out bool exists);
        if (!exists)
        {
            if (Unsafe.IsNullRef(ref track))
            {
                _framesNotKept++;
                return;
            }

            StartTrack(ref track, packet.Source);
        }

        track.Add(packet.TimestampNs, packet.Record.Number, attribution, packet.Has(LayerKind.Arp) && FrameFacts.OuterIndexOf(packet.Decoded, LayerKind.Arp) >= 0);
    }

    private void CountUnattributed(int source, MacAddress mac, long n)
    {
        ref long unattributed = ref _unattributed.GetValueRefOrAddDefault(Key(source, mac), out bool exists);
        if (!exists && Unsafe.IsNullRef(ref unattributed))
        {
            _unattributedNotKept += n;
            return;
        }

        unattributed += n;
    }

    /// <summary>Out of line: building the new track in place here would make every call clear a track-sized temporary.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void StartTrack(ref EmissionTrack track, CaptureSource source) => track = new EmissionTrack(source, _options.RunGapNs, _options.MaxRunsPerTrack);

    /// <summary>
    /// Tracks first seen in <paramref name="later"/> are added in its order; a track of both continues its runs
    /// (<see cref="ActivityRuns.Append"/>: a run the later part started joins the run open here when it began within
    /// the run gap of it).
    /// </summary>
    internal override void Append(UplinkAnalyzer later, long frameOffset, IReadOnlyList<CaptureSource> sources)
    {
        var other = (GatewayEmitterAnalyzer)later;
        _framesNotKept += other._framesNotKept;
        _tracks.AppendPart(other._tracks, (ref EmissionTrack slot, bool exists, in EmissionTrack theirs) =>
        {
            if (!exists)
            {
                slot = new EmissionTrack(sources[theirs.SourceIndex], _options.RunGapNs, _options.MaxRunsPerTrack);
            }

            slot.Append(theirs, frameOffset);
        }, t => _framesNotKept += t.Frames);
        _unattributedNotKept += other._unattributedNotKept;
        _unattributed.AppendPart(other._unattributed, (ref long slot, bool _, in long n) => slot += n, n => _unattributedNotKept += n);
    }

    /// <summary>What a report shows (the kept entries), not what the tables hold at the moment.</summary>
    internal override void WriteState(TextWriter w)
    {
        var tracksBeyond = new List<EmissionTrack>();
        foreach ((ulong key, EmissionTrack track) in _tracks.Kept(tracksBeyond))
        {
            w.WriteLine($"track {SourceOf(key)} {MacOf(key)} {track}");
        }

        var unattributedBeyond = new List<long>();
        foreach ((ulong key, long n) in _unattributed.Kept(unattributedBeyond))
        {
            w.WriteLine($"unattributed {SourceOf(key)} {MacOf(key)} {n}");
        }

        w.WriteLine($"not kept: frames {_framesNotKept + tracksBeyond.Sum(t => t.Frames)} unattributed {_unattributedNotKept + unattributedBeyond.Sum()}");
    }

    private static ulong Key(int source, MacAddress mac) => ((ulong)(ushort)source << 48) | mac.Value;

    private static MacAddress MacOf(ulong key) => new(key & 0xFFFF_FFFF_FFFFUL);

    private static int SourceOf(ulong key) => (int)(key >> 48);

    /// <summary>The itemised runs of emissions of <paramref name="mac"/> (see <see cref="RunsOf(MacAddress, ILookup{MacAddress, EmissionTrack}, out ForgottenCut)"/>), by node, merged across captures of the same node.</summary>
    public IReadOnlyList<EmissionRun> RunsOf(MacAddress mac) => RunsOf(mac, TracksByMac(), out _);

    /// <summary>The kept tracks, by MAC.</summary>
    private ILookup<MacAddress, EmissionTrack> TracksByMac() => _tracks.Kept().ToLookup(t => MacOf(t.Key), t => t.Value);

    /// <summary>
    /// The itemised runs of <paramref name="mac"/>, in start order. When a track forgot its oldest runs (a sparse
    /// talker), only the runs that end after the latest end of any forgotten run are given (<paramref name="cut"/>):
    /// another node's older runs would otherwise read as moves or split brains against a history that is not itemised.
    /// </summary>
    private static List<EmissionRun> RunsOf(MacAddress mac, ILookup<MacAddress, EmissionTrack> tracks, out ForgottenCut? cut)
    {
        ForgottenCut? latest = null;
        foreach (EmissionTrack track in tracks[mac])
        {
            ForgottenRuns forgotten = track.Forgotten;
            if (forgotten.Any && (latest is null || forgotten.MaxEndNs > latest.AtNs))
            {
                latest = new ForgottenCut(forgotten.MaxEndNs, track.Source.Node, track.Source.Path);
            }
        }

        cut = latest;
        var runs = new List<EmissionRun>();
        foreach (EmissionTrack track in tracks[mac])
        {
            runs.AddRange(latest is null ? track.Runs() : track.Runs().Where(r => r.EndNs > latest.AtNs));
        }

        runs.Sort((a, b) => a.StartNs.CompareTo(b.StartNs));
        return runs;
    }

    /// <summary>Where the itemised runs of a MAC begin: after the latest forgotten run (of <paramref name="Node"/>'s capture <paramref name="Path"/>).</summary>
    private sealed record ForgottenCut(long AtNs, string Node, string Path);

    /// <summary>Frames of <paramref name="mac"/> attributed to each node (every frame, itemised in a run or not).</summary>
    public SortedDictionary<string, long> FramesByNode(MacAddress mac) => FramesByNode(mac, TracksByMac());

    private static SortedDictionary<string, long> FramesByNode(MacAddress mac, ILookup<MacAddress, EmissionTrack> tracks)
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (EmissionTrack track in tracks[mac])
        {
            result[track.Source.Node] = result.GetValueOrDefault(track.Source.Node) + track.Frames;
        }

        return result;
    }

    public IEnumerable<MacAddress> EmittedMacs => _tracks.Kept().Select(t => MacOf(t.Key)).Distinct();

    public override void Complete(AnalysisContext context, AnalysisReport report)
    {
        CloudInventory inventory = context.Inventory;

        // Looked up per gateway (thousands of them when a GARP flood is taken for gateways), not scanned.
        ILookup<MacAddress, GarpEvent> garpsByMac = report.GarpEvents.Where(e => e.Ip.Length > 0).ToLookup(e => e.Mac);
        ILookup<MacAddress, int> burstsByMac = Enumerable.Range(0, report.GarpBursts.Count).ToLookup(i => report.GarpBursts[i].Mac);
        var tracksBeyond = new List<EmissionTrack>();
        ILookup<MacAddress, EmissionTrack> tracks = _tracks.Kept(tracksBeyond).ToLookup(t => MacOf(t.Key), t => t.Value);
        var unattributedBeyond = new List<long>();
        List<KeyValuePair<ulong, long>> unattributed = _unattributed.Kept(unattributedBeyond);
        long framesNotKept = _framesNotKept + tracksBeyond.Sum(t => t.Frames) + _unattributedNotKept + unattributedBeyond.Sum();
        if (framesNotKept > 0)
        {
            report.Notes.Add($"Emitters: more than {_options.MaxEmitters} (capture, source MAC) pairs; {framesNotKept} frames of the others (beyond the inventory's MACs, " +
                             "the 00:16:3e and fa:16:3e prefixes and the lowest MACs) were counted, not attributed");
        }

        var gateways = new List<(MacAddress Mac, GatewayPortInfo? Port, IReadOnlyList<string> Ips, FactSource Source)>();
        foreach (GatewayPortInfo port in inventory.GatewayPorts)
        {
            var ips = port.Networks.Select(n => n.Split('/')[0]).Concat(port.NatExternalIps).Distinct().ToList();
            gateways.Add((port.Mac, port, ips, port.Source));
        }

        if (gateways.Count == 0)
        {
            // Without an inventory: a MAC that announced itself with gratuitous ARP requests and is not a known
            // distributed floating IP behaves like an OVN gateway port.
            var fipMacs = inventory.DistributedFloatingIps.Select(f => f.ExternalMac).ToHashSet();
            foreach (IGrouping<MacAddress, AnnouncementReport> byMac in report.Announcements
                         .Where(a => a.Kinds.ContainsKey("gratuitous_request") && !fipMacs.Contains(a.Mac) && inventory.FindNodeByMac(a.Mac) is null)
                         .GroupBy(a => a.Mac))
            {
                gateways.Add((byMac.Key, null, byMac.Select(a => a.Ip).Where(ip => ip.Length > 0).Order(StringComparer.Ordinal).ToList(),
                    new FactSource("packets", LearnedGatewayEvidence(byMac.Key, burstsByMac[byMac.Key], report))));
            }

            if (gateways.Count > 0)
            {
                report.Notes.Add("No inventory gateway ports: gateway MACs were learned from gratuitous ARP requests in the captures.");
            }
        }

        foreach ((MacAddress mac, GatewayPortInfo? port, IReadOnlyList<string> ips, FactSource source) in gateways)
        {
            var gateway = new GatewayReport
            {
                Name = port?.DisplayName ?? mac.ToString(),
                Port = port?.Port,
                ChassisRedirectPort = port?.ChassisRedirectPort,
                Mac = mac,
                Source = source,
                ControlPlaneActive = port?.ActiveNode,
            };
            gateway.Ips.AddRange(ips);
            if (port is not null)
            {
                gateway.Candidates.AddRange(port.Candidates);
            }

            List<EmissionRun> runs = RunsOf(mac, tracks, out ForgottenCut? cut);
            long? soleNodeSince = null;
            if (cut is not null)
            {
                long before = tracks[mac].Sum(t => t.Frames) - runs.Sum(r => r.Frames);
                report.Notes.Add($"{gateway.Name}: the timeline starts after {AnalysisClock.Format(cut.AtNs)}: {cut.Node} emitted {mac} in more than {_options.MaxRunsPerTrack} separate runs " +
                                 $"(gaps over {_options.RunGapNs / 1e9:0.###} s) in {Path.GetFileName(cut.Path)}, of which the newest are itemised; {before} earlier frames of {mac} are counted, not placed");

                // One node only ever emitted it: that node has been the gateway since its first frame, placed or not.
                if (tracks[mac].Select(t => t.Source.Node).Distinct().Count() == 1)
                {
                    soleNodeSince = tracks[mac].Min(t => t.Forgotten.Any ? t.Forgotten.MinStartNs : long.MaxValue);
                }
            }

            BuildTimeline(gateway, runs, SortedLists.OrderedBy(garpsByMac[mac], e => e.Ns), report, context, soleNodeSince);
            MarkInterruptedBursts(gateway, burstsByMac[mac], report);
            report.Gateways.Add(gateway);
            AddGatewayFindings(gateway, context, report);
            ListEndsOnly(gateway, report);
        }

        AddDirectionFindings(context, report, unattributed, gateways.Select(g => g.Mac).Concat(inventory.DistributedFloatingIps.Select(f => f.ExternalMac)).ToHashSet());

        foreach (FloatingIpInfo fip in inventory.DistributedFloatingIps)
        {
            var fipReport = new FloatingIpReport { Ip = fip.ExternalIp, Mac = fip.ExternalMac, LogicalPort = fip.LogicalPort, ExpectedNode = fip.Node, Source = fip.Source };
            foreach ((string node, long frames) in FramesByNode(fip.ExternalMac, tracks))
            {
                fipReport.EmittedBy[node] = frames;
            }

            report.FloatingIps.Add(fipReport);
            foreach ((string node, long frames) in fipReport.EmittedBy.Where(e => fip.Node is not null && e.Key != fip.Node))
            {
                report.Add(new Finding(FindingIds.UnexpectedGatewayEmitter, FindingSeverity.Warning,
                    $"distributed floating IP {fip.ExternalIp} ({fip.ExternalMac}) emitted by {node} ({frames} frames), but its port {fip.LogicalPort} is bound to {fip.Node}",
                    RunsOf(fip.ExternalMac, tracks, out _).Where(r => r.Node == node).Take(3).Select(r => r.FirstEvidence).ToList(), Subject: fip.ExternalIp));
            }
        }
    }

    /// <summary>A GARP burst of a node that stopped emitting the gateway before OVN's schedule ended was cut short by a move, not lost.</summary>
    private void MarkInterruptedBursts(GatewayReport gateway, IEnumerable<int> burstsOfMac, AnalysisReport report)
    {
        foreach (int i in burstsOfMac)
        {
            GarpBurst b = report.GarpBursts[i];
            if (b.Count >= b.Expected)
            {
                continue;
            }

            TimelineSegment? segment = gateway.Timeline.FirstOrDefault(s => s.Node == b.Node && s.StartNs - _options.RunGapNs <= b.StartNs && s.EndNs >= b.StartNs);
            if (segment is not null && segment.EndNs < b.StartNs + _options.GarpBurstSpanNs - _options.RunGapNs)
            {
                report.GarpBursts[i] = b with { Interrupted = true };
            }
        }
    }

    /// <summary>Timeline segments, moves and split brains listed at most per gateway (the first and last half).</summary>
    public const int MaxListedPerGateway = 1000;

    /// <summary>
    /// A gateway that flaps or emits sparsely for days has more timeline segments, moves and split brains than anyone
    /// reads: the first and the last ones are listed (the answer — owner and since when — was taken from all of them).
    /// </summary>
    private static void ListEndsOnly(GatewayReport gateway, AnalysisReport report)
    {
        int segments = gateway.Timeline.Count, moves = gateway.Failovers.Count, splits = gateway.SplitBrains.Count;
        if (segments <= MaxListedPerGateway && moves <= MaxListedPerGateway && splits <= MaxListedPerGateway)
        {
            return;
        }

        KeepEnds(gateway.Timeline);
        KeepEnds(gateway.Failovers);
        KeepEnds(gateway.SplitBrains);
        report.Notes.Add($"{gateway.Name}: {segments} timeline segments, {moves} moves and {splits} split brains; the first and last {MaxListedPerGateway / 2} of each are listed");

        static void KeepEnds<T>(List<T> list)
        {
            if (list.Count > MaxListedPerGateway)
            {
                list.RemoveRange(MaxListedPerGateway / 2, list.Count - MaxListedPerGateway);
            }
        }
    }

    /// <summary>Why a MAC seen only in packets is taken for an OVN gateway port: its GARPs, their schedule, its vendor prefix.</summary>
    private static string LearnedGatewayEvidence(MacAddress mac, IEnumerable<int> burstsOfMac, AnalysisReport report)
    {
        var bursts = burstsOfMac.Select(i => report.GarpBursts[i]).ToList();
        int scheduled = bursts.Count(b => b.Count >= 2);
        string evidence = scheduled > 0
            ? $"sends gratuitous ARP requests on OVN's schedule ({scheduled} burst(s) with gaps of 2, 4, 8, 16 s)"
            : "sends gratuitous ARP requests";
        return PortMacPrefixes.Of(mac.Value) switch
        {
            PortMacPrefixes.Lxd => evidence + "; 00:16:3e is the prefix LXD/MicroCloud give OVN router ports",
            PortMacPrefixes.OpenStack => evidence + "; fa:16:3e is the prefix OpenStack gives its ports",
            _ => evidence,
        };
    }

    /// <summary>The inventory's MACs first, then LXD's and OpenStack's prefixes, then by MAC and capture (a MAC's tracks stay together).</summary>
    private sealed class TrackOrder(KeepPriorities priorities) : IComparer<ulong>
    {
        public int Compare(ulong a, ulong b)
        {
            ulong macA = a & 0xFFFF_FFFF_FFFFUL, macB = b & 0xFFFF_FFFF_FFFFUL;
            int rank = priorities.RankOfMac(macA).CompareTo(priorities.RankOfMac(macB));
            return rank != 0 ? rank : macA != macB ? macA.CompareTo(macB) : (a >> 48).CompareTo(b >> 48);
        }
    }

    /// <summary>A capture without direction that holds broadcast frames of a gateway: who sent them cannot be proven from it.</summary>
    private static void AddDirectionFindings(AnalysisContext context, AnalysisReport report, List<KeyValuePair<ulong, long>> unattributed, HashSet<MacAddress> gatewayMacs)
    {
        foreach (CaptureSource source in context.Sources.Where(s => !s.HasDirection))
        {
            long frames = unattributed.Where(u => SourceOf(u.Key) == source.Index && gatewayMacs.Contains(MacOf(u.Key))).Sum(u => u.Value);
            if (frames == 0)
            {
                continue;
            }

            report.Add(new Finding(FindingIds.NoDirection, FindingSeverity.Info,
                $"{Path.GetFileName(source.Path)} ({source.Node}) records no direction: {frames} broadcast frames of gateway MACs in it (GARPs) cannot be attributed to their sender; " +
                "capture with `uplinkprobe capture`, `tcpdump -Q out` or `tcpdump -i any -y LINUX_SLL2` to prove who sent what",
                [new Evidence(source.Path, source.Node, [])], Subject: source.Node));
        }
    }

    /// <summary>
    /// Per node, runs closer than the run gap form one segment. The owner of the gateway at any instant is the node
    /// whose segment started last among those still emitting; when the owner stops while another node still emits,
    /// ownership falls back to that node. Every change of owner is a move; any time two nodes emit at once is a
    /// split brain.
    /// <paramref name="garps"/>: the gateway MAC's GARP events with an IP, in time order. <paramref name="soleNodeSince"/>:
    /// the first frame before the runs given, when one node alone emitted the MAC and runs before these are only counted.
    /// </summary>
    private void BuildTimeline(GatewayReport gateway, IReadOnlyList<EmissionRun> runs, List<GarpEvent> garps, AnalysisReport report, AnalysisContext context, long? soleNodeSince = null)
    {
        var segments = new List<TimelineBuilder>();
        foreach (IGrouping<string, EmissionRun> byNode in runs.GroupBy(r => r.Node))
        {
            TimelineBuilder? current = null;
            foreach (EmissionRun run in SortedLists.OrderedBy(byNode, r => r.StartNs))
            {
                if (current is not null && run.StartNs - current.EndNs <= _options.RunGapNs)
                {
                    current.Extend(run);
                    continue;
                }

                current = new TimelineBuilder(run);
                segments.Add(current);
            }
        }

        segments.Sort((x, y) => x.StartNs.CompareTo(y.StartNs));
        gateway.Timeline.AddRange(segments.Select(x => x.Build()));

        // Starts and ends by time, a start before an end at the same instant, else in segment order. (Objects sorted with
        // a comparison rather than LINQ over tuples: that code is precompiled, LINQ's sorters over value types are not.)
        var events = new List<TimelineEvent>(segments.Count * 2);
        foreach (TimelineBuilder x in segments)
        {
            events.Add(new TimelineEvent(x.StartNs, true, x, events.Count));
            events.Add(new TimelineEvent(x.EndNs, false, x, events.Count));
        }

        events.Sort(static (a, b) => a.Ns != b.Ns ? a.Ns.CompareTo(b.Ns) : a.Start != b.Start ? (a.Start ? -1 : 1) : a.Order.CompareTo(b.Order));
        var active = new List<TimelineBuilder>();
        TimelineBuilder? owner = null;
        long? ownerEndedNs = null;
        long splitStart = -1;
        var involved = new List<TimelineBuilder>(); // segments active at some time of the current split brain
        foreach ((long ns, bool start, TimelineBuilder segment, _) in events)
        {
            if (start)
            {
                active.Add(segment);
                if (splitStart >= 0)
                {
                    involved.Add(segment);
                }

                if (owner is not null && owner.Node != segment.Node && active.Contains(owner)
                    && segment.EndNs < owner.EndNs && segment.EndNs - segment.StartNs < _options.IntrusionNs)
                {
                    // A short burst from another node inside the owner's activity: a split brain, not a move.
                }
                else if (owner is null || owner.Node != segment.Node)
                {
                    if (owner is not null)
                    {
                        bool overlapping = active.Contains(owner);
                        gateway.Failovers.Add(Move(gateway, owner.Node, segment.Node, ns, overlapping ? null : ownerEndedNs, segment.FirstEvidence, report, context));
                    }

                    owner = segment;
                }
                else
                {
                    owner = segment;
                }
            }
            else
            {
                active.Remove(segment);
                if (segment == owner && !active.Any(x => x.Node == segment.Node))
                {
                    ownerEndedNs = ns;
                    TimelineBuilder? fallback = null; // the other node's segment that started last (the first such on a tie)
                    foreach (TimelineBuilder x in active)
                    {
                        if (x.Node != segment.Node && (fallback is null || x.StartNs > fallback.StartNs))
                        {
                            fallback = x;
                        }
                    }

                    if (fallback is not null)
                    {
                        gateway.Failovers.Add(Move(gateway, segment.Node, fallback.Node, ns, null, segment.LastEvidence, report, context));
                        owner = fallback;
                    }
                }
            }

            int nodes = active.Select(x => x.Node).Distinct().Count();
            if (nodes >= 2 && splitStart < 0)
            {
                splitStart = ns;
                involved = [.. active];
            }
            else if (nodes < 2 && splitStart >= 0)
            {
                gateway.SplitBrains.Add(new SplitBrainEvent(involved.Select(x => x.Node).Distinct().ToList(), splitStart, ns,
                    involved.Select(x => x.StartNs >= splitStart ? x.FirstEvidence : x.LastEvidence).ToList()));
                splitStart = -1;
            }
        }

        if (owner is not null)
        {
            gateway.ActiveNode = owner.Node;
            gateway.ActiveSinceNs = gateway.Failovers.Count > 0 ? gateway.Failovers[^1].AtNs : Math.Min(soleNodeSince ?? long.MaxValue, segments[0].StartNs);
            gateway.PreviousNode = gateway.Failovers.Count > 0 ? gateway.Failovers[^1].From : null;
            gateway.PreviousUntilNs = gateway.Failovers.Count > 0 ? gateway.Failovers[^1].FromLastNs ?? gateway.Failovers[^1].AtNs : null;
            (int seen, int expected, _, _) = GarpsAround(gateway, garps, owner.Node, gateway.ActiveSinceNs.Value, long.MaxValue, context);
            gateway.ActiveGarps = seen;
            gateway.ActiveGarpsExpected = expected;
        }

        // A move's GARP burst is cut short when the gateway moves again before OVN's schedule ends.
        for (int i = 0; i < gateway.Failovers.Count; i++)
        {
            long until = i + 1 < gateway.Failovers.Count ? gateway.Failovers[i + 1].AtNs : long.MaxValue;
            FailoverEvent m = gateway.Failovers[i];
            (int seen, int expected, string verdict, long? firstGarp) = GarpsAround(gateway, garps, m.To, m.AtNs, until, context);
            gateway.Failovers[i] = m with { GarpsSeen = seen, GarpsExpected = expected, GarpVerdict = verdict, FirstGarpNs = firstGarp };
        }
    }

    private static FailoverEvent Move(GatewayReport gateway, string from, string to, long atNs, long? fromLastNs, Evidence evidence, AnalysisReport report, AnalysisContext context) =>
        new(from, to, atNs, fromLastNs, fromLastNs is long last ? atNs - last : null, 0, 0, "missing", evidence);

    /// <summary>
    /// GARPs the new owner sent for the gateway's IPs after a move at <paramref name="atNs"/>, within OVN's schedule and
    /// before the next move (<paramref name="untilNs"/>): counted from the individual announcements, so a claim whose
    /// first GARP happens to fit the schedule of an earlier claim is still counted from its start. <paramref name="garps"/>
    /// are the gateway MAC's GARP events with an IP, in time order: one binary search per move, not a scan of all.
    /// </summary>
    private (int Seen, int Expected, string Verdict, long? FirstGarpNs) GarpsAround(GatewayReport gateway, List<GarpEvent> garps, string node, long atNs, long untilNs, AnalysisContext context)
    {
        long from = atNs - _options.RunGapNs;
        long end = Math.Min(untilNs, atNs + _options.GarpBurstSpanNs);
        var events = new List<GarpEvent>();
        for (int i = SortedLists.CountBefore(garps, e => e.Ns < from); i < garps.Count && garps[i].Ns < end; i++)
        {
            if (garps[i].Node == node)
            {
                events.Add(garps[i]);
            }
        }

        var ips = gateway.Ips.Where(ip => !ip.Contains(':')).Concat(events.Select(e => e.Ip)).Distinct().ToList();
        int expected = Math.Max(1, ips.Count) * _options.GarpsPerBurst;
        int seen = events.GroupBy(e => e.Ip).Sum(g => Math.Min(g.Count(), _options.GarpsPerBurst));
        bool interrupted = untilNs < atNs + _options.GarpBurstSpanNs;
        string verdict = events.Count == 0 ? "missing"
            : seen >= expected ? "complete"
            : interrupted ? "interrupted"
            : context.NodeObserved(node, atNs + _options.GarpBurstSpanNs) ? "incomplete"
            : "partial";
        return (seen, expected, verdict, events.Count == 0 ? null : events.Min(e => e.Ns));
    }

    private void AddGatewayFindings(GatewayReport gateway, AnalysisContext context, AnalysisReport report)
    {
        foreach (SplitBrainEvent split in gateway.SplitBrains)
        {
            double seconds = (split.EndNs - split.StartNs) / 1e9;
            report.Add(new Finding(FindingIds.TwoHostsEmitGatewayMac, seconds >= 1 ? FindingSeverity.Error : FindingSeverity.Warning,
                $"{gateway.Name} gateway MAC {gateway.Mac} was emitted by {string.Join(" and ", split.Nodes)} at the same time for {seconds:F1} s (split brain)",
                split.Evidence, split.StartNs, gateway.Name));
        }

        foreach (FailoverEvent move in gateway.Failovers)
        {
            report.Add(new Finding(FindingIds.GatewayMoved, FindingSeverity.Info,
                $"{gateway.Name} moved from {move.From} to {move.To}" + (move.GapNs is long gap ? $" after {gap / 1e9:F3} s without an emitter" : " while the old node still emitted") +
                $"; GARP {move.GarpsSeen}/{move.GarpsExpected} ({move.GarpVerdict})",
                [move.Evidence], move.AtNs, gateway.Name));
            if (move.GarpVerdict == "missing" && context.NodeObserved(move.To, move.AtNs))
            {
                report.Add(new Finding(FindingIds.NoGarpAfterMove, FindingSeverity.Warning,
                    $"{gateway.Name} moved to {move.To} but {move.To} sent no gratuitous ARP for it: upstream caches keep the old path until they expire",
                    [move.Evidence], move.AtNs, gateway.Name));
            }
            else if (move.GarpVerdict == "incomplete")
            {
                report.Add(new Finding(FindingIds.GarpBurstIncomplete, FindingSeverity.Warning,
                    $"{gateway.Name} moved to {move.To}, which sent {move.GarpsSeen} of {move.GarpsExpected} gratuitous ARPs OVN schedules",
                    [move.Evidence], move.AtNs, gateway.Name));
            }
        }

        if (gateway.Candidates.Count > 0)
        {
            // The inventory is a snapshot, normally taken at the end: judge only the nodes emitting at the end of the captures.
            long end = context.EndNs;
            foreach (TimelineSegment segment in gateway.Timeline.Where(s => end - s.EndNs <= _options.RunGapNs && gateway.Candidates.All(c => c.Node != s.Node)))
            {
                report.Add(new Finding(FindingIds.UnexpectedGatewayEmitter, FindingSeverity.Error,
                    $"{gateway.Name} gateway MAC {gateway.Mac} emitted by {segment.Node}, which is not one of its gateway chassis ({string.Join(", ", gateway.Candidates.Select(c => c.Node))})",
                    [segment.FirstEvidence], segment.StartNs, gateway.Name));
            }
        }

        if (gateway.ControlPlaneActive is { } intended && gateway.ActiveNode is { } actual && intended != actual)
        {
            report.Add(new Finding(FindingIds.ControlPlaneDisagrees, FindingSeverity.Error,
                $"{gateway.Name}: the control plane says {intended} is the active gateway chassis, packets show {actual} emitting {gateway.Mac} last",
                [gateway.Timeline[^1].FirstEvidence], gateway.ActiveSinceNs, gateway.Name));
        }
    }

    private sealed record TimelineEvent(long Ns, bool Start, TimelineBuilder Segment, int Order);

    /// <summary>The segment being built during the sweep.</summary>
    private sealed class TimelineBuilder
    {
        public TimelineBuilder(EmissionRun run)
        {
            Node = run.Node;
            StartNs = run.StartNs;
            EndNs = run.EndNs;
            Frames = run.Frames;
            Attribution = run.Attribution;
            FirstEvidence = run.FirstEvidence;
            LastEvidence = run.LastEvidence;
        }

        public string Node { get; }

        public long StartNs { get; }

        public long EndNs { get; private set; }

        public long Frames { get; private set; }

        public Attribution Attribution { get; private set; }

        public Evidence FirstEvidence { get; }

        public Evidence LastEvidence { get; private set; }

        public void Extend(EmissionRun run)
        {
            if (run.EndNs > EndNs)
            {
                EndNs = run.EndNs;
                LastEvidence = run.LastEvidence;
            }

            Frames += run.Frames;
            if (run.Attribution == Attribution.Proven)
            {
                Attribution = Attribution.Proven;
            }
        }

        public TimelineSegment Build() => new(Node, StartNs, EndNs, Frames, Attribution, FirstEvidence);
    }
}

/// <summary>A run of emissions of one MAC by one node with no gap longer than the run gap.</summary>
public sealed record EmissionRun(string Node, long StartNs, long EndNs, long Frames, long ArpFrames, Attribution Attribution, Evidence FirstEvidence, Evidence LastEvidence);

/// <summary>Emissions of one MAC in one capture: runs of activity, each with how many of its frames were ARP and whether
/// any was proven sent. A struct kept in the emitter table's entry, so a frame's update touches the entry it looked up
/// and nothing further.</summary>
internal struct EmissionTrack
{
    private readonly CaptureSource _source;
    private ActivityRuns _runs;

    public EmissionTrack(CaptureSource source, long gapNs, int keepRuns)
    {
        _source = source;
        _runs = new ActivityRuns(gapNs, keepRuns);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(long ns, long frame, Attribution attribution, bool arp)
    {
        _runs.Add(ns, frame);
        _runs.Mark(arp, attribution == Attribution.Proven);
    }

    /// <summary>Continues with the emissions of the same key in a later part (<see cref="ActivityRuns.Append"/>).</summary>
    public void Append(in EmissionTrack later, long frameOffset) => _runs.Append(later._runs, frameOffset);

    public readonly override string ToString() => $"{_source.Index} {_source.Node} {_runs}";

    /// <summary>Frames of every run, itemised or not.</summary>
    public readonly long Frames => _runs.Events;

    public readonly int SourceIndex => _source.Index;

    public readonly CaptureSource Source => _source;

    /// <summary>The older runs beyond those itemised, summed.</summary>
    public readonly ForgottenRuns Forgotten => _runs.Forgotten;

    /// <summary>The itemised runs: the newest <see cref="AnalysisOptions.MaxRunsPerTrack"/>.</summary>
    public readonly IEnumerable<EmissionRun> Runs()
    {
        CaptureSource source = _source;
        return _runs.All.Select(run => new EmissionRun(source.Node, run.StartNs, run.EndNs, run.Count, run.Tagged,
            run.Flagged ? Attribution.Proven : Attribution.Probable,
            new Evidence(source.Path, source.Node, [run.FirstFrame]), new Evidence(source.Path, source.Node, [run.LastFrame])));
    }
}
