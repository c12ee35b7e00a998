namespace UplinkProbe.Crafting;

/// <summary>EtherType values used when building frames (IEEE registry).</summary>
public static class EtherTypes
{
    public const ushort Ipv4 = 0x0800;
    public const ushort Arp = 0x0806;
    /// <summary>Transparent Ethernet Bridging: Ethernet inside Geneve (RFC 8926 section 3.4) and NVGRE.</summary>
    public const ushort TransparentEthernetBridging = 0x6558;
    public const ushort Rarp = 0x8035;
    /// <summary>802.1Q customer tag TPID.</summary>
    public const ushort Vlan = 0x8100;
    public const ushort Ipv6 = 0x86dd;
    public const ushort Lldp = 0x88cc;
    /// <summary>802.1ad service tag TPID.</summary>
    public const ushort ServiceVlan = 0x88a8;
    /// <summary>Pre-standard QinQ service tag TPID still used by some switches.</summary>
    public const ushort QinQ9100 = 0x9100;
}

/// <summary>IP protocol / IPv6 next-header numbers (IANA "Assigned Internet Protocol Numbers").</summary>
public static class IpProtocolNumbers
{
    public const byte Ipv6HopByHop = 0;
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Ipv6Routing = 43;
    public const byte Ipv6Fragment = 44;
    public const byte Icmpv6 = 58;
    public const byte Ipv6NoNextHeader = 59;
    public const byte Ipv6DestinationOptions = 60;
}

/// <summary>Well-known UDP ports of the protocols the builder has helpers for.</summary>
public static class UdpPorts
{
    public const ushort BfdControl = 3784;
    public const ushort BfdMultihop = 4784;
    public const ushort Vxlan = 4789;
    public const ushort Geneve = 6081;
}

public enum ArpOperation : ushort
{
    Request = 1,
    Reply = 2,
    /// <summary>RARP request (RFC 903), EtherType 0x8035.</summary>
    ReverseRequest = 3,
    ReverseReply = 4,
}

[Flags]
public enum Ipv4Flags : byte
{
    None = 0,
    MoreFragments = 1,
    DontFragment = 2,
    /// <summary>The reserved "evil" bit (RFC 3514), for crafting odd packets.</summary>
    Reserved = 4,
}

[Flags]
public enum TcpFlags : ushort
{
    None = 0,
    Fin = 0x001,
    Syn = 0x002,
    Rst = 0x004,
    Psh = 0x008,
    Ack = 0x010,
    Urg = 0x020,
    Ece = 0x040,
    Cwr = 0x080,
    /// <summary>Accurate ECN (RFC 9768), formerly NS (RFC 3540): bit 8 of the flags word.</summary>
    Ae = 0x100,
}

/// <summary>Router Advertisement flag byte (RFC 4861 4.2, RFC 4191 2.2, RFC 5175).</summary>
[Flags]
public enum RouterAdvertisementFlags : byte
{
    None = 0,
    ManagedAddressConfiguration = 0x80,
    OtherConfiguration = 0x40,
    HomeAgent = 0x20,
    /// <summary>Default router preference High (Prf = 01).</summary>
    PreferenceHigh = 0x08,
    /// <summary>Default router preference Low (Prf = 11).</summary>
    PreferenceLow = 0x18,
    /// <summary>Neighbor Discovery Proxy (RFC 4389).</summary>
    Proxy = 0x04,
}

/// <summary>Neighbor Advertisement flags (RFC 4861 4.4), as the top bits of the first byte after the checksum.</summary>
[Flags]
public enum NeighborAdvertisementFlags : byte
{
    None = 0,
    Router = 0x80,
    Solicited = 0x40,
    Override = 0x20,
}

/// <summary>Prefix Information option flags (RFC 4861 4.6.2, RFC 6275 7.2).</summary>
[Flags]
public enum PrefixInformationFlags : byte
{
    None = 0,
    OnLink = 0x80,
    Autonomous = 0x40,
    RouterAddress = 0x20,
}

/// <summary>Neighbor Discovery option types (RFC 4861 4.6 and later RFCs).</summary>
public static class NdpOptionTypes
{
    public const byte SourceLinkLayerAddress = 1;
    public const byte TargetLinkLayerAddress = 2;
    public const byte PrefixInformation = 3;
    public const byte RedirectedHeader = 4;
    public const byte Mtu = 5;
    /// <summary>RFC 3971 5.3.2.</summary>
    public const byte Nonce = 14;
    /// <summary>RFC 8106 5.1.</summary>
    public const byte RecursiveDnsServer = 25;
    /// <summary>RFC 8106 5.2.</summary>
    public const byte DnsSearchList = 31;
}

/// <summary>ICMPv6 message types used by the builder (RFC 4443, RFC 4861).</summary>
public static class Icmpv6Types
{
    public const byte EchoRequest = 128;
    public const byte EchoReply = 129;
    public const byte RouterSolicitation = 133;
    public const byte RouterAdvertisement = 134;
    public const byte NeighborSolicitation = 135;
    public const byte NeighborAdvertisement = 136;
    public const byte Redirect = 137;
}
