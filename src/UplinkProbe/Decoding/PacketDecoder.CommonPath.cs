using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace UplinkProbe.Decoding;

public sealed partial class PacketDecoder
{
    /// <summary>
    /// Whether <see cref="Decode(ReadOnlySpan{byte}, LinkType, DecodedPacket, int)"/> first tries the straight-line path
    /// for the chains that make up most of an OVN uplink. Tests switch it off to compare both paths.
    /// </summary>
    internal bool UseCommonPath { get; set; } = true;

    private static ulong Bit(LayerKind kind) => 1UL << (int)kind;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Append<TRecord>(Layer[] layers, ref int count, ref ulong chain, ref ulong mask, LayerKind kind, int offset, int length, byte depth)
        where TRecord : struct, ILayerRecording
    {
        if (TRecord.Records)
        {
            layers[count] = new Layer(kind, offset, length, depth);
        }

        count++;
        chain = (chain << 6) | (ulong)kind;
        mask |= Bit(kind);
    }

    /// <summary>
    /// The chains that make up most of an OVN uplink — Ethernet, at most one 802.1Q tag, then ARP, or IPv4 with TCP or
    /// UDP, optionally one Geneve level carrying the same again, then payload — decoded without the general loop's
    /// dispatch and its spills. Every header is checked by the same
    /// <c>TryRead</c> and bounded by the same <c>end</c>/<c>limit</c> rules as in the general loop, so the result is
    /// identical; anything else (another EtherType or protocol, IPv4 fragments or total length 0, a header that fails
    /// its check, VXLAN/BFD, deeper tunnels) returns false before <paramref name="result"/> is touched beyond its layer
    /// buffer, and the general loop decodes the packet from the start.
    /// </summary>
    /// <remarks><typeparamref name="TRecord"/> says whether each layer's position is written too (<see cref="Decode(ReadOnlySpan{byte}, LinkType, DecodedPacket, int)"/>)
    /// or only the chain (<see cref="DecodeChain"/>); each instantiation is compiled without the other's stores.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TryDecodeCommon<TRecord>(ReadOnlySpan<byte> packet, DecodedPacket result, int originalLength)
        where TRecord : struct, ILayerRecording
    {
        Layer[] layers = result.LayerBuffer;
        int end = packet.Length;
        int limit = Unknown;
        int offset = 0;
        int count = 0;
        ulong chain = 0;
        ulong mask = 0;
        byte depth = 0;

        while (true)
        {
            // Ethernet II, optionally one 802.1Q tag, then IPv4 or ARP. The first header's window is the whole packet;
            // an inner one's is bounded by the outer IPv4 and UDP lengths. Neither header changes the window.
            int avail = Math.Max(offset, Math.Min(end, limit));
            if (avail - offset < EthernetHeader.Length + Ipv4Header.MinLength)
            {
                return false;
            }

            ref byte frame = ref Unsafe.Add(ref MemoryMarshal.GetReference(packet), offset);
            ushort type = Wire.U16(ref frame, 12);
            Append<TRecord>(layers, ref count, ref chain, ref mask, LayerKind.Ethernet, offset, EthernetHeader.Length, depth);
            offset += EthernetHeader.Length;
            if (type == EtherTypes.Vlan)
            {
                if (avail - offset < VlanTag.Length + Ipv4Header.MinLength)
                {
                    return false;
                }

                type = Wire.U16(ref frame, EthernetHeader.Length + 2);
                Append<TRecord>(layers, ref count, ref chain, ref mask, LayerKind.Dot1Q, offset, VlanTag.Length, depth);
                offset += VlanTag.Length;
            }

            if (type == EtherTypes.Arp)
            {
                ReadOnlySpan<byte> arp = Wire.Window(packet, offset, avail);
                if (!ArpPacket.TryRead(arp, out _, out _))
                {
                    return false;
                }

                int arpLength = ArpPacket.FixedLength + (2 * (Wire.U8(ref Wire.Start(arp), 4) + Wire.U8(ref Wire.Start(arp), 5)));
                Append<TRecord>(layers, ref count, ref chain, ref mask, LayerKind.Arp, offset, arpLength, depth);
                result.SetDecoded(LinkType.Ethernet, packet.Length, originalLength, count, chain, mask, TRecord.Records);
                return true;
            }

            if (type != EtherTypes.Ipv4)
            {
                return false;
            }

            ReadOnlySpan<byte> data = Wire.Window(packet, offset, avail);
            if (!Ipv4Header.TryRead(data, out _, out _))
            {
                return false;
            }

            ref byte ip = ref Wire.Start(data);
            int total = Wire.U16(ref ip, 2);
            if (total == 0 || (Wire.U16(ref ip, 6) & 0x3FFF) != 0)
            {
                return false; // BIG TCP or a fragment: the general loop handles their bounds
            }

            int ipHeaderLength = (Wire.U8(ref ip, 0) & 0x0F) * 4;
            Append<TRecord>(layers, ref count, ref chain, ref mask, LayerKind.Ipv4, offset, ipHeaderLength, depth);
            limit = Math.Min(limit, offset + total);
            offset += ipHeaderLength;
            byte protocol = Wire.U8(ref ip, 9);

            data = Wire.Window(packet, offset, Math.Max(offset, Math.Min(end, limit)));
            if (protocol == IpProtocols.Tcp)
            {
                if (!TcpHeader.TryRead(data, out _, out _))
                {
                    return false;
                }

                int tcpHeaderLength = (Wire.U8(ref Wire.Start(data), 12) >> 4) * 4;
                Append<TRecord>(layers, ref count, ref chain, ref mask, LayerKind.Tcp, offset, tcpHeaderLength, depth);
                offset += tcpHeaderLength;
                break;
            }

            if (protocol != IpProtocols.Udp || !UdpHeader.TryRead(data, out _, out _))
            {
                return false;
            }

            ref byte udp = ref Wire.Start(data);
            int udpLength = Wire.U16(ref udp, 4);
            if (udpLength != 0)
            {
                if (offset + udpLength > limit)
                {
                    return false; // UdpBadLength, reported by the general loop
                }

                limit = offset + udpLength;
            }

            Append<TRecord>(layers, ref count, ref chain, ref mask, LayerKind.Udp, offset, UdpHeader.Length, depth);
            offset += UdpHeader.Length;

            LayerKind kind = UdpKindOf(Wire.U16(ref udp, 0), Wire.U16(ref udp, 2));

            if (kind == LayerKind.None)
            {
                break;
            }

            if (kind != LayerKind.Geneve || depth != 0 || _maxTunnelDepth == 0)
            {
                return false;
            }

            data = Wire.Window(packet, offset, Math.Max(offset, Math.Min(end, limit)));
            if (!GeneveHeader.TryRead(data, out _, out _)
                || Wire.U16(ref Wire.Start(data), 2) != EtherTypes.TransparentEthernetBridging)
            {
                return false;
            }

            int geneveLength = GeneveHeader.FixedLength + ((Wire.U8(ref Wire.Start(data), 0) & 0x3F) * 4);
            Append<TRecord>(layers, ref count, ref chain, ref mask, LayerKind.Geneve, offset, geneveLength, depth);
            offset += geneveLength;
            depth = 1;
        }

        // A third of uplink segments carry no payload (bare ACKs): the payload layer is written (with positions) either
        // way and counted without a branch, which the mix would mispredict.
        int payloadLength = Math.Max(0, Math.Min(end, limit) - offset);
        if (TRecord.Records)
        {
            layers[count] = new Layer(LayerKind.Payload, offset, payloadLength, depth);
        }

        int hasPayload = payloadLength > 0 ? 1 : 0;
        count += hasPayload;
        chain = (chain << (6 * hasPayload)) | ((ulong)LayerKind.Payload * (ulong)hasPayload);
        mask |= (ulong)hasPayload << (int)LayerKind.Payload;

        result.SetDecoded(LinkType.Ethernet, packet.Length, originalLength, count, chain, mask, TRecord.Records);
        return true;
    }
}

/// <summary>Whether the decoder's straight-line path writes each layer's position (a type argument, so that the JIT
/// compiles each choice without the other's code).</summary>
internal interface ILayerRecording
{
    static abstract bool Records { get; }
}

internal readonly struct RecordLayers : ILayerRecording
{
    public static bool Records => true;
}

internal readonly struct ChainOnly : ILayerRecording
{
    public static bool Records => false;
}
