using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>
/// An IPv6 address: two 64-bit halves, first octet most significant. (Not a <see cref="UInt128"/> field: ReadyToRun
/// does not precompile code that lays out UInt128, so every method of a type holding one would be compiled at run time.)
/// </summary>
public readonly struct Ipv6Address : IEquatable<Ipv6Address>, IComparable<Ipv6Address>, ISpanFormattable, IUtf8SpanFormattable
{
    public const int Size = 16;

    /// <summary>Longest text form: ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255.</summary>
    public const int MaxFormattedLength = 45;

    private readonly ulong _upper;
    private readonly ulong _lower;

    public Ipv6Address(UInt128 value)
    {
        _upper = (ulong)(value >> 64);
        _lower = (ulong)value;
    }

    public Ipv6Address(ulong upper, ulong lower)
    {
        _upper = upper;
        _lower = lower;
    }

    public static Ipv6Address Any => default;

    public static Ipv6Address Loopback => new(0, 1);

    public UInt128 Value => new(_upper, _lower);

    public ulong Upper => _upper;

    public ulong Lower => _lower;

    public bool IsZero => (_upper | _lower) == 0;

    /// <summary>ff00::/8.</summary>
    public bool IsMulticast => (Upper >> 56) == 0xFF;

    /// <summary>fe80::/10.</summary>
    public bool IsLinkLocal => (Upper >> 54) == (0xFE80UL >> 6);

    /// <summary>::ffff:0:0/96 (RFC 4291 2.5.5.2).</summary>
    public bool IsIpv4Mapped => Upper == 0 && (Lower >> 32) == 0xFFFF;

    /// <summary>ff02::1:ff00:0/104 (RFC 4291 2.7.1).</summary>
    public bool IsSolicitedNodeMulticast => Upper == 0xFF02_0000_0000_0000UL && (Lower >> 24) == 0x0000_0001_FFUL;

    /// <summary>Reads sixteen octets in wire order. The span must hold at least 16 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Ipv6Address Read(ReadOnlySpan<byte> data) => new(BinaryPrimitives.ReadUInt64BigEndian(data), BinaryPrimitives.ReadUInt64BigEndian(data[8..]));

    public static bool TryRead(ReadOnlySpan<byte> data, out Ipv6Address address)
    {
        if (data.Length < Size)
        {
            address = default;
            return false;
        }

        address = Read(data);
        return true;
    }

    public bool TryWriteBytes(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, _upper);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _lower);
        return true;
    }

    public bool Equals(Ipv6Address other) => _upper == other._upper && _lower == other._lower;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Ipv6Address other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_upper, _lower);

    public int CompareTo(Ipv6Address other) => _upper != other._upper ? _upper.CompareTo(other._upper) : _lower.CompareTo(other._lower);

    public static bool operator ==(Ipv6Address left, Ipv6Address right) => left.Equals(right);

    public static bool operator !=(Ipv6Address left, Ipv6Address right) => !left.Equals(right);

    private ushort Group(int i) => (ushort)(i < 4 ? _upper >> (48 - (16 * i)) : _lower >> (112 - (16 * i)));

    /// <summary>
    /// Writes the RFC 5952 text form as tshark (glibc inet_ntop) prints it: lower-case hex without leading zeros, the
    /// longest run of two or more zero groups (the first on a tie) as "::", and the last 32 bits as a dotted quad for
    /// IPv4-mapped (::ffff:a.b.c.d, RFC 5952 section 5) and IPv4-compatible (::a.b.c.d with a.b non-zero) addresses.
    /// <paramref name="destination"/> must hold <see cref="MaxFormattedLength"/> bytes.
    /// </summary>
    internal int FormatAscii(Span<byte> destination)
    {
        int bestStart = -1, bestLength = 0;
        for (int i = 0; i < 8;)
        {
            if (Group(i) != 0)
            {
                i++;
                continue;
            }

            int start = i;
            while (i < 8 && Group(i) == 0)
            {
                i++;
            }

            if (i - start > bestLength)
            {
                bestStart = start;
                bestLength = i - start;
            }
        }

        if (bestLength < 2)
        {
            bestStart = -1;
        }

        int p = 0;
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                destination[p++] = (byte)':';
                i += bestLength - 1;
                if (i == 7)
                {
                    destination[p++] = (byte)':';
                }

                continue;
            }

            if (i > 0)
            {
                destination[p++] = (byte)':';
            }

            // Embedded IPv4: the first 6 groups are zero (compatible) or 5 zeros then ffff (mapped).
            if (i == 6 && bestStart == 0 && (bestLength == 6 || (bestLength == 5 && Group(5) == 0xFFFF)))
            {
                p += new Ipv4Address((uint)_lower).FormatAscii(destination.Slice(p));
                return p;
            }

            int g = Group(i);
            bool started = false;
            for (int shift = 12; shift >= 0; shift -= 4)
            {
                int d = (g >> shift) & 0xF;
                if (d != 0 || started || shift == 0)
                {
                    destination[p++] = (byte)HexDigits.Lower[d];
                    started = true;
                }
            }
        }

        return p;
    }

    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        Span<byte> buffer = stackalloc byte[MaxFormattedLength];
        return AsciiText.TryWiden(buffer[..FormatAscii(buffer)], destination, out charsWritten);
    }

    public bool TryFormat(Span<byte> utf8Destination, out int bytesWritten)
    {
        if (utf8Destination.Length >= MaxFormattedLength)
        {
            bytesWritten = FormatAscii(utf8Destination);
            return true;
        }

        Span<byte> buffer = stackalloc byte[MaxFormattedLength];
        return AsciiText.TryCopy(buffer[..FormatAscii(buffer)], utf8Destination, out bytesWritten);
    }

    bool ISpanFormattable.TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(destination, out charsWritten);

    bool IUtf8SpanFormattable.TryFormat(Span<byte> utf8Destination, out int bytesWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(utf8Destination, out bytesWritten);

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public override string ToString()
    {
        Span<char> buffer = stackalloc char[MaxFormattedLength];
        TryFormat(buffer, out int n);
        return new string(buffer[..n]);
    }

    /// <summary>
    /// Parses RFC 4291 section 2.2 text: eight groups of 1-4 hex digits, at most one "::", optionally ending in a
    /// dotted quad that stands for the last two groups. Zone identifiers ("%eth0") and prefixes are rejected.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Ipv6Address address)
    {
        address = default;
        Span<ushort> groups = stackalloc ushort[8];
        int count = 0;
        int gap = -1;
        int pos = 0;

        if (text.Length < 2)
        {
            return false;
        }

        if (text[0] == ':')
        {
            if (text[1] != ':')
            {
                return false;
            }

            gap = 0;
            pos = 2;
            if (pos == text.Length)
            {
                return true;
            }
        }

        while (true)
        {
            if (count == 8)
            {
                return false;
            }

            // A dotted quad may take the place of the last two groups.
            int dot = pos;
            while (dot < text.Length && dot - pos <= 4 && text[dot] is >= '0' and <= '9')
            {
                dot++;
            }

            if (dot < text.Length && text[dot] == '.')
            {
                if (count > 6 || !Ipv4Address.TryParsePrefix(text.Slice(pos), out uint v4, out int used) || pos + used != text.Length)
                {
                    return false;
                }

                groups[count++] = (ushort)(v4 >> 16);
                groups[count++] = (ushort)v4;
                break;
            }

            int value = 0;
            int digits = 0;
            while (pos < text.Length && digits < 5)
            {
                int h = HexDigits.Value(text[pos]);
                if (h < 0)
                {
                    break;
                }

                value = (value << 4) | h;
                digits++;
                pos++;
            }

            if (digits == 0 || digits > 4)
            {
                return false;
            }

            groups[count++] = (ushort)value;
            if (pos == text.Length)
            {
                break;
            }

            if (text[pos] != ':')
            {
                return false;
            }

            pos++;
            if (pos < text.Length && text[pos] == ':')
            {
                if (gap >= 0)
                {
                    return false;
                }

                gap = count;
                pos++;
                if (pos == text.Length)
                {
                    break;
                }
            }
            else if (pos == text.Length)
            {
                return false;
            }
        }

        if (gap < 0 ? count != 8 : count > 7)
        {
            return false;
        }

        UInt128 result = UInt128.Zero;
        int missing = 8 - count;
        for (int i = 0, g = 0; i < 8; i++)
        {
            ushort word;
            if (gap >= 0 && i >= gap && i < gap + missing)
            {
                word = 0;
            }
            else
            {
                word = groups[g++];
            }

            result = (result << 16) | word;
        }

        address = new Ipv6Address(result);
        return true;
    }

    public static Ipv6Address Parse(ReadOnlySpan<char> text) =>
        TryParse(text, out Ipv6Address a) ? a : throw new FormatException($"'{text}' is not an IPv6 address.");
}
