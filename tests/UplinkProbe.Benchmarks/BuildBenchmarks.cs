using BenchmarkDotNet.Attributes;
using UplinkProbe.Crafting;

namespace UplinkProbe.Benchmarks;

/// <summary>Frame building: the synthetic uplink mix (what the traffic generator does per packet, minus the file write).</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class BuildBenchmarks
{
    public const int Packets = 100_000;

    private readonly byte[] _frame = new byte[SyntheticUplinkTraffic.MaxFrameLength];
    private SyntheticUplinkTraffic _traffic = null!;

    [IterationSetup]
    public void Setup() => _traffic = new SyntheticUplinkTraffic(1);

    [Benchmark(OperationsPerInvoke = Packets)]
    public long GenerateMix()
    {
        long bytes = 0;
        for (int i = 0; i < Packets; i++)
        {
            bytes += _traffic.NextFrame(_frame, out _);
        }

        return bytes;
    }
}
