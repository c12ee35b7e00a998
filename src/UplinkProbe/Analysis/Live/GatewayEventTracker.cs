using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;

namespace UplinkProbe.Analysis.Live;

/// <summary>
/// Turns the packet stream of one node's uplink into events as they happen: GARPs, the gateway starting and stopping
/// to be emitted from this node, another node announcing it. It keeps, per gateway MAC and node, only the open stretch
/// of emission (start, last frame, count) in fields; an event — and with it an allocation — happens only at a
/// transition or a GARP. The stretches follow the analysis's rule (frames no further apart than
/// <see cref="AnalysisOptions.RunGapNs"/> are one), so the starts reported here are the starts of the timeline
/// segments the final report shows.
/// </summary>
public sealed class GatewayEventTracker : UplinkObserver
{
    /// <summary>At most this many GARP events per second of packet time; the rest are counted and summarised.</summary>
    private const int MaxGarpEventsPerSecond = 20;

    private readonly Dictionary<MacAddress, GatewayState> _gateways = new();
    private readonly HashSet<MacAddress> _notGateways = new();
    private readonly bool _learnGateways;
    private readonly AnalysisOptions _options;
    private readonly Action<LiveEvent> _emit;
    private long _clockNs = long.MinValue;
    private long _nextExpiryNs = long.MaxValue;
    private long _garpWindowStartNs = long.MinValue;
    private int _garpEventsInWindow;
    private long _garpsSuppressed;
    private long _gatewaysNotLearned;

    /// <summary>Gateways learned from GARP requests at most: a GARP flood from random MACs must not grow the tracker (nor the work of every expiry) without end.</summary>
    public const int MaxLearnedGateways = 256;

    public GatewayEventTracker(CloudInventory inventory, AnalysisOptions options, Action<LiveEvent> emit)
    {
        _options = options;
        _emit = emit;
        foreach (GatewayPortInfo port in inventory.GatewayPorts)
        {
            if (!_gateways.ContainsKey(port.Mac))
            {
                var ips = port.Networks.Select(n => n.Split('/')[0]).Concat(port.NatExternalIps).Distinct().ToList();
                _gateways[port.Mac] = new GatewayState(port.DisplayName, port.Mac, ips);
            }
        }

        // Without gateway ports in the inventory, a MAC that sends gratuitous ARP requests and is neither a distributed
        // floating IP nor a node's own NIC is taken for a gateway (the analysis's rule).
        _learnGateways = _gateways.Count == 0;
        foreach (FloatingIpInfo fip in inventory.DistributedFloatingIps)
        {
            _notGateways.Add(fip.ExternalMac);
        }

        foreach (NodeInfo node in inventory.Nodes)
        {
            _notGateways.UnionWith(node.UplinkMacs);
        }
    }

    /// <summary>The clock: the newest packet time or wall-clock instant given to <see cref="Advance"/>.</summary>
    public long ClockNs => _clockNs;

    /// <summary>GARPs not reported one by one because they came faster than the event limit.</summary>
    public long GarpsSuppressed => _garpsSuppressed;

    /// <summary>GARP requests from MACs not taken for gateways because <see cref="MaxLearnedGateways"/> were already tracked.</summary>
    public long GatewaysNotLearned => _gatewaysNotLearned;

    public override void OnPacket(in UplinkPacket packet)
    {
        long ns = packet.TimestampNs;
        if (packet.Record.HasTimestamp)
        {
            Advance(ns);
        }

        if (!FrameFacts.TryGetLinkAddresses(packet.Data, packet.Decoded, out MacAddress source, out MacAddress destination))
        {
            return;
        }

        // An announcement? (ARP/RARP outside any tunnel, or an unsolicited Neighbor Advertisement.)
        bool claim = TryReadClaim(packet, out IpKey ip, out bool ipv4, out MacAddress claimedMac, out string? claimKind);
        if (claim && _learnGateways && claimKind == "gratuitous_request" && !claimedMac.IsMulticast && !_notGateways.Contains(claimedMac)
            && !_gateways.ContainsKey(claimedMac))
        {
            if (_gateways.Count < MaxLearnedGateways)
            {
                _gateways[claimedMac] = new GatewayState(claimedMac.ToString(), claimedMac, []);
            }
            else
            {
                _gatewaysNotLearned++;
            }
        }

        bool outbound = packet.Direction == PacketDirection.Outbound
            || (packet.Direction == PacketDirection.Unknown && !destination.IsMulticast); // the analysis's "probable" rule
        if (!source.IsMulticast && _gateways.TryGetValue(source, out GatewayState? gateway))
        {
            if (outbound)
            {
                Emitted(gateway, packet.Source, ns);
            }
            else if (packet.Direction == PacketDirection.Inbound && !(claim && claimedMac == source))
            {
                Heard(gateway, packet.Source, ns);
            }
        }

        if (claim)
        {
            OnClaim(packet, ip, ipv4, claimedMac, claimKind!);
        }
    }

    /// <summary>Moves the clock to <paramref name="nowNs"/> (packet time, or the wall clock when packets are scarce) and closes stretches that ended.</summary>
    public void Advance(long nowNs)
    {
        if (nowNs > _clockNs)
        {
            _clockNs = nowNs;
        }

        if (_clockNs < _nextExpiryNs)
        {
            return;
        }

        _nextExpiryNs = long.MaxValue;
        foreach (GatewayState gateway in _gateways.Values)
        {
            foreach ((string node, EmitState state) in gateway.ByNode)
            {
                if (!state.Active)
                {
                    continue;
                }

                if (_clockNs - state.LastNs > _options.RunGapNs)
                {
                    state.Active = false;
                    _emit(new LiveEvent
                    {
                        Kind = LiveEventKind.GatewayStopped,
                        TimestampNs = state.LastNs,
                        Node = node,
                        Interface = state.Interface,
                        Gateway = gateway.Name,
                        Mac = gateway.Mac,
                        SinceNs = state.StartNs,
                        Frames = state.Frames,
                        Text = $"gateway {gateway.Label} no longer emitted here: last frame {Clock(state.LastNs)}, {state.Frames} frames since {Clock(state.StartNs)}",
                    });
                }
                else
                {
                    _nextExpiryNs = Math.Min(_nextExpiryNs, state.LastNs + _options.RunGapNs + 1);
                }
            }
        }
    }

    /// <summary>Each gateway's state now, for the status line.</summary>
    public IReadOnlyList<GatewayLiveStatus> Status()
    {
        var list = new List<GatewayLiveStatus>();
        foreach (GatewayState g in _gateways.Values.OrderBy(g => g.Name, StringComparer.Ordinal))
        {
            EmitState? active = g.ByNode.Values.Where(s => s.Active).OrderBy(s => s.StartNs).FirstOrDefault();
            EmitState? last = g.ByNode.Values.OrderByDescending(s => s.LastNs).FirstOrDefault();
            GatewayLiveStatus status = active is not null ? new(g.Name, g.Mac, "here", active.StartNs)
                : g.AwaySinceNs is long away && (last is null || away >= last.LastNs) ? new(g.Name, g.Mac, "away", away)
                : g.HeardLastNs > long.MinValue && (last is null || g.HeardLastNs >= last.LastNs) ? new(g.Name, g.Mac, "heard elsewhere", g.HeardLastNs)
                : last is not null ? new(g.Name, g.Mac, "idle here", last.LastNs)
                : new(g.Name, g.Mac, "not seen", null);
            list.Add(status);
        }

        return list;
    }

    private void Emitted(GatewayState gateway, CaptureSource source, long ns)
    {
        ref EmitState? state = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(gateway.ByNode, source.Node, out _);
        state ??= new EmitState(source.Path);
        if (!state.Active)
        {
            string? previous = gateway.OwnerNode;
            bool remote = gateway.AwaySinceNs is not null || (gateway.HeardLastNs > long.MinValue && gateway.HeardLastNs >= gateway.OwnerLastNs);
            string text = previous is null && !remote ? $"gateway {gateway.Label} active here"
                : remote ? $"gateway {gateway.Label} moved here (it was on another node)"
                : previous == source.Node ? $"gateway {gateway.Label} back here after {(ns - state.LastNs) / 1e9:F1} s without a frame"
                : $"gateway {gateway.Label} moved here from {previous}";
            state.Active = true;
            state.StartNs = ns;
            state.Frames = 0;
            state.Interface = source.Path;
            gateway.OwnerNode = source.Node;
            gateway.AwaySinceNs = null;
            _emit(new LiveEvent
            {
                Kind = LiveEventKind.GatewayHere,
                TimestampNs = ns,
                Node = source.Node,
                Interface = source.Path,
                Gateway = gateway.Name,
                Mac = gateway.Mac,
                Direction = "out",
                PreviousNode = remote ? "another node" : previous,
                Text = text,
            });
            _nextExpiryNs = Math.Min(_nextExpiryNs, ns + _options.RunGapNs + 1);
        }

        state.LastNs = Math.Max(state.LastNs, ns); // sources of one node can interleave slightly out of order
        state.Frames++;
        gateway.OwnerLastNs = ns;
    }

    private void Heard(GatewayState gateway, CaptureSource source, long ns)
    {
        bool newStretch = gateway.HeardLastNs == long.MinValue || ns - gateway.HeardLastNs > _options.RunGapNs;
        gateway.HeardLastNs = ns;
        if (!newStretch)
        {
            return;
        }

        bool emittingHere = gateway.ByNode.Values.Any(s => s.Active);
        _emit(new LiveEvent
        {
            Kind = LiveEventKind.GatewayHeard,
            TimestampNs = ns,
            Node = source.Node,
            Interface = source.Path,
            Gateway = gateway.Name,
            Mac = gateway.Mac,
            Direction = "in",
            Text = emittingHere
                ? $"gateway {gateway.Label} heard from another node while this node emits it: split brain?"
                : $"gateway {gateway.Label} heard from another node",
        });
    }

    private void OnClaim(in UplinkPacket packet, IpKey ip, bool ipv4, MacAddress mac, string claimKind)
    {
        long ns = packet.TimestampNs;
        string direction = packet.Direction switch { PacketDirection.Outbound => "out", PacketDirection.Inbound => "in", _ => "unknown" };
        _gateways.TryGetValue(mac, out GatewayState? gateway);
        string ipText = claimKind == "rarp" ? string.Empty : ipv4 ? ip.ToString() : new Ipv6Address(ip.High, ip.Low).ToString();

        // A gateway's announcement heard from another node: it moved away (once per claim: OVN repeats it for ~31 s).
        if (gateway is not null && packet.Direction == PacketDirection.Inbound)
        {
            bool sameClaim = gateway.AwaySinceNs is not null && gateway.AwayLastNs != long.MinValue && ns - gateway.AwayLastNs <= _options.GarpBurstGapNs;
            gateway.AwayLastNs = ns;
            if (!sameClaim)
            {
                bool wasHere = gateway.ByNode.Values.Any(s => s.Active) || gateway.OwnerNode is not null;
                gateway.AwaySinceNs = ns;
                gateway.OwnerNode = null;
                string what = ipText.Length == 0 ? "RARP" : $"{ipText}";
                _emit(new LiveEvent
                {
                    Kind = LiveEventKind.GatewayAway,
                    TimestampNs = ns,
                    Node = packet.Source.Node,
                    Interface = packet.Source.Path,
                    Gateway = gateway.Name,
                    Mac = gateway.Mac,
                    Ip = ipText.Length == 0 ? null : ipText,
                    Direction = "in",
                    ClaimKind = claimKind,
                    Text = wasHere
                        ? $"gateway {gateway.Label} moved away: another node announced {what}"
                        : $"gateway {gateway.Label} announced by another node ({what})",
                });
            }
        }

        if (_garpWindowStartNs == long.MinValue || ns - _garpWindowStartNs >= 1_000_000_000)
        {
            if (_garpsSuppressed > 0 && _garpEventsInWindow >= MaxGarpEventsPerSecond)
            {
                _emit(new LiveEvent
                {
                    Kind = LiveEventKind.Garp,
                    TimestampNs = ns,
                    Node = packet.Source.Node,
                    Interface = packet.Source.Path,
                    Text = $"{_garpsSuppressed} more announcements so far were not listed one by one (more than {MaxGarpEventsPerSecond} per second)",
                });
            }

            _garpWindowStartNs = ns;
            _garpEventsInWindow = 0;
        }

        if (++_garpEventsInWindow > MaxGarpEventsPerSecond)
        {
            _garpsSuppressed++;
            return;
        }

        string from = packet.Direction switch
        {
            PacketDirection.Outbound => "from this node",
            PacketDirection.Inbound => "from another node",
            _ => "(sender unknown: no direction)",
        };
        string name = claimKind switch
        {
            "rarp" => "RARP",
            "unsolicited_na" => "unsolicited NA",
            "announcement" => "ARP announcement",
            "gratuitous_reply" => "GARP reply",
            _ => "GARP",
        };
        string named = gateway is null || gateway.Name == gateway.Mac.ToString() ? string.Empty : ", " + gateway.Name;
        string subject = ipText.Length == 0 ? mac.ToString() : $"{ipText} ({mac}{named})";
        _emit(new LiveEvent
        {
            Kind = LiveEventKind.Garp,
            TimestampNs = ns,
            Node = packet.Source.Node,
            Interface = packet.Source.Path,
            Gateway = gateway?.Name,
            Mac = mac,
            Ip = ipText.Length == 0 ? null : ipText,
            Direction = direction,
            ClaimKind = claimKind,
            Text = $"{name} {subject} {from}",
        });
    }

    /// <summary>The announcement a frame carries, if any: ARP/RARP claims (the analysis's kinds) and unsolicited NAs.</summary>
    private static bool TryReadClaim(in UplinkPacket packet, out IpKey ip, out bool ipv4, out MacAddress mac, out string? kind)
    {
        ip = default;
        ipv4 = false;
        mac = default;
        kind = null;
        DecodedPacket decoded = packet.Decoded;
        int arpIndex = FrameFacts.OuterIndexOf(decoded, LayerKind.Arp);
        if (arpIndex < 0)
        {
            arpIndex = FrameFacts.OuterIndexOf(decoded, LayerKind.Rarp);
        }

        if (arpIndex >= 0)
        {
            if (!ArpPacket.TryRead(packet.Data[decoded.Layers[arpIndex].Offset..], out ArpPacket arp, out _) || !arp.IsEthernetIpv4)
            {
                return false;
            }

            kind = arp.Classify() switch
            {
                ArpKind.GratuitousRequest => "gratuitous_request",
                ArpKind.GratuitousReply => "gratuitous_reply",
                ArpKind.Announcement => "announcement",
                ArpKind.RarpRequest => "rarp",
                _ => null,
            };
            ip = IpKey.Of(arp.SenderIp);
            ipv4 = true;
            mac = arp.SenderMac;
            return kind is not null;
        }

        int icmp = FrameFacts.OuterIndexOf(decoded, LayerKind.Icmpv6);
        if (icmp < 0)
        {
            return false;
        }

        Layer layer = decoded.Layers[icmp];
        ReadOnlySpan<byte> message = packet.Data.Slice(layer.Offset, layer.Length);
        if (message.Length == 0 || message[0] != Icmpv6Header.NeighborAdvertisement || !NdpMessage.TryRead(message, out NdpMessage na, out _) || na.SolicitedFlag)
        {
            return false;
        }

        if (!na.TryFindOption(NdpOptionTypes.TargetLinkLayerAddress, out NdpOption tlla) || !tlla.TryGetLinkLayerAddress(out mac))
        {
            if (!FrameFacts.TryGetLinkAddresses(packet.Data, decoded, out mac, out _))
            {
                return false;
            }
        }

        ip = IpKey.Of(na.TargetAddress);
        kind = "unsolicited_na";
        return true;
    }

    private static string Clock(long ns) => AnalysisTextWriter.Clock(ns);

    private sealed class GatewayState(string name, MacAddress mac, IReadOnlyList<string> ips)
    {
        public string Name { get; } = name;

        public MacAddress Mac { get; } = mac;

        public IReadOnlyList<string> Ips { get; } = ips;

        public string Label { get; } = name == mac.ToString() ? name : $"{name} ({mac})";

        public Dictionary<string, EmitState> ByNode { get; } = new(StringComparer.Ordinal);

        /// <summary>The local node that emitted it last (null when another node announced it since).</summary>
        public string? OwnerNode { get; set; }

        public long OwnerLastNs { get; set; } = long.MinValue;

        /// <summary>Set when another node's announcement was heard, until this node emits again.</summary>
        public long? AwaySinceNs { get; set; }

        public long AwayLastNs { get; set; } = long.MinValue;

        public long HeardLastNs { get; set; } = long.MinValue;
    }

    private sealed class EmitState(string source)
    {
        public bool Active { get; set; }

        public long StartNs { get; set; }

        public long LastNs { get; set; }

        public long Frames { get; set; }

        public string Interface { get; set; } = source;
    }
}
