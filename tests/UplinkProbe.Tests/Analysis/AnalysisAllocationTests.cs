using UplinkProbe.Analysis;
using UplinkProbe.Capture;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Analysis;

/// <summary>
/// The analysis allocates per new MAC, flow, run of activity and per announcement (ARP/NDP claims are kept as
/// evidence, at most 1024 per binding) — never per ordinary packet. Measured on the OVN uplink mix without its
/// ARP/NDP frames, as the difference between analysing the same traffic once and five times over (same keys,
/// continuous time).
/// </summary>
public sealed class AnalysisAllocationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("uplinkprobe-alloc-").FullName;
    private readonly ITestOutputHelper _output;

    public AnalysisAllocationTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AnalysingMorePacketsOfTheSameTrafficAllocatesNothingMore()
    {
        const int Packets = 50_000;
        string once = Write("once.pcap", Packets, repeats: 1);
        string thrice = Write("five-times.pcap", Packets, repeats: 5);
        // Warm up (JIT tiers, pools, static tables), then take the least of three measurements: the runtime may
        // allocate on this thread now and then for its own reasons (tiering, on-stack replacement).
        for (int i = 0; i < 2; i++)
        {
            Analyze(once);
            Analyze(thrice);
        }

        long a1 = Enumerable.Range(0, 3).Min(_ => Allocated(() => Analyze(once)));
        long a3 = Enumerable.Range(0, 3).Min(_ => Allocated(() => Analyze(thrice)));
        double perPacket = (a3 - a1) / (4.0 * Packets);
        _output.WriteLine($"once: {a1} bytes, five times: {a3} bytes, {perPacket:F3} bytes per extra packet");

        // The runtime makes runs differ by up to ~50 KB either way for its own reasons: over 200,000 extra packets
        // that stays under 0.25 byte per packet, while one object per packet would be 24 bytes or more.
        Assert.True(perPacket < 0.25, $"{perPacket:F2} bytes allocated per packet");
    }

    private static void Analyze(string path)
    {
        // Without the read-ahead thread: its hand-offs happen per 1 MiB chunk, not per packet, and what a blocked
        // hand-off allocates depends on scheduling. On one thread: the files are big enough to be read in parts, and
        // how much of the work (and its allocations) lands on this thread would depend on how the parts were split.
        // What is measured here is the analysis.
        var analysis = new UplinkAnalysis(fileOptions: new CaptureFileOptions { ReadAhead = false }) { Threads = 1 };
        analysis.AddCapture(path, "hv1");
        analysis.Run();
    }

    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>The same frames <paramref name="repeats"/> times, with timestamps that keep going at the mix's ~1 µs pace.</summary>
    private string Write(string name, int packets, int repeats)
    {
        var frames = new List<(long, byte[])>();
        var traffic = new SyntheticUplinkTraffic(7);
        var buffer = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        while (frames.Count < packets)
        {
            int n = traffic.NextFrame(buffer, out long ts, out SyntheticFrameKind kind);
            if (kind is not (SyntheticFrameKind.Arp or SyntheticFrameKind.Ndp))
            {
                frames.Add((ts, buffer[..n]));
            }
        }

        long span = frames[^1].Item1 - frames[0].Item1 + 1_000;
        string path = Path.Combine(_dir, name);
        using var w = PcapWriter.Create(path, LinkType.Ethernet);
        for (int r = 0; r < repeats; r++)
        {
            foreach ((long ts, byte[] frame) in frames)
            {
                w.Write(ts + (r * span), frame);
            }
        }

        return path;
    }
}
