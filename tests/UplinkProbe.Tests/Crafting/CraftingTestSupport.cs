using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Tests.Crafting;

/// <summary>Documentation addresses (RFC 7042 MACs, RFC 5737 IPv4, RFC 3849 IPv6) and capture-file helpers.</summary>
internal static class Doc
{
    public static byte[] Mac(byte last) => [0x00, 0x00, 0x5e, 0x00, 0x53, last];

    public static byte[] Ip(byte a, byte b, byte c, byte d) => [a, b, c, d];

    /// <summary>2001:db8::<paramref name="last"/> (the low 16 bits).</summary>
    public static byte[] Ip6(ushort last, ushort second = 0) =>
        [0x20, 0x01, 0x0d, 0xb8, (byte)(second >> 8), (byte)second, 0, 0, 0, 0, 0, 0, 0, 0, (byte)(last >> 8), (byte)last];

    public static string MacText(byte[] mac) => string.Join(":", mac.Select(b => b.ToString("x2")));

    /// <summary>Writes the frames to a temporary pcapng (one Ethernet interface, outbound) and returns its path.</summary>
    public static string WritePcapNg(IEnumerable<byte[]> frames)
    {
        string path = Path.Combine(Path.GetTempPath(), $"uplinkprobe-crafting-{Guid.NewGuid():N}.pcapng");
        using var w = PcapNgWriter.Create(path);
        int id = w.AddInterface("up0", LinkType.Ethernet, node: "hv1");
        long ts = 1_700_000_000_000_000_000;
        foreach (byte[] f in frames)
        {
            w.WritePacket(id, ts, f, PacketDirection.Outbound);
            ts += 1000;
        }

        return path;
    }

    /// <summary>Writes the frames to a temporary classic pcap (Ethernet, nanosecond) and returns its path.</summary>
    public static string WritePcap(IEnumerable<byte[]> frames)
    {
        string path = Path.Combine(Path.GetTempPath(), $"uplinkprobe-crafting-{Guid.NewGuid():N}.pcap");
        using var w = PcapWriter.Create(path, LinkType.Ethernet);
        long ts = 1_700_000_000_000_000_000;
        foreach (byte[] f in frames)
        {
            w.Write(ts, f);
            ts += 1000;
        }

        return path;
    }
}

/// <summary>Builds a frame into a fresh array (tests only; the builder itself never allocates).</summary>
internal delegate void BuildFrame(ref UplinkProbe.Crafting.FrameBuilder b);

internal static class Frames
{
    public static byte[] Build(BuildFrame build, int minimumLength = 0)
    {
        var buffer = new byte[9000];
        // Dirty the buffer: the builder must not rely on zeroed memory.
        buffer.AsSpan().Fill(0xa5);
        var b = new UplinkProbe.Crafting.FrameBuilder(buffer);
        build(ref b);
        int n = b.Finish(minimumLength);
        return buffer[..n];
    }
}
