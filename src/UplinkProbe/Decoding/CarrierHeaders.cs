using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>
/// Cisco VN-Tag (IEEE 802.1Qbh pre-standard, EtherType 0x8926) after its TPID: a 4-byte tag and the EtherType that
/// follows (6 bytes). Layout: D(1) P(1) destination VIF(14) | L(1) R(1) version(2) source VIF(12).
/// </summary>
/// <remarks>Like <see cref="VlanTag"/>, the TPID is the EtherType of the header before.</remarks>
public readonly ref struct VnTag
{
    public const int Length = 6;

    private readonly ReadOnlySpan<byte> _data;

    private VnTag(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out VnTag view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedVnTag;
            return false;
        }

        view = new VnTag(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    /// <summary>The 32-bit tag.</summary>
    public uint Tag => BinaryPrimitives.ReadUInt32BigEndian(_data);

    /// <summary>D: false = towards the bridge (the source VIF is meaningful), true = from the bridge.</summary>
    public bool FromBridge => (_data[0] & 0x80) != 0;

    /// <summary>P: the destination VIF is a list pointer (multicast) rather than a VIF id.</summary>
    public bool IsPointer => (_data[0] & 0x40) != 0;

    /// <summary>Destination VIF (14 bits).</summary>
    public ushort DestinationVif => (ushort)(BinaryPrimitives.ReadUInt16BigEndian(_data) & 0x3FFF);

    /// <summary>L: the frame is looped back to the interface it came from.</summary>
    public bool Looped => (_data[2] & 0x80) != 0;

    public byte Version => (byte)((_data[2] >> 4) & 0x03);

    /// <summary>Source VIF (12 bits).</summary>
    public ushort SourceVif => (ushort)(BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2)) & 0x0FFF);

    public ushort EtherType => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(4));
}

/// <summary>
/// IEEE 802.1ah Provider Backbone Bridging I-tag after its TPID 0x88e7: the I-TCI (I-PCP 3, I-DEI 1, UCA 1,
/// reserved 3, I-SID 24 bits), then the encapsulated customer frame's destination and source MAC and its
/// EtherType (18 bytes in all; IEEE 802.1Q-2018 clause 9.7).
/// </summary>
public readonly ref struct PbbITag
{
    public const int Length = 18;

    private readonly ReadOnlySpan<byte> _data;

    private PbbITag(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out PbbITag view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedPbbITag;
            return false;
        }

        view = new PbbITag(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    /// <summary>I-PCP (3 bits).</summary>
    public byte Priority => (byte)(_data[0] >> 5);

    /// <summary>I-DEI.</summary>
    public bool DropEligible => (_data[0] & 0x10) != 0;

    /// <summary>UCA: use the customer addresses (tshark calls this bit NCA).</summary>
    public bool UseCustomerAddresses => (_data[0] & 0x08) != 0;

    /// <summary>The service instance identifier (24 bits).</summary>
    public uint Isid => BinaryPrimitives.ReadUInt32BigEndian(_data) & 0x00FF_FFFF;

    public MacAddress CustomerDestination => MacAddress.Read(_data.Slice(4));

    public MacAddress CustomerSource => MacAddress.Read(_data.Slice(10));

    /// <summary>The customer frame's type/length field (a VLAN TPID, an EtherType, or an 802.3 length).</summary>
    public ushort EtherType => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(16));
}

/// <summary>One MPLS label stack entry (RFC 3032 section 2.1; TC renamed from EXP by RFC 5462): 4 bytes.</summary>
public readonly ref struct MplsLabel
{
    public const int Length = 4;

    /// <summary>Reserved label values (RFC 3032 2.1, RFC 5586).</summary>
    public const uint Ipv4ExplicitNull = 0;
    public const uint RouterAlert = 1;
    public const uint Ipv6ExplicitNull = 2;
    public const uint ImplicitNull = 3;
    /// <summary>Generic Associated Channel Label: an Associated Channel Header follows the bottom of the stack.</summary>
    public const uint Gal = 13;

    private readonly uint _entry;

    private MplsLabel(uint entry) => _entry = entry;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out MplsLabel view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedMpls;
            return false;
        }

        view = new MplsLabel(BinaryPrimitives.ReadUInt32BigEndian(data));
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    public uint Entry => _entry;

    /// <summary>Label value (20 bits).</summary>
    public uint Label => _entry >> 12;

    /// <summary>Traffic class (3 bits, formerly EXP).</summary>
    public byte TrafficClass => (byte)((_entry >> 9) & 0x07);

    /// <summary>S: this is the last entry of the stack.</summary>
    public bool BottomOfStack => (_entry & 0x100) != 0;

    public byte TimeToLive => (byte)_entry;
}

/// <summary>
/// The first 4 bytes after an MPLS label stack when they start with nibble 0 or 1 (RFC 4385): the pseudowire
/// control word (nibble 0: flags 4, FRG 2, length 6, sequence number 16 bits) or an Associated Channel Header
/// (nibble 1: version 4, reserved 8, channel type 16 bits; RFC 4385 section 5, RFC 5586 section 4).
/// </summary>
public readonly ref struct PseudowireHeader
{
    public const int Length = 4;

    /// <summary>ACH channel types (IANA "Pseudowire Associated Channel Types").</summary>
    public const ushort ChannelIpv4 = 0x0021;
    public const ushort ChannelIpv6 = 0x0057;
    /// <summary>BFD control packet without IP/UDP headers (RFC 5885).</summary>
    public const ushort ChannelBfd = 0x0007;

    private readonly ReadOnlySpan<byte> _data;

    private PseudowireHeader(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out PseudowireHeader view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedPseudowire;
            return false;
        }

        view = new PseudowireHeader(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    /// <summary>0 for a control word, 1 for an Associated Channel Header.</summary>
    public byte FirstNibble => (byte)(_data[0] >> 4);

    public bool IsAssociatedChannel => FirstNibble == 1;

    /// <summary>Control word flags (4 bits).</summary>
    public byte Flags => (byte)(_data[0] & 0x0F);

    /// <summary>Control word fragmentation bits (2 bits).</summary>
    public byte Fragmentation => (byte)(_data[1] >> 6);

    /// <summary>Control word length (6 bits): the payload length when the frame was padded, else 0.</summary>
    public byte PayloadLength => (byte)(_data[1] & 0x3F);

    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    /// <summary>ACH version (4 bits).</summary>
    public byte ChannelVersion => (byte)(_data[0] & 0x0F);

    /// <summary>ACH channel type.</summary>
    public ushort ChannelType => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));
}
