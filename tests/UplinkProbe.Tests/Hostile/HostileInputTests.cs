using System.Diagnostics;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;
using UplinkProbe.Tests.Capture;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Hostile;

/// <summary>
/// Hostile input through the whole per-packet path — reader, decoder, JSON and text output — on mutations of every
/// corpus capture: header fields of every decoded protocol layer corrupted in place (lengths set to 0, to their
/// maximum, off by one; random bytes), and whole files corrupted (bit flips, truncation, record and block lengths).
/// Nothing may throw, loop without end, read out of bounds or let memory grow with the input.
/// </summary>
public sealed class HostileInputTests
{
    private const int ProtocolMutants = 100_000;
    private const int FileMutants = 12_000;

    private static readonly LinkType[] LinkTypes =
        [LinkType.Ethernet, LinkType.LinuxSll, LinkType.LinuxSll2, LinkType.Raw, LinkType.Ipv4, LinkType.Ipv6, LinkType.Null, LinkType.Loop];

    private readonly ITestOutputHelper _output;

    public HostileInputTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void CorruptedProtocolHeadersNeverBreakDecodingOrOutput()
    {
        if (Corpus.RequireRoot(_output) is not { } root)
        {
            return;
        }

        List<(byte[] Bytes, LinkType Link, int OriginalLength)> packets = LoadCorpusPackets(root);
        var rng = new Random(HostileRun.Seed);
        var decoder = new PacketDecoder();
        var decoded = new DecodedPacket();
        var pipeline = new OutputPipeline();
        var failures = new List<string>();
        var layersHit = new HashSet<LayerKind>();
        long problems = 0;
        var clock = Stopwatch.StartNew();

        byte[] work = new byte[packets.Max(p => p.Bytes.Length)];

        HostileRun.Bounded(() =>
        {
            // Warm up once so that one-time costs (JIT, static tables) are not counted as per-packet allocation.
            pipeline.Check(packets[0].Bytes, packets[0].Link, packets[0].OriginalLength, decoder, decoded);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < ProtocolMutants && failures.Count < 20; i++)
            {
                (byte[] original, LinkType link, int originalLength) = packets[rng.Next(packets.Count)];
                Span<byte> bytes = work.AsSpan(0, original.Length);
                original.CopyTo(bytes);
                decoder.Decode(bytes, link, decoded, originalLength);
                Layer layer = default;
                (int at, int width) = (-1, 0);
                if (decoded.LayerCount > 0)
                {
                    layer = decoded.Layers[rng.Next(decoded.LayerCount)];
                    layersHit.Add(layer.Kind);
                    (at, width) = CorruptHeader(bytes, layer, rng);
                }

                // Sometimes also cut the packet or lie about its link type or original length.
                int length = rng.Next(8) == 0 ? rng.Next(bytes.Length + 1) : bytes.Length;
                LinkType decodeAs = rng.Next(16) == 0 ? LinkTypes[rng.Next(LinkTypes.Length)] : link;
                int claimed = rng.Next(8) == 0 ? rng.Next(0, 70_000) : originalLength;
                string? problem = pipeline.Check(bytes[..length], decodeAs, claimed, decoder, decoded);
                problems += decoded.HasProblem ? 1 : 0;
                if (problem is not null)
                {
                    failures.Add($"mutant {i} ({layer.Kind} +{at - layer.Offset} x{width}, {length} bytes as {decodeAs}): {problem}");
                }
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            _output.WriteLine($"{ProtocolMutants} header mutants of {packets.Count} corpus packets, {problems} with a decode problem, " +
                              $"layers corrupted: {string.Join(" ", layersHit.Order())}; allocated {allocated / 1024} KiB; {clock.Elapsed.TotalSeconds:F1} s");
            Assert.True(allocated < ProtocolMutants, $"the per-packet path allocated {allocated} bytes for {ProtocolMutants} packets (less than one byte per packet expected)");
        });

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        foreach (LayerKind kind in new[] { LayerKind.Ethernet, LayerKind.Dot1Q, LayerKind.Arp, LayerKind.Ipv4, LayerKind.Ipv6, LayerKind.Icmpv6, LayerKind.Udp, LayerKind.Geneve, LayerKind.Vxlan, LayerKind.LinuxSll2 })
        {
            Assert.Contains(kind, layersHit);
        }
    }

    [Fact]
    public void CorruptedFilesGiveOneLineErrorsAndNeverBreakThePipeline()
    {
        if (Corpus.RequireRoot(_output) is not { } root)
        {
            return;
        }

        IReadOnlyList<string> files = Corpus.CaptureFiles();
        int perFile = (FileMutants / files.Count) + 1;
        var decoder = new PacketDecoder();
        var decoded = new DecodedPacket();
        var pipeline = new OutputPipeline();
        var failures = new List<string>();
        long mutants = 0, rejected = 0, stopped = 0, packets = 0;

        HostileRun.Bounded(() =>
        {
            foreach (string file in files)
            {
                byte[] original = File.ReadAllBytes(Path.Combine(root, file));
                foreach (CaptureMutator.Mutant mutant in CaptureMutator.Mutate(original, HostileRun.Seed, perFile))
                {
                    mutants++;
                    CaptureReader reader;
                    try
                    {
                        reader = CaptureTestIo.Open(mutant.Bytes);
                    }
                    catch (CaptureFileException e)
                    {
                        rejected++;
                        if (e.Message.Contains('\n') || !e.Message.Contains("offset", StringComparison.Ordinal))
                        {
                            failures.Add($"{file} ({mutant.Description}): open error not one line with an offset: {e.Message}");
                        }

                        continue;
                    }

                    using (reader)
                    {
                        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
                        {
                            packets++;
                            if (pipeline.Check(data, record.LinkType, record.OriginalLength, decoder, decoded, record, reader.Format) is { } problem)
                            {
                                failures.Add($"{file} ({mutant.Description}) record {record.Number}: {problem}");
                            }
                        }

                        if (reader.Error is { } error)
                        {
                            stopped++;
                            if (error.ToString().Contains('\n'))
                            {
                                failures.Add($"{file} ({mutant.Description}): multi-line error {error}");
                            }
                        }
                    }
                }
            }
        });

        _output.WriteLine($"{mutants} mutated files: {rejected} rejected at open, {stopped} stopped with an error naming an offset, {packets} packets decoded and printed");
        Assert.True(mutants >= FileMutants);
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    /// <summary>Overwrites one to four bytes inside the layer's header with a boundary value or random bytes; returns where.</summary>
    internal static (int At, int Width) CorruptHeader(Span<byte> bytes, Layer layer, Random rng)
    {
        int span = Math.Max(1, Math.Min(layer.Length, bytes.Length - layer.Offset));
        int at = layer.Offset + rng.Next(span);
        if (at >= bytes.Length)
        {
            return (-1, 0);
        }

        int width = Math.Min(1 + rng.Next(4), bytes.Length - at);
        byte value = rng.Next(5) switch
        {
            0 => 0x00,
            1 => 0xFF,
            2 => (byte)(bytes[at] + 1),
            3 => (byte)(bytes[at] - 1),
            _ => (byte)rng.Next(256),
        };
        for (int k = 0; k < width; k++)
        {
            bytes[at + k] = value == 0 || value == 0xFF ? value : (byte)rng.Next(256);
        }

        return (at, width);
    }

    internal static List<(byte[], LinkType, int)> LoadCorpusPackets(string root) =>
        ReadPackets(Corpus.CaptureFiles().Select(file => Path.Combine(root, file)));

    /// <summary>Every record of the capture files that open, with its link type and original length.</summary>
    internal static List<(byte[], LinkType, int)> ReadPackets(IEnumerable<string> paths)
    {
        var list = new List<(byte[], LinkType, int)>();
        foreach (string path in paths)
        {
            if (!CaptureFile.TryOpen(path, out CaptureReader? reader, out _))
            {
                continue;
            }

            using (reader)
            {
                while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
                {
                    list.Add((data.ToArray(), record.LinkType, record.OriginalLength));
                }
            }
        }

        return list;
    }

    /// <summary>Decode, JSON and text formatting of one packet, with the invariants every output must keep.</summary>
    private sealed class OutputPipeline
    {
        private readonly PacketJsonWriter _json = new();
        private readonly PacketTextFormatter _text = new();

        public string? Check(ReadOnlySpan<byte> data, LinkType link, int originalLength, PacketDecoder decoder, DecodedPacket decoded,
            CaptureRecord? record = null, CaptureFormat format = CaptureFormat.Pcap)
        {
            try
            {
                decoder.Decode(data, link, decoded, originalLength);
                foreach (Layer layer in decoded.Layers)
                {
                    if (layer.Offset < 0 || layer.Length < 0 || layer.Offset + layer.Length > data.Length)
                    {
                        return $"layer {layer.Kind} [{layer.Offset}, +{layer.Length}) outside the {data.Length} captured bytes";
                    }
                }

                if (decoded.HasProblem && (decoded.ProblemOffset < 0 || decoded.ProblemOffset > data.Length))
                {
                    return $"problem offset {decoded.ProblemOffset} outside the packet";
                }

                CaptureRecord r = record ?? new CaptureRecord { Number = 1, HasTimestamp = true, LinkType = link, CapturedLength = data.Length, OriginalLength = originalLength };
                ReadOnlySpan<byte> json = _json.Format(r, data, decoded, format);
                if (json.Length < 2 || json[0] != (byte)'{' || json[^1] != (byte)'}' || json.IndexOf((byte)'\n') >= 0)
                {
                    return "JSON output is not one object on one line";
                }

                ReadOnlySpan<char> line = _text.Format(r, data, decoded);
                if (line.IndexOfAny('\n', '\r') >= 0)
                {
                    return "text output spans several lines";
                }

                return null;
            }
            catch (Exception e)
            {
                return $"{e.GetType().Name}: {e.Message}";
            }
        }
    }
}
