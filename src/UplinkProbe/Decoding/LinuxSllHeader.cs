using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>Linux cooked-capture packet types (the kernel's PACKET_* values).</summary>
public enum LinuxSllPacketType : ushort
{
    /// <summary>Addressed to this host.</summary>
    Host = 0,
    Broadcast = 1,
    Multicast = 2,
    /// <summary>Addressed to another host (promiscuous capture).</summary>
    OtherHost = 3,
    /// <summary>Sent by this host.</summary>
    Outgoing = 4,
}

/// <summary>ARPHRD_ values that change the meaning of the SLL protocol field.</summary>
public static class ArpHardwareTypes
{
    public const ushort Ethernet = 1;
    public const ushort Ieee802 = 6;
    /// <summary>ARPHRD_IPGRE: the SLL protocol field is a GRE protocol type.</summary>
    public const ushort IpGre = 778;
    /// <summary>ARPHRD_NETLINK: the protocol field is a netlink family.</summary>
    public const ushort Netlink = 824;
}

/// <summary>
/// Linux cooked capture v1 header (LINKTYPE_LINUX_SLL, 16 bytes): packet type, ARPHRD_ type, link-layer address
/// length, 8 bytes of address, protocol. See tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html.
/// </summary>
public readonly ref struct LinuxSllHeader
{
    public const int Length = 16;

    private readonly ReadOnlySpan<byte> _data;

    private LinuxSllHeader(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out LinuxSllHeader view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedLinkHeader;
            return false;
        }

        view = new LinuxSllHeader(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    public LinuxSllPacketType PacketType => (LinuxSllPacketType)BinaryPrimitives.ReadUInt16BigEndian(_data);

    public bool IsOutgoing => PacketType == LinuxSllPacketType.Outgoing;

    public ushort HardwareType => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    public ushort AddressLength => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(4));

    /// <summary>The link-layer address bytes actually used (at most 8).</summary>
    public ReadOnlySpan<byte> Address => _data.Slice(6, Math.Min((int)AddressLength, 8));

    /// <summary>The source MAC when the address is 6 bytes long, else <see cref="MacAddress.Zero"/>.</summary>
    public MacAddress SourceMac => AddressLength == 6 ? MacAddress.Read(_data.Slice(6)) : default;

    /// <summary>An EtherType; a GRE protocol type when <see cref="HardwareType"/> is 778; a Linux "ltype" below 0x0600.</summary>
    public ushort Protocol => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(14));

    public ReadOnlySpan<byte> Payload => _data.Slice(Length);
}

/// <summary>
/// Linux cooked capture v2 header (LINKTYPE_LINUX_SLL2, 20 bytes): protocol, reserved, interface index, ARPHRD_
/// type, packet type, address length, 8 bytes of address. See tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html.
/// </summary>
public readonly ref struct LinuxSll2Header
{
    public const int Length = 20;

    private readonly ReadOnlySpan<byte> _data;

    private LinuxSll2Header(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out LinuxSll2Header view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedLinkHeader;
            return false;
        }

        view = new LinuxSll2Header(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    /// <summary>Same meaning as <see cref="LinuxSllHeader.Protocol"/>.</summary>
    public ushort Protocol => BinaryPrimitives.ReadUInt16BigEndian(_data);

    public ushort Reserved => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    public uint InterfaceIndex => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4));

    public ushort HardwareType => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(8));

    public LinuxSllPacketType PacketType => (LinuxSllPacketType)_data[10];

    public bool IsOutgoing => PacketType == LinuxSllPacketType.Outgoing;

    public byte AddressLength => _data[11];

    public ReadOnlySpan<byte> Address => _data.Slice(12, Math.Min((int)AddressLength, 8));

    public MacAddress SourceMac => AddressLength == 6 ? MacAddress.Read(_data.Slice(12)) : default;

    public ReadOnlySpan<byte> Payload => _data.Slice(Length);
}

/// <summary>
/// BSD loopback header: a 4-byte address family, in the writer's byte order for LINKTYPE_NULL (0) and in network
/// order for LINKTYPE_LOOP (108). Family values are small, so the byte order is recognised from the value itself.
/// </summary>
public readonly ref struct LoopbackHeader
{
    public const int Length = 4;

    public const uint AfInet = 2;
    /// <summary>AF_INET6 on NetBSD/OpenBSD.</summary>
    public const uint AfInet6Bsd = 24;
    /// <summary>AF_INET6 on FreeBSD/DragonFly.</summary>
    public const uint AfInet6FreeBsd = 28;
    /// <summary>AF_INET6 on macOS.</summary>
    public const uint AfInet6Darwin = 30;

    private readonly ReadOnlySpan<byte> _data;

    private LoopbackHeader(ReadOnlySpan<byte> data) => _data = data;

    public static bool TryRead(ReadOnlySpan<byte> data, out LoopbackHeader view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedLinkHeader;
            return false;
        }

        view = new LoopbackHeader(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    /// <summary>The address family with the byte order resolved: a value that only fits 16 bits big-endian was written little-endian.</summary>
    public uint AddressFamily
    {
        get
        {
            uint be = BinaryPrimitives.ReadUInt32BigEndian(_data);
            return be <= 0xFFFF ? be : BinaryPrimitives.ReverseEndianness(be);
        }
    }

    public bool IsIpv4 => AddressFamily == AfInet;

    public bool IsIpv6 => AddressFamily is AfInet6Bsd or AfInet6FreeBsd or AfInet6Darwin;

    public ReadOnlySpan<byte> Payload => _data.Slice(Length);
}
