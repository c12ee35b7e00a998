using UplinkProbe.Capture;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;

namespace UplinkProbe.Benchmarks;

/// <summary>Frames of the synthetic OVN uplink mix, packed into one array (as a capture buffer would hold them).</summary>
internal sealed class BenchmarkFrames
{
    public BenchmarkFrames(int count, ulong seed = 1)
    {
        var traffic = new SyntheticUplinkTraffic(seed);
        var frame = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        var data = new MemoryStream();
        Offsets = new int[count];
        Lengths = new int[count];
        Timestamps = new long[count];
        for (int i = 0; i < count; i++)
        {
            int n = traffic.NextFrame(frame, out Timestamps[i]);
            Offsets[i] = (int)data.Length;
            Lengths[i] = n;
            data.Write(frame, 0, n);
        }

        Data = data.ToArray();
    }

    public byte[] Data { get; }

    public int[] Offsets { get; }

    public int[] Lengths { get; }

    public long[] Timestamps { get; }

    public int Count => Offsets.Length;

    public ReadOnlySpan<byte> Frame(int i) => Data.AsSpan(Offsets[i], Lengths[i]);

    /// <summary>Writes the frames to a classic pcap file.</summary>
    public void WritePcap(string path)
    {
        using var w = PcapWriter.Create(path, LinkType.Ethernet);
        for (int i = 0; i < Count; i++)
        {
            w.Write(Timestamps[i], Frame(i));
        }
    }
}
