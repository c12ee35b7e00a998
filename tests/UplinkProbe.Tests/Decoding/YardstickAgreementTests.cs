using UplinkProbe.Analysis;
using UplinkProbe.Capture;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using UplinkProbe.Tests.Capture;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Decoding;

/// <summary>
/// The README compares <c>stats</c> with two hand-written C loops (tools/bench-reference): that comparison holds only if
/// they walk the same packets to the same layers. Both are compiled here with <c>cc</c> (installed by
/// tools/install-deps.sh) and run on the benchmark's mix; their packet and per-layer counts must equal the decoder's,
/// and the parts loop must give the one-thread loop's counts however many parts it cuts the file into. The same holds for
/// the parts loop built as the yardstick of <c>analyze</c>, whose tables must also hold what analyze finds.
/// </summary>
public sealed class YardstickAgreementTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("uplinkprobe-yardstick-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void BothCLoopsCountWhatTheDecoderCounts()
    {
        if (Compile("readloop.c") is not { } readLoop || Compile("readloop-parts.c", "-pthread") is not { } partsLoop)
        {
            return;
        }

        string capture = WriteMix(12_000);
        DecodeStatistics stats = Decode(capture);
        var expected = new Dictionary<string, long>
        {
            ["packets"] = stats.Packets,
            ["ethernet"] = stats.LayerCount(LayerKind.Ethernet),
            ["vlan"] = stats.LayerCount(LayerKind.Dot1Q) + stats.LayerCount(LayerKind.Dot1AD),
            ["arp"] = stats.LayerCount(LayerKind.Arp),
            ["ipv4"] = stats.LayerCount(LayerKind.Ipv4),
            ["ipv6"] = stats.LayerCount(LayerKind.Ipv6),
            ["ipv6-ext"] = stats.LayerCount(LayerKind.Ipv6HopByHop) + stats.LayerCount(LayerKind.Ipv6Routing)
                           + stats.LayerCount(LayerKind.Ipv6Fragment) + stats.LayerCount(LayerKind.Ipv6DestinationOptions),
            ["tcp"] = stats.LayerCount(LayerKind.Tcp),
            ["udp"] = stats.LayerCount(LayerKind.Udp),
            ["icmpv6"] = stats.LayerCount(LayerKind.Icmpv6),
            ["geneve"] = stats.LayerCount(LayerKind.Geneve),
            ["vxlan"] = stats.LayerCount(LayerKind.Vxlan),
        };
        Assert.True(expected["geneve"] > 0 && expected["arp"] > 0 && expected["vlan"] > 0 && expected["icmpv6"] > 0, "the mix has every kind compared");

        Dictionary<string, long> single = Run(readLoop, capture);
        Assert.Equal(0, single["short"]);
        foreach ((string layer, long count) in expected)
        {
            Assert.True(count == single[layer], $"readloop {layer}: {single[layer]}, the decoder {count}");
        }

        foreach (int parts in new[] { 1, 2, 3, 7 })
        {
            Dictionary<string, long> inParts = Run(partsLoop, "-j", parts.ToString(System.Globalization.CultureInfo.InvariantCulture), capture);
            Assert.Equal(single, inParts);
        }
    }

    /// <summary>The analyze yardstick (readloop-parts.c with -DFLOW_TABLES) must walk the same layers and hold what
    /// analyze holds: one flow per tunnel analyze reports and one track per unicast Ethernet source, however it cuts the file.</summary>
    [Fact]
    public void TheFlowTablesLoopHoldsTheTunnelsAnalyzeReports()
    {
        if (Compile("readloop-parts.c", "-pthread", "-DFLOW_TABLES") is not { } tablesLoop)
        {
            return;
        }

        string capture = WriteMix(12_000);
        var analysis = new UplinkAnalysis();
        analysis.AddCapture(capture, "hv1");
        AnalysisReport report = analysis.Run();
        var senders = new HashSet<ulong>();
        using (CaptureReader reader = CaptureFile.Open(capture))
        {
            while (reader.TryReadNext(out _, out ReadOnlySpan<byte> data))
            {
                if (data.Length >= EthernetHeader.Length && MacAddress.Read(data[6..]) is { IsMulticast: false } source)
                {
                    senders.Add(source.Value);
                }
            }
        }

        DecodeStatistics stats = Decode(capture);
        Assert.True(report.Tunnels.Count > 10 && senders.Count > 10, $"{report.Tunnels.Count} tunnels, {senders.Count} senders");
        foreach (int parts in new[] { 1, 2, 3 })
        {
            Dictionary<string, long> counts = Run(tablesLoop, "-j", parts.ToString(System.Globalization.CultureInfo.InvariantCulture), capture);
            Assert.Equal(stats.Packets, counts["packets"]);
            Assert.Equal(stats.LayerCount(LayerKind.Geneve), counts["geneve"]);
            Assert.Equal(report.Tunnels.Count, counts["flows"]);
            Assert.Equal(senders.Count, counts["tracks"]);
            Assert.Equal(0, counts["not-held"]);
        }
    }

    [Fact]
    public void ThePartsLoopRejectsACutRecord()
    {
        if (Compile("readloop-parts.c", "-pthread") is not { } partsLoop)
        {
            return;
        }

        byte[] file = File.ReadAllBytes(WriteMix(2_000));
        string cut = Path.Combine(_dir, "cut.pcap");
        File.WriteAllBytes(cut, file[..^100]);
        (int exit, _, string error) = Exec(partsLoop, "-j", "2", cut);
        Assert.Equal(1, exit);
        Assert.Contains("stopped at offset", error, StringComparison.Ordinal);
    }

    private string WriteMix(int frames)
    {
        var traffic = new SyntheticUplinkTraffic(seed: 3);
        var bytes = new PcapBytes();
        var frame = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        for (int i = 0; i < frames; i++)
        {
            int length = traffic.NextFrame(frame, out long ns);
            bytes.Record((uint)(ns / 1_000_000_000), (uint)(ns % 1_000_000_000 / 1000), frame.AsSpan(0, length).ToArray());
        }

        string path = Path.Combine(_dir, "mix.pcap");
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    private static DecodeStatistics Decode(string path)
    {
        var stats = new DecodeStatistics();
        using CaptureReader reader = CaptureFile.Open(path);
        var decoder = new PacketDecoder();
        var decoded = new DecodedPacket();
        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            decoder.Decode(data, record.LinkType, decoded, record.OriginalLength);
            stats.Add(decoded);
        }

        return stats;
    }

    /// <summary>The C source compiled into the test's directory; null (after saying why) when there is no compiler outside CI.</summary>
    private string? Compile(string source, params string[] flags)
    {
        string? cc = new[] { "/usr/bin/cc", "/usr/local/bin/cc" }.FirstOrDefault(File.Exists);
        if (cc is null)
        {
            Assert.False(Corpus.InCi, "no C compiler: tools/install-deps.sh installs gcc");
            output.WriteLine("no C compiler; the yardsticks were not checked");
            return null;
        }

        string binary = Path.Combine(_dir, Path.GetFileNameWithoutExtension(source) + string.Concat(flags.Where(f => f.StartsWith("-D", StringComparison.Ordinal))));
        (int exit, _, string error) = Exec(cc, [.. flags, "-O2", "-Wall", "-Werror", "-o", binary, Path.Combine(Corpus.RepositoryRoot, "tools", "bench-reference", source)]);
        Assert.True(exit == 0, $"cc {source}: {error}");
        return binary;
    }

    /// <summary>The counts a loop prints: "packets N ethernet N ...".</summary>
    private static Dictionary<string, long> Run(string binary, params string[] args)
    {
        (int exit, string stdout, string error) = Exec(binary, args);
        Assert.True(exit == 0, $"{Path.GetFileName(binary)}: exit {exit}: {error}");
        string[] words = stdout.Trim().Split(' ');
        Assert.True(words.Length % 2 == 0, stdout);
        var counts = new Dictionary<string, long>();
        for (int i = 0; i < words.Length; i += 2)
        {
            counts[words[i]] = long.Parse(words[i + 1], System.Globalization.CultureInfo.InvariantCulture);
        }

        return counts;
    }

    private static (int Exit, string Stdout, string Stderr) Exec(string file, params string[] args) => ChildProcess.Run(file, args, TimeSpan.FromSeconds(60));
}
