using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>IPv4 header (RFC 791 section 3.1) with options.</summary>
public readonly ref struct Ipv4Header
{
    public const int MinLength = 20;

    private readonly ReadOnlySpan<byte> _data;

    private Ipv4Header(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out Ipv4Header view, out DecodeProblem problem)
    {
        view = default;
        if (data.IsEmpty)
        {
            problem = DecodeProblem.TruncatedIpv4;
            return false;
        }

        int first = data[0];
        if ((first >> 4) != 4)
        {
            problem = DecodeProblem.Ipv4BadVersion;
            return false;
        }

        int headerLength = (first & 0x0F) * 4;
        if (headerLength < MinLength)
        {
            problem = DecodeProblem.Ipv4BadHeaderLength;
            return false;
        }

        if (data.Length < headerLength)
        {
            problem = DecodeProblem.TruncatedIpv4;
            return false;
        }

        int total = Wire.U16(ref Wire.Start(data), 2); // data.Length ≥ headerLength ≥ 20
        if (total != 0 && total < headerLength)
        {
            problem = DecodeProblem.Ipv4TotalLengthTooSmall;
            return false;
        }

        view = new Ipv4Header(data);
        problem = DecodeProblem.None;
        return true;
    }

    public byte Version => (byte)(_data[0] >> 4);

    /// <summary>IHL × 4, 20 to 60 bytes.</summary>
    public int HeaderLength => (_data[0] & 0x0F) * 4;

    public byte Dscp => (byte)(_data[1] >> 2);

    public byte Ecn => (byte)(_data[1] & 0x03);

    /// <summary>The total-length field as written; 0 on Linux BIG TCP / GSO packets.</summary>
    public ushort TotalLength => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    /// <summary>Total length 0: the real length is the captured length (Linux BIG TCP, GSO super-packets).</summary>
    public bool UsesCapturedLength => TotalLength == 0;

    public ushort Identification => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(4));

    public bool DontFragment => (_data[6] & 0x40) != 0;

    public bool MoreFragments => (_data[6] & 0x20) != 0;

    /// <summary>Fragment offset in 8-octet units.</summary>
    public ushort FragmentOffset => (ushort)(BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(6)) & 0x1FFF);

    public bool IsFragment => MoreFragments || FragmentOffset != 0;

    /// <summary>Only the first fragment carries the upper-layer header.</summary>
    public bool IsFirstFragment => FragmentOffset == 0;

    public byte TimeToLive => _data[8];

    public byte Protocol => _data[9];

    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(10));

    public Ipv4Address Source => Ipv4Address.Read(_data.Slice(12));

    public Ipv4Address Destination => Ipv4Address.Read(_data.Slice(16));

    public ReadOnlySpan<byte> Options => _data.Slice(MinLength, HeaderLength - MinLength);

    /// <summary>The datagram's data up to the total length (Ethernet padding excluded), clamped to what was captured.</summary>
    public ReadOnlySpan<byte> Payload
    {
        get
        {
            int total = TotalLength;
            int end = total == 0 ? _data.Length : Math.Min(total, _data.Length);
            return _data.Slice(HeaderLength, end - HeaderLength);
        }
    }
}
