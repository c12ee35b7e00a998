using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Reporting;

/// <summary>
/// Formats one decoded packet as a single-line JSON object (the schema is docs/decode-json.md). The writer and its
/// buffer are reused; the returned bytes are valid until the next call.
/// </summary>
public sealed class PacketJsonWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _json;

    public PacketJsonWriter()
    {
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            SkipValidation = true,
        });
    }

    /// <summary>Formats the packet; the span stays valid until the next call.</summary>
    public ReadOnlySpan<byte> Format(in CaptureRecord record, ReadOnlySpan<byte> packet, DecodedPacket decoded, CaptureFormat format, string? file = null)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        Utf8JsonWriter w = _json;
        w.WriteStartObject();
        if (file is not null)
        {
            w.WriteString("file"u8, file);
        }

        w.WriteNumber("no"u8, record.Number);
        if (record.HasTimestamp)
        {
            Span<byte> ts = stackalloc byte[32];
            w.WriteString("ts"u8, ts[..TimeFormat.FormatEpoch(record.TimestampNs, ts)]);
        }

        if (format == CaptureFormat.PcapNg)
        {
            w.WriteNumber("if"u8, record.InterfaceId);
            if (record.Section != 0)
            {
                w.WriteNumber("section"u8, record.Section);
            }
        }

        PacketDirection direction = PacketFacts.DirectionOf(record, packet, decoded);
        if (direction != PacketDirection.Unknown)
        {
            w.WriteString("dir"u8, direction == PacketDirection.Outbound ? "out"u8 : "in"u8);
        }

        if (record.HasEpbFlags)
        {
            w.WriteNumber("epb_flags"u8, record.EpbFlags);
        }

        w.WriteNumber("len"u8, record.OriginalLength);
        w.WriteNumber("caplen"u8, record.CapturedLength);
        w.WriteNumber("link"u8, (ushort)decoded.LinkType);

        ReadOnlySpan<Layer> layers = decoded.Layers;
        w.WriteStartArray("layers"u8);
        foreach (Layer layer in layers)
        {
            w.WriteStringValue(LayerNames.Of(layer.Kind));
        }

        w.WriteEndArray();

        WriteSll(w, packet, layers);
        WriteList(w, "eth"u8, LayerKind.Ethernet, packet, layers);
        WriteLlc(w, packet, layers);
        WriteVlans(w, packet, layers);
        WriteList(w, "vntag"u8, LayerKind.VnTag, packet, layers);
        WriteList(w, "pbb"u8, LayerKind.PbbITag, packet, layers);
        WriteList(w, "mpls"u8, LayerKind.Mpls, packet, layers);
        WriteList(w, "pwcw"u8, LayerKind.PwControlWord, packet, layers);
        WriteList(w, "pwach"u8, LayerKind.PwAch, packet, layers);
        WriteArp(w, packet, layers, decoded);
        WriteList(w, "ipv4"u8, LayerKind.Ipv4, packet, layers);
        WriteList(w, "ipv6"u8, LayerKind.Ipv6, packet, layers);
        WriteIcmp(w, packet, layers);
        WriteIcmpv6(w, packet, layers);
        WriteList(w, "udp"u8, LayerKind.Udp, packet, layers);
        WriteTcp(w, packet, layers);
        WriteList(w, "geneve"u8, LayerKind.Geneve, packet, layers);
        WriteList(w, "vxlan"u8, LayerKind.Vxlan, packet, layers);
        WriteBfd(w, packet, layers);

        if (decoded.Problem == DecodeProblem.UnsupportedLinkType)
        {
            w.WriteNumber("unsupported_link"u8, (ushort)decoded.LinkType);
        }
        else if (decoded.HasProblem)
        {
            w.WriteStartObject("problem"u8);
            w.WriteString("kind"u8, decoded.IsTruncated ? "truncated"u8 : "malformed"u8);
            w.WriteString("reason"u8, DecodeProblems.Name(decoded.Problem));
            w.WriteString("text"u8, DecodeProblems.Describe(decoded.Problem));
            w.WriteString("layer"u8, LayerNames.Of(decoded.ProblemLayer));
            w.WriteNumber("offset"u8, decoded.ProblemOffset);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.Flush();
        return _buffer.WrittenSpan;
    }

    private static void WriteList(Utf8JsonWriter w, ReadOnlySpan<byte> name, LayerKind kind, ReadOnlySpan<byte> packet, ReadOnlySpan<Layer> layers)
    {
        bool open = false;
        foreach (Layer layer in layers)
        {
            if (layer.Kind != kind)
            {
                continue;
            }

            if (!open)
            {
                w.WriteStartArray(name);
                open = true;
            }

            w.WriteStartObject();
            ReadOnlySpan<byte> data = packet[layer.Offset..];
            switch (kind)
            {
                case LayerKind.Ethernet:
                    WriteEthernet(w, data);
                    break;
                case LayerKind.Ipv4:
                    WriteIpv4(w, data);
                    break;
                case LayerKind.Ipv6:
                    WriteIpv6(w, data, packet, layers, layer);
                    break;
                case LayerKind.Udp:
                    if (UdpHeader.TryRead(data, out UdpHeader udp, out _))
                    {
                        w.WriteNumber("sport"u8, udp.SourcePort);
                        w.WriteNumber("dport"u8, udp.DestinationPort);
                        w.WriteNumber("len"u8, udp.DatagramLength);
                    }

                    break;
                case LayerKind.Geneve:
                    WriteGeneve(w, data);
                    break;
                case LayerKind.VnTag:
                    if (VnTag.TryRead(data, out VnTag vntag, out _))
                    {
                        w.WriteNumber("dir"u8, vntag.FromBridge ? 1 : 0);
                        w.WriteNumber("ptr"u8, vntag.IsPointer ? 1 : 0);
                        w.WriteNumber("dst_vif"u8, vntag.DestinationVif);
                        w.WriteNumber("looped"u8, vntag.Looped ? 1 : 0);
                        w.WriteNumber("ver"u8, vntag.Version);
                        w.WriteNumber("src_vif"u8, vntag.SourceVif);
                        WriteHex(w, "type"u8, vntag.EtherType, 4);
                    }

                    break;
                case LayerKind.PbbITag:
                    if (PbbITag.TryRead(data, out PbbITag itag, out _))
                    {
                        w.WriteNumber("isid"u8, itag.Isid);
                        w.WriteNumber("pcp"u8, itag.Priority);
                        w.WriteNumber("dei"u8, itag.DropEligible ? 1 : 0);
                        w.WriteNumber("uca"u8, itag.UseCustomerAddresses ? 1 : 0);
                        WriteFormatted(w, "c_src"u8, itag.CustomerSource);
                        WriteFormatted(w, "c_dst"u8, itag.CustomerDestination);
                        WriteHex(w, "type"u8, itag.EtherType, 4);
                    }

                    break;
                case LayerKind.Mpls:
                    if (MplsLabel.TryRead(data, out MplsLabel label, out _))
                    {
                        w.WriteNumber("label"u8, label.Label);
                        w.WriteNumber("tc"u8, label.TrafficClass);
                        w.WriteNumber("s"u8, label.BottomOfStack ? 1 : 0);
                        w.WriteNumber("ttl"u8, label.TimeToLive);
                    }

                    break;
                case LayerKind.PwControlWord:
                    if (PseudowireHeader.TryRead(data, out PseudowireHeader cw, out _))
                    {
                        WriteHex(w, "flags"u8, cw.Flags, 2);
                        w.WriteNumber("frg"u8, cw.Fragmentation);
                        w.WriteNumber("len"u8, cw.PayloadLength);
                        w.WriteNumber("seq"u8, cw.SequenceNumber);
                    }

                    break;
                case LayerKind.PwAch:
                    if (PseudowireHeader.TryRead(data, out PseudowireHeader ach, out _))
                    {
                        w.WriteNumber("ver"u8, ach.ChannelVersion);
                        WriteHex(w, "channel"u8, ach.ChannelType, 4);
                    }

                    break;
                case LayerKind.Vxlan:
                    if (VxlanHeader.TryRead(data, out VxlanHeader vxlan, out _))
                    {
                        WriteHex(w, "flags"u8, vxlan.FlagsWord >> 16, 4);
                        w.WriteNumber("vni"u8, vxlan.Vni);
                    }

                    break;
            }

            w.WriteEndObject();
        }

        if (open)
        {
            w.WriteEndArray();
        }
    }

    private static void WriteEthernet(Utf8JsonWriter w, ReadOnlySpan<byte> data)
    {
        if (!EthernetHeader.TryRead(data, out EthernetHeader eth, out _))
        {
            return;
        }

        WriteFormatted(w, "src"u8, eth.Source);
        WriteFormatted(w, "dst"u8, eth.Destination);
        if (eth.IsLengthField)
        {
            w.WriteNumber("length"u8, eth.TypeOrLength);
        }
        else
        {
            WriteHex(w, "type"u8, eth.TypeOrLength, 4);
        }
    }

    private static void WriteIpv4(Utf8JsonWriter w, ReadOnlySpan<byte> data)
    {
        if (!Ipv4Header.TryRead(data, out Ipv4Header ip, out _))
        {
            return;
        }

        WriteFormatted(w, "src"u8, ip.Source);
        WriteFormatted(w, "dst"u8, ip.Destination);
        w.WriteNumber("proto"u8, ip.Protocol);
        w.WriteNumber("ttl"u8, ip.TimeToLive);
        w.WriteNumber("len"u8, ip.TotalLength);
        w.WriteNumber("id"u8, ip.Identification);
        w.WriteNumber("df"u8, ip.DontFragment ? 1 : 0);
        w.WriteNumber("mf"u8, ip.MoreFragments ? 1 : 0);
        w.WriteNumber("frag_offset"u8, ip.FragmentOffset * 8);
    }

    private static void WriteIpv6(Utf8JsonWriter w, ReadOnlySpan<byte> data, ReadOnlySpan<byte> packet, ReadOnlySpan<Layer> layers, Layer self)
    {
        if (!Ipv6Header.TryRead(data, out Ipv6Header ip, out _))
        {
            return;
        }

        WriteFormatted(w, "src"u8, ip.Source);
        WriteFormatted(w, "dst"u8, ip.Destination);
        w.WriteNumber("hlim"u8, ip.HopLimit);
        w.WriteNumber("plen"u8, ip.PayloadLength);

        // The extension headers that follow this IPv6 header in the layer chain, and the protocol after them.
        byte next = ip.NextHeader;
        bool openExt = false;
        int index = layers.IndexOf(self);
        for (int i = index + 1; i < layers.Length; i++)
        {
            Layer layer = layers[i];
            if (layer.Kind is not (LayerKind.Ipv6HopByHop or LayerKind.Ipv6Routing or LayerKind.Ipv6Fragment
                or LayerKind.Ipv6DestinationOptions or LayerKind.Ipv6AuthenticationHeader))
            {
                break;
            }

            if (!openExt)
            {
                w.WriteStartArray("ext"u8);
                openExt = true;
            }

            w.WriteNumberValue(next);
            next = packet[layer.Offset];
        }

        if (openExt)
        {
            w.WriteEndArray();
        }

        w.WriteNumber("next"u8, next);
    }

    private static void WriteGeneve(Utf8JsonWriter w, ReadOnlySpan<byte> data)
    {
        if (!GeneveHeader.TryRead(data, out GeneveHeader g, out _))
        {
            return;
        }

        w.WriteNumber("ver"u8, g.Version);
        w.WriteNumber("oam"u8, g.IsOam ? 1 : 0);
        w.WriteNumber("critical"u8, g.HasCriticalOptions ? 1 : 0);
        w.WriteNumber("vni"u8, g.Vni);
        WriteHex(w, "proto"u8, g.ProtocolType, 4);
        w.WriteNumber("opt_len"u8, g.OptionsLength);
        if (g.OptionsLength == 0)
        {
            return;
        }

        w.WriteStartArray("options"u8);
        GeneveOptionEnumerator options = g.Options;
        while (options.MoveNext())
        {
            GeneveOption o = options.Current;
            w.WriteStartObject();
            WriteHex(w, "class"u8, o.Class, 4);
            WriteHex(w, "type"u8, o.Type, 2);
            w.WriteNumber("len"u8, o.Length);
            if (o.TryGetOvnMetadata(out OvnGeneveMetadata ovn))
            {
                w.WriteNumber("ovn_ingress"u8, ovn.IngressPortKey);
                w.WriteNumber("ovn_egress"u8, ovn.EgressPortKey);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteSll(Utf8JsonWriter w, ReadOnlySpan<byte> packet, ReadOnlySpan<Layer> layers)
    {
        if (layers.Length == 0)
        {
            return;
        }

        ReadOnlySpan<byte> data = packet[layers[0].Offset..];
        if (layers[0].Kind == LayerKind.LinuxSll && LinuxSllHeader.TryRead(data, out LinuxSllHeader sll, out _))
        {
            w.WriteStartObject("sll"u8);
            w.WriteNumber("pkttype"u8, (ushort)sll.PacketType);
            w.WriteNumber("hatype"u8, sll.HardwareType);
            WriteHex(w, "proto"u8, sll.Protocol, 4);
            WriteLinkAddress(w, sll.Address);
            w.WriteEndObject();
        }
        else if (layers[0].Kind == LayerKind.LinuxSll2 && LinuxSll2Header.TryRead(data, out LinuxSll2Header sll2, out _))
        {
            w.WriteStartObject("sll"u8);
            w.WriteNumber("pkttype"u8, (byte)sll2.PacketType);
            w.WriteNumber("hatype"u8, sll2.HardwareType);
            WriteHex(w, "proto"u8, sll2.Protocol, 4);
            w.WriteNumber("ifindex"u8, sll2.InterfaceIndex);
            WriteLinkAddress(w, sll2.Address);
            w.WriteEndObject();
        }
    }

    private static void WriteLinkAddress(Utf8JsonWriter w, ReadOnlySpan<byte> address)
    {
        if (address.Length == 6)
        {
            WriteFormatted(w, "addr"u8, MacAddress.Read(address));
        }
        else if (address.Length > 0)
        {
            WriteHexBytes(w, "addr"u8, address);
        }
    }

    private static void WriteLlc(Utf8JsonWriter w, ReadOnlySpan<byte> packet, ReadOnlySpan<Layer> layers)
    {
        int i = IndexOf(layers, LayerKind.Llc);
        if (i < 0 || !LlcHeader.TryRead(packet[layers[i].Offset..], out LlcHeader llc, out _))
        {
            return;
        }

        w.WriteStartObject("llc"u8);
        WriteHex(w, "dsap"u8, llc.Dsap, 2);
        WriteHex(w, "ssap"u8, llc.Ssap, 2);
        WriteHex(w, "control"u8, llc.Control, 2);
        if (i + 1 < layers.Length && layers[i + 1].Kind == LayerKind.Snap
            && SnapHeader.TryRead(packet[layers[i + 1].Offset..], out SnapHeader snap, out _))
        {
            WriteHex(w, "oui"u8, snap.Oui, 6);
            WriteHex(w, "type"u8, snap.ProtocolId, 4);
        }

        w.WriteEndObject();
    }

    private static void WriteVlans(Utf8JsonWriter w, ReadOnlySpan<byte> packet, ReadOnlySpan<Layer> layers)
    {
        bool open = false;
        foreach (Layer layer in layers)
        {
            if (layer.Kind is not (LayerKind.Dot1Q or LayerKind.Dot1AD))
            {
                continue;
            }

            // The TPID sits in the two bytes before the tag control information.
            if (layer.Offset < 2 || !VlanTag.TryRead(packet[layer.Offset..], out VlanTag tag, out _))
            {
                continue;
            }

            if (!open)
            {
                w.WriteStartArray("vlan"u8);
                open = true;
            }

            w.WriteStartObject();
            WriteHex(w, "tpid"u8, (ushort)((packet[layer.Offset - 2] << 8) | packet[layer.Offset - 1]), 4);
            w.WriteNumber("id"u8, tag.VlanId);
            w.WriteNumber("pcp"u8, tag.Priority);
            w.WriteNumber("dei"u8, tag.DropEligible ? 1 : 0);
            w.WriteEndObject();
        }

        if (open)
        {
            w.WriteEndArray();
        }
    }

    private static void WriteArp(Utf8JsonWriter w, ReadOnlySpan<byte> packet, ReadOnlySpan<Layer> layers, DecodedPacket decoded)
    {
        int i = IndexOf(layers, LayerKind.Arp);
        if (i < 0)
        {
            i = IndexOf(layers, LayerKind.Rarp);
        }

        if (i < 0 || !ArpPacket.TryRead(packet[layers[i].Offset..], out ArpPacket arp, out _))
        {
            WriteArpFixedPart(w, packet, decoded);
            return;
        }

        w.WriteStartObject("arp"u8);
        w.WriteNumber("htype"u8, arp.HardwareType);
        WriteHex(w, "ptype"u8, arp.ProtocolType, 4);
        w.WriteNumber("hlen"u8, arp.HardwareAddressLength);
        w.WriteNumber("plen"u8, arp.ProtocolAddressLength);
        w.WriteNumber("op"u8, arp.Operation);
        if (arp.HasMacAddresses)
        {
            WriteFormatted(w, "sha"u8, arp.SenderMac);
        }

        if (arp.HasIpv4Addresses)
        {
            WriteFormatted(w, "spa"u8, arp.SenderIp);
        }

        if (arp.HasMacAddresses)
        {
            WriteFormatted(w, "tha"u8, arp.TargetMac);
        }

        if (arp.HasIpv4Addresses)
        {
            WriteFormatted(w, "tpa"u8, arp.TargetIp);
        }

        w.WriteString("kind"u8, LayerNames.Of(arp.Classify()));
        w.WriteEndObject();
    }

    /// <summary>
    /// An ARP message whose addresses do not fit the capture: its 8-byte fixed part (RFC 826) still tells why,
    /// e.g. a hardware address length of 134.
    /// </summary>
    private static void WriteArpFixedPart(Utf8JsonWriter w, ReadOnlySpan<byte> packet, DecodedPacket decoded)
    {
        if (decoded.ProblemLayer is not (LayerKind.Arp or LayerKind.Rarp) || packet.Length - decoded.ProblemOffset < 8)
        {
            return;
        }

        ReadOnlySpan<byte> a = packet.Slice(decoded.ProblemOffset, 8);
        w.WriteStartObject("arp"u8);
        w.WriteNumber("htype"u8, BinaryPrimitives.ReadUInt16BigEndian(a));
        WriteHex(w, "ptype"u8, BinaryPrimitives.ReadUInt16BigEndian(a[2..]), 4);
        w.WriteNumber("hlen"u8, a[4]);
        w.WriteNumber("plen"u8, a[5]);
        w.WriteNumber("op"u8, BinaryPrimitives.ReadUInt16BigEndian(a[6..]));
        w.WriteEndObject();
    }

    private static void WriteIcmp(Utf8JsonWriter w, ReadOnlySpan<byte> packet, ReadOnlySpan<Layer> layers)
    {
        int i = IndexOf(layers, LayerKind.Icmpv4);
        if (i >= 0 && Icmpv4Header.TryRead(packet[layers[i].Offset..], out Icmpv4Header icmp, out _))
        {
            w.WriteStartObject("icmp"u8);
            w.WriteNumber("type"u8, icmp.Type);
            w.WriteNumber("code"u8, icmp.Code);
            w.WriteEndObject();
        }
    }

    private static void WriteIcmpv6(Utf8JsonWriter w, ReadOnlySpan<byte> packet, ReadOnlySpan<Layer> layers)
    {
        int i = IndexOf(layers, LayerKind.Icmpv6);
        if (i < 0)
        {
            return;
        }

        Layer layer = layers[i];
        ReadOnlySpan<byte> data = packet.Slice(layer.Offset, Math.Min(layer.Length, packet.Length - layer.Offset));
        if (!Icmpv6Header.TryRead(data, out Icmpv6Header icmp, out _))
        {
            return;
        }

        w.WriteStartObject("icmpv6"u8);
        w.WriteNumber("type"u8, icmp.Type);
        w.WriteNumber("code"u8, icmp.Code);
        if (icmp.IsNeighborDiscovery && NdpMessage.TryRead(data, out NdpMessage nd, out _))
        {
            WriteNdp(w, nd);
        }

        w.WriteEndObject();
    }

    private static void WriteNdp(Utf8JsonWriter w, NdpMessage nd)
    {
        if (nd.HasTargetAddress)
        {
            WriteFormatted(w, "target"u8, nd.TargetAddress);
        }

        switch (nd.Type)
        {
            case Icmpv6Header.Redirect:
                WriteFormatted(w, "rd_dst"u8, nd.DestinationAddress);
                break;
            case Icmpv6Header.NeighborAdvertisement:
                w.WriteNumber("r"u8, nd.RouterFlag ? 1 : 0);
                w.WriteNumber("s"u8, nd.SolicitedFlag ? 1 : 0);
                w.WriteNumber("o"u8, nd.OverrideFlag ? 1 : 0);
                break;
            case Icmpv6Header.RouterAdvertisement:
                w.WriteNumber("hop_limit"u8, nd.CurrentHopLimit);
                WriteHex(w, "ra_flags"u8, nd.RouterFlags, 2);
                w.WriteNumber("ra_lifetime"u8, nd.RouterLifetime);
                break;
        }

        if (nd.OptionBytes.IsEmpty)
        {
            return;
        }

        w.WriteStartArray("options"u8);
        NdpOptionEnumerator options = nd.Options;
        while (options.MoveNext())
        {
            NdpOption o = options.Current;
            w.WriteStartObject();
            w.WriteNumber("type"u8, o.Type);
            w.WriteNumber("len"u8, o.LengthUnits);
            if (o.TryGetLinkLayerAddress(out MacAddress lladdr))
            {
                WriteFormatted(w, "lladdr"u8, lladdr);
            }
            else if (o.TryGetPrefixInformation(out NdpPrefixInformation prefix))
            {
                WriteFormatted(w, "prefix"u8, prefix.Prefix);
                w.WriteNumber("prefix_len"u8, prefix.PrefixLength);
            }
            else if (o.TryGetRouteInformation(out NdpRouteInformation route))
            {
                // As tshark: a length-1 option carries no prefix bytes, so no prefix is printed.
                if (route.HasPrefixBytes)
                {
                    WriteFormatted(w, "prefix"u8, route.Prefix);
                }

                w.WriteNumber("prefix_len"u8, route.PrefixLength);
                w.WriteString("route_pref"u8, LayerNames.OfRoutePreference(route.Preference));
                w.WriteNumber("route_lifetime"u8, route.RouteLifetime);
            }
            else if (o.TryGetMtu(out uint mtu))
            {
                w.WriteNumber("mtu"u8, mtu);
            }
            else if (o.TryGetNonce(out ReadOnlySpan<byte> nonce))
            {
                WriteHexBytes(w, "nonce"u8, nonce);
            }
            else if (o.TryGetRecursiveDnsServers(out _, out int count))
            {
                w.WriteStartArray("dns"u8);
                for (int k = 0; k < count; k++)
                {
                    WriteFormattedValue(w, o.GetRecursiveDnsServer(k));
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WriteTcp(Utf8JsonWriter w, ReadOnlySpan<byte> packet, ReadOnlySpan<Layer> layers)
    {
        int i = IndexOf(layers, LayerKind.Tcp);
        if (i >= 0 && TcpHeader.TryRead(packet[layers[i].Offset..], out TcpHeader tcp, out _))
        {
            w.WriteStartObject("tcp"u8);
            w.WriteNumber("sport"u8, tcp.SourcePort);
            w.WriteNumber("dport"u8, tcp.DestinationPort);
            WriteHex(w, "flags"u8, (ushort)tcp.Flags, 3);
            w.WriteEndObject();
        }
    }

    private static void WriteBfd(Utf8JsonWriter w, ReadOnlySpan<byte> packet, ReadOnlySpan<Layer> layers)
    {
        int i = IndexOf(layers, LayerKind.Bfd);
        if (i < 0 || !BfdControlPacket.TryRead(packet[layers[i].Offset..], out BfdControlPacket bfd, out _))
        {
            return;
        }

        w.WriteStartObject("bfd"u8);
        w.WriteNumber("version"u8, bfd.Version);
        w.WriteString("diag"u8, LayerNames.Of(bfd.Diagnostic));
        w.WriteString("state"u8, LayerNames.Of(bfd.State));
        WriteHex(w, "flags"u8, (byte)(packet[layers[i].Offset + 1] & 0x3F), 2);
        w.WriteNumber("detect_mult"u8, bfd.DetectMultiplier);
        w.WriteNumber("my_disc"u8, bfd.MyDiscriminator);
        w.WriteNumber("your_disc"u8, bfd.YourDiscriminator);
        w.WriteNumber("min_tx_us"u8, bfd.DesiredMinTxInterval);
        w.WriteNumber("min_rx_us"u8, bfd.RequiredMinRxInterval);
        w.WriteNumber("min_echo_rx_us"u8, bfd.RequiredMinEchoRxInterval);
        w.WriteEndObject();
    }

    private static int IndexOf(ReadOnlySpan<Layer> layers, LayerKind kind)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            if (layers[i].Kind == kind)
            {
                return i;
            }
        }

        return -1;
    }

    private static void WriteFormatted<T>(Utf8JsonWriter w, ReadOnlySpan<byte> name, T value)
        where T : IUtf8SpanFormattable
    {
        Span<byte> text = stackalloc byte[64];
        value.TryFormat(text, out int n, default, null);
        w.WriteString(name, text[..n]);
    }

    private static void WriteFormattedValue<T>(Utf8JsonWriter w, T value)
        where T : IUtf8SpanFormattable
    {
        Span<byte> text = stackalloc byte[64];
        value.TryFormat(text, out int n, default, null);
        w.WriteStringValue(text[..n]);
    }

    /// <summary>Bytes as one lower-case hex string (option data is bounded by its 8-bit length field: at most 2040 bytes).</summary>
    private static void WriteHexBytes(Utf8JsonWriter w, ReadOnlySpan<byte> name, ReadOnlySpan<byte> bytes)
    {
        byte[]? rented = null;
        Span<byte> hex = bytes.Length <= 64 ? stackalloc byte[128] : (rented = ArrayPool<byte>.Shared.Rent(bytes.Length * 2));
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i].TryFormat(hex[(i * 2)..], out _, "x2");
        }

        w.WriteString(name, hex[..(bytes.Length * 2)]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void WriteHex(Utf8JsonWriter w, ReadOnlySpan<byte> name, uint value, int digits)
    {
        Span<byte> text = stackalloc byte[12];
        text[0] = (byte)'0';
        text[1] = (byte)'x';
        ReadOnlySpan<char> format = digits switch { 2 => "x2", 3 => "x3", 4 => "x4", 6 => "x6", _ => "x8" };
        value.TryFormat(text[2..], out int n, format);
        w.WriteString(name, text[..(2 + n)]);
    }
}
