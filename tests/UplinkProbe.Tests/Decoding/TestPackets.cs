namespace UplinkProbe.Tests.Decoding;

/// <summary>
/// Hand-written packets in real wire format (documentation addresses only). Lengths were computed by hand and the
/// packets were checked with tshark 4.0.17 (see <see cref="TestPacketDump"/>). Spaces separate headers.
/// </summary>
internal static class TestPackets
{
    public static byte[] Hex(string hex) => Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));

    // ---- ARP ----

    public const string GarpArp = "0001 0800 0604 0001 0a58c6336401 c6336401 000000000000 c6336401";

    /// <summary>OVN gratuitous ARP: request, SPA = TPA = 198.51.100.1, THA zero, to broadcast; 42 bytes, unpadded.</summary>
    public static readonly byte[] OvnGarp = Hex("ffffffffffff 0a58c6336401 0806 " + GarpArp);

    /// <summary>The same, padded to the 60-byte Ethernet minimum as a NIC sends it.</summary>
    public static readonly byte[] OvnGarpPadded = Hex("ffffffffffff 0a58c6336401 0806 " + GarpArp + new string('0', 36));

    /// <summary>The same on VLAN 100, PCP 1 (802.1Q TCI 0x2064).</summary>
    public static readonly byte[] OvnGarpVlan = Hex("ffffffffffff 0a58c6336401 8100 2064 0806 " + GarpArp);

    /// <summary>ARP over QinQ: S-tag 0x88a8 PCP 5 VID 100, C-tag 0x8100 PCP 1 DEI 1 VID 200; a request for 198.51.100.9.</summary>
    public static readonly byte[] QinQArpRequest = Hex(
        "ffffffffffff 020000000001 88a8 a064 8100 30c8 0806 " +
        "0001 0800 0604 0001 020000000001 c6336401 000000000000 c6336409");

    /// <summary>RARP request (opcode 3, EtherType 0x8035): who am I, for 00:00:5e:00:53:01.</summary>
    public static readonly byte[] RarpRequest = Hex(
        "ffffffffffff 00005e005301 8035 0001 0800 0604 0003 00005e005301 00000000 00005e005301 00000000");

    /// <summary>802.3 frame (length 36) with LLC AA-AA-03, SNAP OUI 0 type 0x0806, ARP reply 192.0.2.1 → 192.0.2.2.</summary>
    public static readonly byte[] SnapArpReply = Hex(
        "020000000002 020000000001 0024 aaaa03 000000 0806 " +
        "0001 0800 0604 0002 020000000001 c0000201 020000000002 c0000202");

    // ---- Linux cooked ----

    /// <summary>SLL v1, outgoing (4), ARPHRD_ETHER, 6-byte address, protocol ARP: the OVN GARP.</summary>
    public static readonly byte[] SllGarp = Hex("0004 0001 0006 0a58c6336401 0000 0806 " + GarpArp);

    /// <summary>SLL v1 with ARPHRD_IPGRE (778) and GRE type 0x6558: an Ethernet frame follows.</summary>
    public static readonly byte[] SllGreEthernet = Hex("0000 030a 0000 0000000000000000 6558 ffffffffffff 0a58c6336401 0806 " + GarpArp);

    // ---- IPv6 / NDP ----

    /// <summary>NS for DAD: :: → ff02::1:ff00:1, target 2001:db8::1, Nonce option (RFC 7527).</summary>
    public const string NsDad =
        "6000000000203aff 00000000000000000000000000000000 ff0200000000000000000001ff000001 " +
        "87000000 00000000 20010db8000000000000000000000001 0e01112233445566";

    public static readonly byte[] EthNsDad = Hex("3333ff000001 020000000001 86dd " + NsDad);

    /// <summary>SLL2, ifindex 3, outgoing, carrying the DAD NS.</summary>
    public static readonly byte[] Sll2NsDad = Hex("86dd 0000 00000003 0001 04 06 0200000000010000 " + NsDad);

    /// <summary>NA 2001:db8::1 → 2001:db8::2, R S O set, TLLA 02:00:00:00:00:01.</summary>
    public static readonly byte[] EthNa = Hex(
        "020000000002 020000000001 86dd 6000000000203aff 20010db8000000000000000000000001 20010db8000000000000000000000002 " +
        "88000000 e0000000 20010db8000000000000000000000001 0201020000000001");

    /// <summary>RS fe80::1 → ff02::2 with SLLA.</summary>
    public static readonly byte[] EthRs = Hex(
        "333300000002 020000000001 86dd 6000000000103aff fe800000000000000000000000000001 ff020000000000000000000000000002 " +
        "85000000 00000000 0101020000000001");

    /// <summary>
    /// RA fe80::1 → ff02::1: hop limit 64, flags M O Prf=high (0xc8), lifetime 1800, reachable 30000, retrans 1000;
    /// options SLLA, MTU 1500, Prefix 2001:db8:0:1::/64 L A valid 2592000 preferred 604800, RDNSS 2001:db8::35
    /// lifetime 3600, DNSSL example.com lifetime 3600.
    /// </summary>
    public static readonly byte[] EthRa = Hex(
        "333300000001 020000000001 86dd 6000000000703aff fe800000000000000000000000000001 ff020000000000000000000000000001 " +
        "86000000 40c80708 00007530 000003e8 " +
        "0101020000000001 " +
        "050100000000 05dc " +
        "030440c0 00278d00 00093a80 00000000 20010db8000000010000000000000000 " +
        "19030000 00000e10 20010db8000000000000000000000035 " +
        "1f030000 00000e10 076578616d706c6503636f6d00 000000");

    /// <summary>Redirect fe80::1 → 2001:db8::2: target fe80::2, destination 2001:db8::99, TLLA, Redirected Header (40 bytes of the original IPv6 header).</summary>
    public static readonly byte[] EthRedirect = Hex(
        "020000000002 020000000001 86dd 6000000000603aff fe800000000000000000000000000001 20010db8000000000000000000000002 " +
        "89000000 00000000 fe800000000000000000000000000002 20010db8000000000000000000000099 " +
        "0201020000000003 " +
        "0406000000000000 6000000000083a40 20010db8000000000000000000000002 20010db8000000000000000000000099");

    /// <summary>IPv6 hop-by-hop (PadN) → destination options (PadN) → fragment (offset 0, M 0) → ICMPv6 echo request.</summary>
    public static readonly byte[] EthIpv6ExtChain = Hex(
        "020000000002 020000000001 86dd 6000000000200040 20010db8000000000000000000000001 20010db8000000000000000000000002 " +
        "3c00010400000000 2c00010400000000 3a00000012345678 8000000000010001");

    /// <summary>IPv6 → AH (payload len 4 → (4+2)×4 = 24 bytes, RFC 4302 2.2) → ICMPv6 echo request.</summary>
    public static readonly byte[] EthIpv6Ah = Hex(
        "020000000002 020000000001 86dd 6000000000203340 20010db8000000000000000000000001 20010db8000000000000000000000002 " +
        "3a040000 00000100 00000001 000000000000000000000000 8000000000010001");

    // ---- IPv4 ----

    /// <summary>IPv4 with a 4-byte Router Alert option (IHL 6), IGMPv2 report to 224.0.0.22.</summary>
    public static readonly byte[] EthIpv4Options = Hex(
        "01005e000016 020000000001 0800 46000020 00010000 01020000 c0000201 e0000016 94040000 1600 0000 e0000016");

    /// <summary>First fragment (MF, offset 0) of a UDP datagram of 1024 bytes: UDP header and 8 data bytes.</summary>
    public static readonly byte[] EthIpv4FirstFragment = Hex(
        "020000000002 020000000001 0800 45000024 abcd2000 40110000 c0000201 c0000202 c0000035 04000000 0102030405060708");

    /// <summary>A later fragment (offset 185 × 8): only payload.</summary>
    public static readonly byte[] EthIpv4LaterFragment = Hex(
        "020000000002 020000000001 0800 4500001c abcd00b9 40110000 c0000201 c0000202 0102030405060708");

    /// <summary>Linux BIG TCP: IPv4 total length 0, TCP with 100 data bytes.</summary>
    public static readonly byte[] EthIpv4BigTcp = Hex(
        "020000000002 020000000001 0800 45000000 00014000 40060000 c0000201 c0000202 " +
        "c0000050 00000001 00000000 5010ffff 00000000" + new string('a', 200));

    // ---- Tunnels ----

    private const string OuterEthIpv4 = "020000000002 020000000001 0800 ";

    /// <summary>Geneve (VNI 5, C flag) with OVN option (ingress key 5, egress key 0x8001) carrying the OVN GARP in Ethernet.</summary>
    public static readonly byte[] GeneveOvnGarp = Hex(
        OuterEthIpv4 + "45000056 00004000 40110000 c0000201 c0000202 " +
        "c00017c1 00420000 " +
        "02406558 00000500 01028001 00058001 " +
        "ffffffffffff 0a58c6336401 0806 " + GarpArp);

    /// <summary>Geneve, O bit set, no options, protocol 0x0800: IPv4 directly (ICMP echo 198.51.100.2 → 203.0.113.1).</summary>
    public static readonly byte[] GeneveOamIpv4 = Hex(
        OuterEthIpv4 + "45000040 00004000 40110000 c0000201 c0000202 " +
        "c00017c1 002c0000 " +
        "00800800 00000700 " +
        "4500001c 00010000 40010000 c6336402 cb007101 08000000 00010001");

    /// <summary>Geneve protocol 0x0806: ARP directly, no inner Ethernet.</summary>
    public static readonly byte[] GeneveArp = Hex(
        OuterEthIpv4 + "45000040 00004000 40110000 c0000201 c0000202 " +
        "c00017c1 002c0000 " +
        "00000806 00000900 " + GarpArp);

    /// <summary>Geneve with Opt Len 2 (8 bytes) whose only option claims 2 words of data (12 bytes): option overruns Opt Len.</summary>
    public static readonly byte[] GeneveOptionOverrun = Hex(
        OuterEthIpv4 + "45000056 00004000 40110000 c0000201 c0000202 " +
        "c00017c1 00420000 " +
        "02406558 00000500 01028002 00058001 " +
        "ffffffffffff 0a58c6336401 0806 " + GarpArp);

    /// <summary>OVN BFD between gateways: Geneve VNI 0 → Ethernet → IPv4 → UDP 49152 → 3784 → BFD Up, diag 0, detect mult 3, 1 s timers.</summary>
    public static readonly byte[] GeneveBfd = Hex(
        OuterEthIpv4 + "45000066 00004000 40110000 c0000201 c0000202 " +
        "c00017c1 00520000 " +
        "00006558 00000000 " +
        "0a0000000002 0a0000000001 0800 " +
        "45c00034 00004000 ff110000 c6336401 c6336402 " +
        "c0000ec8 00200000 " +
        "20c00318 00000001 00000002 000f4240 000f4240 00000000");

    /// <summary>VXLAN (I flag, VNI 100) on <paramref name="port"/> with an inner ARP request.</summary>
    public static byte[] VxlanArp(ushort port) => Hex(
        OuterEthIpv4 + "4500004e 00004000 40110000 c0000201 c0000202 " +
        $"c000{port:x4} 003a0000 " +
        "08000000 00006400 " +
        "ffffffffffff 020000000003 0806 0001 0800 0604 0001 020000000003 cb007101 000000000000 cb007102");

    /// <summary>Single-hop BFD (UDP 3784) outside any tunnel: Down, diag 1, poll, demand off.</summary>
    public static readonly byte[] EthBfdDown = Hex(
        OuterEthIpv4 + "45c00034 00004000 ff110000 c0000201 c0000202 " +
        "c0010ec8 00200000 " +
        "21600518 0000abcd 00000000 0007a120 0007a120 00000000");

    // ---- Carrier tags (VN-Tag, 802.1ah) and MPLS ----

    /// <summary>IPv4 192.0.2.1 → 192.0.2.2, UDP 49152 → 49153, "hi" (checksums valid).</summary>
    public const string Ipv4UdpHi = "4500001e000140004011b6cac0000201c0000202 c000c001000a936a6869";

    /// <summary>IPv6 2001:db8::1 → 2001:db8::2, UDP 49152 → 49153, "hi".</summary>
    public const string Ipv6UdpHi =
        "60000000000a1140 20010db8000000000000000000000001 20010db8000000000000000000000002 c000c001000abbf96869";

    /// <summary>VLAN 250, VN-Tag (to the bridge, source VIF 51), VLAN 250 again, IPv4/UDP: the corpus's "sandwich".</summary>
    public static readonly byte[] VnTagSandwich = Hex(
        "020000000002 020000000001 8100 00fa 8926 00000033 8100 00fa 0800 " + Ipv4UdpHi);

    /// <summary>VN-Tag from the bridge: D=1, P=1, destination VIF 0x1234, L=1, version 1, source VIF 0xabc; then ARP.</summary>
    public static readonly byte[] VnTagFromBridgeArp = Hex(
        "ffffffffffff 020000000001 8926 d234 9abc 0806 " + GarpArp);

    /// <summary>
    /// 802.1ah: B-VLAN 4051 PCP 7, I-tag PCP 5 DEI 1 UCA 1 I-SID 2014020 (0x1ebb44), customer 02:..:11 → 02:..:12,
    /// customer VLAN 4020, IPv4/UDP.
    /// </summary>
    public static readonly byte[] PbbVlanIpv4 = Hex(
        "020000000002 020000000001 8100 efd3 88e7 b81ebb44 020000000012 020000000011 8100 0fb4 0800 " + Ipv4UdpHi);

    /// <summary>802.1ah I-tag directly after the backbone Ethernet header, I-SID 2014011, customer frame is the OVN GARP.</summary>
    public static readonly byte[] PbbArp = Hex(
        "020000000002 020000000001 88e7 001ebb3b ffffffffffff 0a58c6336401 0806 " + GarpArp);

    /// <summary>MPLS (0x8847) label 100, TC 0, S, TTL 64, then IPv4 (first nibble 4).</summary>
    public static readonly byte[] MplsIpv4 = Hex("020000000002 020000000001 8847 00064140 " + Ipv4UdpHi);

    /// <summary>Two labels: 1048575 TC 7 TTL 255 (not bottom), 16 TC 0 S TTL 1; then IPv6.</summary>
    public static readonly byte[] MplsTwoLabelsIpv6 = Hex("020000000002 020000000001 8847 fffffeff 00010101 " + Ipv6UdpHi);

    /// <summary>Multicast MPLS (0x8848), label 100, S, then IPv4.</summary>
    public static readonly byte[] MplsMulticastIpv4 = Hex("01005e000001 020000000001 8848 00064140 " + Ipv4UdpHi);

    /// <summary>Label 100, then the GAL (13) at the bottom, an Associated Channel Header (version 0, channel 0x0021 IPv4), IPv4.</summary>
    public static readonly byte[] MplsGalAchIpv4 = Hex("020000000002 020000000001 8847 00064040 0000d101 10000021 " + Ipv4UdpHi);

    /// <summary>Label 200, a pseudowire control word (sequence 42), then a customer Ethernet frame with IPv4 198.51.100.1 → .2.</summary>
    public static readonly byte[] MplsPwControlWord = Hex(
        "020000000002 020000000001 8847 000c81ff 0000002a 020000000022 020000000021 0800 " +
        "4500001e000140004011e663c6336401c6336402 c000c001000ac3036869");

    /// <summary>Label 200 then a customer Ethernet frame without a control word (destination 0a:.. : first nibble 0), carrying ARP.</summary>
    public static readonly byte[] MplsPwNoControlWordArp = Hex(
        "020000000002 020000000001 8847 000c81ff 0a0000000022 020000000021 0806 " + GarpArp);

    /// <summary>Label 200 then a customer frame without a control word with a VLAN tag (a TPID at byte 12, 0x0800 at byte 16).</summary>
    public static readonly byte[] MplsPwNoControlWordVlan = Hex(
        "020000000002 020000000001 8847 000c81ff 0a0000000022 020000000021 8100 0064 0800 " + Ipv4UdpHi);

    /// <summary>IPv4 protocol 137 (MPLS-in-IP, RFC 4023) carrying label 100 and an inner IPv4 packet.</summary>
    public static readonly byte[] MplsInIpv4 = Hex(
        "020000000002 020000000001 0800 45000036 00014000 40890000 cb007101 cb007102 00064140 " + Ipv4UdpHi);

    /// <summary>
    /// RA fe80::1 → ff02::1 with four Route Information options (RFC 4191 2.3): length 1 (::/0, medium, 3600 s),
    /// length 2 (2001:db8:aabb::/48, high, 7200 s), length 3 (2001:db8:0:1::1/128, low, infinite), and an invalid
    /// length 4. ICMPv6 checksum left 0.
    /// </summary>
    public static readonly byte[] EthRaRouteInformation = Hex(
        "333300000001 020000000001 86dd 6000000000603aff fe800000000000000000000000000001 ff020000000000000000000000000001 " +
        "86000000 40000708 00000000 00000000 " +
        "18010000 00000e10 " +
        "18023008 00001c20 20010db8aabb0000 " +
        "18038018 ffffffff 20010db8000000010000000000000001 " +
        "18043000 00000064 000000000000000000000000000000000000000000000000");
}
