using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>A 48-bit IEEE MAC address held in the low 48 bits of a <see cref="ulong"/> (first octet most significant).</summary>
public readonly struct MacAddress : IEquatable<MacAddress>, IComparable<MacAddress>, ISpanFormattable, IUtf8SpanFormattable
{
    public const int Size = 6;

    /// <summary>Length of the text form aa:bb:cc:dd:ee:ff.</summary>
    public const int FormattedLength = 17;

    private const ulong Mask = 0xFFFF_FFFF_FFFFUL;

    private readonly ulong _value;

    public MacAddress(ulong value) => _value = value & Mask;

    public static MacAddress Zero => default;

    public static MacAddress Broadcast => new(Mask);

    /// <summary>The address as a 48-bit number, first octet in bits 47..40.</summary>
    public ulong Value => _value;

    public bool IsBroadcast => _value == Mask;

    /// <summary>I/G bit (least significant bit of the first octet); broadcast is multicast too.</summary>
    public bool IsMulticast => (_value & 0x0100_0000_0000UL) != 0;

    public bool IsZero => _value == 0;

    /// <summary>U/L bit (second least significant bit of the first octet).</summary>
    public bool IsLocallyAdministered => (_value & 0x0200_0000_0000UL) != 0;

    /// <summary>Reads six octets in wire order. The span must hold at least 6 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MacAddress Read(ReadOnlySpan<byte> data) =>
        new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(data) << 32) | BinaryPrimitives.ReadUInt32BigEndian(data.Slice(2)));

    public static bool TryRead(ReadOnlySpan<byte> data, out MacAddress address)
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

        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(_value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(2), (uint)_value);
        return true;
    }

    public bool Equals(MacAddress other) => _value == other._value;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is MacAddress other && Equals(other);

    public override int GetHashCode() => _value.GetHashCode();

    public int CompareTo(MacAddress other) => _value.CompareTo(other._value);

    public static bool operator ==(MacAddress left, MacAddress right) => left._value == right._value;

    public static bool operator !=(MacAddress left, MacAddress right) => left._value != right._value;

    public bool TryFormat(Span<char> destination, out int charsWritten)
    {
        if (destination.Length < FormattedLength)
        {
            charsWritten = 0;
            return false;
        }

        for (int i = 0; i < Size; i++)
        {
            int b = (int)(_value >> (40 - (8 * i))) & 0xFF;
            int p = i * 3;
            destination[p] = HexDigits.Lower[b >> 4];
            destination[p + 1] = HexDigits.Lower[b & 0xF];
            if (i < Size - 1)
            {
                destination[p + 2] = ':';
            }
        }

        charsWritten = FormattedLength;
        return true;
    }

    public bool TryFormat(Span<byte> utf8Destination, out int bytesWritten)
    {
        if (utf8Destination.Length < FormattedLength)
        {
            bytesWritten = 0;
            return false;
        }

        for (int i = 0; i < Size; i++)
        {
            int b = (int)(_value >> (40 - (8 * i))) & 0xFF;
            int p = i * 3;
            utf8Destination[p] = (byte)HexDigits.Lower[b >> 4];
            utf8Destination[p + 1] = (byte)HexDigits.Lower[b & 0xF];
            if (i < Size - 1)
            {
                utf8Destination[p + 2] = (byte)':';
            }
        }

        bytesWritten = FormattedLength;
        return true;
    }

    bool ISpanFormattable.TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(destination, out charsWritten);

    bool IUtf8SpanFormattable.TryFormat(Span<byte> utf8Destination, out int bytesWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        TryFormat(utf8Destination, out bytesWritten);

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public override string ToString() => string.Create(FormattedLength, this, static (span, mac) => mac.TryFormat(span, out _));

    /// <summary>Parses six hex octets separated by ':' or '-' (one or two digits each, either case).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out MacAddress address)
    {
        address = default;
        ulong value = 0;
        int pos = 0;
        char separator = '\0';
        for (int i = 0; i < Size; i++)
        {
            if (i > 0)
            {
                if (pos >= text.Length)
                {
                    return false;
                }

                char c = text[pos];
                if (separator == '\0' && (c == ':' || c == '-'))
                {
                    separator = c;
                }

                if (c != separator)
                {
                    return false;
                }

                pos++;
            }

            int digits = 0;
            int octet = 0;
            while (pos < text.Length && digits < 2)
            {
                int h = HexDigits.Value(text[pos]);
                if (h < 0)
                {
                    break;
                }

                octet = (octet << 4) | h;
                digits++;
                pos++;
            }

            if (digits == 0)
            {
                return false;
            }

            value = (value << 8) | (uint)octet;
        }

        if (pos != text.Length)
        {
            return false;
        }

        address = new MacAddress(value);
        return true;
    }

    public static MacAddress Parse(ReadOnlySpan<char> text) =>
        TryParse(text, out MacAddress a) ? a : throw new FormatException($"'{text}' is not a MAC address.");
}

internal static class HexDigits
{
    public const string Lower = "0123456789abcdef";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Value(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
