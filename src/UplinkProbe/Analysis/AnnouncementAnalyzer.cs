using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis;

/// <summary>
/// Who announces which IP with which MAC: ARP (gratuitous requests and replies, RFC 5227 announcements, ordinary
/// requests and replies), RARP (OVN's announcement of a MAC without IPv4) and IPv6 Neighbor Advertisements. Finds
/// GARP bursts and checks them against OVN's schedule, IPs claimed by two MACs and MACs flip-flopping.
/// </summary>
public sealed class AnnouncementAnalyzer : UplinkAnalyzer
{
    private static readonly string[] KindNames =
        ["request", "reply", "gratuitous_request", "gratuitous_reply", "announcement", "rarp", "unsolicited_na", "solicited_na"];

    private readonly OrderedTable<BindingKey, BindingState, BindingKeyHasher> _bindings;
    private readonly OrderedTable<IpKey, IpState, IpKeyHasher> _ips;
    private readonly AnalysisOptions _options;

    // Claims of bindings and IPs beyond the caps: rejected, or let go when a table kept its first-ranked keys.
    private long _bindingClaimsNotKept;
    private long _ipClaimsNotKept;

    internal AnnouncementAnalyzer(AnalysisOptions options, KeepPriorities priorities)
    {
        _options = options;
        _bindings = new(options.MaxBindings, new BindingOrder(priorities), b => _bindingClaimsNotKept += b.Claims);
        _ips = new(options.MaxBindings, new IpOrder(priorities), i => _ipClaimsNotKept += i.Claims);
    }

    private enum ClaimKind
    {
        Request,
        Reply,
        GratuitousRequest,
        GratuitousReply,
        Announcement,
        Rarp,
        UnsolicitedNa,
        SolicitedNa,
    }

    /// <summary>Announcements and MAC changes kept per binding; beyond this (a storm, a conflict that never settles) they are only counted.</summary>
    private const int MaxGarpsPerBinding = 1024;

    /// <summary>The key RARP claims use: they carry a MAC, no IP.</summary>
    private static readonly IpKey NoIp = IpKey.None;

    private const ulong ClaimLayers = (1UL << (int)LayerKind.Arp) | (1UL << (int)LayerKind.Rarp) | (1UL << (int)LayerKind.Icmpv6);

    /// <summary>Inlined into the session's loop: nine packets in ten carry no claim, and return here without the frame
    /// set-up of the method that reads claims.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void OnPacket(in UplinkPacket packet)
    {
        if ((packet.LayerMask & ClaimLayers) != 0)
        {
            OnClaimLayers(packet);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void OnClaimLayers(in UplinkPacket packet)
    {
        DecodedPacket decoded = packet.Decoded;
        int arpIndex = FrameFacts.OuterIndexOf(decoded, LayerKind.Arp);
        if (arpIndex < 0)
        {
            arpIndex = FrameFacts.OuterIndexOf(decoded, LayerKind.Rarp);
        }

        if (arpIndex >= 0)
        {
            if (ArpPacket.TryRead(packet.Data[decoded.Layers[arpIndex].Offset..], out ArpPacket arp, out _) && arp.IsEthernetIpv4)
            {
                OnArp(packet, arp);
            }

            return;
        }

        int icmp = FrameFacts.OuterIndexOf(decoded, LayerKind.Icmpv6);
        if (icmp >= 0)
        {
            Layer layer = decoded.Layers[icmp];
            ReadOnlySpan<byte> message = packet.Data.Slice(layer.Offset, layer.Length);
            if (message.Length > 0 && message[0] == Icmpv6Header.NeighborAdvertisement && NdpMessage.TryRead(message, out NdpMessage na, out _))
            {
                MacAddress mac = default;
                if (na.TryFindOption(NdpOptionTypes.TargetLinkLayerAddress, out NdpOption tlla))
                {
                    tlla.TryGetLinkLayerAddress(out mac);
                }
                else if (!FrameFacts.TryGetLinkAddresses(packet.Data, decoded, out mac, out _))
                {
                    return;
                }

                Claim(packet, IpKey.Of(na.TargetAddress), mac, na.SolicitedFlag ? ClaimKind.SolicitedNa : ClaimKind.UnsolicitedNa);
            }
        }
    }

    private void OnArp(in UplinkPacket packet, ArpPacket arp)
    {
        switch (arp.Classify())
        {
            case ArpKind.GratuitousRequest:
                Claim(packet, IpKey.Of(arp.SenderIp), arp.SenderMac, ClaimKind.GratuitousRequest);
                break;
            case ArpKind.GratuitousReply:
                Claim(packet, IpKey.Of(arp.SenderIp), arp.SenderMac, ClaimKind.GratuitousReply);
                break;
            case ArpKind.Announcement:
                Claim(packet, IpKey.Of(arp.SenderIp), arp.SenderMac, ClaimKind.Announcement);
                break;
            case ArpKind.Reply:
                Claim(packet, IpKey.Of(arp.SenderIp), arp.SenderMac, ClaimKind.Reply);
                break;
            case ArpKind.Request:
                Claim(packet, IpKey.Of(arp.SenderIp), arp.SenderMac, ClaimKind.Request);
                break;
            case ArpKind.RarpRequest:
                Claim(packet, NoIp, arp.SenderMac, ClaimKind.Rarp);
                break;
        }
    }

    /// <summary>
    /// Bindings and IPs are structs inside their tables' entries, with the per-claim counters inline: a claim touches
    /// the two entries and nothing else unless it is one of a binding's first few, a sent GARP or a MAC change. These
    /// entries are reused rarely enough that the capture streaming through the caches has evicted them in between, so
    /// every further object a claim had to reach was another miss (measured with objects: the
    /// analyzer cost about 0.3 µs of CPU per ARP or NDP packet of the benchmark mix).
    /// </summary>
    private void Claim(in UplinkPacket packet, IpKey ip, MacAddress mac, ClaimKind kind)
    {
        ref BindingState state = ref _bindings.GetValueRefOrAddDefault(new BindingKey(ip, mac), out bool known);
        if (!known)
        {
            if (Unsafe.IsNullRef(ref state))
            {
                _bindingClaimsNotKept++;
                ClaimIp(packet, ip, mac);
                return;
            }

            state.Start();
        }

        long ns = packet.TimestampNs;
        int source = packet.Source.Index;
        state.Kinds[(int)kind]++;
        state.FirstNs = Math.Min(state.FirstNs, ns);
        state.LastNs = Math.Max(state.LastNs, ns);
        bool sent = packet.Direction == PacketDirection.Outbound;
        if (sent)
        {
            state.CountSent(source, 1);
        }
        else
        {
            state.Unattributed++;
        }

        if (state.EvidenceCount < BindingState.MaxEvidence)
        {
            state.AddEvidence(source, packet.Record.Number);
        }

        if (kind is ClaimKind.GratuitousRequest or ClaimKind.GratuitousReply or ClaimKind.Announcement or ClaimKind.Rarp or ClaimKind.UnsolicitedNa && sent)
        {
            // OVN sends five per claim; a storm is counted but only its start is kept, so memory stays bounded.
            state.AddGarp(ns, source, packet.Record.Number);
        }

        ClaimIp(packet, ip, mac);
    }

    private void ClaimIp(in UplinkPacket packet, IpKey ip, MacAddress mac)
    {
        if (ip == NoIp)
        {
            return;
        }

        ref IpState ipState = ref _ips.GetValueRefOrAddDefault(ip, out bool exists);
        if (!exists && Unsafe.IsNullRef(ref ipState))
        {
            _ipClaimsNotKept++;
            return;
        }

        int source = packet.Source.Index;
        ipState.Claims++;
        if (!ipState.TryGetLastMac(source, out MacAddress last) || last != mac)
        {
            ipState.SetLastMac(source, mac);
            ipState.AddChange(packet.TimestampNs, mac, source, packet.Record.Number);
        }
    }

    /// <summary>
    /// Bindings and IPs first seen in <paramref name="later"/> are added in its order (the order they were created in
    /// a single pass); counts add up, first and last times take the extremes, and the capped lists (evidence,
    /// announcements, MAC changes) keep the first entries of the concatenation. A MAC change is recorded when a
    /// source's MAC for an IP differs from its previous one: <paramref name="later"/> started without the previous
    /// one, so it recorded every source's first observation, which is the source's first entry in its changes and is
    /// dropped here when it repeats the MAC the source had at the end of this part.
    /// </summary>
    internal override void Append(UplinkAnalyzer later, long frameOffset, IReadOnlyList<CaptureSource> sources)
    {
        var other = (AnnouncementAnalyzer)later;
        _bindingClaimsNotKept += other._bindingClaimsNotKept;
        _bindings.AppendPart(other._bindings, (ref BindingState slot, bool known, in BindingState theirs) =>
        {
            if (!known)
            {
                slot.Start();
            }

            slot.Append(theirs, frameOffset);
        }, b => _bindingClaimsNotKept += b.Claims);
        _ipClaimsNotKept += other._ipClaimsNotKept;
        _ips.AppendPart(other._ips, (ref IpState slot, bool _, in IpState theirs) => slot.Append(theirs, frameOffset), i => _ipClaimsNotKept += i.Claims);
    }

    /// <summary>What a report shows (the kept entries), not what the tables hold at the moment.</summary>
    internal override void WriteState(TextWriter w)
    {
        var bindingsBeyond = new List<BindingState>();
        var ipsBeyond = new List<IpState>();
        foreach (((IpKey ip, MacAddress mac), BindingState b) in _bindings.Kept(bindingsBeyond))
        {
            w.WriteLine($"binding {Format(ip)} {mac} kinds {string.Join(",", b.KindCounts())} sent {string.Join(",", b.SentBySource())} unattributed {b.Unattributed} {b.FirstNs}..{b.LastNs}");
            w.WriteLine($"  evidence {string.Join(" ", b.Evidence)}");
            w.WriteLine($"  garps {string.Join(" ", b.Garps)} not kept {b.GarpsNotKept}");
        }

        foreach ((IpKey ip, IpState s) in _ips.Kept(ipsBeyond))
        {
            w.WriteLine($"ip {Format(ip)} claims {s.Claims} last {string.Join(" ", s.LastMacBySource().OrderBy(x => x.Key))}");
            w.WriteLine($"  changes {string.Join(" ", s.Changes)}");
        }

        w.WriteLine($"not kept: binding claims {_bindingClaimsNotKept + bindingsBeyond.Sum(b => b.Claims)} ip claims {_ipClaimsNotKept + ipsBeyond.Sum(i => i.Claims)}");
    }

    public override void Complete(AnalysisContext context, AnalysisReport report)
    {
        IReadOnlyList<CaptureSource> sources = context.Sources;
        var bindingsBeyond = new List<BindingState>();
        List<KeyValuePair<BindingKey, BindingState>> bindings = _bindings.Kept(bindingsBeyond);
        bindings.Sort(static (a, b) => a.Key.Ip.CompareTo(b.Key.Ip) is int c && c != 0 ? c : a.Key.Mac.Value.CompareTo(b.Key.Mac.Value));
        foreach (((IpKey ip, MacAddress mac), BindingState state) in bindings)
        {
            var a = new AnnouncementReport { Ip = Format(ip), Mac = mac, FirstNs = state.FirstNs, LastNs = state.LastNs, Unattributed = state.Unattributed };
            for (int k = 0; k < KindNames.Length; k++)
            {
                if (state.Kinds[k] > 0)
                {
                    a.Kinds[KindNames[k]] = state.Kinds[k];
                }
            }

            foreach ((int source, long n) in state.SentBySource())
            {
                string node = sources[source].Node;
                a.Announcers[node] = a.Announcers.GetValueOrDefault(node) + n;
            }

            // One evidence per capture, in the order first seen.
            var framesBySource = new Dictionary<int, List<long>>();
            foreach ((int source, long frame) in state.Evidence)
            {
                ref List<long>? frames = ref CollectionsMarshal.GetValueRefOrAddDefault(framesBySource, source, out _);
                (frames ??= []).Add(frame);
            }

            foreach ((int source, List<long> frames) in framesBySource)
            {
                a.Evidence.Add(new Evidence(sources[source].Path, sources[source].Node, frames));
            }

            report.Announcements.Add(a);
            AddBursts(a, state, context, report);
            if (state.GarpsNotKept > 0)
            {
                report.Notes.Add($"{a.Ip} {mac}: {state.Garps.Count + state.GarpsNotKept} gratuitous announcements (a storm); bursts were analysed for the first {state.Garps.Count}");
            }
        }

        long bindingClaimsNotKept = _bindingClaimsNotKept + bindingsBeyond.Sum(b => b.Claims);
        if (bindingClaimsNotKept > 0)
        {
            report.Notes.Add($"Announcements: more than {_options.MaxBindings} (IP, MAC) bindings; {bindingClaimsNotKept} ARP/NDP claims of the others (beyond the inventory's " +
                             "addresses, the 00:16:3e and fa:16:3e prefixes and the lowest IPs) were counted, not itemised");
        }

        AddConflictFindings(context, report);
    }

    private void AddBursts(AnnouncementReport announcement, in BindingState state, AnalysisContext context, AnalysisReport report)
    {
        IReadOnlyList<CaptureSource> sources = context.Sources;
        // The GARPs of each node (nodes in the order first seen), each node's in time order, equal times in the order
        // kept: positions sorted with a comparison, rather than LINQ's grouping and sorter over the GARP tuples.
        IReadOnlyList<(long Ns, int Source, long Frame)> garps = state.Garps;
        var positionsByNode = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < garps.Count; i++)
        {
            ref List<int>? positions = ref CollectionsMarshal.GetValueRefOrAddDefault(positionsByNode, sources[garps[i].Source].Node, out _);
            (positions ??= []).Add(i);
        }

        foreach ((string node, List<int> positions) in positionsByNode)
        {
            positions.Sort((x, y) => garps[x].Ns != garps[y].Ns ? garps[x].Ns.CompareTo(garps[y].Ns) : x.CompareTo(y));

            // The same frame can be in two captures of one node (e.g. transmit-only and both directions): count it once.
            var events = new List<(long Ns, int Source, long Frame)>(positions.Count);
            foreach (int position in positions)
            {
                events.Add(garps[position]);
            }

            var unique = new List<(long Ns, int Source, long Frame)>();
            foreach (var e in events)
            {
                if (unique.Count == 0 || e.Ns - unique[^1].Ns > 1_000_000)
                {
                    unique.Add(e);
                }
            }

            foreach ((long ns, int source, long frame) in unique)
            {
                report.GarpEvents.Add(new GarpEvent(announcement.Ip, announcement.Mac, node, ns, new Evidence(sources[source].Path, node, [frame])));
            }

            int start = 0;
            for (int i = 1; i <= unique.Count; i++)
            {
                if (i < unique.Count && FollowsSchedule(i - start, unique[i].Ns - unique[i - 1].Ns))
                {
                    continue;
                }

                var burst = unique.GetRange(start, i - start);
                long first = burst[0].Ns;
                bool covered = context.NodeObserved(node, first + _options.GarpBurstSpanNs);
                var frames = new List<long>(burst.Count);
                foreach ((_, int source, long frame) in burst)
                {
                    if (source == burst[0].Source)
                    {
                        frames.Add(frame);
                    }
                }

                var evidence = new Evidence(sources[burst[0].Source].Path, node, frames);
                var garpBurst = new GarpBurst(announcement.Ip, announcement.Mac, node, first, burst[^1].Ns, burst.Count, _options.GarpsPerBurst, covered, evidence);
                report.GarpBursts.Add(garpBurst);
                start = i;
            }
        }
    }

    /// <summary>
    /// OVN 23.03 sends a claim's GARPs about 1, 3, 7, 15 and 31 s after it: the gap after the k-th is 2^k s. A gap
    /// much shorter (a new claim restarted the schedule), much longer (the burst stopped), or a sixth GARP starts a new burst.
    /// </summary>
    private bool FollowsSchedule(int sentSoFar, long gapNs)
    {
        if (sentSoFar >= _options.GarpsPerBurst || gapNs > _options.GarpBurstGapNs)
        {
            return false;
        }

        double expected = Math.Pow(2, sentSoFar) * 1e9;
        return gapNs >= expected * 0.5 && gapNs <= (expected * 1.5) + 500_000_000;
    }

    private void AddConflictFindings(AnalysisContext context, AnalysisReport report)
    {
        IReadOnlyList<CaptureSource> sources = context.Sources;
        var ipsBeyond = new List<IpState>();
        List<KeyValuePair<IpKey, IpState>> ips = _ips.Kept(ipsBeyond);
        long ipClaimsNotKept = _ipClaimsNotKept + ipsBeyond.Sum(i => i.Claims);
        if (ipClaimsNotKept > 0)
        {
            report.Notes.Add($"Announcements: more than {_options.MaxBindings} claimed IPs; {ipClaimsNotKept} claims of the others (beyond the inventory's addresses and the lowest IPs) " +
                             "were counted; ip_claimed_by_two_macs and mac_flip_flop were checked for the kept IPs only");
        }

        ips.Sort(static (a, b) => a.Key.CompareTo(b.Key));
        foreach ((IpKey ip, IpState ipState) in ips)
        {
            // Each capture recorded where the MAC changed in its own time order; merge them into one history.
            var changes = new List<(long Ns, MacAddress Mac, int Source, long Frame)>();
            foreach (var change in ipState.Changes.OrderBy(c => c.Ns))
            {
                if (changes.Count == 0 || changes[^1].Mac != change.Mac)
                {
                    changes.Add(change);
                }
            }

            var macs = changes.Select(c => c.Mac).Distinct().ToList();
            if (macs.Count < 2)
            {
                continue;
            }

            string ipText = Format(ip);
            var evidence = changes.Take(6).Select(c => new Evidence(sources[c.Source].Path, sources[c.Source].Node, [c.Frame], c.Mac.ToString())).ToList();
            report.Add(new Finding(FindingIds.IpClaimedByTwoMacs, FindingSeverity.Error,
                $"{ipText} was claimed by {macs.Count} MACs: {string.Join(", ", macs)}", evidence, changes[1].Ns, ipText));

            // A -> B -> A inside the window: the binding flips back and forth.
            for (int i = 2; i < changes.Count; i++)
            {
                if (changes[i].Mac == changes[i - 2].Mac && changes[i].Ns - changes[i - 2].Ns <= _options.FlipFlopWindowNs)
                {
                    int flips = changes.Count - 1;
                    report.Add(new Finding(FindingIds.MacFlipFlop, FindingSeverity.Error,
                        $"{ipText} flipped between {changes[i - 1].Mac} and {changes[i].Mac} ({flips} changes): two hosts answer for it",
                        evidence, changes[i].Ns, ipText));
                    break;
                }
            }
        }
    }

    private static string Format(IpKey key) => key == NoIp ? string.Empty : key.ToString();

    /// <summary>Bindings of the inventory's addresses or MACs first, then of LXD's and OpenStack's MAC prefixes, then by (IP, MAC).</summary>
    private sealed class BindingOrder(KeepPriorities priorities) : IComparer<BindingKey>
    {
        public int Compare(BindingKey a, BindingKey b)
        {
            int rank = Rank(a).CompareTo(Rank(b));
            return rank != 0 ? rank : a.Ip.CompareTo(b.Ip) is int ip && ip != 0 ? ip : a.Mac.CompareTo(b.Mac);
        }

        private int Rank(in BindingKey key) => priorities.RankOfIp(key.Ip) == 0 ? 0 : priorities.RankOfMac(key.Mac.Value);
    }

    /// <summary>The inventory's addresses first, then by IP.</summary>
    private sealed class IpOrder(KeepPriorities priorities) : IComparer<IpKey>
    {
        public int Compare(IpKey a, IpKey b)
        {
            int rank = priorities.RankOfIp(a).CompareTo(priorities.RankOfIp(b));
            return rank != 0 ? rank : a.CompareTo(b);
        }
    }

    /// <summary>What was seen of one (IP, MAC) binding; kept in the binding table's entry (see <see cref="Claim"/>).</summary>
    private struct BindingState
    {
        public const int MaxEvidence = 8;

        public KindCountBlock Kinds;
        public long FirstNs;
        public long LastNs;
        public long Unattributed;
        public long GarpsNotKept;

        // _evidence.Count, kept here so that a claim past the first few does not reach the list.
        public int EvidenceCount;

        // Sent frames per source index, in the order the sources first sent; made at the first sent claim.
        private OrderedTable<int, long, NumberKeyHasher>? _sent;

        private List<(int Source, long Frame)>? _evidence;
        private List<(long Ns, int Source, long Frame)>? _garps;

        public readonly IReadOnlyList<(int Source, long Frame)> Evidence => _evidence ?? [];

        public readonly IReadOnlyList<(long Ns, int Source, long Frame)> Garps => _garps ?? [];

        public void Start()
        {
            FirstNs = long.MaxValue;
            LastNs = long.MinValue;
        }

        public readonly long[] KindCounts() => ((ReadOnlySpan<long>)Kinds).ToArray();

        public readonly long Claims
        {
            get
            {
                long sum = 0;
                foreach (long n in (ReadOnlySpan<long>)Kinds)
                {
                    sum += n;
                }

                return sum;
            }
        }

        public readonly IEnumerable<KeyValuePair<int, long>> SentBySource() => _sent ?? Enumerable.Empty<KeyValuePair<int, long>>();

        public void CountSent(int source, long n) => (_sent ??= new()).GetValueRefOrAddDefault(source, out _) += n;

        public void AddEvidence(int source, long frame)
        {
            (_evidence ??= new(MaxEvidence)).Add((source, frame));
            EvidenceCount++;
        }

        public void AddGarp(long ns, int source, long frame)
        {
            _garps ??= new();
            if (_garps.Count < MaxGarpsPerBinding)
            {
                _garps.Add((ns, source, frame));
            }
            else
            {
                GarpsNotKept++;
            }
        }

        public void Append(in BindingState later, long frameOffset)
        {
            for (int k = 0; k < KindNames.Length; k++)
            {
                Kinds[k] += later.Kinds[k];
            }

            foreach ((int source, long n) in later.SentBySource())
            {
                CountSent(source, n);
            }

            Unattributed += later.Unattributed;
            FirstNs = Math.Min(FirstNs, later.FirstNs);
            LastNs = Math.Max(LastNs, later.LastNs);
            foreach ((int source, long frame) in later.Evidence)
            {
                if (EvidenceCount < MaxEvidence)
                {
                    AddEvidence(source, frame + frameOffset);
                }
            }

            // Garps is full before anything is left out, so the first MaxGarpsPerBinding of the concatenation are
            // these followed by the first ones kept by the later part.
            foreach ((long ns, int source, long frame) in later.Garps)
            {
                AddGarp(ns, source, frame + frameOffset);
            }

            GarpsNotKept += later.GarpsNotKept;
        }
    }

    [InlineArray(8)]
    private struct KindCountBlock
    {
        private long _first;
    }

    /// <summary>The MAC each source last saw claim one IP, and the changes; kept in the IP table's entry.</summary>
    private struct IpState
    {
        // Sources 0..InlineSources-1 (the usual one to three captures) inline, bit i of _inlineKnown set once known.
        private const int InlineSources = 4;
        private InlineMacBlock _inlineMacs;
        private int _inlineKnown;
        private Dictionary<int, MacAddress>? _moreMacs;
        private List<(long Ns, MacAddress Mac, int Source, long Frame)>? _changes;

        public readonly IReadOnlyList<(long Ns, MacAddress Mac, int Source, long Frame)> Changes => _changes ?? [];

        /// <summary>Claims of this IP (by any MAC).</summary>
        public long Claims;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly bool TryGetLastMac(int source, out MacAddress mac)
        {
            if ((uint)source < InlineSources)
            {
                mac = new MacAddress(_inlineMacs[source]);
                return (_inlineKnown & (1 << source)) != 0;
            }

            mac = default;
            return _moreMacs is not null && _moreMacs.TryGetValue(source, out mac);
        }

        public void SetLastMac(int source, MacAddress mac)
        {
            if ((uint)source < InlineSources)
            {
                _inlineMacs[source] = mac.Value;
                _inlineKnown |= 1 << source;
                return;
            }

            (_moreMacs ??= new())[source] = mac;
        }

        public void AddChange(long ns, MacAddress mac, int source, long frame)
        {
            _changes ??= new();
            if (_changes.Count < MaxGarpsPerBinding)
            {
                _changes.Add((ns, mac, source, frame));
            }
        }

        public readonly List<KeyValuePair<int, MacAddress>> LastMacBySource()
        {
            var all = new List<KeyValuePair<int, MacAddress>>();
            for (int i = 0; i < InlineSources; i++)
            {
                if ((_inlineKnown & (1 << i)) != 0)
                {
                    all.Add(new KeyValuePair<int, MacAddress>(i, new MacAddress(_inlineMacs[i])));
                }
            }

            if (_moreMacs is not null)
            {
                all.AddRange(_moreMacs);
            }

            return all;
        }

        /// <remarks>
        /// A later part records a source's first observation as its first change of that source. If this part's
        /// changes are capped, none of the later ones are needed; if not, they hold a change for every source seen
        /// here, so at most that many of the later part's kept changes are dropped and its kept ones (up to the cap)
        /// still cover what fits.
        /// </remarks>
        public void Append(in IpState later, long frameOffset)
        {
            HashSet<int>? seen = null;
            foreach ((long ns, MacAddress mac, int source, long frame) in later.Changes)
            {
                if ((seen ??= new()).Add(source) && TryGetLastMac(source, out MacAddress last) && last == mac)
                {
                    continue;
                }

                AddChange(ns, mac, source, frame + frameOffset);
            }

            foreach ((int source, MacAddress mac) in later.LastMacBySource())
            {
                SetLastMac(source, mac);
            }

            Claims += later.Claims;
        }

        [InlineArray(InlineSources)]
        private struct InlineMacBlock
        {
            private ulong _first;
        }
    }
}
