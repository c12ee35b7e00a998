using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace UplinkProbe.Decoding;

/// <summary>
/// Walks a packet from its link-layer header inwards, each layer naming the next, and records the chain in a
/// reused <see cref="DecodedPacket"/>. Never throws on packet bytes and never allocates per packet.
/// </summary>
/// <remarks>
/// <para>Ethernet frames first try <see cref="TryDecodeCommon"/>, a straight-line path for the chains that make up most
/// of an OVN uplink (IPv4 TCP/UDP, Geneve, ARP, one VLAN tag) that gives exactly what the general loop gives and leaves
/// every other packet to it.</para>
/// <para>One loop, one switch on the next layer kind; no recursion. Two bounds are tracked while walking:
/// <c>end</c>, how far bytes really exist (the captured length, or the end of a first IP fragment), and
/// <c>limit</c>, how far the enclosing headers say the current data reaches (IPv4 total length, IPv6 payload
/// length, UDP length, 802.3 length; unknown = <see cref="int.MaxValue"/>). Each header is read from
/// [offset, min(end, limit)). A header cut by <c>end</c> is a truncation; a header cut by a <c>limit</c> that the
/// capture fully holds is a malformation (the packet contradicts itself).</para>
/// <para>Layer offsets/lengths: see <see cref="Layer"/>; headers get their header length, leaf messages (ARP,
/// ICMP, ICMPv6, BFD) their message length, <see cref="LayerKind.Payload"/> the undecoded rest up to the bound.</para>
/// </remarks>
public sealed partial class PacketDecoder
{
    private const int Unknown = int.MaxValue;

    private readonly PacketDecoderOptions _options;
    private readonly int _maxTunnelDepth;

    /// <summary>UDP port → tunnel/liveness layer kind (None = not ours); exactly 65536 entries, indexed unchecked.</summary>
    private readonly LayerKind[] _udpPorts = new LayerKind[65536];

    public PacketDecoder(PacketDecoderOptions? options = null)
    {
        _options = options ?? PacketDecoderOptions.Default;
        _maxTunnelDepth = Math.Clamp(_options.MaxTunnelDepth, 0, 255);
        foreach (ushort port in _options.BfdPorts)
        {
            _udpPorts[port] = LayerKind.Bfd;
        }

        foreach (ushort port in _options.VxlanPorts)
        {
            _udpPorts[port] = LayerKind.Vxlan;
        }

        _udpPorts[_options.GenevePort] = LayerKind.Geneve;
    }

    public PacketDecoderOptions Options => _options;

    /// <summary>The layer kind a UDP port is decoded as (Geneve, Vxlan, Bfd) or <see cref="LayerKind.None"/>.</summary>
    public LayerKind UdpPortKind(ushort port) => _udpPorts[port];

    /// <summary>What a UDP datagram between two ports carries: the lower port decides first (the well-known side).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private LayerKind UdpKindOf(ushort sourcePort, ushort destinationPort)
    {
        // The table has an entry for every port, so it is indexed without a check.
        ref LayerKind ports = ref MemoryMarshal.GetArrayDataReference(_udpPorts);
        LayerKind kind = Unsafe.Add(ref ports, Math.Min(sourcePort, destinationPort));
        return kind != LayerKind.None ? kind : Unsafe.Add(ref ports, Math.Max(sourcePort, destinationPort));
    }

    /// <summary>Decodes <paramref name="packet"/> (the captured bytes) into <paramref name="result"/>; the original length is unknown.</summary>
    public void Decode(ReadOnlySpan<byte> packet, LinkType linkType, DecodedPacket result) => Decode(packet, linkType, result, -1);

    /// <summary>
    /// Decodes <paramref name="packet"/> into <paramref name="result"/>. <paramref name="originalLength"/> is the length on the wire
    /// (<c>CaptureRecord.OriginalLength</c>), or -1: when it shows the packet was captured whole, a header cut short
    /// makes the packet malformed rather than truncated (see <see cref="DecodedPacket.IsTruncated"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Decode(ReadOnlySpan<byte> packet, LinkType linkType, DecodedPacket result, int originalLength) =>
        Decode<RecordLayers>(packet, linkType, result, originalLength);

    /// <summary>
    /// Decodes <paramref name="packet"/> as <see cref="Decode(ReadOnlySpan{byte}, LinkType, DecodedPacket, int)"/> does,
    /// checking every header the same way, but for counting: on the straight-line path of the common chains it records
    /// which layers the packet has (<see cref="DecodedPacket.LayerCount"/>, <see cref="DecodedPacket.Chain"/>,
    /// <see cref="DecodedPacket.LayerMask"/>), not where each one is, and <see cref="DecodedPacket.Layers"/> is then
    /// empty (<see cref="DecodedPacket.HasLayerPositions"/> is false). Every other packet is decoded in full.
    /// What <c>stats</c> uses: its counters read only the chain and the problem.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void DecodeChain(ReadOnlySpan<byte> packet, LinkType linkType, DecodedPacket result, int originalLength) =>
        Decode<ChainOnly>(packet, linkType, result, originalLength);

    /// <summary>The straight-line path first (with or without layer positions), else the general loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Decode<TRecord>(ReadOnlySpan<byte> packet, LinkType linkType, DecodedPacket result, int originalLength)
        where TRecord : struct, ILayerRecording
    {
        if (linkType == LinkType.Ethernet && UseCommonPath && TryDecodeCommon<TRecord>(packet, result, originalLength))
        {
            return;
        }

        DecodeGeneral(packet, linkType, result, originalLength);
    }

    /// <summary>Every link type and chain, one layer at a time (what the straight-line path hands back).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeGeneral(ReadOnlySpan<byte> packet, LinkType linkType, DecodedPacket result, int originalLength)
    {
        result.Reset(linkType, packet.Length, originalLength);

        LayerKind next;
        switch (linkType)
        {
            case LinkType.Ethernet:
                next = LayerKind.Ethernet;
                break;
            case LinkType.LinuxSll:
                next = LayerKind.LinuxSll;
                break;
            case LinkType.LinuxSll2:
                next = LayerKind.LinuxSll2;
                break;
            case LinkType.Null:
            case LinkType.Loop:
                next = LayerKind.Loopback;
                break;
            case LinkType.Raw:
                next = !packet.IsEmpty && (packet[0] >> 4) == 6 ? LayerKind.Ipv6 : LayerKind.Ipv4;
                break;
            case LinkType.Ipv4:
                next = LayerKind.Ipv4;
                break;
            case LinkType.Ipv6:
                next = LayerKind.Ipv6;
                break;
            default:
                result.SetProblem(DecodeProblem.UnsupportedLinkType, LayerKind.None, 0);
                return;
        }

        // The chain is built in locals (count, chain) and stored into the result once, at Done; the cold layers
        // in DecodeRare work on the result directly, so the locals are stored before and reloaded after.
        Layer[] layers = result.LayerBuffer;
        int count = 0;
        ulong chain = 0;
        int offset = 0;
        int end = packet.Length;
        int limit = Unknown;
        byte depth = 0;
        byte nextHeader = 0; // IPv6 chain: the type of the extension header about to be read
        DecodeProblem problem;

        while (true)
        {
            int avail = Math.Min(end, limit);
            if (avail < offset)
            {
                avail = offset;
            }

            // offset ≤ avail ≤ end ≤ packet.Length holds by construction: every header length added to offset was
            // checked against the window it was read from.
            ReadOnlySpan<byte> data = Wire.Window(packet, offset, avail);
            ref byte p = ref Wire.Start(data);

            switch (next)
            {
                case LayerKind.Ethernet:
                {
                    if (!EthernetHeader.TryRead(data, out _, out problem))
                    {
                        goto Fail;
                    }

                    if (!Push(layers, ref count, ref chain, LayerKind.Ethernet, offset, EthernetHeader.Length, depth))
                    {
                        goto TooMany;
                    }

                    offset += EthernetHeader.Length;
                    ushort type = Wire.U16(ref p, 12);
                    if (type < EtherTypes.MinEtherType)
                    {
                        limit = Math.Min(limit, offset + type);
                        next = LayerKind.Llc;
                    }
                    else
                    {
                        next = FromEtherType(type);
                    }

                    continue;
                }

                case LayerKind.Dot1Q:
                case LayerKind.Dot1AD:
                {
                    if (!VlanTag.TryRead(data, out _, out problem))
                    {
                        goto Fail;
                    }

                    if (!Push(layers, ref count, ref chain, next, offset, VlanTag.Length, depth))
                    {
                        goto TooMany;
                    }

                    offset += VlanTag.Length;
                    ushort type = Wire.U16(ref p, 2);
                    if (type < EtherTypes.MinEtherType)
                    {
                        limit = Math.Min(limit, offset + type);
                        next = LayerKind.Llc;
                    }
                    else
                    {
                        next = FromEtherType(type);
                    }

                    continue;
                }

                case LayerKind.Arp:
                case LayerKind.Rarp:
                {
                    if (!ArpPacket.TryRead(data, out _, out problem))
                    {
                        goto Fail;
                    }

                    int length = ArpPacket.FixedLength + (2 * (Wire.U8(ref p, 4) + Wire.U8(ref p, 5)));
                    if (!Push(layers, ref count, ref chain, next, offset, length, depth))
                    {
                        goto TooMany;
                    }

                    goto Done;
                }

                case LayerKind.Ipv4:
                {
                    if (!Ipv4Header.TryRead(data, out _, out problem))
                    {
                        goto Fail;
                    }

                    int headerLength = (Wire.U8(ref p, 0) & 0x0F) * 4;
                    if (!Push(layers, ref count, ref chain, LayerKind.Ipv4, offset, headerLength, depth))
                    {
                        goto TooMany;
                    }

                    int total = Wire.U16(ref p, 2);
                    if (total != 0)
                    {
                        limit = Math.Min(limit, offset + total);
                    }

                    offset += headerLength;
                    int fragment = Wire.U16(ref p, 6);
                    if ((fragment & 0x1FFF) != 0)
                    {
                        next = LayerKind.Payload;
                    }
                    else
                    {
                        if ((fragment & 0x2000) != 0)
                        {
                            // First fragment: the bytes stop here, but upper-layer lengths describe the whole datagram.
                            end = Math.Min(end, limit);
                            limit = Unknown;
                        }

                        next = FromIpProtocol(Wire.U8(ref p, 9));
                    }

                    continue;
                }

                case LayerKind.Ipv6:
                {
                    if (!Ipv6Header.TryRead(data, out _, out problem))
                    {
                        goto Fail;
                    }

                    if (!Push(layers, ref count, ref chain, LayerKind.Ipv6, offset, Ipv6Header.Length, depth))
                    {
                        goto TooMany;
                    }

                    int payloadLength = Wire.U16(ref p, 4);
                    if (payloadLength != 0)
                    {
                        limit = Math.Min(limit, offset + Ipv6Header.Length + payloadLength);
                    }

                    offset += Ipv6Header.Length;
                    nextHeader = Wire.U8(ref p, 6);
                    next = FromIpv6NextHeader(nextHeader);
                    continue;
                }

                case LayerKind.Udp:
                {
                    if (!UdpHeader.TryRead(data, out _, out problem))
                    {
                        goto Fail;
                    }

                    int length = Wire.U16(ref p, 4);
                    if (length != 0)
                    {
                        if (limit != Unknown && offset + length > limit)
                        {
                            problem = DecodeProblem.UdpBadLength;
                            goto Fail;
                        }

                        limit = Math.Min(limit, offset + length);
                    }

                    if (!Push(layers, ref count, ref chain, LayerKind.Udp, offset, UdpHeader.Length, depth))
                    {
                        goto TooMany;
                    }

                    offset += UdpHeader.Length;
                    LayerKind kind = UdpKindOf(Wire.U16(ref p, 0), Wire.U16(ref p, 2));

                    next = kind == LayerKind.None ? LayerKind.Payload : kind;

                    continue;
                }

                case LayerKind.Tcp:
                {
                    if (!TcpHeader.TryRead(data, out _, out problem))
                    {
                        goto Fail;
                    }

                    int length = (Wire.U8(ref p, 12) >> 4) * 4;
                    if (!Push(layers, ref count, ref chain, LayerKind.Tcp, offset, length, depth))
                    {
                        goto TooMany;
                    }

                    offset += length;
                    next = LayerKind.Payload;
                    continue;
                }

                case LayerKind.Geneve:
                {
                    if (!GeneveHeader.TryRead(data, out _, out problem))
                    {
                        goto Fail;
                    }

                    int length = GeneveHeader.FixedLength + ((Wire.U8(ref p, 0) & 0x3F) * 4);
                    if (!Push(layers, ref count, ref chain, LayerKind.Geneve, offset, length, depth))
                    {
                        goto TooMany;
                    }

                    offset += length;
                    ushort protocol = Wire.U16(ref p, 2);
                    next = protocol == EtherTypes.TransparentEthernetBridging ? LayerKind.Ethernet : FromEtherType(protocol);
                    if (depth >= _maxTunnelDepth)
                    {
                        goto TooDeep;
                    }

                    depth++;
                    continue;
                }

                case LayerKind.Vxlan:
                {
                    if (!VxlanHeader.TryRead(data, out _, out problem))
                    {
                        goto Fail;
                    }

                    if (!Push(layers, ref count, ref chain, LayerKind.Vxlan, offset, VxlanHeader.Length, depth))
                    {
                        goto TooMany;
                    }

                    offset += VxlanHeader.Length;
                    next = LayerKind.Ethernet;
                    if (depth >= _maxTunnelDepth)
                    {
                        goto TooDeep;
                    }

                    depth++;
                    continue;
                }

                case LayerKind.Payload:
                    if (!data.IsEmpty && !Push(layers, ref count, ref chain, LayerKind.Payload, offset, data.Length, depth))
                    {
                        goto TooMany;
                    }

                    goto Done;

                case LayerKind.None:
                    goto Done;

                // The rare kinds are listed so that the switch stays one dense jump table.
                case LayerKind.Llc:
                case LayerKind.Snap:
                case LayerKind.LinuxSll:
                case LayerKind.LinuxSll2:
                case LayerKind.Loopback:
                case LayerKind.VnTag:
                case LayerKind.PbbITag:
                case LayerKind.Mpls:
                case LayerKind.PwControlWord:
                case LayerKind.PwAch:
                case LayerKind.Ipv6HopByHop:
                case LayerKind.Ipv6Routing:
                case LayerKind.Ipv6Fragment:
                case LayerKind.Ipv6DestinationOptions:
                case LayerKind.Ipv6AuthenticationHeader:
                case LayerKind.Icmpv4:
                case LayerKind.Icmpv6:
                case LayerKind.Bfd:
                default:
                {
                    result.SetLayers(count, chain);
                    var state = new WalkState(offset, end, limit, depth, nextHeader);
                    next = DecodeRare(next, packet, data, result, originalLength, ref state);
                    if (next == LayerKind.None)
                    {
                        return;
                    }

                    count = result.LayerCount;
                    chain = result.Chain;
                    (offset, end, limit, depth, nextHeader) = (state.Offset, state.End, state.Limit, state.Depth, state.NextHeader);
                    continue;
                }
            }
        }

    Done:
        result.SetLayers(count, chain);
        return;

    Fail:
        result.SetLayers(count, chain);
        Fail(result, problem, next, offset, limit, end);
        return;

    TooMany:
        result.SetLayers(count, chain);
        result.SetProblem(DecodeProblem.TooManyLayers, next, offset);
        return;

    TooDeep:
        // Past the tunnel-depth limit the inner bytes become payload and the packet is marked.
        result.SetLayers(count, chain);
        EnterTunnel(result, ref depth, offset, Math.Max(offset, Math.Min(end, limit)));
        return;
    }

    /// <summary>Appends a layer to the chain being built; false when <see cref="DecodedPacket.MaxLayers"/> is reached.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Push(Layer[] layers, ref int count, ref ulong chain, LayerKind kind, int offset, int length, byte depth)
    {
        int n = count;
        if ((uint)n >= (uint)layers.Length)
        {
            return false;
        }

        layers[n] = new Layer(kind, offset, length, depth);
        count = n + 1;
        chain = (chain << 6) | ((ulong)kind & 63);
        return true;
    }

    /// <summary>The cold half of <see cref="Decode(ReadOnlySpan{byte}, LinkType, DecodedPacket, int)"/>: layers that are rare on
    /// an OVN uplink, kept out of the hot loop so the JIT inlines the common headers there. Returns the next layer, or
    /// <see cref="LayerKind.None"/> when decoding stops (a leaf, a problem, or the end).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private LayerKind DecodeRare(LayerKind next, ReadOnlySpan<byte> packet, ReadOnlySpan<byte> data, DecodedPacket result, int originalLength, ref WalkState state)
    {
        int offset = state.Offset, end = state.End, limit = state.Limit;
        int avail = offset + data.Length;
        byte depth = state.Depth, nextHeader = state.NextHeader;
        DecodeProblem problem;
        switch (next)
        {
            case LayerKind.VnTag:
            {
                if (!VnTag.TryRead(data, out VnTag vntag, out problem))
                {
                    goto Fail;
                }

                if (!result.TryAdd(LayerKind.VnTag, offset, VnTag.Length, depth))
                {
                    return LayerKind.None;
                }

                offset += VnTag.Length;
                ushort type = vntag.EtherType;
                if (type < EtherTypes.MinEtherType)
                {
                    limit = Math.Min(limit, offset + type);
                    next = LayerKind.Llc;
                }
                else
                {
                    next = FromEtherType(type);
                }

                break;
            }

            case LayerKind.PbbITag:
            {
                if (!PbbITag.TryRead(data, out PbbITag itag, out problem))
                {
                    goto Fail;
                }

                if (!result.TryAdd(LayerKind.PbbITag, offset, PbbITag.Length, depth))
                {
                    return LayerKind.None;
                }

                offset += PbbITag.Length;
                ushort type = itag.EtherType;
                if (type < EtherTypes.MinEtherType)
                {
                    limit = Math.Min(limit, offset + type);
                    next = LayerKind.Llc;
                }
                else
                {
                    next = FromEtherType(type);
                }

                // The customer frame is encapsulated (MAC-in-MAC): its tags and payload are one level deeper.
                if (!EnterTunnel(result, ref depth, offset, avail))
                {
                    return LayerKind.None;
                }

                break;
            }

            case LayerKind.Mpls:
            {
                if (!MplsLabel.TryRead(data, out MplsLabel label, out problem))
                {
                    goto Fail;
                }

                if (!result.TryAdd(LayerKind.Mpls, offset, MplsLabel.Length, depth))
                {
                    return LayerKind.None;
                }

                offset += MplsLabel.Length;
                if (!label.BottomOfStack)
                {
                    break;
                }

                if (data.Length == MplsLabel.Length)
                {
                    // Something must follow the stack (RFC 3032 2.1): nothing at all is a cut (or, whole, too short).
                    problem = DecodeProblem.TruncatedMpls;
                    goto Fail;
                }

                next = AfterLabelStack(label.Label, data.Slice(MplsLabel.Length));
                if (next == LayerKind.Ethernet && !EnterTunnel(result, ref depth, offset, avail))
                {
                    return LayerKind.None;
                }

                break;
            }

            case LayerKind.PwControlWord:
            case LayerKind.PwAch:
            {
                if (!PseudowireHeader.TryRead(data, out PseudowireHeader pw, out problem))
                {
                    goto Fail;
                }

                if (!result.TryAdd(next, offset, PseudowireHeader.Length, depth))
                {
                    return LayerKind.None;
                }

                offset += PseudowireHeader.Length;
                if (next == LayerKind.PwControlWord)
                {
                    next = LayerKind.Ethernet;
                    if (!EnterTunnel(result, ref depth, offset, avail))
                    {
                        return LayerKind.None;
                    }
                }
                else
                {
                    next = pw.ChannelType switch
                    {
                        PseudowireHeader.ChannelIpv4 => LayerKind.Ipv4,
                        PseudowireHeader.ChannelIpv6 => LayerKind.Ipv6,
                        PseudowireHeader.ChannelBfd => LayerKind.Bfd,
                        _ => LayerKind.Payload,
                    };
                }

                break;
            }

            case LayerKind.Llc:
            {
                if (!LlcHeader.TryRead(data, out LlcHeader llc, out problem))
                {
                    goto Fail;
                }

                int length = llc.HeaderLength;
                if (!result.TryAdd(LayerKind.Llc, offset, length, depth))
                {
                    return LayerKind.None;
                }

                offset += length;
                next = llc.IsSnap ? LayerKind.Snap : LayerKind.Payload;
                break;
            }

            case LayerKind.Snap:
            {
                if (!SnapHeader.TryRead(data, out SnapHeader snap, out problem))
                {
                    goto Fail;
                }

                if (!result.TryAdd(LayerKind.Snap, offset, SnapHeader.Length, depth))
                {
                    return LayerKind.None;
                }

                offset += SnapHeader.Length;
                next = snap.IsEtherType ? FromEtherType(snap.ProtocolId) : LayerKind.Payload;
                break;
            }

            case LayerKind.LinuxSll:
            {
                if (!LinuxSllHeader.TryRead(data, out LinuxSllHeader sll, out problem))
                {
                    goto Fail;
                }

                if (!result.TryAdd(LayerKind.LinuxSll, offset, LinuxSllHeader.Length, depth))
                {
                    return LayerKind.None;
                }

                offset += LinuxSllHeader.Length;
                next = FromSllProtocol(sll.HardwareType, sll.Protocol);
                break;
            }

            case LayerKind.LinuxSll2:
            {
                if (!LinuxSll2Header.TryRead(data, out LinuxSll2Header sll2, out problem))
                {
                    goto Fail;
                }

                if (!result.TryAdd(LayerKind.LinuxSll2, offset, LinuxSll2Header.Length, depth))
                {
                    return LayerKind.None;
                }

                offset += LinuxSll2Header.Length;
                next = FromSllProtocol(sll2.HardwareType, sll2.Protocol);
                break;
            }

            case LayerKind.Loopback:
            {
                if (!LoopbackHeader.TryRead(data, out LoopbackHeader loop, out problem))
                {
                    goto Fail;
                }

                if (!result.TryAdd(LayerKind.Loopback, offset, LoopbackHeader.Length, depth))
                {
                    return LayerKind.None;
                }

                offset += LoopbackHeader.Length;
                next = loop.IsIpv4 ? LayerKind.Ipv4 : loop.IsIpv6 ? LayerKind.Ipv6 : LayerKind.Payload;
                break;
            }

            case LayerKind.Ipv6HopByHop:
            case LayerKind.Ipv6Routing:
            case LayerKind.Ipv6Fragment:
            case LayerKind.Ipv6DestinationOptions:
            case LayerKind.Ipv6AuthenticationHeader:
            {
                if (!Ipv6ExtensionHeader.TryRead(data, nextHeader, out Ipv6ExtensionHeader ext, out problem))
                {
                    goto Fail;
                }

                int length = ext.HeaderLength;
                if (!result.TryAdd(next, offset, length, depth))
                {
                    return LayerKind.None;
                }

                offset += length;
                nextHeader = ext.NextHeader;
                if (next == LayerKind.Ipv6Fragment)
                {
                    if (ext.FragmentOffset != 0)
                    {
                        next = LayerKind.Payload;
                        break;
                    }

                    if (ext.MoreFragments)
                    {
                        end = Math.Min(end, limit);
                        limit = Unknown;
                    }
                }

                next = FromIpv6NextHeader(nextHeader);
                break;
            }

            case LayerKind.Icmpv4:
            {
                if (!Icmpv4Header.TryRead(data, out _, out problem))
                {
                    goto Fail;
                }

                result.TryAdd(LayerKind.Icmpv4, offset, data.Length, depth);
                if (MessageCut(limit, end, packet.Length, originalLength))
                {
                    // The message is decoded as a whole, so a capture that stops inside it is a truncation.
                    result.SetProblem(DecodeProblem.TruncatedIcmpv4, LayerKind.Icmpv4, offset);
                }

                return LayerKind.None;
            }

            case LayerKind.Icmpv6:
            {
                if (!Icmpv6Header.TryRead(data, out Icmpv6Header icmp6, out problem))
                {
                    goto Fail;
                }

                int fixedLength = NdpMessage.FixedLengthOf(icmp6.Type);
                if (data.Length < fixedLength)
                {
                    problem = limit <= end ? DecodeProblem.NdpMessageTooShort : DecodeProblem.TruncatedIcmpv6;
                    result.TryAdd(LayerKind.Icmpv6, offset, data.Length, depth);
                    result.SetProblem(problem, LayerKind.Icmpv6, offset);
                    return LayerKind.None;
                }

                if (!result.TryAdd(LayerKind.Icmpv6, offset, data.Length, depth))
                {
                    return LayerKind.None;
                }

                if (fixedLength != 0 && NdpMessage.TryRead(data, out NdpMessage nd, out _))
                {
                    problem = nd.ValidateOptions(out int optionOffset);
                    if (problem != DecodeProblem.None)
                    {
                        if (problem == DecodeProblem.TruncatedNdpOption && limit <= end)
                        {
                            problem = DecodeProblem.NdpOptionOverrun;
                        }

                        result.SetProblem(problem, LayerKind.Icmpv6, offset + optionOffset);
                    }
                }

                if (MessageCut(limit, end, packet.Length, originalLength))
                {
                    result.SetProblem(DecodeProblem.TruncatedIcmpv6, LayerKind.Icmpv6, offset);
                }

                return LayerKind.None;
            }

            case LayerKind.Bfd:
            {
                if (!BfdControlPacket.TryRead(data, out BfdControlPacket bfd, out problem))
                {
                    goto Fail;
                }

                result.TryAdd(LayerKind.Bfd, offset, bfd.MessageLength, depth);
                return LayerKind.None;
            }

            default:
                return LayerKind.None;
        }

        state = new WalkState(offset, end, limit, depth, nextHeader);
        return next;

    Fail:
        Fail(result, problem, next, offset, limit, end);
        return LayerKind.None;
    }

    /// <summary>Records a failed header: missing bytes the enclosing layer's own length cut off (while the capture holds
    /// all of it) mean the packet contradicts itself; bytes missing because the capture stopped are a truncation.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Fail(DecodedPacket result, DecodeProblem problem, LayerKind layer, int offset, int limit, int end)
    {
        if (limit <= end && DecodeProblems.IsTruncation(problem))
        {
            problem = OverrunProblem(problem);
        }

        result.SetProblem(problem, layer, offset);
    }

    /// <summary>The walk's position, handed to and from <see cref="DecodeRare"/>.</summary>
    private struct WalkState(int offset, int end, int limit, byte depth, byte nextHeader)
    {
        public int Offset = offset;
        public int End = end;
        public int Limit = limit;
        public byte Depth = depth;
        public byte NextHeader = nextHeader;
    }

    /// <summary>
    /// A leaf message running to <paramref name="end"/> was cut by the capture: its enclosing length says it goes on,
    /// or, when no length bounds it (IP length 0 on BIG TCP/jumbo packets), it runs to the last captured byte and
    /// the original length shows the wire frame was longer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool MessageCut(int limit, int end, int captured, int originalLength) =>
        limit != Unknown ? limit > end : end == captured && originalLength > captured;

    /// <summary>Counts one tunnel level; past the limit the inner bytes become payload and the packet is marked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool EnterTunnel(DecodedPacket result, ref byte depth, int offset, int avail)
    {
        if (depth < _maxTunnelDepth)
        {
            depth++;
            return true;
        }

        if (avail > offset)
        {
            result.TryAdd(LayerKind.Payload, offset, avail - offset, depth);
        }

        result.SetProblem(DecodeProblem.TunnelTooDeep, LayerKind.Payload, offset);
        return false;
    }

    /// <summary>
    /// What follows the bottom of an MPLS label stack, which does not say (RFC 3032 2.1). As tshark: the GAL or a
    /// first nibble of 1 is an Associated Channel Header; 4 is IPv4 and 6 is IPv6 (RFC 4928 2.1); 0 is an Ethernet
    /// pseudowire, with a control word or without (RFC 4448 4.6); anything else stays payload. For 0, tshark guesses
    /// from the MAC vendors. We look for an EtherType we decode where a frame without a control word has it (byte 12)
    /// and then where one after a control word has it (byte 16). The first test goes first because a frame without a
    /// control word that carries ARP or a VLAN tag has 0x0800 at byte 16 as well, while a control-word frame passes
    /// the first test only if its source MAC's bytes 3-4 look like such an EtherType. Too few bytes: payload.
    /// </summary>
    /// <remarks><paramref name="rest"/> is not empty.</remarks>
    private static LayerKind AfterLabelStack(uint bottomLabel, ReadOnlySpan<byte> rest)
    {
        if (bottomLabel == MplsLabel.Gal)
        {
            return LayerKind.PwAch;
        }

        switch (rest[0] >> 4)
        {
            case 4:
                return LayerKind.Ipv4;
            case 6:
                return LayerKind.Ipv6;
            case 1:
                return LayerKind.PwAch;
            case 0:
                if (rest.Length >= EthernetHeader.Length && FromEtherType(BinaryPrimitives.ReadUInt16BigEndian(rest.Slice(12))) != LayerKind.Payload)
                {
                    return LayerKind.Ethernet;
                }

                if (rest.Length >= PseudowireHeader.Length + EthernetHeader.Length
                    && FromEtherType(BinaryPrimitives.ReadUInt16BigEndian(rest.Slice(PseudowireHeader.Length + 12))) != LayerKind.Payload)
                {
                    return LayerKind.PwControlWord;
                }

                return LayerKind.Payload;
            default:
                return LayerKind.Payload;
        }
    }

    private static DecodeProblem OverrunProblem(DecodeProblem truncation) => truncation switch
    {
        DecodeProblem.TruncatedIpv6Extension => DecodeProblem.Ipv6BadExtensionLength,
        DecodeProblem.TruncatedIcmpv6 => DecodeProblem.Icmpv6BadLength,
        DecodeProblem.TruncatedNdpOption => DecodeProblem.NdpOptionOverrun,
        DecodeProblem.TruncatedGeneveOption => DecodeProblem.GeneveOptionsOverrun,
        DecodeProblem.TruncatedBfd => DecodeProblem.BfdBadLength,
        _ => DecodeProblem.ExceedsEnclosingLength,
    };

    /// <summary>The layer an EtherType introduces; <see cref="LayerKind.Payload"/> for types not decoded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LayerKind FromEtherType(ushort etherType) => etherType switch
    {
        EtherTypes.Ipv4 => LayerKind.Ipv4,
        EtherTypes.Ipv6 => LayerKind.Ipv6,
        EtherTypes.Arp => LayerKind.Arp,
        EtherTypes.Rarp => LayerKind.Rarp,
        EtherTypes.Vlan => LayerKind.Dot1Q,
        EtherTypes.QinQ or EtherTypes.QinQ9100 => LayerKind.Dot1AD,
        EtherTypes.Mpls or EtherTypes.MplsMulticast => LayerKind.Mpls,
        EtherTypes.PbbITag => LayerKind.PbbITag,
        EtherTypes.VnTag => LayerKind.VnTag,
        _ => LayerKind.Payload,
    };

    /// <summary>The layer an IPv4 protocol number introduces.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LayerKind FromIpProtocol(byte protocol) => protocol switch
    {
        IpProtocols.Udp => LayerKind.Udp,
        IpProtocols.Tcp => LayerKind.Tcp,
        IpProtocols.Icmpv4 => LayerKind.Icmpv4,
        IpProtocols.Icmpv6 => LayerKind.Icmpv6,
        IpProtocols.IpInIp => LayerKind.Ipv4,
        IpProtocols.Ipv6 => LayerKind.Ipv6,
        IpProtocols.MplsInIp => LayerKind.Mpls,
        _ => LayerKind.Payload,
    };

    /// <summary>The layer an IPv6 next-header value introduces (extension headers included; 59 = nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static LayerKind FromIpv6NextHeader(byte nextHeader) => nextHeader switch
    {
        IpProtocols.Udp => LayerKind.Udp,
        IpProtocols.Tcp => LayerKind.Tcp,
        IpProtocols.Icmpv6 => LayerKind.Icmpv6,
        IpProtocols.HopByHop => LayerKind.Ipv6HopByHop,
        IpProtocols.Routing => LayerKind.Ipv6Routing,
        IpProtocols.Fragment => LayerKind.Ipv6Fragment,
        IpProtocols.DestinationOptions => LayerKind.Ipv6DestinationOptions,
        IpProtocols.AuthenticationHeader => LayerKind.Ipv6AuthenticationHeader,
        IpProtocols.NoNextHeader => LayerKind.None,
        IpProtocols.IpInIp => LayerKind.Ipv4,
        IpProtocols.Ipv6 => LayerKind.Ipv6,
        IpProtocols.Icmpv4 => LayerKind.Icmpv4,
        IpProtocols.MplsInIp => LayerKind.Mpls,
        _ => LayerKind.Payload,
    };

    /// <summary>
    /// What follows an SLL/SLL2 header. With ARPHRD_IPGRE (778) the protocol is a GRE protocol type, where 0x6558
    /// means an Ethernet frame; values below 0x0600 are Linux "ltypes", of which 4 (ETH_P_802_2) is an LLC frame.
    /// </summary>
    public static LayerKind FromSllProtocol(ushort hardwareType, ushort protocol)
    {
        if (hardwareType == ArpHardwareTypes.Netlink)
        {
            return LayerKind.Payload;
        }

        if (protocol < EtherTypes.MinEtherType)
        {
            return protocol == 0x0004 ? LayerKind.Llc : LayerKind.Payload;
        }

        if (hardwareType == ArpHardwareTypes.IpGre && protocol == EtherTypes.TransparentEthernetBridging)
        {
            return LayerKind.Ethernet;
        }

        return FromEtherType(protocol);
    }
}
