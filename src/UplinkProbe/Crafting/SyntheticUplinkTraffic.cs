using System.Buffers.Binary;
using UplinkProbe.Decoding;

namespace UplinkProbe.Crafting;

/// <summary>What kind of frame <see cref="SyntheticUplinkTraffic"/> produced.</summary>
public enum SyntheticFrameKind
{
    Geneve,
    Tcp,
    Arp,
    Ndp,
    VlanTagged,
    Broadcast,
}

/// <summary>
/// A deterministic stream of frames resembling the uplink of an OVN cloud: about 70% Geneve between tunnel
/// endpoints in 192.0.2.0/24 (OVN option with varying port keys, a few VNIs, inner Ethernet + IPv4 TCP/UDP),
/// 15% plain TCP between 203.0.113.0/24 and 198.51.100.0/24, 5% ARP (requests, replies, OVN gratuitous
/// requests), 5% NDP in 2001:db8::/32, 3% VLAN-tagged, 2% LLDP/mDNS/DHCP. Frame sizes 60–1518 with many small
/// frames and many full ones; timestamps about 1 µs apart. Only documentation addresses (RFC 5737, RFC 3849,
/// RFC 7042 MACs) plus the fixed multicast/broadcast addresses the protocols require.
/// <para>
/// The same seed always gives the same frames: the generator uses its own PRNG (SplitMix64), not
/// <see cref="Random"/>, so the sequence does not depend on the runtime version. No allocation per frame.
/// </para>
/// </summary>
public sealed class SyntheticUplinkTraffic
{
    public const int MaxFrameLength = 1518;

    private const int Chassis = 8;
    private const int Flows = 256;
    private const int PayloadPoolLength = 1 << 16;

    private readonly byte[] _payloadPool = new byte[PayloadPoolLength];
    private readonly uint[] _flowSeq = new uint[Flows];
    private readonly long[] _counts = new long[6];
    private ulong _state;
    private long _timestampNs;
    private ushort _ipId;

    /// <param name="seed">PRNG seed.</param>
    /// <param name="startTimestampNs">First timestamp, ns since the Unix epoch (default 2025-01-01T00:00:00Z).</param>
    public SyntheticUplinkTraffic(ulong seed, long startTimestampNs = 1_735_689_600_000_000_000)
    {
        _state = seed;
        _timestampNs = startTimestampNs;
        for (int i = 0; i < PayloadPoolLength; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_payloadPool.AsSpan(i), NextUInt64());
        }

        for (int i = 0; i < Flows; i++)
        {
            _flowSeq[i] = (uint)NextUInt64();
        }
    }

    /// <summary>Frames produced so far, by kind.</summary>
    public long Count(SyntheticFrameKind kind) => _counts[(int)kind];

    /// <summary>Writes the next frame into <paramref name="buffer"/> (at least <see cref="MaxFrameLength"/> bytes) and returns its length.</summary>
    public int NextFrame(Span<byte> buffer, out long timestampNs, out SyntheticFrameKind kind)
    {
        _timestampNs += 500 + (long)Below(1001); // 0.5–1.5 µs, mean 1 µs
        timestampNs = _timestampNs;
        uint r = Below(100);
        kind = r switch
        {
            < 70 => SyntheticFrameKind.Geneve,
            < 85 => SyntheticFrameKind.Tcp,
            < 90 => SyntheticFrameKind.Arp,
            < 95 => SyntheticFrameKind.Ndp,
            < 98 => SyntheticFrameKind.VlanTagged,
            _ => SyntheticFrameKind.Broadcast,
        };
        _counts[(int)kind]++;
        var b = new FrameBuilder(buffer[..MaxFrameLength]);
        switch (kind)
        {
            case SyntheticFrameKind.Geneve:
                Geneve(ref b);
                break;
            case SyntheticFrameKind.Tcp:
                PlainTcp(ref b, vlan: -1);
                break;
            case SyntheticFrameKind.Arp:
                Arp(ref b);
                break;
            case SyntheticFrameKind.Ndp:
                Ndp(ref b);
                break;
            case SyntheticFrameKind.VlanTagged:
                PlainTcp(ref b, vlan: 100 + (int)Below(4));
                break;
            default:
                Broadcast(ref b);
                break;
        }

        return b.Finish(FrameBuilder.EthernetMinimumFrameLength);
    }

    public int NextFrame(Span<byte> buffer, out long timestampNs) => NextFrame(buffer, out timestampNs, out _);

    // ------------------------------------------------------------------ frame kinds

    private void Geneve(ref FrameBuilder b)
    {
        Span<byte> srcMac = stackalloc byte[6], dstMac = stackalloc byte[6], srcIp = stackalloc byte[4], dstIp = stackalloc byte[4];
        int a = (int)Below(Chassis), c = (int)((a + 1 + Below(Chassis - 1)) % Chassis);
        DocMac(srcMac, (byte)(0x01 + a));
        DocMac(dstMac, (byte)(0x01 + c));
        Ipv4(srcIp, 192, 0, 2, (byte)(11 + a));
        Ipv4(dstIp, 192, 0, 2, (byte)(11 + c));
        int flow = (int)Below(Flows);
        int total = FrameSize();
        // Outer overhead: Ethernet 14 + IPv4 20 + UDP 8 + Geneve 8 + OVN option 8 = 58.
        b.Ethernet(dstMac, srcMac, EtherTypes.Ipv4);
        b.BeginIpv4(srcIp, dstIp, IpProtocols.Udp, ttl: 64, identification: _ipId++, flags: Ipv4Flags.DontFragment);
        b.BeginUdp((ushort)(49152 + (flow * 2654435761u >> 18) % 16384), UdpPorts.Geneve);
        uint vni = 1 + (uint)(flow % 5);
        b.Geneve(vni);
        b.OvnGeneveOption((ushort)(1 + (flow % 40)), flow % 16 == 0 ? (ushort)(0x8000 + flow % 3) : (ushort)(1 + (flow * 7 % 40)));
        Span<byte> vmA = stackalloc byte[6], vmB = stackalloc byte[6];
        DocMac(vmA, (byte)(0x40 + flow % 64));
        DocMac(vmB, (byte)(0x80 + flow % 61));
        b.Ethernet(vmB, vmA, EtherTypes.Ipv4);
        InnerIp(ref b, flow, total, tcp: Below(5) != 0, vlan: false);
    }

    private void PlainTcp(ref FrameBuilder b, int vlan)
    {
        Span<byte> routerMac = stackalloc byte[6], gatewayMac = stackalloc byte[6];
        DocMac(routerMac, 0xfe);
        DocMac(gatewayMac, 0xfd);
        int flow = (int)Below(Flows);
        if (vlan >= 0)
        {
            b.Ethernet(gatewayMac, routerMac, EtherTypes.Vlan);
            b.VlanTag((ushort)vlan, EtherTypes.Ipv4, priority: (byte)(flow % 8 == 0 ? 5 : 0));
        }
        else
        {
            b.Ethernet(gatewayMac, routerMac, EtherTypes.Ipv4);
        }

        InnerIp(ref b, flow, FrameSize() + (vlan >= 0 ? 4 : 0), tcp: vlan < 0 || Below(2) == 0, vlan: vlan >= 0);
    }

    /// <summary>IPv4 TCP or UDP between 203.0.113.0/24 and 198.51.100.0/24 that makes the frame <paramref name="frameSize"/> long.</summary>
    private void InnerIp(ref FrameBuilder b, int flow, int frameSize, bool tcp, bool vlan)
    {
        Span<byte> client = stackalloc byte[4], server = stackalloc byte[4];
        Ipv4(client, 203, 0, 113, (byte)(1 + flow % 200));
        Ipv4(server, 198, 51, 100, (byte)(1 + flow % 50));
        bool fromClient = Below(2) == 0;
        ushort clientPort = (ushort)(32768 + flow * 97 % 28000);
        // Ports without a Wireshark dissector that would parse the random payload as an application
        // protocol (and report it malformed): HTTPS (TLS copes with random bytes), kubelet, etcd.
        ushort serverPort = (flow % 4) switch { 0 or 1 => (ushort)443, 2 => (ushort)10250, _ => (ushort)2379 };
        b.BeginIpv4(fromClient ? client : server, fromClient ? server : client, tcp ? IpProtocols.Tcp : IpProtocols.Udp,
            ttl: fromClient ? (byte)63 : (byte)61, identification: _ipId++, flags: Ipv4Flags.DontFragment);
        int headers = b.Length + (tcp ? 20 : 8);
        int payload = Math.Max(0, frameSize - headers);
        if (tcp)
        {
            uint seq = _flowSeq[flow];
            _flowSeq[flow] = seq + (uint)payload;
            TcpFlags flags = payload == 0 ? TcpFlags.Ack : TcpFlags.Ack | TcpFlags.Psh;
            b.BeginTcp(fromClient ? clientPort : serverPort, fromClient ? serverPort : clientPort, seq, seq ^ 0x5a5a5a5au, flags, 502);
        }
        else
        {
            ushort udpServer = (ushort)(vlan ? 40514 : 40000 + flow % 16);
            b.BeginUdp(fromClient ? clientPort : udpServer, fromClient ? udpServer : clientPort);
        }

        int payloadStart = b.Length;
        Payload(ref b, payload);
        if (!tcp && payload >= 2)
        {
            // Two zero bytes up front keep Wireshark's heuristic UDP dissectors (RTCP, CLTP, ...) from
            // claiming the random payload and calling it malformed.
            b.Written[payloadStart] = 0;
            b.Written[payloadStart + 1] = 0;
        }
    }

    private void Arp(ref FrameBuilder b)
    {
        Span<byte> mac = stackalloc byte[6], otherMac = stackalloc byte[6], ip = stackalloc byte[4], otherIp = stackalloc byte[4];
        uint which = Below(3);
        byte host = (byte)(1 + Below(200));
        DocMac(mac, host);
        DocMac(otherMac, 0xfe);
        Ipv4(ip, 203, 0, 113, host);
        Ipv4(otherIp, 203, 0, 113, 254);
        switch (which)
        {
            case 0: // OVN gratuitous ARP request for a NAT / router address
                b.Ethernet(OvnFrames.BroadcastMac, mac, EtherTypes.Arp);
                b.GratuitousArpRequest(mac, ip);
                break;
            case 1:
                b.Ethernet(OvnFrames.BroadcastMac, otherMac, EtherTypes.Arp);
                mac.Clear();
                b.Arp(ArpOperation.Request, otherMac, otherIp, mac, ip);
                break;
            default:
                b.Ethernet(otherMac, mac, EtherTypes.Arp);
                b.Arp(ArpOperation.Reply, mac, ip, otherMac, otherIp);
                break;
        }
    }

    private void Ndp(ref FrameBuilder b)
    {
        Span<byte> mac = stackalloc byte[6], routerMac = stackalloc byte[6];
        Span<byte> host = stackalloc byte[16], router = stackalloc byte[16], dst = stackalloc byte[16], dstMac = stackalloc byte[6];
        byte h = (byte)(1 + Below(200));
        DocMac(mac, h);
        DocMac(routerMac, 0xfe);
        Ipv6Doc(host, 0x100, h);
        Ipv6Doc(router, 0x100, 1);
        switch (Below(4))
        {
            case 0: // NS for the router, to its solicited-node multicast address
                SolicitedNode(dst, dstMac, router);
                b.Ethernet(dstMac, mac, EtherTypes.Ipv6);
                b.BeginIpv6(host, dst, IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginNeighborSolicitation(router);
                b.NdpSourceLinkLayerAddress(mac);
                break;
            case 1: // solicited NA from the router
                b.Ethernet(mac, routerMac, EtherTypes.Ipv6);
                b.BeginIpv6(router, host, IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginNeighborAdvertisement(NeighborAdvertisementFlags.Router | NeighborAdvertisementFlags.Solicited | NeighborAdvertisementFlags.Override, router);
                b.NdpTargetLinkLayerAddress(routerMac);
                break;
            case 2: // RS
                AllRouters(dst, dstMac);
                b.Ethernet(dstMac, mac, EtherTypes.Ipv6);
                b.BeginIpv6(host, dst, IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginRouterSolicitation();
                b.NdpSourceLinkLayerAddress(mac);
                break;
            default: // RA with SLLA, MTU and a prefix
                AllNodes(dst, dstMac);
                b.Ethernet(dstMac, routerMac, EtherTypes.Ipv6);
                b.BeginIpv6(router, dst, IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginRouterAdvertisement(64, RouterAdvertisementFlags.None, 1800, 0, 0);
                b.NdpSourceLinkLayerAddress(routerMac);
                b.NdpMtu(1442);
                Span<byte> prefix = stackalloc byte[16];
                Ipv6Doc(prefix, 0x100, 0);
                b.NdpPrefixInformation(64, PrefixInformationFlags.OnLink | PrefixInformationFlags.Autonomous, 2592000, 604800, prefix);
                break;
        }
    }

    private void Broadcast(ref FrameBuilder b)
    {
        Span<byte> mac = stackalloc byte[6];
        byte h = (byte)(1 + Below(200));
        DocMac(mac, h);
        switch (Below(3))
        {
            case 0: // LLDP: chassis ID (MAC), port ID (interface name), TTL, end (IEEE 802.1AB 8.5)
                b.Ethernet([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e], mac, EtherTypes.Lldp);
                b.WriteUInt16((1 << 9) | 7);
                b.WriteByte(4);
                b.Write(mac);
                b.WriteUInt16((2 << 9) | 5);
                b.WriteByte(5);
                b.Write("eth"u8);
                b.WriteByte((byte)('0' + h % 10));
                b.WriteUInt16((3 << 9) | 2);
                b.WriteUInt16(120);
                b.WriteUInt16(0);
                break;
            case 1: // mDNS query for a PTR record
            {
                Span<byte> src = stackalloc byte[4];
                Ipv4(src, 203, 0, 113, h);
                b.Ethernet([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb], mac, EtherTypes.Ipv4);
                b.BeginIpv4(src, [224, 0, 0, 251], IpProtocols.Udp, ttl: 255, identification: _ipId++);
                b.BeginUdp(5353, 5353);
                b.Write([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
                b.Write("\u0009_services\u0007_dns-sd\u0004_udp\u0005local\0"u8);
                b.WriteUInt16(12);
                b.WriteUInt16(1);
                break;
            }

            default: // DHCPDISCOVER (RFC 2131) from 0.0.0.0 to the broadcast address
            {
                b.Ethernet(OvnFrames.BroadcastMac, mac, EtherTypes.Ipv4);
                b.BeginIpv4([0, 0, 0, 0], [255, 255, 255, 255], IpProtocols.Udp, ttl: 64, identification: _ipId++);
                b.BeginUdp(68, 67);
                Span<byte> bootp = b.Append(236);
                bootp[0] = 1; // BOOTREQUEST
                bootp[1] = 1; // Ethernet
                bootp[2] = 6;
                BinaryPrimitives.WriteUInt32BigEndian(bootp[4..], (uint)NextUInt64());
                BinaryPrimitives.WriteUInt16BigEndian(bootp[10..], 0x8000); // broadcast flag
                mac.CopyTo(bootp[28..]);
                b.Write([99, 130, 83, 99]); // magic cookie
                b.Write([53, 1, 1]); // DHCP message type: DISCOVER
                b.Write([55, 3, 1, 3, 6]); // parameter request list
                b.WriteByte(255);
                break;
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Frame size in bytes: many small frames (ACKs), some medium, many at the 1500-byte MTU.</summary>
    private int FrameSize()
    {
        uint r = Below(100);
        return r switch
        {
            < 45 => 60 + (int)Below(69),      // 60–128
            < 65 => 129 + (int)Below(448),    // 129–576
            < 75 => 577 + (int)Below(824),    // 577–1400
            < 80 => 1401 + (int)Below(113),   // 1401–1513
            _ => 1514,                        // full 1500-byte MTU
        };
    }

    private void Payload(ref FrameBuilder b, int length)
    {
        length = Math.Min(length, MaxFrameLength - b.Length);
        int start = (int)Below((uint)(PayloadPoolLength - length));
        b.Write(_payloadPool.AsSpan(start, length));
    }

    private static void DocMac(Span<byte> mac, byte last)
    {
        // RFC 7042 2.1.2: 00-00-5E-00-53-00 to 00-00-5E-00-53-FF are for documentation.
        mac[0] = 0x00;
        mac[1] = 0x00;
        mac[2] = 0x5e;
        mac[3] = 0x00;
        mac[4] = 0x53;
        mac[5] = last;
    }

    private static void Ipv4(Span<byte> ip, byte a, byte b, byte c, byte d)
    {
        ip[0] = a;
        ip[1] = b;
        ip[2] = c;
        ip[3] = d;
    }

    private static void Ipv6Doc(Span<byte> ip, ushort subnet, byte host)
    {
        ip.Clear();
        ip[0] = 0x20;
        ip[1] = 0x01;
        ip[2] = 0x0d;
        ip[3] = 0xb8;
        ip[4] = (byte)(subnet >> 8);
        ip[5] = (byte)subnet;
        ip[15] = host;
    }

    private static void SolicitedNode(Span<byte> ip, Span<byte> mac, ReadOnlySpan<byte> target)
    {
        // RFC 4291 2.7.1: ff02::1:ffXX:XXXX; RFC 2464 7: 33:33 + the low 32 bits.
        ip.Clear();
        ip[0] = 0xff;
        ip[1] = 0x02;
        ip[11] = 0x01;
        ip[12] = 0xff;
        target[13..16].CopyTo(ip[13..]);
        mac[0] = 0x33;
        mac[1] = 0x33;
        ip[12..16].CopyTo(mac[2..]);
    }

    private static void AllNodes(Span<byte> ip, Span<byte> mac) => LinkLocalMulticast(ip, mac, 1);

    private static void AllRouters(Span<byte> ip, Span<byte> mac) => LinkLocalMulticast(ip, mac, 2);

    private static void LinkLocalMulticast(Span<byte> ip, Span<byte> mac, byte group)
    {
        ip.Clear();
        ip[0] = 0xff;
        ip[1] = 0x02;
        ip[15] = group;
        mac[0] = 0x33;
        mac[1] = 0x33;
        ip[12..16].CopyTo(mac[2..]);
    }

    /// <summary>SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fixed forever.</summary>
    private ulong NextUInt64()
    {
        ulong z = _state += 0x9e3779b97f4a7c15UL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n) by multiply-shift (Lemire); the tiny bias is irrelevant here.</summary>
    private uint Below(uint n) => (uint)(((NextUInt64() >> 32) * n) >> 32);
}
