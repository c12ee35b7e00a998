namespace UplinkProbe.Decoding;

/// <summary>
/// Why decoding of a packet stopped early. Every value has a one-line text in <see cref="DecodeProblems.Describe"/>
/// and is either a truncation (the capture ends inside a header) or a malformation (the bytes contradict the spec).
/// Add values freely; keep the Describe table and the IsTruncation rule in step.
/// </summary>
public enum DecodeProblem : ushort
{
    None = 0,

    // Truncations: the captured bytes end inside a header or a length the header announced.
    TruncatedLinkHeader,
    TruncatedVlanTag,
    TruncatedLlc,
    TruncatedVnTag,
    TruncatedPbbITag,
    TruncatedMpls,
    TruncatedPseudowire,
    TruncatedArp,
    TruncatedIpv4,
    TruncatedIpv6,
    TruncatedIpv6Extension,
    TruncatedIcmpv4,
    TruncatedIcmpv6,
    TruncatedNdpOption,
    TruncatedUdp,
    TruncatedTcp,
    TruncatedGeneve,
    TruncatedGeneveOption,
    TruncatedVxlan,
    TruncatedBfd,

    // Malformations.
    UnsupportedLinkType,
    TooManyLayers,
    ArpBadAddressLength,
    Ipv4BadVersion,
    Ipv4BadHeaderLength,
    Ipv4TotalLengthTooSmall,
    Ipv6BadVersion,
    Ipv6BadExtensionLength,
    NdpOptionLengthZero,
    NdpOptionOverrun,
    NdpMessageTooShort,
    Icmpv6BadLength,
    UdpBadLength,
    TcpBadHeaderLength,
    GeneveOptionsOverrun,
    GeneveOptionOverrun,
    GeneveBadVersion,
    BfdBadVersion,
    BfdBadLength,
    /// <summary>A header runs past the length its enclosing layer announced (IP total length, UDP length, 802.3 length).</summary>
    ExceedsEnclosingLength,
    /// <summary>More tunnel nesting than <see cref="PacketDecoderOptions.MaxTunnelDepth"/>; the inner bytes are left as payload.</summary>
    TunnelTooDeep,
}

public static class DecodeProblems
{
    /// <summary>True when the problem means "the capture stopped here" rather than "these bytes are wrong".</summary>
    public static bool IsTruncation(DecodeProblem problem) =>
        problem is >= DecodeProblem.TruncatedLinkHeader and <= DecodeProblem.TruncatedBfd;

    /// <summary>A stable snake_case name for JSON and counters.</summary>
    public static string Name(DecodeProblem problem) => problem switch
    {
        DecodeProblem.None => "none",
        DecodeProblem.TruncatedLinkHeader => "truncated_link_header",
        DecodeProblem.TruncatedVlanTag => "truncated_vlan_tag",
        DecodeProblem.TruncatedLlc => "truncated_llc",
        DecodeProblem.TruncatedVnTag => "truncated_vntag",
        DecodeProblem.TruncatedPbbITag => "truncated_pbb_itag",
        DecodeProblem.TruncatedMpls => "truncated_mpls",
        DecodeProblem.TruncatedPseudowire => "truncated_pseudowire",
        DecodeProblem.TruncatedArp => "truncated_arp",
        DecodeProblem.TruncatedIpv4 => "truncated_ipv4",
        DecodeProblem.TruncatedIpv6 => "truncated_ipv6",
        DecodeProblem.TruncatedIpv6Extension => "truncated_ipv6_extension",
        DecodeProblem.TruncatedIcmpv4 => "truncated_icmpv4",
        DecodeProblem.TruncatedIcmpv6 => "truncated_icmpv6",
        DecodeProblem.TruncatedNdpOption => "truncated_ndp_option",
        DecodeProblem.TruncatedUdp => "truncated_udp",
        DecodeProblem.TruncatedTcp => "truncated_tcp",
        DecodeProblem.TruncatedGeneve => "truncated_geneve",
        DecodeProblem.TruncatedGeneveOption => "truncated_geneve_option",
        DecodeProblem.TruncatedVxlan => "truncated_vxlan",
        DecodeProblem.TruncatedBfd => "truncated_bfd",
        DecodeProblem.UnsupportedLinkType => "unsupported_link_type",
        DecodeProblem.TooManyLayers => "too_many_layers",
        DecodeProblem.ArpBadAddressLength => "arp_bad_address_length",
        DecodeProblem.Ipv4BadVersion => "ipv4_bad_version",
        DecodeProblem.Ipv4BadHeaderLength => "ipv4_bad_header_length",
        DecodeProblem.Ipv4TotalLengthTooSmall => "ipv4_total_length_too_small",
        DecodeProblem.Ipv6BadVersion => "ipv6_bad_version",
        DecodeProblem.Ipv6BadExtensionLength => "ipv6_bad_extension_length",
        DecodeProblem.NdpOptionLengthZero => "ndp_option_length_zero",
        DecodeProblem.NdpOptionOverrun => "ndp_option_overrun",
        DecodeProblem.NdpMessageTooShort => "ndp_message_too_short",
        DecodeProblem.Icmpv6BadLength => "icmpv6_bad_length",
        DecodeProblem.UdpBadLength => "udp_bad_length",
        DecodeProblem.TcpBadHeaderLength => "tcp_bad_header_length",
        DecodeProblem.GeneveOptionsOverrun => "geneve_options_overrun",
        DecodeProblem.GeneveOptionOverrun => "geneve_option_overrun",
        DecodeProblem.GeneveBadVersion => "geneve_bad_version",
        DecodeProblem.BfdBadVersion => "bfd_bad_version",
        DecodeProblem.BfdBadLength => "bfd_bad_length",
        DecodeProblem.ExceedsEnclosingLength => "exceeds_enclosing_length",
        DecodeProblem.TunnelTooDeep => "tunnel_too_deep",
        _ => "unknown_problem",
    };

    /// <summary>One line a person can read.</summary>
    public static string Describe(DecodeProblem problem) => problem switch
    {
        DecodeProblem.None => "no problem",
        DecodeProblem.TruncatedLinkHeader => "capture ends inside the link-layer header",
        DecodeProblem.TruncatedVlanTag => "capture ends inside a VLAN tag",
        DecodeProblem.TruncatedLlc => "capture ends inside the LLC/SNAP header",
        DecodeProblem.TruncatedVnTag => "capture ends inside a VN-Tag",
        DecodeProblem.TruncatedPbbITag => "capture ends inside the 802.1ah I-tag (customer addresses included)",
        DecodeProblem.TruncatedMpls => "capture ends inside the MPLS label stack or right after it",
        DecodeProblem.TruncatedPseudowire => "capture ends inside the pseudowire control word / associated channel header",
        DecodeProblem.TruncatedArp => "capture ends inside the ARP message",
        DecodeProblem.TruncatedIpv4 => "capture ends inside the IPv4 header",
        DecodeProblem.TruncatedIpv6 => "capture ends inside the IPv6 header",
        DecodeProblem.TruncatedIpv6Extension => "capture ends inside an IPv6 extension header",
        DecodeProblem.TruncatedIcmpv4 => "capture ends inside the ICMP header",
        DecodeProblem.TruncatedIcmpv6 => "capture ends inside the ICMPv6 message",
        DecodeProblem.TruncatedNdpOption => "capture ends inside a Neighbor Discovery option",
        DecodeProblem.TruncatedUdp => "capture ends inside the UDP header",
        DecodeProblem.TruncatedTcp => "capture ends inside the TCP header",
        DecodeProblem.TruncatedGeneve => "capture ends inside the Geneve header",
        DecodeProblem.TruncatedGeneveOption => "capture ends inside a Geneve option",
        DecodeProblem.TruncatedVxlan => "capture ends inside the VXLAN header",
        DecodeProblem.TruncatedBfd => "capture ends inside the BFD control packet",
        DecodeProblem.UnsupportedLinkType => "unsupported link type",
        DecodeProblem.TooManyLayers => "more nested layers than the decoder follows",
        DecodeProblem.ArpBadAddressLength => "ARP address lengths do not fit the hardware/protocol type",
        DecodeProblem.Ipv4BadVersion => "IPv4 header with a version other than 4",
        DecodeProblem.Ipv4BadHeaderLength => "IPv4 header length below 20 bytes",
        DecodeProblem.Ipv4TotalLengthTooSmall => "IPv4 total length smaller than its header",
        DecodeProblem.Ipv6BadVersion => "IPv6 header with a version other than 6",
        DecodeProblem.Ipv6BadExtensionLength => "IPv6 extension header length runs past the packet",
        DecodeProblem.NdpOptionLengthZero => "Neighbor Discovery option with length 0 (RFC 4861 4.6)",
        DecodeProblem.NdpOptionOverrun => "Neighbor Discovery option runs past the message",
        DecodeProblem.NdpMessageTooShort => "Neighbor Discovery message shorter than its fixed part",
        DecodeProblem.Icmpv6BadLength => "ICMPv6 message length is invalid",
        DecodeProblem.UdpBadLength => "UDP length field smaller than 8 or larger than the IP payload",
        DecodeProblem.TcpBadHeaderLength => "TCP data offset below 5 words",
        DecodeProblem.GeneveOptionsOverrun => "Geneve options length runs past the packet",
        DecodeProblem.GeneveOptionOverrun => "Geneve option runs past the options area (RFC 8926 3.5)",
        DecodeProblem.GeneveBadVersion => "Geneve version other than 0",
        DecodeProblem.BfdBadVersion => "BFD version other than 1",
        DecodeProblem.BfdBadLength => "BFD length field invalid (RFC 5880 4.1)",
        DecodeProblem.ExceedsEnclosingLength => "header runs past the length announced by the enclosing layer",
        DecodeProblem.TunnelTooDeep => "tunnels nested deeper than the decoder follows",
        _ => "unknown problem",
    };
}
