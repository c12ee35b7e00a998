using UplinkProbe.Decoding;

namespace UplinkProbe.Crafting;

/// <summary>ARP/RARP opcode for the builder; the values are the decoder's <see cref="ArpPacket"/> opcodes.</summary>
public enum ArpOperation : ushort
{
    Request = ArpPacket.OpRequest,
    Reply = ArpPacket.OpReply,
    /// <summary>RARP request (RFC 903), EtherType 0x8035.</summary>
    ReverseRequest = ArpPacket.OpRarpRequest,
    ReverseReply = ArpPacket.OpRarpReply,
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
