using System.Buffers.Binary;

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
        int i = 0;
        // 64-bit reads; the two 32-bit halves are added separately so the accumulator cannot overflow
        // for any span shorter than 2^34 bytes. End-around carries are folded in Fold.
        for (; i + 8 <= data.Length; i += 8)
        {
            ulong w = BinaryPrimitives.ReadUInt64BigEndian(data[i..]);
            sum += (w >> 32) + (w & 0xffff_ffffUL);
        }

        for (; i + 2 <= data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (ulong)data[i] << 8;
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
