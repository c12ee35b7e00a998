using BenchmarkDotNet.Attributes;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Benchmarks;

/// <summary>
/// (b) Read + decode: <see cref="CaptureFile.Open(string, CaptureFileOptions?)"/> over a generated pcap file of
/// 100k packets (in the page cache after the first iteration), every record decoded. Per packet.
/// Compiled only once CaptureFile is in the library (see the project file).
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ReadDecodeBenchmarks
{
    public const int Packets = 100_000;

    private string _path = null!;
    private PacketDecoder _decoder = null!;
    private DecodedPacket _result = null!;

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"uplinkprobe-bench-{Environment.ProcessId}.pcap");
        new BenchmarkFrames(Packets).WritePcap(_path);
        _decoder = new PacketDecoder();
        _result = new DecodedPacket();
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    [Benchmark(OperationsPerInvoke = Packets)]
    public long ReadAndDecode()
    {
        long layers = 0;
        using CaptureReader reader = CaptureFile.Open(_path);
        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            _decoder.Decode(data, record.LinkType, _result);
            layers += _result.LayerCount;
        }

        if (reader.Statistics.Packets != Packets)
        {
            throw new InvalidOperationException($"read {reader.Statistics.Packets} packets, expected {Packets}");
        }

        return layers;
    }
}
