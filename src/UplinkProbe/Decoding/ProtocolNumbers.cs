namespace UplinkProbe.Decoding;

/// <summary>EtherType values the decoder dispatches on (IEEE 802 numbers registry).</summary>
public static class EtherTypes
{
    /// <summary>Type/length values below this are an IEEE 802.3 length (the frame carries LLC).</summary>
    public const ushort MinEtherType = 0x0600;

    public const ushort Ipv4 = 0x0800;
    public const ushort Arp = 0x0806;
    /// <summary>Transparent Ethernet bridging: an Ethernet frame follows (Geneve protocol type, GRE).</summary>
    public const ushort TransparentEthernetBridging = 0x6558;
    public const ushort Rarp = 0x8035;
    public const ushort Vlan = 0x8100;
    public const ushort Ipv6 = 0x86DD;
    public const ushort Mpls = 0x8847;
    public const ushort MplsMulticast = 0x8848;
    /// <summary>IEEE 802.1ad service tag (S-tag) TPID.</summary>
    public const ushort QinQ = 0x88A8;
    public const ushort Lldp = 0x88CC;
    /// <summary>IEEE 802.1ah Provider Backbone Bridging I-tag (MAC-in-MAC).</summary>
    public const ushort PbbITag = 0x88E7;
    /// <summary>Cisco VN-Tag.</summary>
    public const ushort VnTag = 0x8926;
    /// <summary>Pre-standard S-tag TPID used by some switches.</summary>
    public const ushort QinQ9100 = 0x9100;
}

/// <summary>IP protocol / IPv6 next-header numbers the decoder dispatches on (IANA protocol numbers).</summary>
public static class IpProtocols
{
    public const byte HopByHop = 0;
    public const byte Icmpv4 = 1;
    public const byte IpInIp = 4;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Ipv6 = 41;
    public const byte Routing = 43;
    public const byte Fragment = 44;
    public const byte Esp = 50;
    public const byte AuthenticationHeader = 51;
    public const byte Icmpv6 = 58;
    public const byte NoNextHeader = 59;
    public const byte DestinationOptions = 60;
    /// <summary>MPLS-in-IP (RFC 4023).</summary>
    public const byte MplsInIp = 137;
}

/// <summary>Well-known UDP ports of the encapsulations and protocols UplinkProbe decodes and builds.</summary>
public static class UdpPorts
{
    /// <summary>BFD single hop (RFC 5881).</summary>
    public const ushort BfdControl = 3784;
    /// <summary>BFD multihop (RFC 5883).</summary>
    public const ushort BfdMultihop = 4784;
    /// <summary>VXLAN, IANA-assigned (RFC 7348).</summary>
    public const ushort Vxlan = 4789;
    /// <summary>The Linux kernel's historic VXLAN default.</summary>
    public const ushort VxlanLinux = 8472;
    public const ushort Geneve = 6081;
}
