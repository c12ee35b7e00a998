using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis;

/// <summary>
/// Geneve between chassis: traffic per (source endpoint, destination endpoint, VNI) with OVN's logical port keys,
/// BFD sessions carried in VNI 0 (OVN's gateway liveness check), one-way tunnels, tunnels toward the active gateway
/// that fall silent from one node, and packets close to the uplink MTU.
/// </summary>
public sealed class TunnelAnalyzer : UplinkAnalyzer
{
    private readonly OrderedTable<FlowKey, FlowState, FlowKey> _flows;
    private readonly OrderedTable<BfdKey, BfdState, BfdKey> _bfd;
    private readonly OrderedTable<IpKey, string, IpKeyHasher> _learnedEndpoints;
    private readonly AnalysisOptions _options;

    // Packets of flows and BFD sessions beyond the caps: rejected, or let go when a table kept its lowest keys.
    private long _flowPacketsNotKept;
    private long _bfdPacketsNotKept;

    internal TunnelAnalyzer(AnalysisOptions options, KeepPriorities priorities)
    {
        _options = options;
        _flows = new(options.MaxTunnelFlows, new EndpointPairOrder<FlowKey>(priorities, k => (k.Src, k.Dst, k.Vni)), f => _flowPacketsNotKept += f.Packets);
        _bfd = new(options.MaxTunnelFlows, new EndpointPairOrder<BfdKey>(priorities, k => (k.Src, k.Dst, k.Source)), b => _bfdPacketsNotKept += b.Packets);
        _learnedEndpoints = new(options.MaxTunnelFlows, Comparer<IpKey>.Default);
    }

    /// <summary>Inlined into the session's loop: packets without Geneve return here without the frame set-up of the
    /// method that counts flows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void OnPacket(in UplinkPacket packet)
    {
        if (packet.Has(LayerKind.Geneve))
        {
            OnGeneve(packet);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void OnGeneve(in UplinkPacket packet)
    {
        // Runs for every Geneve packet: the common frame is read inline, anything rare (other layouts, other option
        // orders, a new flow, BFD) is out of line.
        if (!TryReadTunnel(packet, out FlowKey key, out int outerIpLength, out int g))
        {
            return;
        }

        ref FlowState flow = ref _flows.GetValueRefOrAddDefault(key, out bool exists);
        if (!exists)
        {
            if (Unsafe.IsNullRef(ref flow))
            {
                OnFlowNotKept(packet, key, g);
                return;
            }

            StartFlow(ref flow, packet.Source, packet.Record.Number);
        }

        flow.Runs.Add(packet.TimestampNs, packet.Record.Number);
        flow.Bytes += packet.Record.OriginalLength;
        flow.MaxOuterIpLength = Math.Max(flow.MaxOuterIpLength, outerIpLength);
        if (outerIpLength > _options.UplinkMtu - _options.NearMtuMargin)
        {
            flow.NearMtu++;
        }

        flow.SeenBySources |= 1UL << Math.Min(packet.Source.Index, 63); // bit 63: the 64th capture or a later one
        Layer geneve = packet.Decoded.LayerBuffer[g]; // g is below the count of layers with positions
        if (TryGetOvnMetadata(packet.Data.Slice(geneve.Offset, geneve.Length), out OvnGeneveMetadata ovn))
        {
            flow.CountEgressKey(ovn.EgressPortKey);
        }

        if (packet.Direction == PacketDirection.Outbound || packet.Has(LayerKind.Bfd))
        {
            OnEndpointOrBfd(packet, key, g);
        }
    }

    /// <summary>Out of line: building the new state in place here would make every call clear a state-sized temporary.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void StartFlow(ref FlowState flow, CaptureSource source, long frame) =>
        flow = new FlowState(_options.RunGapNs, _options.MaxRunsPerTrack, _options.MaxEgressKeysPerFlow, source, frame);

    /// <summary>A packet of a flow beyond the cap: counted; its endpoint and BFD are still looked at.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void OnFlowNotKept(in UplinkPacket packet, in FlowKey key, int g)
    {
        _flowPacketsNotKept++;
        if (packet.Direction == PacketDirection.Outbound || packet.Has(LayerKind.Bfd))
        {
            OnEndpointOrBfd(packet, key, g);
        }
    }

    /// <summary>The outer addresses, VNI and IP length of a Geneve packet, and the Geneve layer's index. The decoder has
    /// checked every header it recorded as a layer, so their fields are read without checking them again.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryReadTunnel(in UplinkPacket packet, out FlowKey key, out int outerIpLength, out int g)
    {
        ReadOnlySpan<Layer> layers = packet.Decoded.Layers;
        ReadOnlySpan<byte> data = packet.Data;

        // The common uplink frame, Ethernet / IPv4 / UDP / Geneve, is known by its first four layers; its fields are read
        // in place (one length check covers the IPv4 addresses and the VNI, which ends the Geneve fixed header).
        if (layers.Length >= 4 && layers[3].Kind == LayerKind.Geneve && layers[2].Kind == LayerKind.Udp && layers[1].Kind == LayerKind.Ipv4
            && layers[3].Depth == 0 && (uint)layers[3].Offset + GeneveHeader.FixedLength <= (uint)data.Length && (uint)layers[1].Offset + Ipv4Header.MinLength <= (uint)layers[3].Offset)
        {
            ref byte ip = ref Unsafe.Add(ref MemoryMarshal.GetReference(data), layers[1].Offset);
            key = new FlowKey(
                IpKey.Of(new Ipv4Address(BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 12))))),
                IpKey.Of(new Ipv4Address(BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref ip, 16))))),
                BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref MemoryMarshal.GetReference(data), layers[3].Offset + 4))) >> 8);
            int total = BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref ip, 2)));
            outerIpLength = total == 0 ? data.Length - layers[1].Offset : total;
            g = 3;
            return true;
        }

        return TryReadAnyTunnel(packet, out key, out outerIpLength, out g);
    }

    /// <summary>Any other layout: the Geneve layer found outside every tunnel, and the IP layer before it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryReadAnyTunnel(in UplinkPacket packet, out FlowKey key, out int outerIpLength, out int g)
    {
        DecodedPacket decoded = packet.Decoded;
        ReadOnlySpan<Layer> layers = decoded.Layers;
        g = FrameFacts.OuterIndexOf(decoded, LayerKind.Geneve);
        int ip = g - 1;
        while (ip >= 0 && layers[ip].Kind is not (LayerKind.Ipv4 or LayerKind.Ipv6))
        {
            ip--;
        }

        if (g < 2 || ip < 0)
        {
            key = default;
            outerIpLength = 0;
            return false;
        }

        ReadOnlySpan<byte> ipBytes = packet.Data[layers[ip].Offset..];
        IpKey src, dst;
        if (layers[ip].Kind == LayerKind.Ipv4)
        {
            src = IpKey.Of(Ipv4Address.Read(ipBytes[12..]));
            dst = IpKey.Of(Ipv4Address.Read(ipBytes[16..]));
            int total = BinaryPrimitives.ReadUInt16BigEndian(ipBytes[2..]);
            outerIpLength = total == 0 ? ipBytes.Length : total;
        }
        else
        {
            src = IpKey.ReadIpv6(ipBytes[8..]);
            dst = IpKey.ReadIpv6(ipBytes[24..]);
            int payload = BinaryPrimitives.ReadUInt16BigEndian(ipBytes[4..]);
            outerIpLength = payload == 0 ? ipBytes.Length : 40 + payload;
        }

        uint vni = BinaryPrimitives.ReadUInt32BigEndian(packet.Data[(layers[g].Offset + 4)..]) >> 8;
        key = new FlowKey(src, dst, vni);
        return true;
    }

    /// <summary>The rare parts: the node behind an address it sent from, and BFD carried in Geneve.</summary>
    private void OnEndpointOrBfd(in UplinkPacket packet, in FlowKey key, int g)
    {
        if (packet.Direction == PacketDirection.Outbound)
        {
            _learnedEndpoints.TryAdd(key.Src, packet.Source.Node);
        }

        DecodedPacket decoded = packet.Decoded;
        for (int i = g + 1; packet.Has(LayerKind.Bfd) && i < decoded.LayerCount; i++)
        {
            if (decoded.Layers[i].Kind == LayerKind.Bfd && BfdControlPacket.TryRead(packet.Data[decoded.Layers[i].Offset..], out BfdControlPacket bfd, out _))
            {
                ref BfdState session = ref _bfd.GetValueRefOrAddDefault(new BfdKey(key.Src, key.Dst, packet.Source.Index), out bool exists);
                if (!exists)
                {
                    if (Unsafe.IsNullRef(ref session))
                    {
                        _bfdPacketsNotKept++;
                        break;
                    }

                    session = new BfdState();
                }

                session.Observe(packet, bfd);
                break;
            }
        }
    }

    /// <summary>OVN's option (RFC 8926 section 3.5; class 0x0102 type 0x80), looked for first where OVN puts it: first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryGetOvnMetadata(ReadOnlySpan<byte> geneve, out OvnGeneveMetadata metadata)
    {
        if (geneve.Length >= GeneveHeader.FixedLength + 8
            && BinaryPrimitives.ReadUInt16BigEndian(geneve[8..]) == OvnGeneveMetadata.OptionClass
            && geneve[10] == OvnGeneveMetadata.OptionType
            && (geneve[11] & 0x1F) is int words && words >= 1 && GeneveHeader.FixedLength + 4 + (words * 4) <= geneve.Length)
        {
            metadata = new OvnGeneveMetadata(BinaryPrimitives.ReadUInt32BigEndian(geneve[12..]));
            return true;
        }

        return TryFindOvnMetadata(geneve, out metadata);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryFindOvnMetadata(ReadOnlySpan<byte> geneve, out OvnGeneveMetadata metadata)
    {
        metadata = default;
        return GeneveHeader.TryRead(geneve, out GeneveHeader header, out _) && header.TryGetOvnMetadata(out metadata);
    }

    /// <summary>
    /// Flows, BFD sessions and endpoints first seen in <paramref name="later"/> are added in its order (the order
    /// they were created in a single pass, which picks between BFD captures of equal size). A flow continues its runs
    /// (<see cref="ActivityRuns.Append"/>) and keeps its first frame; counts add up; an endpoint keeps the node that
    /// sent from it first; a BFD session's state changes continue from its last state here (the later part saw its
    /// first packet as a change from nothing).
    /// </summary>
    internal override void Append(UplinkAnalyzer later, long frameOffset, IReadOnlyList<CaptureSource> sources)
    {
        var other = (TunnelAnalyzer)later;
        _flowPacketsNotKept += other._flowPacketsNotKept;
        _flows.AppendPart(other._flows, (ref FlowState slot, bool exists, in FlowState theirs) =>
        {
            if (!exists)
            {
                slot = new FlowState(_options.RunGapNs, _options.MaxRunsPerTrack, _options.MaxEgressKeysPerFlow, sources[theirs.FirstSource.Index], theirs.FirstFrame + frameOffset);
            }

            slot.Append(theirs, frameOffset);
        }, f => _flowPacketsNotKept += f.Packets);
        _learnedEndpoints.AppendPart(other._learnedEndpoints, (ref string slot, bool exists, in string node) => slot = exists ? slot : node);
        _bfdPacketsNotKept += other._bfdPacketsNotKept;
        _bfd.AppendPart(other._bfd, (ref BfdState slot, bool exists, in BfdState theirs) => (exists ? slot : slot = new BfdState()).Append(theirs, frameOffset),
            b => _bfdPacketsNotKept += b.Packets);
    }

    /// <summary>What a report shows (the kept entries), not what the tables hold at the moment.</summary>
    internal override void WriteState(TextWriter w)
    {
        var flowsBeyond = new List<FlowState>();
        foreach ((FlowKey key, FlowState f) in _flows.Kept(flowsBeyond))
        {
            w.WriteLine($"flow {key.Src} {key.Dst} {key.Vni} {f}");
        }

        foreach ((IpKey ip, string node) in _learnedEndpoints.Kept())
        {
            w.WriteLine($"endpoint {ip} {node}");
        }

        var bfdBeyond = new List<BfdState>();
        foreach ((BfdKey key, BfdState b) in _bfd.Kept(bfdBeyond))
        {
            w.WriteLine($"bfd {key.Src} {key.Dst} {key.Source} {b}");
        }

        w.WriteLine($"not kept: flow packets {_flowPacketsNotKept + flowsBeyond.Sum(f => f.Packets)} bfd packets {_bfdPacketsNotKept + bfdBeyond.Sum(b => b.Packets)}");
    }

    public override void Complete(AnalysisContext context, AnalysisReport report)
    {
        CloudInventory inventory = context.Inventory;
        var learned = _learnedEndpoints.Kept().ToDictionary(e => e.Key, e => e.Value);
        string? NodeOf(IpKey ip) => inventory.FindNodeByEncapIp(ip.ToString())?.Name ?? learned.GetValueOrDefault(ip);
        var runsOf = new Dictionary<TunnelFlowReport, (List<ActivityRun> Runs, ForgottenRuns Forgotten)>(ReferenceEqualityComparer.Instance);
        var flowsBeyond = new List<FlowState>();
        var kept = _flows.Kept(flowsBeyond);
        long flowPacketsNotKept = _flowPacketsNotKept + flowsBeyond.Sum(f => f.Packets);
        int flowsWithKeysNotKept = 0;
        bool seenBeyondBits = false;

        // By source, destination and VNI (each flow's key is unique): sorted with a comparison, which is precompiled, rather than LINQ over tuples.
        kept.Sort(static (a, b) => a.Key.Src.CompareTo(b.Key.Src) is int c && c != 0 ? c : a.Key.Dst.CompareTo(b.Key.Dst) is int d && d != 0 ? d : a.Key.Vni.CompareTo(b.Key.Vni));
        foreach (((IpKey src, IpKey dst, uint vni), FlowState flow) in kept)
        {
            List<ActivityRun> runs = flow.Runs.Shown(out ForgottenRuns forgotten);
            var r = new TunnelFlowReport
            {
                SourceIp = src.ToString(),
                DestinationIp = dst.ToString(),
                SourceNode = NodeOf(src),
                DestinationNode = NodeOf(dst),
                Vni = vni,
                DatapathName = inventory.TunnelKeys.Find(k => k.DatapathKey == vni && k.PortKey is null)?.Name,
                Packets = flow.Packets,
                Bytes = flow.Bytes,
                FirstNs = forgotten.Any ? Math.Min(forgotten.MinStartNs, runs.Min(x => x.StartNs)) : runs.Min(x => x.StartNs),
                LastNs = forgotten.Any ? Math.Max(forgotten.MaxEndNs, runs.Max(x => x.EndNs)) : runs.Max(x => x.EndNs),
                MaxOuterIpLength = flow.MaxOuterIpLength,
                NearMtuPackets = flow.NearMtu,
                FirstEvidence = new Evidence(flow.FirstSource.Path, flow.FirstSource.Node, [flow.FirstFrame]),
            };
            flowsWithKeysNotKept += flow.MoreEgressKeysThanKept ? 1 : 0;
            foreach ((ushort key, long n) in flow.EgressKeys())
            {
                r.EgressKeys[key] = n;
                if (inventory.TunnelKeys.Find(k => k.DatapathKey == vni && k.PortKey == key) is { } named)
                {
                    r.EgressKeyNames[key] = named.Name;
                }
            }

            // Bit 63 names one capture only when there are no more than 64.
            bool exact = context.Sources.Count <= 64;
            for (ulong bits = exact ? flow.SeenBySources : flow.SeenBySources & ~(1UL << 63); bits != 0; bits &= bits - 1)
            {
                r.SeenBy.Add(context.Sources[BitOperations.TrailingZeroCount(bits)].Node);
            }

            seenBeyondBits |= !exact && (flow.SeenBySources >> 63) != 0;

            report.Tunnels.Add(r);
            runsOf[r] = (runs, forgotten);
            if (r.NearMtuPackets > 0)
            {
                report.Add(new Finding(FindingIds.GeneveNearMtu, r.MaxOuterIpLength > _options.UplinkMtu ? FindingSeverity.Error : FindingSeverity.Warning,
                    $"{r.NearMtuPackets} Geneve packets {Name(r.SourceIp, r.SourceNode)} → {Name(r.DestinationIp, r.DestinationNode)} (vni {vni}) came within " +
                    $"{_options.NearMtuMargin} bytes of a {_options.UplinkMtu}-byte MTU (largest outer IP packet {r.MaxOuterIpLength} bytes): instances with a full-size MTU will see drops or fragmentation",
                    [r.FirstEvidence], r.FirstNs, $"{r.SourceIp}>{r.DestinationIp}"));
            }
        }

        // Several captures can see one session (both ends' tunnel NICs): report it from the capture that saw most of it.
        var bfdBeyond = new List<BfdState>();
        // By source and destination; of one pair, the capture with most packets, the first kept on a tie.
        var candidates = new List<BfdCandidate>();
        foreach ((BfdKey key, BfdState state) in _bfd.Kept(bfdBeyond))
        {
            candidates.Add(new BfdCandidate(key.Src, key.Dst, state, candidates.Count));
        }

        candidates.Sort(static (a, b) => a.Src.CompareTo(b.Src) is int c && c != 0 ? c : a.Dst.CompareTo(b.Dst) is int d && d != 0 ? d
            : a.State.Packets != b.State.Packets ? b.State.Packets.CompareTo(a.State.Packets) : a.Order.CompareTo(b.Order));
        for (int i = 0; i < candidates.Count; i++)
        {
            (IpKey src, IpKey dst, BfdState state, _) = candidates[i];
            if (i > 0 && candidates[i - 1].Src == src && candidates[i - 1].Dst == dst)
            {
                continue;
            }

            var session = new BfdSessionReport
            {
                SourceIp = src.ToString(),
                DestinationIp = dst.ToString(),
                SourceNode = NodeOf(src),
                DestinationNode = NodeOf(dst),
                Packets = state.Packets,
                LastState = state.LastState,
                LastNs = state.LastNs,
            };
            session.Changes.AddRange(state.Changes);
            string notKept = string.Empty;
            if (state.ChangesNotKept > 0)
            {
                session.Changes.Add(state.LastChange);
                notKept = $" (counted in its first {BfdState.MaxChanges} state changes; {state.ChangesNotKept} more not itemised)";
                report.Notes.Add($"BFD {session.SourceIp} → {session.DestinationIp}: {state.Changes.Count + state.ChangesNotKept} state changes; the first {BfdState.MaxChanges} and the last are listed");
            }

            report.BfdSessions.Add(session);
            // Sessions start in Down or Init (RFC 5880 6.2): only a fall after Up is a failure.
            // (Loops rather than LINQ over the change tuples, whose iterators would be compiled at run time.)
            int firstUp = -1;
            var downs = new List<(long Ns, string State, Evidence Evidence)>();
            for (int k = 0; k < state.Changes.Count; k++)
            {
                string changedTo = state.Changes[k].State;
                if (firstUp < 0 && changedTo == "up")
                {
                    firstUp = k;
                }
                else if (firstUp >= 0 && changedTo is "down" or "admin_down")
                {
                    downs.Add(state.Changes[k]);
                }
            }
            if (downs.Count > 0 || state.LastState != "up")
            {
                bool endsUp = state.LastState == "up";
                var last = state.LastChange;
                int recovered = endsUp ? downs.Count : downs.Count - 1;
                string what = endsUp ? $"went down {downs.Count} time(s) and recovered"
                    : firstUp < 0 ? $"never came up (last state {state.LastState} since {AnalysisClock.Format(last.Ns)})"
                    : $"is {state.LastState} since {AnalysisClock.Format(last.Ns)}" + (recovered > 0 ? $" (and went down {recovered} time(s) before)" : string.Empty);
                what += notKept;
                var evidence = new List<Evidence>();
                foreach ((_, _, Evidence e) in endsUp ? downs : [last])
                {
                    if (evidence.Count < 4)
                    {
                        evidence.Add(e);
                    }
                }

                report.Add(new Finding(FindingIds.BfdSessionDown, endsUp ? FindingSeverity.Warning : FindingSeverity.Error,
                    $"BFD {Name(session.SourceIp, session.SourceNode)} → {Name(session.DestinationIp, session.DestinationNode)} {what}" +
                    (state.LastDiag is { } diag && diag != "none" ? $", diag {diag}" : string.Empty) +
                    ": OVN uses these sessions to decide which gateway chassis is alive",
                    evidence, endsUp ? downs[0].Ns : last.Ns, $"{session.SourceIp}>{session.DestinationIp}"));
            }
        }

        if (seenBeyondBits)
        {
            report.Notes.Add("Geneve: seen_by names the first 63 captures of this analysis; flows seen by later ones do not list those");
        }

        if (flowsWithKeysNotKept > 0)
        {
            report.Notes.Add($"Geneve: {flowsWithKeysNotKept} flow(s) carried more than {_options.MaxEgressKeysPerFlow} OVN egress port keys; the lowest {_options.MaxEgressKeysPerFlow} of each are listed");
        }

        long bfdPacketsNotKept = _bfdPacketsNotKept + bfdBeyond.Sum(b => b.Packets);
        if (bfdPacketsNotKept > 0)
        {
            report.Notes.Add($"BFD: more than {_options.MaxTunnelFlows} sessions; {bfdPacketsNotKept} packets of the others (beyond the inventory's tunnel endpoints and the lowest addresses) were counted, not itemised");
        }

        if (flowPacketsNotKept > 0)
        {
            // A flow that is missing from the report may be one of those not kept: no finding rests on its absence.
            report.Notes.Add($"Geneve: more than {_options.MaxTunnelFlows} flows (source, destination, VNI); {flowPacketsNotKept} packets of the others (beyond the flows " +
                             "between the inventory's tunnel endpoints and the lowest addresses) were counted, not itemised. tunnel_one_way and no_tunnel_traffic_to_gateway were not checked");
            return;
        }

        AddOneWayFindings(context, report);
        AddGatewayTunnelFindings(context, report, runsOf);
    }

    private void AddOneWayFindings(AnalysisContext context, AnalysisReport report)
    {
        // The flows of each (source, destination) pair, pairs in the order first seen ("a>b": no address holds '>').
        Dictionary<string, List<TunnelFlowReport>> pairs = SortedLists.GroupedBy(report.Tunnels, t => $"{t.SourceIp}>{t.DestinationIp}");

        foreach (List<TunnelFlowReport> flows in pairs.Values)
        {
            string src = flows[0].SourceIp, dst = flows[0].DestinationIp;
            if (pairs.ContainsKey($"{dst}>{src}"))
            {
                continue;
            }

            string? srcNode = flows[0].SourceNode, dstNode = flows[0].DestinationNode;

            // The reverse direction was observable if some capture saw traffic arriving at src or leaving dst in both directions.
            bool observable = (srcNode is not null && context.NodeCapturedBothWays(srcNode)) || (dstNode is not null && context.NodeCapturedBothWays(dstNode));
            if (!observable)
            {
                continue;
            }

            long packets = flows.Sum(f => f.Packets);
            report.Add(new Finding(FindingIds.TunnelOneWay, FindingSeverity.Error,
                $"Geneve {Name(src, srcNode)} → {Name(dst, dstNode)} carried {packets} packets, but nothing came back from {Name(dst, dstNode)}: " +
                "the tunnel works in one direction only (a firewall or MTU problem on the path?)",
                flows.Where(f => f.FirstEvidence is not null).Select(f => f.FirstEvidence!).Take(3).ToList(), flows.Min(f => f.FirstNs), $"{src}>{dst}"));
        }
    }

    /// <summary>
    /// While a node is the active gateway, every chassis whose instances reach the outside sends it Geneve on the
    /// router's datapath (VNI = datapath key). A chassis that stops while the others go on is the
    /// "only instances on one node reach the internet" symptom.
    /// </summary>
    private void AddGatewayTunnelFindings(AnalysisContext context, AnalysisReport report, Dictionary<TunnelFlowReport, (List<ActivityRun> Runs, ForgottenRuns Forgotten)> runsOf)
    {
        long quietNs = 5_000_000_000;
        foreach (GatewayReport gateway in report.Gateways)
        {
            GatewayPortInfo? port = context.Inventory.GatewayPorts.Find(p => p.Mac == gateway.Mac);
            if (port?.DatapathKey is not int vni)
            {
                continue;
            }

            foreach (TimelineSegment segment in gateway.Timeline)
            {
                var towardGateway = report.Tunnels.Where(t => t.DestinationNode == segment.Node && t.Vni == (uint)vni && t.SourceNode is not null
                                                              && (port.PortKey is not int key || t.EgressKeys.ContainsKey(key))).ToList();
                var lastByNode = new Dictionary<string, long>(StringComparer.Ordinal);
                var unsure = new List<TunnelFlowReport>();
                foreach (TunnelFlowReport t in towardGateway)
                {
                    if (!TryGetLastWithin(runsOf[t], segment.StartNs, segment.EndNs, out long last))
                    {
                        unsure.Add(t);
                    }
                    else if (last != long.MinValue)
                    {
                        lastByNode[t.SourceNode!] = Math.Max(lastByNode.GetValueOrDefault(t.SourceNode!, long.MinValue), last);
                    }
                }

                if (unsure.Count > 0)
                {
                    report.Notes.Add($"{gateway.Name}: no_tunnel_traffic_to_gateway was not checked while {segment.Node} was the gateway from {AnalysisClock.Format(segment.StartNs)}: " +
                                     $"Geneve toward it from {string.Join(", ", unsure.Select(t => t.SourceNode).Distinct())} came in more than {_options.MaxRunsPerTrack} " +
                                     "separate runs, and the older ones, which reach into that time, are only counted");
                    continue;
                }

                if (lastByNode.Count == 0)
                {
                    continue;
                }

                foreach (NodeInfo node in context.Inventory.Nodes.Where(n => n.Name != segment.Node && n.EncapIps.Count > 0))
                {
                    long mine = lastByNode.GetValueOrDefault(node.Name, long.MinValue);
                    var others = lastByNode.Where(p => p.Key != node.Name).OrderByDescending(p => p.Value).ToList();
                    bool othersContinue = others.Count > 0 && others[0].Value - mine >= quietNs;

                    // Silent toward the gateway for the last stretch of its activity: it was sending before, or others still send.
                    if ((mine == long.MinValue && !othersContinue) || (mine != long.MinValue && segment.EndNs - mine < quietNs))
                    {
                        continue;
                    }

                    if (!context.NodeObserved(node.Name, segment.EndNs) && !context.NodeObserved(segment.Node, segment.EndNs))
                    {
                        continue;
                    }

                    BfdSessionReport? bfdDown = report.BfdSessions.FirstOrDefault(b => b.LastState != "up"
                        && ((b.SourceNode == node.Name && b.DestinationNode == segment.Node) || (b.SourceNode == segment.Node && b.DestinationNode == node.Name)));
                    string key = port.PortKey is int k ? $", egress key {k}" : string.Empty;
                    string since = mine == long.MinValue ? "at all" : $"after {AnalysisClock.Format(mine)}";
                    var because = new List<string>();
                    if (othersContinue)
                    {
                        because.Add($"{others[0].Key} kept sending until {AnalysisClock.Format(others[0].Value)}");
                    }

                    if (bfdDown is not null)
                    {
                        because.Add($"BFD {bfdDown.SourceNode} → {bfdDown.DestinationNode} is {bfdDown.LastState}");
                    }

                    because.Add($"{segment.Node} still emitted the gateway MAC until {AnalysisClock.Format(segment.EndNs)}");
                    var evidence = towardGateway.Where(t => t.SourceNode == node.Name && t.FirstEvidence is not null).Select(t => t.FirstEvidence!).Take(1).ToList();
                    if (bfdDown is not null)
                    {
                        if (bfdDown.Changes.Count > 0)
                        {
                            evidence.Add(bfdDown.Changes[^1].Evidence);
                        }

                    }

                    report.Add(new Finding(FindingIds.NoTunnelTrafficToGateway, othersContinue || bfdDown is not null ? FindingSeverity.Error : FindingSeverity.Warning,
                        $"{gateway.Name}: no Geneve from {node.Name} to the active gateway {segment.Node} (vni {vni}{key}) {since}, while {string.Join("; ", because)}: " +
                        $"instances on {node.Name} cannot reach the outside through {port.ChassisRedirectPort ?? port.Port}",
                        evidence, mine == long.MinValue ? segment.StartNs : mine, node.Name));
                }
            }
        }
    }

    /// <summary>
    /// The flow's last packet inside [start, end], or long.MinValue; false when runs it no longer itemises reach into
    /// that time and could hold a later one than those it itemises.
    /// </summary>
    private static bool TryGetLastWithin((List<ActivityRun> Runs, ForgottenRuns Forgotten) flow, long start, long end, out long last)
    {
        last = long.MinValue;
        foreach (ActivityRun run in flow.Runs)
        {
            if (run.StartNs <= end && run.EndNs >= start)
            {
                last = Math.Max(last, Math.Min(run.EndNs, end));
            }
        }

        ForgottenRuns forgotten = flow.Forgotten;
        return !forgotten.Any || forgotten.MaxEndNs < start || forgotten.MinStartNs > end || last >= Math.Min(forgotten.MaxEndNs, end);
    }

    private static string Name(string ip, string? node) => node is null ? ip : $"{node} ({ip})";

    /// <summary>A Geneve flow: outer source and destination (IPv4 mapped into IPv6) and VNI; its own table hasher.</summary>
    private readonly record struct FlowKey(IpKey Src, IpKey Dst, uint Vni) : ITableKeyHasher<FlowKey>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Equals(FlowKey other) => IpKeyHasher.Same(Src, other.Src) && IpKeyHasher.Same(Dst, other.Dst) && Vni == other.Vni;

        public override int GetHashCode() => (int)Hash(this);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Hash(in FlowKey key) =>
            IpKeyHasher.Hash(key.Src) ^ (IpKeyHasher.Hash(key.Dst) * 0x1656_67B1_9E37_79F9UL) ^ ((ulong)key.Vni << 40);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Same(in FlowKey a, in FlowKey b) => a.Equals(b);
    }

    /// <summary>
    /// Keys of a pair of tunnel endpoints (flows, BFD sessions): pairs between the inventory's tunnel endpoints first
    /// (both ends known, then one), then by source, destination and the key's last part (VNI, capture).
    /// </summary>
    private sealed class EndpointPairOrder<TKey>(KeepPriorities priorities, Func<TKey, (IpKey Src, IpKey Dst, long Last)> parts) : IComparer<TKey>
    {
        public int Compare(TKey? a, TKey? b)
        {
            (IpKey srcA, IpKey dstA, long lastA) = parts(a!);
            (IpKey srcB, IpKey dstB, long lastB) = parts(b!);
            int rank = (priorities.RankOfEncapIp(srcA) + priorities.RankOfEncapIp(dstA)).CompareTo(priorities.RankOfEncapIp(srcB) + priorities.RankOfEncapIp(dstB));
            return rank != 0 ? rank : srcA.CompareTo(srcB) is int src && src != 0 ? src : dstA.CompareTo(dstB) is int dst && dst != 0 ? dst : lastA.CompareTo(lastB);
        }
    }

    private sealed record BfdCandidate(IpKey Src, IpKey Dst, BfdState State, int Order);

    /// <summary>A BFD session as one capture saw it.</summary>
    private readonly record struct BfdKey(IpKey Src, IpKey Dst, int Source) : ITableKeyHasher<BfdKey>
    {
        public static ulong Hash(in BfdKey key) => IpKeyHasher.Hash(key.Src) ^ (IpKeyHasher.Hash(key.Dst) * 0x1656_67B1_9E37_79F9UL) ^ ((ulong)(uint)key.Source << 40);

        public static bool Same(in BfdKey a, in BfdKey b) => a.Equals(b);
    }

    /// <summary>A flow's counters. A struct kept in the flow table's entry beside its key: the packet path touches that
    /// entry anyway, so the counters come without another dependent load (measured: the flow state was the
    /// analyzer's main cache miss while it was an object of its own).</summary>
    private struct FlowState
    {
        public FlowState(long gapNs, int keepRuns, int maxKeys, CaptureSource firstSource, long firstFrame)
        {
            Runs = new ActivityRuns(gapNs, keepRuns);
            _maxKeys = maxKeys;
            FirstSource = firstSource;
            FirstFrame = firstFrame;
        }

        // A field, not a property: the struct is updated in place.
        public ActivityRuns Runs;

        public long Bytes { get; set; }

        public int MaxOuterIpLength { get; set; }

        public long NearMtu { get; set; }

        public ulong SeenBySources { get; set; }

        // OVN egress port keys seen on this flow, in the order first seen: toward a gateway usually one (the cr- port),
        // toward instances one per port. The first InlineKeys sit in the object itself and are found with one vector
        // compare (no hashing, no further object), the rest in a table. Bounded like a capped OrderedTable: at most
        // twice _maxKeys are held, then the _maxKeys lowest, and keys above the highest of those are not counted.
        private const int InlineKeys = 16;
        private InlineKeyBlock _keys;
        private InlineCountBlock _counts;
        private int _inlineKeyCount;
        private OrderedTable<ushort, long, NumberKeyHasher>? _moreKeys;
        private readonly int _maxKeys;
        private bool _keysCapped;
        private ushort _keyThreshold;

        public readonly long Packets => Runs.Events;

        /// <summary>More distinct egress keys were seen than are listed.</summary>
        public readonly bool MoreEgressKeysThanKept => _keysCapped || KeyCount > _maxKeys;

        private readonly int KeyCount => _inlineKeyCount + (_moreKeys?.Count ?? 0);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void CountEgressKey(ushort key) => CountEgressKey(key, 1);

        /// <summary>
        /// Continues with the same flow in a later part: its egress keys are counted as if its packets came now, in
        /// the order it first saw them, so every key keeps the order of its first appearance.
        /// </summary>
        public void Append(in FlowState later, long frameOffset)
        {
            Runs.Append(later.Runs, frameOffset);
            Bytes += later.Bytes;
            MaxOuterIpLength = Math.Max(MaxOuterIpLength, later.MaxOuterIpLength);
            NearMtu += later.NearMtu;
            SeenBySources |= later.SeenBySources;
            if (later._keysCapped && (!_keysCapped || later._keyThreshold < _keyThreshold))
            {
                KeepKeysUpTo(later._keyThreshold);
            }

            foreach ((ushort key, long n) in later.HeldEgressKeys())
            {
                CountEgressKey(key, n);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void CountEgressKey(ushort key, long n)
        {
            int at = IndexOfInlineKey(key);
            if (at >= 0)
            {
                _counts[at] += n;
                return;
            }

            CountNewOrMoreKey(key, n);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private int IndexOfInlineKey(ushort key)
        {
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<ushort> keys = Vector256.Create<ushort>(_keys);
                uint matches = Vector256.Equals(keys, Vector256.Create(key)).ExtractMostSignificantBits() & ((1u << _inlineKeyCount) - 1);
                return matches == 0 ? -1 : BitOperations.TrailingZeroCount(matches);
            }

            return ((ReadOnlySpan<ushort>)_keys)[.._inlineKeyCount].IndexOf(key);
        }

        private void CountNewOrMoreKey(ushort key, long n)
        {
            if (_moreKeys is not null)
            {
                ref long count = ref _moreKeys.GetValueRefOrNullRef(key);
                if (!Unsafe.IsNullRef(ref count))
                {
                    count += n;
                    return;
                }
            }

            if (KeyCount >= 2 * _maxKeys)
            {
                List<KeyValuePair<ushort, long>> held = HeldEgressKeys();
                KeepKeysUpTo(held.Select(k => k.Key).Order().ElementAt(_maxKeys - 1));
            }

            if (!_keysCapped || key <= _keyThreshold)
            {
                AddKey(key, n);
            }
        }

        private void AddKey(ushort key, long n)
        {
            if (_inlineKeyCount < InlineKeys && _moreKeys is null)
            {
                _keys[_inlineKeyCount] = key;
                _counts[_inlineKeyCount] = n;
                _inlineKeyCount++;
                return;
            }

            (_moreKeys ??= new()).GetValueRefOrAddDefault(key, out _) += n;
        }

        /// <summary>Lets go of the keys above <paramref name="threshold"/> and counts no such key from now on.</summary>
        private void KeepKeysUpTo(ushort threshold)
        {
            List<KeyValuePair<ushort, long>> held = HeldEgressKeys();
            _keysCapped = true;
            _keyThreshold = threshold;
            _inlineKeyCount = 0;
            _moreKeys = null;
            foreach ((ushort key, long n) in held)
            {
                if (key <= threshold)
                {
                    AddKey(key, n);
                }
            }
        }

        public override string ToString() =>
            $"{Runs} bytes {Bytes} max {MaxOuterIpLength} near {NearMtu} seen {SeenBySources:x} keys {string.Join(",", EgressKeys())} first {FirstSource.Index} #{FirstFrame}";

        /// <summary>Packets per egress key, in the order the keys were first seen: the lowest <c>maxKeys</c> of those seen.</summary>
        public readonly List<KeyValuePair<ushort, long>> EgressKeys()
        {
            List<KeyValuePair<ushort, long>> held = HeldEgressKeys();
            if (held.Count <= _maxKeys)
            {
                return held;
            }

            ushort limit = held.Select(k => k.Key).Order().ElementAt(_maxKeys - 1);
            return held.Where(k => k.Key <= limit).ToList();
        }

        /// <summary>Every key held (all seen that are not above the threshold, complete counts), in the order first seen.</summary>
        private readonly List<KeyValuePair<ushort, long>> HeldEgressKeys()
        {
            var all = new List<KeyValuePair<ushort, long>>(KeyCount);
            for (int i = 0; i < _inlineKeyCount; i++)
            {
                all.Add(new KeyValuePair<ushort, long>(_keys[i], _counts[i]));
            }

            if (_moreKeys is not null)
            {
                all.AddRange(_moreKeys);
            }

            return all;
        }

        [InlineArray(InlineKeys)]
        private struct InlineKeyBlock
        {
            private ushort _first;
        }

        [InlineArray(InlineKeys)]
        private struct InlineCountBlock
        {
            private long _first;
        }

        public CaptureSource FirstSource { get; }

        public long FirstFrame { get; }
    }

    private sealed class BfdState
    {
        public long Packets { get; private set; }

        public string LastState { get; private set; } = "none";

        public string? LastDiag { get; private set; }

        public long LastNs { get; private set; }

        /// <summary>The first state changes (<see cref="MaxChanges"/>); the others are only counted (a session flapping for days).</summary>
        public List<(long Ns, string State, Evidence Evidence)> Changes { get; } = new();

        public long ChangesNotKept { get; private set; }

        /// <summary>The latest state change, kept or not.</summary>
        public (long Ns, string State, Evidence Evidence) LastChange { get; private set; }

        public const int MaxChanges = 1024;

        private void AddChange((long Ns, string State, Evidence Evidence) change)
        {
            LastChange = change;
            if (Changes.Count < MaxChanges)
            {
                Changes.Add(change);
            }
            else
            {
                ChangesNotKept++;
            }
        }

        /// <summary>
        /// Continues with the same session in a later part. Its first packet was a change from "none" there (no state
        /// is named so); here it is a change only if it differs from the last state.
        /// </summary>
        public void Append(BfdState later, long frameOffset)
        {
            for (int i = 0; i < later.Changes.Count; i++)
            {
                (long ns, string state, Evidence evidence) = later.Changes[i];
                if (i == 0 && state == LastState)
                {
                    continue;
                }

                AddChange((ns, state, evidence with { Frames = evidence.Frames.Select(f => f + frameOffset).ToArray() }));
            }

            if (later.ChangesNotKept > 0)
            {
                ChangesNotKept += later.ChangesNotKept;
                (long ns, string state, Evidence evidence) = later.LastChange;
                LastChange = (ns, state, evidence with { Frames = evidence.Frames.Select(f => f + frameOffset).ToArray() });
            }

            Packets += later.Packets;
            LastState = later.LastState;
            LastDiag = later.LastDiag;
            LastNs = Math.Max(LastNs, later.LastNs);
        }

        public override string ToString() =>
            $"{Packets} {LastState} {LastDiag} {LastNs} changes {string.Join(" ", Changes.Select(c => $"{c.Ns}/{c.State}/{c.Evidence}"))} not kept {ChangesNotKept} last {LastChange.Ns}/{LastChange.State}/{LastChange.Evidence}";

        public void Observe(in UplinkPacket packet, BfdControlPacket bfd)
        {
            Packets++;
            string state = Reporting.LayerNames.Of(bfd.State);
            LastDiag = Reporting.LayerNames.Of(bfd.Diagnostic);
            if (!ReferenceEquals(state, LastState) && state != LastState)
            {
                AddChange((packet.TimestampNs, state, new Evidence(packet.Source.Path, packet.Source.Node, [packet.Record.Number], $"bfd {state}")));
                LastState = state;
            }

            LastNs = Math.Max(LastNs, packet.TimestampNs);
        }
    }
}
