namespace UplinkProbe.Decoding;

/// <summary>
/// Where one decoded layer sits in the packet. The typed view (e.g. <see cref="LayerKind.Arp"/> → an ARP reader)
/// is re-created from these offsets over the packet span: nothing is copied.
/// </summary>
/// <remarks>
/// <para><b>Offset</b>: byte offset of the layer's first byte in the packet span given to the decoder.</para>
/// <para><b>Length</b>: the header length for headers (Ethernet 14, Dot1Q/Dot1AD 4 = TCI + next EtherType after
/// the TPID that ends the previous header, VnTag 6 = tag + next EtherType, PbbITag 18 = I-TCI + customer destination
/// and source MAC + customer EtherType, Mpls 4 per label stack entry, PwControlWord/PwAch 4, Llc 3 or 4, Snap 5, LinuxSll 16, LinuxSll2 20, Loopback 4, Ipv4 IHL×4,
/// Ipv6 40, each IPv6 extension header its own length, Udp 8, Tcp data offset×4, Geneve 8 + Opt Len×4 (options
/// included), Vxlan 8); the message length for leaf messages (Arp/Rarp 8 + 2×(hlen+plen), Bfd its length field,
/// Icmpv4/Icmpv6 the whole message up to the IP length, clamped to what was captured); for
/// <see cref="LayerKind.Payload"/> the undecoded bytes up to the enclosing length (IP/UDP/802.3), clamped to
/// what was captured. Ethernet padding and trailers after an IP datagram are in no layer.</para>
/// <para><b>Depth</b>: tunnel nesting, 0 for the outer packet; the Geneve/VXLAN header itself is at the outer
/// depth and everything it carries at depth + 1. The same holds for the frames carried by an 802.1ah I-tag (the
/// customer frame) and by an MPLS Ethernet pseudowire (the label stack and control word stay at the outer depth);
/// IP carried directly by MPLS is not a new level, as with IP-in-IP.</para>
/// </remarks>
public readonly record struct Layer(LayerKind Kind, int Offset, int Length, byte Depth)
{
    /// <summary>Offset + Length: where the next layer starts (for headers).</summary>
    public int End => Offset + Length;
}
