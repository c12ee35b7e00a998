using BenchmarkDotNet.Attributes;
using UplinkProbe.Decoding;

namespace UplinkProbe.Benchmarks;

/// <summary>
/// (a) Decode only: the decoder over frames already in memory. Reported per packet; the allocated column
/// must read 0 B (the decoder reuses one <see cref="DecodedPacket"/>).
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class DecodeBenchmarks
{
    public const int Packets = 100_000;

    private BenchmarkFrames _frames = null!;
    private PacketDecoder _decoder = null!;
    private DecodedPacket _result = null!;

    [GlobalSetup]
    public void Setup()
    {
        _frames = new BenchmarkFrames(Packets);
        _decoder = new PacketDecoder();
        _result = new DecodedPacket();
    }

    [Benchmark(OperationsPerInvoke = Packets)]
    public long DecodeOnly()
    {
        long layers = 0;
        byte[] data = _frames.Data;
        int[] offsets = _frames.Offsets, lengths = _frames.Lengths;
        for (int i = 0; i < offsets.Length; i++)
        {
            _decoder.Decode(data.AsSpan(offsets[i], lengths[i]), LinkType.Ethernet, _result);
            layers += _result.LayerCount;
        }

        return layers;
    }
}
