using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Reporting;

/// <summary>
/// A compact, tcpdump-like one-line summary of a decoded packet that names what matters on an OVN uplink, e.g.
/// <c>00:16:3e:aa:00:02 &gt; ff:ff:ff:ff:ff:ff GARP request 203.0.113.10 is-at 00:16:3e:aa:00:02</c> or
/// <c>192.0.2.11 &gt; 192.0.2.12 udp 40000 &gt; 6081 geneve vni 2 ovn 1-&gt;3 [ ... ]</c>.
/// </summary>
public sealed class PacketTextFormatter
{
    private readonly LineBuilder _line = new();

    /// <summary>Formats the packet's line (without a newline); valid until the next call.</summary>
    public ReadOnlySpan<char> Format(in CaptureRecord record, ReadOnlySpan<byte> packet, DecodedPacket decoded)
    {
        LineBuilder b = _line;
        b.Clear();
        b.Append(record.Number).Append(' ');
        if (record.HasTimestamp)
        {
            Span<char> time = stackalloc char[16];
            b.Append(time[..TimeFormat.FormatTimeOfDay(record.TimestampNs, time)]);
        }
        else
        {
            b.Append("--:--:--.------");
        }

        PacketDirection direction = PacketFacts.DirectionOf(record, packet, decoded);
        if (direction != PacketDirection.Unknown)
        {
            b.Append(direction == PacketDirection.Outbound ? " out" : " in");
        }

        if (record.Section != 0 || record.InterfaceId != 0)
        {
            b.Append(" if").Append(record.InterfaceId);
        }

        AppendSummary(b, packet, decoded);
        return b.Span;
    }

    /// <summary>Appends the layer-by-layer summary (no record prefix).</summary>
    public static void AppendSummary(LineBuilder b, ReadOnlySpan<byte> packet, DecodedPacket decoded)
    {
        ReadOnlySpan<Layer> layers = decoded.Layers;
        int openBrackets = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            Layer layer = layers[i];
            ReadOnlySpan<byte> data = packet[layer.Offset..];
            LayerKind next = i + 1 < layers.Length ? layers[i + 1].Kind : LayerKind.None;
            switch (layer.Kind)
            {
                case LayerKind.Ethernet when EthernetHeader.TryRead(data, out EthernetHeader eth, out _):
                    b.Append(' ').Append(eth.Source).Append(" > ").Append(eth.Destination);
                    if (next is LayerKind.Payload or LayerKind.None && !decoded.HasProblem)
                    {
                        if (eth.IsLengthField)
                        {
                            b.Append(" 802.3 length ").Append(eth.TypeOrLength);
                        }
                        else
                        {
                            b.Append(" ethertype ").AppendHex(eth.TypeOrLength, 4);
                        }
                    }

                    break;
                case LayerKind.Dot1Q or LayerKind.Dot1AD when VlanTag.TryRead(data, out VlanTag tag, out _):
                    b.Append(layer.Kind == LayerKind.Dot1Q ? " vlan " : " svlan ").Append(tag.VlanId);
                    if (next is LayerKind.Payload or LayerKind.None && !decoded.HasProblem)
                    {
                        b.Append(" ethertype ").AppendHex(tag.EtherType, 4);
                    }

                    break;
                case LayerKind.VnTag when VnTag.TryRead(data, out VnTag vntag, out _):
                    b.Append(" vntag ").Append(vntag.FromBridge ? "dst " : "src ").Append(vntag.FromBridge ? vntag.DestinationVif : vntag.SourceVif);
                    if (next is LayerKind.Payload or LayerKind.None && !decoded.HasProblem)
                    {
                        b.Append(" ethertype ").AppendHex(vntag.EtherType, 4);
                    }

                    break;
                case LayerKind.PbbITag when PbbITag.TryRead(data, out PbbITag itag, out _):
                    b.Append(" pbb isid ").Append(itag.Isid).Append(' ').Append(itag.CustomerSource).Append(" > ").Append(itag.CustomerDestination);
                    if (next is LayerKind.Payload or LayerKind.None && !decoded.HasProblem)
                    {
                        b.Append(" ethertype ").AppendHex(itag.EtherType, 4);
                    }

                    break;
                case LayerKind.Mpls when MplsLabel.TryRead(data, out MplsLabel label, out _):
                    // The whole stack on one item: "mpls 100/200" (outermost first).
                    b.Append(i > 0 && layers[i - 1].Kind == LayerKind.Mpls ? "/" : " mpls ").Append(label.Label);
                    if (next == LayerKind.Ethernet)
                    {
                        // An Ethernet pseudowire without a control word.
                        b.Append(" pw [");
                        openBrackets++;
                    }

                    break;
                case LayerKind.PwControlWord when PseudowireHeader.TryRead(data, out PseudowireHeader cw, out _):
                    b.Append(" pw seq ").Append(cw.SequenceNumber);
                    if (next != LayerKind.None)
                    {
                        b.Append(" [");
                        openBrackets++;
                    }

                    break;
                case LayerKind.PwAch when PseudowireHeader.TryRead(data, out PseudowireHeader ach, out _):
                    b.Append(" ach channel ").AppendHex(ach.ChannelType, 4);
                    break;
                case LayerKind.LinuxSll when LinuxSllHeader.TryRead(data, out LinuxSllHeader sll, out _):
                    b.Append(" sll");
                    if (sll.AddressLength == 6)
                    {
                        b.Append(' ').Append(sll.SourceMac);
                    }

                    break;
                case LayerKind.LinuxSll2 when LinuxSll2Header.TryRead(data, out LinuxSll2Header sll2, out _):
                    b.Append(" sll2 ifindex ").Append(sll2.InterfaceIndex);
                    if (sll2.AddressLength == 6)
                    {
                        b.Append(' ').Append(sll2.SourceMac);
                    }

                    break;
                case LayerKind.Llc when next is LayerKind.Payload or LayerKind.None && LlcHeader.TryRead(data, out LlcHeader llc, out _):
                    b.Append(" llc dsap ").AppendHex(llc.Dsap, 2).Append(" ssap ").AppendHex(llc.Ssap, 2);
                    break;
                case LayerKind.Arp or LayerKind.Rarp when ArpPacket.TryRead(data, out ArpPacket arp, out _):
                    AppendArp(b, arp);
                    break;
                case LayerKind.Ipv4 when Ipv4Header.TryRead(data, out Ipv4Header ip4, out _):
                    b.Append(' ').Append(ip4.Source).Append(" > ").Append(ip4.Destination);
                    if (ip4.IsFragment)
                    {
                        b.Append(" frag id ").Append(ip4.Identification).Append(" off ").Append(ip4.FragmentOffset * 8);
                        if (ip4.MoreFragments)
                        {
                            b.Append('+');
                        }
                    }

                    if (next is LayerKind.Payload or LayerKind.None && !decoded.HasProblem && !ip4.IsFragment)
                    {
                        b.Append(" proto ").Append(ip4.Protocol);
                    }

                    break;
                case LayerKind.Ipv6 when Ipv6Header.TryRead(data, out Ipv6Header ip6, out _):
                    b.Append(' ').Append(ip6.Source).Append(" > ").Append(ip6.Destination);
                    break;
                case LayerKind.Ipv6Fragment when Ipv6ExtensionHeader.TryRead(data, out Ipv6ExtensionHeader frag, out _):
                    b.Append(" frag id ").Append(frag.Identification).Append(" off ").Append(frag.FragmentOffset * 8);
                    if (frag.MoreFragments)
                    {
                        b.Append('+');
                    }

                    break;
                case LayerKind.Icmpv4 when Icmpv4Header.TryRead(data, out Icmpv4Header icmp, out _):
                    AppendIcmpv4(b, icmp);
                    break;
                case LayerKind.Icmpv6:
                    AppendIcmpv6(b, packet.Slice(layer.Offset, Math.Min(layer.Length, packet.Length - layer.Offset)));
                    break;
                case LayerKind.Udp when UdpHeader.TryRead(data, out UdpHeader udp, out _):
                    b.Append(" udp ").Append(udp.SourcePort).Append(" > ").Append(udp.DestinationPort);
                    break;
                case LayerKind.Tcp when TcpHeader.TryRead(data, out TcpHeader tcp, out _):
                    b.Append(" tcp ").Append(tcp.SourcePort).Append(" > ").Append(tcp.DestinationPort);
                    AppendTcpFlags(b, tcp.Flags);
                    break;
                case LayerKind.Geneve when GeneveHeader.TryRead(data, out GeneveHeader geneve, out _):
                    b.Append(" geneve vni ").Append(geneve.Vni);
                    if (geneve.IsOam)
                    {
                        b.Append(" oam");
                    }

                    if (geneve.TryGetOvnMetadata(out OvnGeneveMetadata ovn))
                    {
                        b.Append(" ovn ").Append(ovn.IngressPortKey).Append("->").Append(ovn.EgressPortKey);
                    }

                    AppendGeneveOptions(b, geneve);
                    if (next != LayerKind.None)
                    {
                        b.Append(" [");
                        openBrackets++;
                    }

                    break;
                case LayerKind.Vxlan when VxlanHeader.TryRead(data, out VxlanHeader vxlan, out _):
                    b.Append(" vxlan vni ").Append(vxlan.Vni);
                    if (next != LayerKind.None)
                    {
                        b.Append(" [");
                        openBrackets++;
                    }

                    break;
                case LayerKind.Bfd when BfdControlPacket.TryRead(data, out BfdControlPacket bfd, out _):
                    b.Append(" bfd ").Append(LayerNames.Of(bfd.State));
                    if (bfd.Diagnostic != BfdDiagnostic.None)
                    {
                        b.Append(" diag ").Append(LayerNames.Of(bfd.Diagnostic));
                    }

                    b.Append(" my ").AppendHex(bfd.MyDiscriminator, 8).Append(" your ").AppendHex(bfd.YourDiscriminator, 8);
                    break;
            }
        }

        if (decoded.Problem == DecodeProblem.UnsupportedLinkType)
        {
            b.Append(" unsupported link type ").Append((ushort)decoded.LinkType);
        }
        else if (decoded.HasProblem)
        {
            b.Append(decoded.IsTruncated ? " [truncated: " : " [malformed: ").Append(DecodeProblems.Describe(decoded.Problem)).Append(']');
        }

        for (; openBrackets > 0; openBrackets--)
        {
            b.Append(" ]");
        }
    }

    private static void AppendArp(LineBuilder b, ArpPacket arp)
    {
        if (!arp.IsEthernetIpv4)
        {
            b.Append(arp.Operation is 3 or 4 ? " RARP" : " ARP").Append(" op ").Append(arp.Operation)
                .Append(" htype ").Append(arp.HardwareType).Append(" ptype ").AppendHex(arp.ProtocolType, 4);
            return;
        }

        switch (arp.Classify())
        {
            case ArpKind.GratuitousRequest:
                b.Append(" GARP request ").Append(arp.SenderIp).Append(" is-at ").Append(arp.SenderMac);
                break;
            case ArpKind.GratuitousReply:
                b.Append(" GARP reply ").Append(arp.SenderIp).Append(" is-at ").Append(arp.SenderMac);
                break;
            case ArpKind.Announcement:
                b.Append(" ARP announcement ").Append(arp.SenderIp).Append(" is-at ").Append(arp.SenderMac);
                break;
            case ArpKind.Probe:
                b.Append(" ARP probe who-has ").Append(arp.TargetIp).Append(" from ").Append(arp.SenderMac);
                break;
            case ArpKind.Request:
                b.Append(" ARP request who-has ").Append(arp.TargetIp).Append(" tell ").Append(arp.SenderIp);
                break;
            case ArpKind.Reply:
                b.Append(" ARP reply ").Append(arp.SenderIp).Append(" is-at ").Append(arp.SenderMac);
                break;
            case ArpKind.RarpRequest:
                b.Append(" RARP request who-is ").Append(arp.TargetMac).Append(" tell ").Append(arp.SenderMac);
                break;
            case ArpKind.RarpReply:
                b.Append(" RARP reply ").Append(arp.TargetMac).Append(" at ").Append(arp.TargetIp);
                break;
            default:
                b.Append(" ARP op ").Append(arp.Operation).Append(' ').Append(arp.SenderIp).Append(" > ").Append(arp.TargetIp);
                break;
        }
    }

    private static void AppendIcmpv4(LineBuilder b, Icmpv4Header icmp)
    {
        switch (icmp.Type)
        {
            case 8:
                b.Append(" icmp echo request id ").Append(icmp.Identifier).Append(" seq ").Append(icmp.SequenceNumber);
                break;
            case 0:
                b.Append(" icmp echo reply id ").Append(icmp.Identifier).Append(" seq ").Append(icmp.SequenceNumber);
                break;
            case 3:
                b.Append(" icmp unreachable code ").Append(icmp.Code);
                break;
            case 11:
                b.Append(" icmp time exceeded");
                break;
            default:
                b.Append(" icmp type ").Append(icmp.Type).Append(" code ").Append(icmp.Code);
                break;
        }
    }

    private static void AppendIcmpv6(LineBuilder b, ReadOnlySpan<byte> message)
    {
        if (!Icmpv6Header.TryRead(message, out Icmpv6Header icmp, out _))
        {
            return;
        }

        if (!icmp.IsNeighborDiscovery || !NdpMessage.TryRead(message, out NdpMessage nd, out _))
        {
            b.Append(icmp.Type switch
            {
                128 => " icmpv6 echo request",
                129 => " icmpv6 echo reply",
                1 => " icmpv6 unreachable",
                2 => " icmpv6 packet too big",
                3 => " icmpv6 time exceeded",
                _ => " icmpv6 type ",
            });
            if (icmp.Type is not (128 or 129 or 1 or 2 or 3))
            {
                b.Append(icmp.Type).Append(" code ").Append(icmp.Code);
            }

            return;
        }

        switch (nd.Type)
        {
            case Icmpv6Header.RouterSolicitation:
                b.Append(" NDP router solicitation");
                break;
            case Icmpv6Header.RouterAdvertisement:
                b.Append(" NDP router advertisement lifetime ").Append(nd.RouterLifetime);
                break;
            case Icmpv6Header.NeighborSolicitation:
                b.Append(" NDP neighbor solicitation who-has ").Append(nd.TargetAddress);
                break;
            case Icmpv6Header.NeighborAdvertisement:
                b.Append(" NDP neighbor advertisement ").Append(nd.TargetAddress);
                if (nd.TryFindOption(NdpOptionTypes.TargetLinkLayerAddress, out NdpOption tlla) && tlla.TryGetLinkLayerAddress(out MacAddress mac))
                {
                    b.Append(" is-at ").Append(mac);
                }

                b.Append(" [");
                if (nd.RouterFlag)
                {
                    b.Append('R');
                }

                if (nd.SolicitedFlag)
                {
                    b.Append('S');
                }

                if (nd.OverrideFlag)
                {
                    b.Append('O');
                }

                b.Append(']');
                break;
            case Icmpv6Header.Redirect:
                b.Append(" NDP redirect ").Append(nd.DestinationAddress).Append(" to ").Append(nd.TargetAddress);
                break;
        }

        NdpOptionEnumerator options = nd.Options;
        while (options.MoveNext())
        {
            NdpOption o = options.Current;
            if (o.Type == NdpOptionTypes.SourceLinkLayerAddress && o.TryGetLinkLayerAddress(out MacAddress slla))
            {
                b.Append(" slla ").Append(slla);
            }
            else if (o.TryGetPrefixInformation(out NdpPrefixInformation prefix))
            {
                b.Append(" prefix ").Append(prefix.Prefix).Append('/').Append(prefix.PrefixLength);
            }
            else if (o.TryGetMtu(out uint mtu))
            {
                b.Append(" mtu ").Append(mtu);
            }
        }
    }

    private static void AppendGeneveOptions(LineBuilder b, GeneveHeader geneve)
    {
        GeneveOptionEnumerator options = geneve.Options;
        while (options.MoveNext())
        {
            GeneveOption o = options.Current;
            if (o.IsOvnMetadata)
            {
                continue;
            }

            b.Append(" opt ").AppendHex(o.Class, 4).Append('/').AppendHex(o.Type, 2);
            if (o.IsCritical)
            {
                b.Append('!');
            }
        }
    }

    private static void AppendTcpFlags(LineBuilder b, TcpFlags flags)
    {
        b.Append(" [");
        if ((flags & TcpFlags.Syn) != 0)
        {
            b.Append('S');
        }

        if ((flags & TcpFlags.Fin) != 0)
        {
            b.Append('F');
        }

        if ((flags & TcpFlags.Rst) != 0)
        {
            b.Append('R');
        }

        if ((flags & TcpFlags.Psh) != 0)
        {
            b.Append('P');
        }

        if ((flags & TcpFlags.Ack) != 0)
        {
            b.Append('.');
        }

        b.Append(']');
    }
}
