using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis;

/// <summary>
/// An IPv4 or IPv6 address as one key, IPv4 in its IPv4-mapped form ::ffff:a.b.c.d (RFC 4291 2.5.5.2), so both
/// families share tables and sort together (by the 128-bit value). Two halves rather than a <see cref="UInt128"/>:
/// ReadyToRun does not precompile code that lays out UInt128.
/// </summary>
internal readonly record struct IpKey(ulong High, ulong Low) : IComparable<IpKey>
{
    /// <summary>A key no address has (ffff:…:ffff is multicast, never claimed): "no IP", as for RARP.</summary>
    public static IpKey None => new(ulong.MaxValue, ulong.MaxValue);

    public bool IsIpv4Mapped => High == 0 && (Low >> 32) == 0xFFFF;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpKey Of(Ipv4Address ip) => new(0, (0xFFFFUL << 32) | ip.Value);

    public static IpKey Of(Ipv6Address ip) => new(ip.Upper, ip.Lower);

    /// <summary>Sixteen octets of an IPv6 address in wire order (the span must hold them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IpKey ReadIpv6(ReadOnlySpan<byte> data) => new(BinaryPrimitives.ReadUInt64BigEndian(data), BinaryPrimitives.ReadUInt64BigEndian(data[8..]));

    public int CompareTo(IpKey other) => High != other.High ? High.CompareTo(other.High) : Low.CompareTo(other.Low);

    /// <summary>Dotted IPv4 for mapped addresses, RFC 5952 IPv6 otherwise.</summary>
    public override string ToString() => IsIpv4Mapped ? new Ipv4Address((uint)Low).ToString() : new Ipv6Address(High, Low).ToString();
}
