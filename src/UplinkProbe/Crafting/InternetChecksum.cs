using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace UplinkProbe.Crafting;

/// <summary>
/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of 16-bit
/// big-endian words. Used by IPv4, ICMP, UDP, TCP and ICMPv6. Usable for verification too: summing a
/// message that includes its checksum field gives 0xffff, i.e. <see cref="Compute"/> returns 0.
/// </summary>
public static class InternetChecksum
{
    /// <summary>
    /// Adds <paramref name="data"/> to a running sum. Every chunk except the last must have even length,
    /// so that words stay aligned; an odd last byte is padded with a zero byte (RFC 1071 section 4.1).
    /// </summary>
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
    {
        // Bulk: 64-bit words in native byte order. The one's complement sum commutes with byte swapping
        // (RFC 1071 section 2(B)), so the folded native sum is swapped once at the end. The two 32-bit halves
        // are added separately so the accumulators cannot overflow for any span shorter than 2^34 bytes.
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        ulong a = 0, b = 0;
        int i = 0;
        for (; i + 1 < words.Length; i += 2)
        {
            ulong w0 = words[i], w1 = words[i + 1];
            a += (w0 >> 32) + (uint)w0;
            b += (w1 >> 32) + (uint)w1;
        }

        if (i < words.Length)
        {
            a += (words[i] >> 32) + (uint)words[i];
        }

        ushort native = Fold(a + b);
        sum += BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(native) : native;

        int j = words.Length * 8;
        for (; j + 2 <= data.Length; j += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[j..]);
        }

        if (j < data.Length)
        {
            sum += (ulong)data[j] << 8;
        }

        return sum;
    }

    public static ulong Add(ulong sum, ushort word) => sum + word;

    public static ulong Add(ulong sum, uint value) => sum + (value >> 16) + (value & 0xffff);

    /// <summary>Folds the carries of a running sum into 16 bits (not complemented).</summary>
    public static ushort Fold(ulong sum)
    {
        while ((sum >> 16) != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)sum;
    }

    /// <summary>The checksum field value: the complement of the folded sum.</summary>
    public static ushort Finish(ulong sum) => (ushort)~Fold(sum);

    /// <summary>Checksum of one buffer (e.g. an IPv4 header with its checksum field zeroed).</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>
    /// Sum of the IPv4 pseudo-header (RFC 768, RFC 793 section 3.1): source, destination, zero, protocol,
    /// upper-layer length.
    /// </summary>
    public static ulong PseudoHeaderIpv4(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int upperLayerLength)
    {
        ulong sum = Add(0, source[..4]);
        sum = Add(sum, destination[..4]);
        return sum + protocol + (uint)upperLayerLength;
    }

    /// <summary>
    /// Sum of the IPv6 pseudo-header (RFC 8200 section 8.1): source, destination, 32-bit upper-layer length,
    /// three zero bytes, next header (the upper-layer protocol, not an extension header).
    /// </summary>
    public static ulong PseudoHeaderIpv6(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte nextHeader, int upperLayerLength)
    {
        ulong sum = Add(0, source[..16]);
        sum = Add(sum, destination[..16]);
        return Add(sum, (uint)upperLayerLength) + nextHeader;
    }
}
