using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>An IPv4 address as a host-order <see cref="uint"/> (first octet most significant).</summary>
public readonly struct Ipv4Address : IEquatable<Ipv4Address>, IComparable<Ipv4Address>, ISpanFormattable, IUtf8SpanFormattable
{
    public const int Size = 4;

    /// <summary>Longest text form, 255.255.255.255.</summary>
    public const int MaxFormattedLength = 15;

    private readonly uint _value;

    public Ipv4Address(uint value) => _value = value;

    public Ipv4Address(byte a, byte b, byte c, byte d) => _value = ((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d;

    public static Ipv4Address Any => default;

    public static Ipv4Address Broadcast => new(uint.MaxValue);

    public uint Value => _value;

    public bool IsZero => _value == 0;

    public bool IsBroadcast => _value == uint.MaxValue;

    /// <summary>224.0.0.0/4.</summary>
    public bool IsMulticast => (_value & 0xF000_0000u) == 0xE000_0000u;

    /// <summary>169.254.0.0/16.</summary>
    public bool IsLinkLocal => (_value & 0xFFFF_0000u) == 0xA9FE_0000u;

    public bool IsLoopback => (_value >> 24) == 127;

    /// <summary>Reads four octets in wire order. The span must hold at least 4 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Ipv4Address Read(ReadOnlySpan<byte> data) => new(BinaryPrimitives.ReadUInt32BigEndian(data));

    public static bool TryRead(ReadOnlySpan<byte> data, out Ipv4Address address)
    {
        if (data.Length < Size)
        {
            address = default;
            return false;
        }

        address = Read(data);
        return true;
    }

    public bool TryWriteBytes(Span<byte> destination) => BinaryPrimitives.TryWriteUInt32BigEndian(destination, _value);

    public bool Equals(Ipv4Address other) => _value == other._value;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is Ipv4Address other && Equals(other);

    public override int GetHashCode() => _value.GetHashCode();

    public int CompareTo(Ipv4Address other) => _value.CompareTo(other._value);

    public static bool operator ==(Ipv4Address left, Ipv4Address right) => left._value == right._value;

    public static bool operator !=(Ipv4Address left, Ipv4Address right) => left._value != right._value;

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

    /// <summary>Writes the dotted quad; <paramref name="destination"/> must hold 15 bytes.</summary>
    internal int FormatAscii(Span<byte> destination)
    {
        int p = 0;
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            int b = (int)(_value >> shift) & 0xFF;
            if (b >= 100)
            {
                destination[p++] = (byte)('0' + (b / 100));
                destination[p++] = (byte)('0' + (b / 10 % 10));
            }
            else if (b >= 10)
            {
                destination[p++] = (byte)('0' + (b / 10));
            }

            destination[p++] = (byte)('0' + (b % 10));
            if (shift != 0)
            {
                destination[p++] = (byte)'.';
            }
        }

        return p;
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

    /// <summary>Parses a dotted quad: exactly four decimal octets 0-255, no leading zeros beyond a single "0".</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Ipv4Address address)
    {
        address = default;
        if (!TryParsePrefix(text, out uint value, out int consumed) || consumed != text.Length)
        {
            return false;
        }

        address = new Ipv4Address(value);
        return true;
    }

    /// <summary>Parses a dotted quad at the start of <paramref name="text"/> (used for the IPv4 tail of IPv6 text).</summary>
    internal static bool TryParsePrefix(ReadOnlySpan<char> text, out uint value, out int consumed)
    {
        value = 0;
        consumed = 0;
        int pos = 0;
        for (int i = 0; i < 4; i++)
        {
            if (i > 0)
            {
                if (pos >= text.Length || text[pos] != '.')
                {
                    return false;
                }

                pos++;
            }

            int start = pos;
            int octet = 0;
            while (pos < text.Length && pos - start < 3 && text[pos] is >= '0' and <= '9')
            {
                octet = (octet * 10) + (text[pos] - '0');
                pos++;
            }

            int digits = pos - start;
            if (digits == 0 || octet > 255 || (digits > 1 && text[start] == '0'))
            {
                return false;
            }

            value = (value << 8) | (uint)octet;
        }

        consumed = pos;
        return true;
    }

    public static Ipv4Address Parse(ReadOnlySpan<char> text) =>
        TryParse(text, out Ipv4Address a) ? a : throw new FormatException($"'{text}' is not an IPv4 address.");
}
