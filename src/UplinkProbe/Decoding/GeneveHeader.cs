using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>
/// Geneve header (RFC 8926 section 3.4): Ver (2 bits), Opt Len (6 bits, 4-byte words), O (control/OAM), C (a
/// critical option is present), 6 reserved bits, protocol type (an EtherType), 24-bit VNI, 8 reserved bits, then
/// Opt Len × 4 bytes of options.
/// </summary>
public readonly ref struct GeneveHeader
{
    public const int FixedLength = 8;

    private readonly ReadOnlySpan<byte> _data;

    private GeneveHeader(ReadOnlySpan<byte> data) => _data = data;

    /// <summary>
    /// Checks the version (only 0 is defined, RFC 8926 3.4), that the options area was captured, and that every
    /// option fits inside it (RFC 8926 3.5: an option running past Opt Len is malformed).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out GeneveHeader view, out DecodeProblem problem)
    {
        view = default;
        if (data.Length < FixedLength)
        {
            problem = DecodeProblem.TruncatedGeneve;
            return false;
        }

        if ((data[0] >> 6) != 0)
        {
            problem = DecodeProblem.GeneveBadVersion;
            return false;
        }

        int headerLength = FixedLength + ((data[0] & 0x3F) * 4);
        if (headerLength > data.Length)
        {
            problem = DecodeProblem.TruncatedGeneveOption;
            return false;
        }

        // Walk the options; the common OVN case is one 8-byte option. Each option header's 4 bytes lie inside the
        // options area (its length is a multiple of 4 and pos < headerLength), so the unchecked read stays in bounds.
        ref byte start = ref Wire.Start(data);
        int pos = FixedLength;
        while (pos < headerLength)
        {
            int optionLength = 4 + ((Wire.U8(ref start, pos + 3) & 0x1F) * 4);
            if (optionLength > headerLength - pos)
            {
                problem = DecodeProblem.GeneveOptionOverrun;
                return false;
            }

            pos += optionLength;
        }

        view = new GeneveHeader(data);
        problem = DecodeProblem.None;
        return true;
    }

    public byte Version => (byte)(_data[0] >> 6);

    /// <summary>Opt Len field: length of the options in 4-byte words.</summary>
    public byte OptionsLengthWords => (byte)(_data[0] & 0x3F);

    public int OptionsLength => OptionsLengthWords * 4;

    public int HeaderLength => FixedLength + OptionsLength;

    /// <summary>O bit: a control (OAM) packet.</summary>
    public bool IsOam => (_data[1] & 0x80) != 0;

    /// <summary>C bit: at least one option has its critical bit set.</summary>
    public bool HasCriticalOptions => (_data[1] & 0x40) != 0;

    /// <summary>The 6 reserved bits after O and C.</summary>
    public byte ReservedFlags => (byte)(_data[1] & 0x3F);

    /// <summary>EtherType of the payload: 0x6558 Ethernet, 0x0800 IPv4, 0x86DD IPv6, 0x0806 ARP, ...</summary>
    public ushort ProtocolType => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    public uint Vni => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4)) >> 8;

    public byte Reserved => _data[7];

    public ReadOnlySpan<byte> OptionBytes => _data.Slice(FixedLength, OptionsLength);

    public GeneveOptionEnumerator Options => new(OptionBytes);

    /// <summary>The OVN metadata option (class 0x0102, type 0x80), if present.</summary>
    public bool TryGetOvnMetadata(out OvnGeneveMetadata metadata)
    {
        foreach (GeneveOption option in Options)
        {
            if (option.TryGetOvnMetadata(out metadata))
            {
                return true;
            }
        }

        metadata = default;
        return false;
    }

    public ReadOnlySpan<byte> Payload => _data.Slice(HeaderLength);
}

/// <summary>
/// Walks Geneve options (RFC 8926 section 3.5) without allocating. Stops with <see cref="Problem"/> =
/// <see cref="DecodeProblem.GeneveOptionOverrun"/> if an option runs past the options area.
/// </summary>
public ref struct GeneveOptionEnumerator
{
    private readonly ReadOnlySpan<byte> _options;
    private int _next;
    private GeneveOption _current;

    public GeneveOptionEnumerator(ReadOnlySpan<byte> options)
    {
        _options = options;
        _next = 0;
        Offset = 0;
        _current = default;
        Problem = DecodeProblem.None;
    }

    public readonly GeneveOption Current => _current;

    /// <summary>Offset of <see cref="Current"/> in the options area.</summary>
    public int Offset { get; private set; }

    public DecodeProblem Problem { get; private set; }

    public readonly GeneveOptionEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (Problem != DecodeProblem.None || _next >= _options.Length)
        {
            return false;
        }

        Offset = _next;
        ReadOnlySpan<byte> rest = _options.Slice(_next);
        if (rest.Length < GeneveOption.HeaderLength || GeneveOption.HeaderLength + ((rest[3] & 0x1F) * 4) > rest.Length)
        {
            Problem = DecodeProblem.GeneveOptionOverrun;
            return false;
        }

        int length = GeneveOption.HeaderLength + ((rest[3] & 0x1F) * 4);
        _current = new GeneveOption(rest.Slice(0, length));
        _next += length;
        return true;
    }
}

/// <summary>One Geneve option TLV: class (16 bits), type (8 bits, high bit = critical), 3 reserved bits, length (5 bits, 4-byte words), data.</summary>
public readonly ref struct GeneveOption
{
    public const int HeaderLength = 4;

    private readonly ReadOnlySpan<byte> _data;

    internal GeneveOption(ReadOnlySpan<byte> data) => _data = data;

    public ushort Class => BinaryPrimitives.ReadUInt16BigEndian(_data);

    public byte Type => _data[2];

    /// <summary>The type's high bit (RFC 8926 3.5): a receiver that does not know the option must drop the packet.</summary>
    public bool IsCritical => (_data[2] & 0x80) != 0;

    public byte ReservedBits => (byte)(_data[3] >> 5);

    /// <summary>Length of <see cref="Data"/> in 4-byte words.</summary>
    public byte LengthWords => (byte)(_data[3] & 0x1F);

    /// <summary>The whole option in bytes, header included.</summary>
    public int Length => _data.Length;

    public ReadOnlySpan<byte> Data => _data.Slice(HeaderLength);

    public bool IsOvnMetadata => Class == OvnGeneveMetadata.OptionClass && Type == OvnGeneveMetadata.OptionType && _data.Length >= HeaderLength + OvnGeneveMetadata.DataLength;

    public bool TryGetOvnMetadata(out OvnGeneveMetadata metadata)
    {
        if (!IsOvnMetadata)
        {
            metadata = default;
            return false;
        }

        metadata = new OvnGeneveMetadata(BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(HeaderLength)));
        return true;
    }
}

/// <summary>
/// OVN's Geneve option: class 0x0102, type 0x80 (critical), 4 bytes of data = 1 reserved bit, the 15-bit logical
/// ingress port key, the 16-bit logical egress port key (a multicast group key when ≥ 32768). The VNI carries the
/// 24-bit logical datapath key.
/// </summary>
/// <remarks>
/// Layout checked against OVN's source (ovn-org/ovn): controller/physical.h defines OVN_GENEVE_CLASS 0x0102,
/// OVN_GENEVE_TYPE 0x80 and OVN_GENEVE_LEN 4 ("keep in sync with ovn-architecture(7)"), and
/// controller/physical.c put_encapsulation() loads the output port key into bits 0..31 of the option
/// (put_load(outport, mff_ovn_geneve, 0, 32)) and then moves the 15-bit MFF_LOG_INPORT into bits 16..30
/// (put_move(MFF_LOG_INPORT, 0, mff_ovn_geneve, 16, 15)); bit 31 stays 0. ovn-architecture(7), "Tunnel
/// Encapsulations", describes the same: "1-bit 0, 15-bit logical input port, 16-bit logical output port".
/// </remarks>
public readonly record struct OvnGeneveMetadata(uint RawValue)
{
    public const ushort OptionClass = 0x0102;
    public const byte OptionType = 0x80;
    public const int DataLength = 4;

    /// <summary>Bit 31, 0 in every packet OVN sends.</summary>
    public bool ReservedBit => (RawValue & 0x8000_0000u) != 0;

    /// <summary>Logical input port tunnel key (Port_Binding.tunnel_key), bits 30..16.</summary>
    public ushort IngressPortKey => (ushort)((RawValue >> 16) & 0x7FFF);

    /// <summary>Logical output port tunnel key, or a multicast group key (≥ 32768), bits 15..0.</summary>
    public ushort EgressPortKey => (ushort)RawValue;

    public bool EgressIsMulticastGroup => EgressPortKey >= 0x8000;
}
