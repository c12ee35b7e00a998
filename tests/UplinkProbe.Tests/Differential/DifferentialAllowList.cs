namespace UplinkProbe.Tests.Differential;

/// <summary>
/// The one place where UplinkProbe is allowed to disagree with tshark 4.0.17 on the shared corpus, each entry with
/// its reason. Every (entry, column) pair must still match a disagreement, or the differential test fails: the list
/// cannot go stale. Packet numbers are tshark's frame numbers; an empty set means every packet of the file.
/// </summary>
internal static class DifferentialAllowList
{
    public sealed record Entry(string File, string[] Columns, int[] Packets, string Reason);

    private const string BigTcp =
        "Linux BIG TCP/GSO super-packet, outer IP and UDP length 0: tshark 4.0 stops at the outer UDP header (oracle.sh known limit); " +
        "we fall back to the captured length (corpus pitfall 11) and decode the tunnel, as tcpdump's .out does";

    private const string InvokingPacket =
        "the invoking packet inside an ICMPv6 error or a Redirected Header option (RFC 4443 section 3, RFC 4861 4.6.3): " +
        "tshark dissects it; UplinkProbe does not decode it as traffic on the wire";

    public static readonly Entry[] Entries =
    [
        // Timestamps whose fraction is out of range: both name an instant, tshark prints it oddly.
        new("tcpdump/timestamp_invalid_micro.pcap", ["epoch"], [2], "fraction exactly 10^6 µs: tshark prints 1418145370.1000000000, the same instant as our carried 1418145371.000000000"),
        new("tcpdump/timestamp_invalid_nano.pcap", ["epoch"], [2], "fraction exactly 10^9 ns: tshark prints 1418145370.1000000000, the same instant as our carried 1418145371.000000000"),
        new("tcpdump/timestamp_invalid_micro.pcap", ["epoch"], [3],
            "fraction 2147483648 µs: tshark multiplies it by 1000 in 32 bits (wraps to 0) and prints .000000000; we carry 2147.483648 s into the seconds"),
        new("tcpdump/timestamp_invalid_nano.pcap", ["epoch"], [3],
            "fraction 2147483648 ns: tshark stores it in a signed 32-bit field and prints -1418145370.2147483648; we carry 2.147483648 s into the seconds"),

        // tshark 4.0.17 limits.
        new("tcpdump/bigtcp-ipv4-geneve-ipv4.pcap", Cols("eth_src eth_dst eth_type ip_src ip_dst gnv_ver gnv_oam gnv_crit gnv_vni gnv_proto gnv_opt_len"), [], BigTcp),
        new("tcpdump/bigtcp-ipv4-geneve-ipv6.pcap", Cols("eth_src eth_dst eth_type ip6_src ip6_dst gnv_ver gnv_oam gnv_crit gnv_vni gnv_proto gnv_opt_len"), [], BigTcp),
        new("tcpdump/bigtcp-ipv6-geneve-ipv4.pcap", Cols("eth_src eth_dst eth_type ip_src ip_dst udp_sport udp_dport gnv_ver gnv_oam gnv_crit gnv_vni gnv_proto gnv_opt_len"), [], BigTcp),
        new("tcpdump/bigtcp-ipv6-geneve-ipv6.pcap", Cols("eth_src eth_dst eth_type ip6_src ip6_dst udp_sport udp_dport gnv_ver gnv_oam gnv_crit gnv_vni gnv_proto gnv_opt_len"), [], BigTcp),
        new("tcpdump/bigtcp-ipv4-vxlan-ipv4.pcap", Cols("eth_src eth_dst eth_type ip_src ip_dst vxlan_flags vxlan_vni"), [], BigTcp),
        new("tcpdump/bigtcp-ipv4-vxlan-ipv6.pcap", Cols("eth_src eth_dst eth_type ip6_src ip6_dst vxlan_flags vxlan_vni"), [], BigTcp),
        new("tcpdump/bigtcp-ipv6-vxlan-ipv4.pcap", Cols("eth_src eth_dst eth_type ip_src ip_dst udp_sport udp_dport vxlan_flags vxlan_vni"), [], BigTcp),
        new("tcpdump/bigtcp-ipv6-vxlan-ipv6.pcap", Cols("eth_src eth_dst eth_type ip6_src ip6_dst udp_sport udp_dport vxlan_flags vxlan_vni"), [], BigTcp),
        new("tcpdump/vxlan_port_8472.pcap",
            Cols("eth_src eth_dst eth_type ip_src ip_dst vxlan_flags vxlan_vni arp_htype arp_ptype arp_hlen arp_plen arp_op arp_sha arp_spa arp_tha arp_tpa"), [],
            "VXLAN on the Linux port 8472: the oracle ran tshark with default ports only (4789), so tshark shows plain UDP; tcpdump's .out decodes it as VXLAN, as we do"),

        // Packets carried inside ICMPv6 messages.
        new("zeek/icmp6.pcap", Cols("ip6_src ip6_dst udp_sport udp_dport"), [], InvokingPacket),
        new("zeek/icmp6-destunreach-ip6ext-trunc.pcap", Cols("ip6_src ip6_dst"), [1], InvokingPacket),
        new("zeek/icmp6-redirect-hdr-opt.pcap", Cols("ip6_src ip6_dst udp_sport udp_dport"), [1], InvokingPacket),
        new("tcpdump/icmpv6-rfc7112.pcap", Cols("ip6_src ip6_dst"), [1], InvokingPacket),
        new("zeek/ipv6_zero_len_ah.pcap", Cols("ip6_src ip6_dst icmp6_type icmp6_code"), [6], InvokingPacket),

        // Malformed packets where both readings are defensible.
        new("tcpdump/arp-oobr.pcap", Cols("arp_htype arp_ptype arp_hlen arp_plen arp_op arp_spa arp_tpa"), [1166],
            "hardware type 19 (ATM): tshark switches to its ATMARP dissector (RFC 2225 layout) and finds no fields; the bytes form an RFC 826 header with 6/4-byte addresses, which we decode"),
        new("zeek/icmp6-nd-short-options.pcap", Cols("ra_flags ra_lifetime na_r na_s na_o nd_target"), [1, 3, 7, 13, 14],
            "NDP message shorter than its fixed part (RFC 4861 4.2/4.4/4.5): tshark prints the fields that happen to fit; we report it malformed and print only type and code"),
        new("zeek/ip6-trunc.pcap", ["ip6_src"], [1], "IPv6 header cut inside the destination address: tshark prints the source; we report the header truncated"),
        new("tcpdump/icmpv6-length-zero.pcapng", Cols("icmp6_type icmp6_code nd_target na_r na_s na_o"), [1],
            "IPv6 payload length 0 without a Jumbo option: tshark and tcpdump treat the payload as empty; we fall back to the captured length, as Linux BIG TCP captures require (corpus pitfall 11)"),
        new("zeek/ipv6-mobility-dst-opts.pcap", Cols("udp_sport udp_dport"), [1],
            "Home Address option with a bad length inside Destination Options: tshark stops; we skip the header by its own length field (RFC 8200 4.6) and decode the UDP after it"),
        new("tcpdump/nsh-over-vxlan-gpe.pcap", Cols("ip_src ip_dst udp_sport udp_dport vxlan_flags vxlan_vni"), [1],
            "VXLAN-GPE (UDP 4790) has its own header (a next-protocol field, here NSH): tshark's GPE dissector fills vxlan.* and decodes NSH; we deliberately do not decode 4790 as VXLAN"),
    ];

    /// <summary>The entry that allows a disagreement in this column of this packet, or null.</summary>
    public static Entry? Find(string file, string column, int packet) =>
        Entries.FirstOrDefault(e => e.File == file && e.Columns.Contains(column) && (e.Packets.Length == 0 || e.Packets.Contains(packet)));

    private static string[] Cols(string names) => names.Split(' ');
}
