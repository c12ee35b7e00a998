using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>IPv6 fixed header (RFC 8200 section 3).</summary>
public readonly ref struct Ipv6Header
{
    public const int Length = 40;

    private readonly ReadOnlySpan<byte> _data;

    private Ipv6Header(ReadOnlySpan<byte> data) => _data = data;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, out Ipv6Header view, out DecodeProblem problem)
    {
        view = default;
        if (data.IsEmpty)
        {
            problem = DecodeProblem.TruncatedIpv6;
            return false;
        }

        if ((data[0] >> 4) != 6)
        {
            problem = DecodeProblem.Ipv6BadVersion;
            return false;
        }

        if (data.Length < Length)
        {
            problem = DecodeProblem.TruncatedIpv6;
            return false;
        }

        view = new Ipv6Header(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    public byte Version => (byte)(_data[0] >> 4);

    public byte TrafficClass => (byte)(BinaryPrimitives.ReadUInt16BigEndian(_data) >> 4);

    public uint FlowLabel => BinaryPrimitives.ReadUInt32BigEndian(_data) & 0x000F_FFFF;

    /// <summary>The payload-length field; 0 for jumbograms (RFC 2675) and Linux BIG TCP.</summary>
    public ushort PayloadLength => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(4));

    /// <summary>Payload length 0: the real length is the captured length.</summary>
    public bool UsesCapturedLength => PayloadLength == 0;

    public byte NextHeader => _data[6];

    public byte HopLimit => _data[7];

    public Ipv6Address Source => Ipv6Address.Read(_data.Slice(8));

    public Ipv6Address Destination => Ipv6Address.Read(_data.Slice(24));

    /// <summary>Extension headers and upper-layer data, up to the payload length, clamped to what was captured.</summary>
    public ReadOnlySpan<byte> Payload
    {
        get
        {
            ReadOnlySpan<byte> rest = _data.Slice(Length);
            int len = PayloadLength;
            return len == 0 || len >= rest.Length ? rest : rest.Slice(0, len);
        }
    }
}

/// <summary>
/// One IPv6 extension header. Its type is the previous header's Next Header value, so <see cref="TryRead(ReadOnlySpan{byte}, byte, out Ipv6ExtensionHeader, out DecodeProblem)"/>
/// takes it. Lengths: hop-by-hop (0), routing (43) and destination options (60) are (Hdr Ext Len + 1) × 8 bytes
/// (RFC 8200 4.3-4.6); fragment (44) is always 8 (RFC 8200 4.5); AH (51) is (Payload Len + 2) × 4 bytes (RFC 4302 2.2).
/// </summary>
public readonly ref struct Ipv6ExtensionHeader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly byte _type;

    private Ipv6ExtensionHeader(ReadOnlySpan<byte> data, byte type)
    {
        _data = data;
        _type = type;
    }

    /// <summary>True for the next-header values this view understands.</summary>
    public static bool IsExtension(byte nextHeader) =>
        nextHeader is IpProtocols.HopByHop or IpProtocols.Routing or IpProtocols.Fragment or IpProtocols.DestinationOptions
            or IpProtocols.AuthenticationHeader;

    /// <summary>The layer kind for an extension header type, or <see cref="LayerKind.None"/>.</summary>
    public static LayerKind KindOf(byte nextHeader) => nextHeader switch
    {
        IpProtocols.HopByHop => LayerKind.Ipv6HopByHop,
        IpProtocols.Routing => LayerKind.Ipv6Routing,
        IpProtocols.Fragment => LayerKind.Ipv6Fragment,
        IpProtocols.DestinationOptions => LayerKind.Ipv6DestinationOptions,
        IpProtocols.AuthenticationHeader => LayerKind.Ipv6AuthenticationHeader,
        _ => LayerKind.None,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ReadOnlySpan<byte> data, byte headerType, out Ipv6ExtensionHeader view, out DecodeProblem problem)
    {
        view = default;
        if (data.Length < 2)
        {
            problem = DecodeProblem.TruncatedIpv6Extension;
            return false;
        }

        int length = LengthOf(headerType, data[1]);
        if (length > data.Length)
        {
            problem = DecodeProblem.TruncatedIpv6Extension;
            return false;
        }

        view = new Ipv6ExtensionHeader(data, headerType);
        problem = DecodeProblem.None;
        return true;
    }

    /// <summary>Reads a header whose type is taken to be hop-by-hop/routing/destination-options layout.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out Ipv6ExtensionHeader view, out DecodeProblem problem) =>
        TryRead(data, IpProtocols.DestinationOptions, out view, out problem);

    private static int LengthOf(byte headerType, byte lengthField) => headerType switch
    {
        IpProtocols.Fragment => 8,
        IpProtocols.AuthenticationHeader => (lengthField + 2) * 4,
        _ => (lengthField + 1) * 8,
    };

    public byte HeaderType => _type;

    public LayerKind Kind => KindOf(_type);

    public byte NextHeader => _data[0];

    /// <summary>The raw length byte (for the fragment header, a reserved byte).</summary>
    public byte LengthField => _data[1];

    public int HeaderLength => LengthOf(_type, _data[1]);

    /// <summary>The header's body after next-header and length bytes (options, routing data, AH fields, ...).</summary>
    public ReadOnlySpan<byte> Body => _data.Slice(2, HeaderLength - 2);

    /// <summary>Fragment header: offset in 8-octet units.</summary>
    public ushort FragmentOffset => _type == IpProtocols.Fragment ? (ushort)(BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2)) >> 3) : (ushort)0;

    /// <summary>Fragment header: M flag.</summary>
    public bool MoreFragments => _type == IpProtocols.Fragment && (_data[3] & 0x01) != 0;

    /// <summary>Fragment header: identification.</summary>
    public uint Identification => _type == IpProtocols.Fragment ? BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4)) : 0;

    /// <summary>Routing header: routing type.</summary>
    public byte RoutingType => _type == IpProtocols.Routing ? _data[2] : (byte)0;

    /// <summary>Routing header: segments left.</summary>
    public byte SegmentsLeft => _type == IpProtocols.Routing ? _data[3] : (byte)0;

    /// <summary>AH: security parameters index.</summary>
    public uint SecurityParametersIndex => _type == IpProtocols.AuthenticationHeader && HeaderLength >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4)) : 0;

    public ReadOnlySpan<byte> Payload => _data.Slice(HeaderLength);
}

/// <summary>ICMP header (RFC 792): type, code, checksum and the 4-byte rest of header.</summary>
public readonly ref struct Icmpv4Header
{
    public const int Length = 8;

    private readonly ReadOnlySpan<byte> _data;

    private Icmpv4Header(ReadOnlySpan<byte> data) => _data = data;

    public static bool TryRead(ReadOnlySpan<byte> data, out Icmpv4Header view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedIcmpv4;
            return false;
        }

        view = new Icmpv4Header(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    /// <summary>The whole message as given (header and data).</summary>
    public int MessageLength => _data.Length;

    public byte Type => _data[0];

    public byte Code => _data[1];

    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    public uint RestOfHeader => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4));

    /// <summary>Echo request/reply identifier (first half of the rest of header).</summary>
    public ushort Identifier => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(4));

    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(6));

    public ReadOnlySpan<byte> Payload => _data.Slice(Length);
}
