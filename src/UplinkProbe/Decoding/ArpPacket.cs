using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>What an ARP/RARP message is for, from its opcode and addresses.</summary>
public enum ArpKind : byte
{
    Other = 0,
    Request,
    Reply,
    /// <summary>Opcode 1, SPA = TPA, THA all zero: the form OVN (and Linux arping -U) sends.</summary>
    GratuitousRequest,
    /// <summary>Opcode 1, SPA = TPA, THA not zero (e.g. broadcast) — an announcement in the older style.</summary>
    Announcement,
    /// <summary>Opcode 2, SPA = TPA.</summary>
    GratuitousReply,
    /// <summary>Opcode 1 with SPA 0.0.0.0: address conflict detection probe (RFC 5227 section 2.1.1).</summary>
    Probe,
    /// <summary>RARP opcode 3 (RFC 903).</summary>
    RarpRequest,
    /// <summary>RARP opcode 4.</summary>
    RarpReply,
}

/// <summary>
/// ARP / RARP message (RFC 826, RFC 903): 8 fixed bytes, then sender hardware/protocol and target hardware/protocol
/// addresses whose sizes come from the header. Any sizes are accepted as long as the message fits; the typed
/// Ethernet/IPv4 accessors only answer when the types and sizes say so.
/// </summary>
public readonly ref struct ArpPacket
{
    public const int FixedLength = 8;

    public const ushort OpRequest = 1;
    public const ushort OpReply = 2;
    public const ushort OpRarpRequest = 3;
    public const ushort OpRarpReply = 4;

    private readonly ReadOnlySpan<byte> _data;

    private ArpPacket(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out ArpPacket view, out DecodeProblem problem)
    {
        // The size fields are checked against the captured bytes before any address is read.
        if (data.Length < FixedLength || data.Length < FixedLength + (2 * (Wire.U8(ref Wire.Start(data), 4) + Wire.U8(ref Wire.Start(data), 5))))
        {
            view = default;
            problem = DecodeProblem.TruncatedArp;
            return false;
        }

        view = new ArpPacket(data);
        problem = DecodeProblem.None;
        return true;
    }

    /// <summary>The whole message: 8 + 2 × (hardware size + protocol size).</summary>
    public int MessageLength => FixedLength + (2 * (HardwareAddressLength + ProtocolAddressLength));

    public int HeaderLength => MessageLength;

    public ushort HardwareType => BinaryPrimitives.ReadUInt16BigEndian(_data);

    public ushort ProtocolType => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    public byte HardwareAddressLength => _data[4];

    public byte ProtocolAddressLength => _data[5];

    public ushort Operation => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(6));

    public ReadOnlySpan<byte> SenderHardwareAddress => _data.Slice(FixedLength, HardwareAddressLength);

    public ReadOnlySpan<byte> SenderProtocolAddress => _data.Slice(FixedLength + HardwareAddressLength, ProtocolAddressLength);

    public ReadOnlySpan<byte> TargetHardwareAddress =>
        _data.Slice(FixedLength + HardwareAddressLength + ProtocolAddressLength, HardwareAddressLength);

    public ReadOnlySpan<byte> TargetProtocolAddress =>
        _data.Slice(FixedLength + (2 * HardwareAddressLength) + ProtocolAddressLength, ProtocolAddressLength);

    /// <summary>Hardware type Ethernet (1) or IEEE 802 (6) with 6-byte addresses.</summary>
    public bool HasMacAddresses => HardwareAddressLength == 6 && HardwareType is ArpHardwareTypes.Ethernet or ArpHardwareTypes.Ieee802;

    /// <summary>Protocol type IPv4 with 4-byte addresses.</summary>
    public bool HasIpv4Addresses => ProtocolAddressLength == 4 && ProtocolType == EtherTypes.Ipv4;

    /// <summary>The usual ARP for IPv4 over Ethernet.</summary>
    public bool IsEthernetIpv4 => HasMacAddresses && HasIpv4Addresses;

    /// <summary>Sender MAC, or <see cref="MacAddress.Zero"/> unless <see cref="HasMacAddresses"/>.</summary>
    public MacAddress SenderMac => HasMacAddresses ? MacAddress.Read(SenderHardwareAddress) : default;

    public MacAddress TargetMac => HasMacAddresses ? MacAddress.Read(TargetHardwareAddress) : default;

    /// <summary>Sender IPv4, or 0.0.0.0 unless <see cref="HasIpv4Addresses"/>.</summary>
    public Ipv4Address SenderIp => HasIpv4Addresses ? Ipv4Address.Read(SenderProtocolAddress) : default;

    public Ipv4Address TargetIp => HasIpv4Addresses ? Ipv4Address.Read(TargetProtocolAddress) : default;

    /// <summary>Bytes after the message (Ethernet padding, trailers).</summary>
    public ReadOnlySpan<byte> Payload => _data.Slice(MessageLength);

    public ArpKind Classify()
    {
        ushort op = Operation;
        switch (op)
        {
            case OpRarpRequest:
                return ArpKind.RarpRequest;
            case OpRarpReply:
                return ArpKind.RarpReply;
            case OpRequest:
            case OpReply:
                break;
            default:
                return ArpKind.Other;
        }

        ReadOnlySpan<byte> spa = SenderProtocolAddress;
        bool sameAddress = spa.Length != 0 && spa.SequenceEqual(TargetProtocolAddress);
        if (op == OpReply)
        {
            return sameAddress ? ArpKind.GratuitousReply : ArpKind.Reply;
        }

        if (spa.Length != 0 && !spa.ContainsAnyExcept((byte)0))
        {
            return ArpKind.Probe;
        }

        if (sameAddress)
        {
            return TargetHardwareAddress.ContainsAnyExcept((byte)0) ? ArpKind.Announcement : ArpKind.GratuitousRequest;
        }

        return ArpKind.Request;
    }
}
