using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>UDP header (RFC 768).</summary>
public readonly ref struct UdpHeader
{
    public const int Length = 8;

    private readonly ReadOnlySpan<byte> _data;

    private UdpHeader(ReadOnlySpan<byte> data) => _data = data;

    /// <summary>Fails with <see cref="DecodeProblem.UdpBadLength"/> for a length field of 1-7 (0 is accepted: BIG TCP/GSO).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out UdpHeader view, out DecodeProblem problem)
    {
        view = default;
        if (data.Length < Length)
        {
            problem = DecodeProblem.TruncatedUdp;
            return false;
        }

        int length = Wire.U16(ref Wire.Start(data), 4); // data.Length ≥ 8
        if (length is > 0 and < Length)
        {
            problem = DecodeProblem.UdpBadLength;
            return false;
        }

        view = new UdpHeader(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_data);

    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    /// <summary>The length field (header included); 0 on Linux BIG TCP / GSO tunnel packets.</summary>
    public ushort DatagramLength => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(4));

    public bool UsesCapturedLength => DatagramLength == 0;

    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(6));

    /// <summary>Data up to the length field (to the end of what was given when it is 0), clamped to what was captured.</summary>
    public ReadOnlySpan<byte> Payload
    {
        get
        {
            int len = DatagramLength;
            return len == 0 || len >= _data.Length ? _data.Slice(Length) : _data.Slice(Length, len - Length);
        }
    }
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
    /// <summary>Bit 8 of the flags word: AE (Accurate ECN, RFC 9768), formerly the ECN-nonce NS bit (RFC 3540, historic).</summary>
    Ns = 0x100,
}

/// <summary>TCP header (RFC 9293 section 3.1): ports, sequence numbers, data offset, flags, window.</summary>
public readonly ref struct TcpHeader
{
    public const int MinLength = 20;

    private readonly ReadOnlySpan<byte> _data;

    private TcpHeader(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out TcpHeader view, out DecodeProblem problem)
    {
        view = default;
        if (data.Length < MinLength)
        {
            problem = DecodeProblem.TruncatedTcp;
            return false;
        }

        int headerLength = (Wire.U8(ref Wire.Start(data), 12) >> 4) * 4; // data.Length ≥ 20
        if (headerLength < MinLength)
        {
            problem = DecodeProblem.TcpBadHeaderLength;
            return false;
        }

        if (headerLength > data.Length)
        {
            problem = DecodeProblem.TruncatedTcp;
            return false;
        }

        view = new TcpHeader(data);
        problem = DecodeProblem.None;
        return true;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_data);

    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    public uint SequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4));

    public uint AcknowledgmentNumber => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(8));

    /// <summary>Data offset in 32-bit words.</summary>
    public byte DataOffset => (byte)(_data[12] >> 4);

    public int HeaderLength => DataOffset * 4;

    public TcpFlags Flags => (TcpFlags)(((_data[12] & 0x01) << 8) | _data[13]);

    public ushort Window => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(14));

    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(16));

    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(18));

    public ReadOnlySpan<byte> Options => _data.Slice(MinLength, HeaderLength - MinLength);

    public ReadOnlySpan<byte> Payload => _data.Slice(HeaderLength);
}

/// <summary>VXLAN header (RFC 7348 section 5): flags (I = 0x08: VNI valid), 24-bit VNI, reserved bits.</summary>
public readonly ref struct VxlanHeader
{
    public const int Length = 8;

    private readonly ReadOnlySpan<byte> _data;

    private VxlanHeader(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out VxlanHeader view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedVxlan;
            return false;
        }

        view = new VxlanHeader(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    public byte Flags => _data[0];

    /// <summary>I flag: the VNI is valid.</summary>
    public bool HasVni => (_data[0] & 0x08) != 0;

    /// <summary>Flags and reserved fields as one 32-bit word (the first 4 bytes), for reporting non-zero reserved bits.</summary>
    public uint FlagsWord => BinaryPrimitives.ReadUInt32BigEndian(_data);

    public uint Vni => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4)) >> 8;

    public byte ReservedLow => _data[7];

    /// <summary>The encapsulated Ethernet frame.</summary>
    public ReadOnlySpan<byte> Payload => _data.Slice(Length);
}
