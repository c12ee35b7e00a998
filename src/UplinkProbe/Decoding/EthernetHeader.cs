using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace UplinkProbe.Decoding;

/// <summary>
/// Ethernet II / IEEE 802.3 MAC header (14 bytes). A type/length value below 0x0600 is an 802.3 length and an LLC
/// header follows; otherwise it is an EtherType (IEEE 802.3 clause 3.2.6).
/// </summary>
public readonly ref struct EthernetHeader
{
    public const int Length = 14;

    private readonly ReadOnlySpan<byte> _data;

    private EthernetHeader(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out EthernetHeader view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedLinkHeader;
            return false;
        }

        view = new EthernetHeader(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    // Each address is the first six octets of an 8-octet load in network order: octets 0-7 and 6-13, both inside the header.
    public MacAddress Destination => new(BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref MemoryMarshal.GetReference(_data))) >> 16);

    public MacAddress Source => new(BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref MemoryMarshal.GetReference(_data), 6))) >> 16);

    /// <summary>The raw type/length field.</summary>
    public ushort TypeOrLength => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(12));

    /// <summary>True for an 802.3 frame: <see cref="TypeOrLength"/> is the length of the LLC data.</summary>
    public bool IsLengthField => TypeOrLength < EtherTypes.MinEtherType;

    /// <summary>The EtherType, or 0 for an 802.3 frame.</summary>
    public ushort EtherType => IsLengthField ? (ushort)0 : TypeOrLength;

    /// <summary>
    /// What follows the header. For 802.3 frames the length field bounds it (padding to 60 bytes is not payload);
    /// Ethernet II frames have no length field, so any padding or trailer is included.
    /// </summary>
    public ReadOnlySpan<byte> Payload
    {
        get
        {
            ReadOnlySpan<byte> rest = _data.Slice(Length);
            ushort t = TypeOrLength;
            return t < EtherTypes.MinEtherType && t < rest.Length ? rest.Slice(0, t) : rest;
        }
    }
}

/// <summary>One 802.1Q / 802.1ad tag after its TPID: TCI (PCP, DEI, VID) and the EtherType that follows (4 bytes).</summary>
/// <remarks>The TPID itself (0x8100, 0x88a8, 0x9100) is the EtherType of the header before; the decoder records it
/// as <see cref="LayerKind.Dot1Q"/> or <see cref="LayerKind.Dot1AD"/>.</remarks>
public readonly ref struct VlanTag
{
    public const int Length = 4;

    private readonly ReadOnlySpan<byte> _data;

    private VlanTag(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out VlanTag view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedVlanTag;
            return false;
        }

        view = new VlanTag(data);
        problem = DecodeProblem.None;
        return true;
    }

    /// <summary>True for the TPIDs that start a tag: 0x8100 (C-tag), 0x88a8 and 0x9100 (S-tag).</summary>
    public static bool IsTagProtocolId(ushort etherType) =>
        etherType is EtherTypes.Vlan or EtherTypes.QinQ or EtherTypes.QinQ9100;

    public int HeaderLength => Length;

    public ushort ControlInformation => BinaryPrimitives.ReadUInt16BigEndian(_data);

    /// <summary>Priority code point (3 bits).</summary>
    public byte Priority => (byte)(_data[0] >> 5);

    /// <summary>Drop eligible indicator (formerly CFI).</summary>
    public bool DropEligible => (_data[0] & 0x10) != 0;

    /// <summary>VLAN id (12 bits); 0 is a priority tag, 4095 is reserved.</summary>
    public ushort VlanId => (ushort)(ControlInformation & 0x0FFF);

    public ushort EtherType => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    public ReadOnlySpan<byte> Payload => _data.Slice(Length);
}

/// <summary>IEEE 802.2 LLC header: DSAP, SSAP and a 1-byte (U-format) or 2-byte (I/S-format) control field.</summary>
public readonly ref struct LlcHeader
{
    public const int MinLength = 3;

    private readonly ReadOnlySpan<byte> _data;

    private LlcHeader(ReadOnlySpan<byte> data) => _data = data;

    public static bool TryRead(ReadOnlySpan<byte> data, out LlcHeader view, out DecodeProblem problem)
    {
        // The control field is 2 bytes unless its two low bits are 11 (unnumbered format), IEEE 802.2 clause 5.2.
        if (data.Length < MinLength || (data.Length < 4 && (data[2] & 0x03) != 0x03))
        {
            view = default;
            problem = DecodeProblem.TruncatedLlc;
            return false;
        }

        view = new LlcHeader(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => (_data[2] & 0x03) == 0x03 ? 3 : 4;

    public byte Dsap => _data[0];

    public byte Ssap => _data[1];

    public ushort Control => HeaderLength == 3 ? _data[2] : BinaryPrimitives.ReadUInt16LittleEndian(_data.Slice(2));

    /// <summary>DSAP = SSAP = 0xAA (SNAP; the SSAP's low bit is the C/R bit) with UI control: a SNAP header follows.</summary>
    public bool IsSnap => _data[0] == 0xAA && (_data[1] & 0xFE) == 0xAA && _data[2] == 0x03;

    public ReadOnlySpan<byte> Payload => _data.Slice(HeaderLength);
}

/// <summary>SNAP header after LLC AA-AA-03: 3-byte OUI and 2-byte protocol id (RFC 1042).</summary>
public readonly ref struct SnapHeader
{
    public const int Length = 5;

    private readonly ReadOnlySpan<byte> _data;

    private SnapHeader(ReadOnlySpan<byte> data) => _data = data;

    public static bool TryRead(ReadOnlySpan<byte> data, out SnapHeader view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedLlc;
            return false;
        }

        view = new SnapHeader(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    public uint Oui => ((uint)_data[0] << 16) | ((uint)_data[1] << 8) | _data[2];

    public ushort ProtocolId => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(3));

    /// <summary>OUI 00-00-00 (RFC 1042) or 00-00-F8 (802.1H bridge tunnel): the protocol id is an EtherType.</summary>
    public bool IsEtherType => Oui is 0 or 0xF8;

    public ReadOnlySpan<byte> Payload => _data.Slice(Length);
}
