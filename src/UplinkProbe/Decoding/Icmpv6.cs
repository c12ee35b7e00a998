using System.Buffers.Binary;

namespace UplinkProbe.Decoding;

/// <summary>ICMPv6 message (RFC 4443 section 2.1): type, code, checksum, then the type-specific body.</summary>
public readonly ref struct Icmpv6Header
{
    public const int Length = 4;

    public const byte EchoRequest = 128;
    public const byte EchoReply = 129;
    public const byte RouterSolicitation = 133;
    public const byte RouterAdvertisement = 134;
    public const byte NeighborSolicitation = 135;
    public const byte NeighborAdvertisement = 136;
    public const byte Redirect = 137;

    private readonly ReadOnlySpan<byte> _data;

    private Icmpv6Header(ReadOnlySpan<byte> data) => _data = data;

    public static bool TryRead(ReadOnlySpan<byte> data, out Icmpv6Header view, out DecodeProblem problem)
    {
        if (data.Length < Length)
        {
            view = default;
            problem = DecodeProblem.TruncatedIcmpv6;
            return false;
        }

        view = new Icmpv6Header(data);
        problem = DecodeProblem.None;
        return true;
    }

    public int HeaderLength => Length;

    /// <summary>The whole message as given.</summary>
    public int MessageLength => _data.Length;

    public byte Type => _data[0];

    public byte Code => _data[1];

    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(2));

    /// <summary>Types 133-137 (RFC 4861 section 4).</summary>
    public bool IsNeighborDiscovery => _data[0] is >= RouterSolicitation and <= Redirect;

    /// <summary>The message after type, code and checksum.</summary>
    public ReadOnlySpan<byte> Payload => _data.Slice(Length);
}

/// <summary>
/// A Neighbor Discovery message (RFC 4861 sections 4.1-4.5) over the whole ICMPv6 message: the fixed part of its
/// type and an option area walked with <see cref="Options"/>. Accessors of other types return 0 / default.
/// </summary>
public readonly ref struct NdpMessage
{
    private readonly ReadOnlySpan<byte> _data;

    private NdpMessage(ReadOnlySpan<byte> data) => _data = data;

    /// <summary>Length of the fixed part (ICMPv6 header included) for ND types, 0 for other types.</summary>
    public static int FixedLengthOf(byte type) => type switch
    {
        Icmpv6Header.RouterSolicitation => 8,
        Icmpv6Header.RouterAdvertisement => 16,
        Icmpv6Header.NeighborSolicitation => 24,
        Icmpv6Header.NeighborAdvertisement => 24,
        Icmpv6Header.Redirect => 40,
        _ => 0,
    };

    /// <summary>
    /// False with <see cref="DecodeProblem.None"/> when the message is not ND (type outside 133-137);
    /// <see cref="DecodeProblem.TruncatedIcmpv6"/> when the fixed part is not all there. Options are checked lazily
    /// by the enumerator (or all at once by <see cref="ValidateOptions"/>).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out NdpMessage view, out DecodeProblem problem)
    {
        view = default;
        if (data.IsEmpty)
        {
            problem = DecodeProblem.TruncatedIcmpv6;
            return false;
        }

        int fixedLength = FixedLengthOf(data[0]);
        if (fixedLength == 0)
        {
            problem = DecodeProblem.None;
            return false;
        }

        if (data.Length < fixedLength)
        {
            problem = DecodeProblem.TruncatedIcmpv6;
            return false;
        }

        view = new NdpMessage(data);
        problem = DecodeProblem.None;
        return true;
    }

    public byte Type => _data[0];

    public byte Code => _data[1];

    public int FixedLength => FixedLengthOf(_data[0]);

    public int MessageLength => _data.Length;

    public int HeaderLength => FixedLength;

    private bool Is(byte type) => _data[0] == type;

    // Router Advertisement (RFC 4861 4.2; flags byte per RFC 4191 (Prf), RFC 3775 (H), RFC 4389 (P)).

    public byte CurrentHopLimit => Is(Icmpv6Header.RouterAdvertisement) ? _data[4] : (byte)0;

    /// <summary>RA flags byte: M 0x80, O 0x40, H 0x20, Prf 0x18, P 0x04.</summary>
    public byte RouterFlags => Is(Icmpv6Header.RouterAdvertisement) ? _data[5] : (byte)0;

    public bool ManagedAddressConfiguration => (RouterFlags & 0x80) != 0;

    public bool OtherConfiguration => (RouterFlags & 0x40) != 0;

    /// <summary>Default router preference (RFC 4191 2.2): 1 high, 0 medium, 3 low, 2 reserved.</summary>
    public byte RouterPreference => (byte)((RouterFlags >> 3) & 0x03);

    public ushort RouterLifetime => Is(Icmpv6Header.RouterAdvertisement) ? BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(6)) : (ushort)0;

    public uint ReachableTime => Is(Icmpv6Header.RouterAdvertisement) ? BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(8)) : 0;

    public uint RetransTimer => Is(Icmpv6Header.RouterAdvertisement) ? BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(12)) : 0;

    // Neighbor Advertisement (RFC 4861 4.4).

    public bool RouterFlag => Is(Icmpv6Header.NeighborAdvertisement) && (_data[4] & 0x80) != 0;

    public bool SolicitedFlag => Is(Icmpv6Header.NeighborAdvertisement) && (_data[4] & 0x40) != 0;

    public bool OverrideFlag => Is(Icmpv6Header.NeighborAdvertisement) && (_data[4] & 0x20) != 0;

    /// <summary>Target address of NS, NA and Redirect; :: for RS/RA.</summary>
    public Ipv6Address TargetAddress => _data[0] is Icmpv6Header.NeighborSolicitation or Icmpv6Header.NeighborAdvertisement or Icmpv6Header.Redirect
        ? Ipv6Address.Read(_data.Slice(8))
        : default;

    public bool HasTargetAddress => _data[0] is Icmpv6Header.NeighborSolicitation or Icmpv6Header.NeighborAdvertisement or Icmpv6Header.Redirect;

    /// <summary>Redirect destination address (RFC 4861 4.5).</summary>
    public Ipv6Address DestinationAddress => Is(Icmpv6Header.Redirect) ? Ipv6Address.Read(_data.Slice(24)) : default;

    /// <summary>The option area after the fixed part.</summary>
    public ReadOnlySpan<byte> OptionBytes => _data.Slice(FixedLength);

    public NdpOptionEnumerator Options => new(OptionBytes);

    /// <summary>Walks every option: <see cref="DecodeProblem.None"/>, or the first option problem and the offset of that option in the message.</summary>
    public DecodeProblem ValidateOptions(out int problemOffset)
    {
        NdpOptionEnumerator e = Options;
        while (e.MoveNext())
        {
        }

        problemOffset = FixedLength + e.Offset;
        return e.Problem;
    }

    /// <summary>The first option of <paramref name="type"/>; false if absent (or if the options are malformed before it).</summary>
    public bool TryFindOption(byte type, out NdpOption option)
    {
        foreach (NdpOption o in Options)
        {
            if (o.Type == type)
            {
                option = o;
                return true;
            }
        }

        option = default;
        return false;
    }

    public ReadOnlySpan<byte> Payload => OptionBytes;
}

/// <summary>ND option types (IANA "IPv6 Neighbor Discovery Option Formats").</summary>
public static class NdpOptionTypes
{
    public const byte SourceLinkLayerAddress = 1;
    public const byte TargetLinkLayerAddress = 2;
    public const byte PrefixInformation = 3;
    public const byte RedirectedHeader = 4;
    public const byte Mtu = 5;
    public const byte Nonce = 14;
    public const byte RouteInformation = 24;
    public const byte RecursiveDnsServer = 25;
    public const byte DnsSearchList = 31;
    public const byte Pref64 = 38;
}

/// <summary>
/// Walks ND options without allocating. Each option is type, length in units of 8 octets, data (RFC 4861 4.6).
/// Stops with <see cref="Problem"/> = <see cref="DecodeProblem.NdpOptionLengthZero"/> on a zero length and
/// <see cref="DecodeProblem.TruncatedNdpOption"/> when an option runs past the bytes given.
/// </summary>
public ref struct NdpOptionEnumerator
{
    private readonly ReadOnlySpan<byte> _options;
    private int _next;
    private NdpOption _current;

    public NdpOptionEnumerator(ReadOnlySpan<byte> options)
    {
        _options = options;
        _next = 0;
        Offset = 0;
        _current = default;
        Problem = DecodeProblem.None;
    }

    public readonly NdpOption Current => _current;

    /// <summary>Offset in the option area of <see cref="Current"/>, or of the bad option once enumeration stopped on a problem.</summary>
    public int Offset { get; private set; }

    public DecodeProblem Problem { get; private set; }

    public readonly NdpOptionEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (Problem != DecodeProblem.None || _next >= _options.Length)
        {
            return false;
        }

        Offset = _next;
        ReadOnlySpan<byte> rest = _options.Slice(_next);
        if (rest.Length < 2)
        {
            Problem = DecodeProblem.TruncatedNdpOption;
            return false;
        }

        int length = rest[1] * 8;
        if (length == 0)
        {
            Problem = DecodeProblem.NdpOptionLengthZero;
            return false;
        }

        if (length > rest.Length)
        {
            Problem = DecodeProblem.TruncatedNdpOption;
            return false;
        }

        _current = new NdpOption(rest.Slice(0, length));
        _next += length;
        return true;
    }
}

/// <summary>One ND option: the whole TLV, with typed readers for the common types.</summary>
public readonly ref struct NdpOption
{
    private readonly ReadOnlySpan<byte> _data;

    internal NdpOption(ReadOnlySpan<byte> data) => _data = data;

    public byte Type => _data[0];

    /// <summary>The length field: units of 8 octets, including type and length bytes.</summary>
    public byte LengthUnits => _data[1];

    public int Length => _data.Length;

    /// <summary>The option after its type and length bytes.</summary>
    public ReadOnlySpan<byte> Data => _data.Slice(2);

    /// <summary>SLLA (1) / TLLA (2) with a 6-byte (Ethernet) address.</summary>
    public bool TryGetLinkLayerAddress(out MacAddress address)
    {
        if (Type is NdpOptionTypes.SourceLinkLayerAddress or NdpOptionTypes.TargetLinkLayerAddress && _data.Length >= 8)
        {
            address = MacAddress.Read(_data.Slice(2));
            return true;
        }

        address = default;
        return false;
    }

    /// <summary>Prefix Information (3), 32 bytes (RFC 4861 4.6.2).</summary>
    public bool TryGetPrefixInformation(out NdpPrefixInformation prefix)
    {
        if (Type != NdpOptionTypes.PrefixInformation || _data.Length < 32)
        {
            prefix = default;
            return false;
        }

        prefix = new NdpPrefixInformation(
            _data[2],
            _data[3],
            BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4)),
            BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(8)),
            Ipv6Address.Read(_data.Slice(16)));
        return true;
    }

    /// <summary>
    /// Route Information (24, RFC 4191 2.3): prefix length, flags (Prf in bits 3-4), route lifetime, then 0, 8 or 16
    /// bytes of prefix (option length 1, 2 or 3). The prefix is returned zero-filled past the bytes present and as
    /// sent (bits past the prefix length are not cleared). False for other lengths, which RFC 4191 says to ignore.
    /// </summary>
    public bool TryGetRouteInformation(out NdpRouteInformation route)
    {
        int prefixBytes = _data.Length - 8;
        if (Type != NdpOptionTypes.RouteInformation || prefixBytes is not (0 or 8 or 16))
        {
            route = default;
            return false;
        }

        ulong upper = prefixBytes >= 8 ? BinaryPrimitives.ReadUInt64BigEndian(_data.Slice(8)) : 0;
        ulong lower = prefixBytes == 16 ? BinaryPrimitives.ReadUInt64BigEndian(_data.Slice(16)) : 0;
        route = new NdpRouteInformation(_data[2], _data[3], BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4)), new Ipv6Address(upper, lower), (byte)prefixBytes);
        return true;
    }

    /// <summary>Redirected Header (4): 6 reserved bytes, then as much of the redirected packet as fits (RFC 4861 4.6.3).</summary>
    public bool TryGetRedirectedPacket(out ReadOnlySpan<byte> packet)
    {
        if (Type != NdpOptionTypes.RedirectedHeader || _data.Length < 8)
        {
            packet = default;
            return false;
        }

        packet = _data.Slice(8);
        return true;
    }

    /// <summary>MTU (5), 8 bytes (RFC 4861 4.6.4).</summary>
    public bool TryGetMtu(out uint mtu)
    {
        if (Type != NdpOptionTypes.Mtu || _data.Length < 8)
        {
            mtu = 0;
            return false;
        }

        mtu = BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4));
        return true;
    }

    /// <summary>Nonce (14): the nonce bytes after type and length (RFC 3971 5.3.2).</summary>
    public bool TryGetNonce(out ReadOnlySpan<byte> nonce)
    {
        if (Type != NdpOptionTypes.Nonce)
        {
            nonce = default;
            return false;
        }

        nonce = _data.Slice(2);
        return true;
    }

    /// <summary>RDNSS (25): lifetime and a list of 16-byte server addresses (RFC 8106 5.1); length must be 3 or more.</summary>
    public bool TryGetRecursiveDnsServers(out uint lifetime, out int count)
    {
        if (Type != NdpOptionTypes.RecursiveDnsServer || _data.Length < 24)
        {
            lifetime = 0;
            count = 0;
            return false;
        }

        lifetime = BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4));
        count = (_data.Length - 8) / Ipv6Address.Size;
        return true;
    }

    /// <summary>The <paramref name="index"/>-th RDNSS address (see <see cref="TryGetRecursiveDnsServers"/> for the count).</summary>
    public Ipv6Address GetRecursiveDnsServer(int index) => Ipv6Address.Read(_data.Slice(8 + (index * Ipv6Address.Size), Ipv6Address.Size));

    /// <summary>DNSSL (31): lifetime and the domain names in DNS wire format, zero-padded (RFC 8106 5.2).</summary>
    public bool TryGetDnsSearchList(out uint lifetime, out ReadOnlySpan<byte> names)
    {
        if (Type != NdpOptionTypes.DnsSearchList || _data.Length < 16)
        {
            lifetime = 0;
            names = default;
            return false;
        }

        lifetime = BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4));
        names = _data.Slice(8);
        return true;
    }
}

/// <summary>The fields of a Prefix Information option (RFC 4861 4.6.2).</summary>
public readonly record struct NdpPrefixInformation(byte PrefixLength, byte Flags, uint ValidLifetime, uint PreferredLifetime, Ipv6Address Prefix)
{
    /// <summary>L flag.</summary>
    public bool OnLink => (Flags & 0x80) != 0;

    /// <summary>A flag (SLAAC).</summary>
    public bool Autonomous => (Flags & 0x40) != 0;
}

/// <summary>The fields of a Route Information option (RFC 4191 2.3).</summary>
/// <param name="PrefixLength">Significant leading bits of <paramref name="Prefix"/> (0-128).</param>
/// <param name="Flags">The flags byte; <see cref="Preference"/> is bits 3-4.</param>
/// <param name="RouteLifetime">Seconds; 0xffffffff is infinity.</param>
/// <param name="Prefix">The prefix bytes present, zero-filled to 16.</param>
/// <param name="PrefixBytes">How many prefix bytes the option carries: 0, 8 or 16.</param>
public readonly record struct NdpRouteInformation(byte PrefixLength, byte Flags, uint RouteLifetime, Ipv6Address Prefix, byte PrefixBytes)
{
    /// <summary>Route preference (RFC 4191 2.1): 1 high, 0 medium, 3 low, 2 reserved.</summary>
    public byte Preference => (byte)((Flags >> 3) & 0x03);

    /// <summary>False for a length-1 option (no prefix bytes: the default route ::/0).</summary>
    public bool HasPrefixBytes => PrefixBytes != 0;
}
