namespace UplinkProbe.Decoding;

/// <summary>A protocol layer the decoder recognises. Each decoded layer names the next one, as in gopacket.</summary>
/// <remarks>Values must stay below 64: <see cref="DecodedPacket.LayerMask"/> has one bit per kind.</remarks>
public enum LayerKind : byte
{
    None = 0,

    // Link
    Ethernet,
    /// <summary>802.3 LLC header (DSAP, SSAP, control) after a length field.</summary>
    Llc,
    /// <summary>SNAP extension of LLC (OUI + EtherType).</summary>
    Snap,
    /// <summary>802.1Q customer tag (TPID 0x8100).</summary>
    Dot1Q,
    /// <summary>802.1ad service tag (TPID 0x88a8, also 0x9100).</summary>
    Dot1AD,
    LinuxSll,
    LinuxSll2,
    /// <summary>BSD null/loop header (link types 0 and 108).</summary>
    Loopback,
    /// <summary>Cisco VN-Tag (TPID 0x8926): 4-byte tag + next EtherType.</summary>
    VnTag,
    /// <summary>802.1ah PBB I-tag (TPID 0x88e7): I-TCI, the customer MACs and the customer EtherType; what follows is
    /// the customer frame, one tunnel level deeper.</summary>
    PbbITag,
    /// <summary>One MPLS label stack entry (EtherType 0x8847/0x8848, IP protocol 137).</summary>
    Mpls,
    /// <summary>Pseudowire control word (RFC 4385) after the label stack; an Ethernet frame follows, one tunnel level deeper.</summary>
    PwControlWord,
    /// <summary>Pseudowire/Generic Associated Channel Header (RFC 4385 5, RFC 5586) after the label stack.</summary>
    PwAch,

    // Network
    Arp,
    /// <summary>RARP (EtherType 0x8035): same layout as ARP, opcodes 3/4.</summary>
    Rarp,
    Ipv4,
    Ipv6,
    Ipv6HopByHop,
    Ipv6Routing,
    Ipv6Fragment,
    Ipv6DestinationOptions,
    Ipv6AuthenticationHeader,

    // Transport and above
    Icmpv4,
    Icmpv6,
    Udp,
    Tcp,
    Geneve,
    Vxlan,
    Bfd,

    /// <summary>Bytes the decoder does not interpret (an unknown EtherType, an IP fragment after the first, ...).</summary>
    Payload,
}
