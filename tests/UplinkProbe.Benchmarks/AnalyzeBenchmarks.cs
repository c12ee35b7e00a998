using BenchmarkDotNet.Attributes;
using UplinkProbe.Analysis;

namespace UplinkProbe.Benchmarks;

/// <summary>
/// Offline analysis (read + decode + every analyzer + report) of the 100k-packet OVN uplink mix, per packet, to
/// compare with <see cref="ReadDecodeBenchmarks"/>. Allocation here includes building the report once per run.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class AnalyzeBenchmarks
{
    public const int Packets = 100_000;

    private string _path = null!;

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"uplinkprobe-bench-analyze-{Environment.ProcessId}.pcap");
        new BenchmarkFrames(Packets).WritePcap(_path);
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark(OperationsPerInvoke = Packets)]
    public int Analyze()
    {
        var analysis = new UplinkAnalysis();
        analysis.AddCapture(_path, "hv1");
        return analysis.Run().Findings.Count;
    }
}
