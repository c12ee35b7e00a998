using System.Text;
using System.Text.Json;
using UplinkProbe.Capture;
using UplinkProbe.Cli;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Cli;

/// <summary>The `uplinkprobe` command line run in-process: verbs, help, exit codes and error lines.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("uplinkprobe-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("decode")]
    [InlineData("stats")]
    public void EveryVerbHasHelpAndExitsZero(string verb)
    {
        (int exit, string stdout, _) = Run(verb, "--help");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        Assert.Contains(verb, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void RootHelpListsVerbsAndExitCodes()
    {
        (int exit, string stdout, _) = Run("--help");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("decode", stdout, StringComparison.Ordinal);
        Assert.Contains("stats", stdout, StringComparison.Ordinal);
        Assert.Contains("2 usage error", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("decode")]
    [InlineData("decode", "--format", "xml", "x.pcap")]
    [InlineData("decode", "--bogus", "x.pcap")]
    [InlineData("decode", "--count", "0", "x.pcap")]
    [InlineData("frobnicate")]
    [InlineData()]
    public void UsageErrorsExitTwoWithAHint(params string[] args)
    {
        (int exit, string stdout, string stderr) = Run(args);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("--help", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnreadableFilesExitOneWithOneLinePerFile()
    {
        string garbage = Path.Combine(_dir, "garbage.pcap");
        File.WriteAllText(garbage, "this is not a capture file at all");
        (int exit, string stdout, string stderr) = Run("decode", Path.Combine(_dir, "missing.pcap"), garbage);
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Equal(string.Empty, stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("missing.pcap: no such file", lines[0], StringComparison.Ordinal);
        Assert.Contains("garbage.pcap: at offset 0:", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeJsonAndTextDescribeAnOvnGarpAndATruncatedPacket()
    {
        string path = WriteSample();
        (int exit, string json, string stderr) = Run("decode", "--format", "json", path);
        Assert.Equal(ExitCodes.Ok, exit);
        string[] lines = json.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);

        JsonElement garp = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("gratuitous_request", garp.GetProperty("arp").GetProperty("kind").GetString());
        Assert.Equal("203.0.113.10", garp.GetProperty("arp").GetProperty("spa").GetString());
        Assert.Equal(100, garp.GetProperty("vlan")[0].GetProperty("id").GetInt32());
        Assert.Equal(["eth", "vlan", "arp"], garp.GetProperty("layers").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal("1700000000.000000001", garp.GetProperty("ts").GetString());

        JsonElement cut = JsonDocument.Parse(lines[1]).RootElement;
        Assert.Equal("truncated", cut.GetProperty("problem").GetProperty("kind").GetString());
        Assert.Equal("truncated_arp", cut.GetProperty("problem").GetProperty("reason").GetString());

        Assert.Contains("2 packets", stderr, StringComparison.Ordinal);
        Assert.Contains("1 truncated", stderr, StringComparison.Ordinal);

        (exit, string text, _) = Run("decode", path);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("vlan 100 GARP request 203.0.113.10 is-at 00:16:3e:aa:00:02", text, StringComparison.Ordinal);
        Assert.Contains("[truncated: capture ends inside the ARP message]", text, StringComparison.Ordinal);
    }

    [Fact]
    public void StatsPrintsOnlyCountersAsTextOrJson()
    {
        string path = WriteSample();
        (int exit, string text, string stderr) = Run("stats", path);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal(string.Empty, stderr);
        Assert.StartsWith($"{path}: 2 packets", text, StringComparison.Ordinal);
        Assert.Contains("truncated truncated_arp: 1", text, StringComparison.Ordinal);

        (exit, string json, _) = Run("stats", "--format", "json", path);
        Assert.Equal(ExitCodes.Ok, exit);
        JsonElement s = JsonDocument.Parse(json).RootElement;
        Assert.Equal(2, s.GetProperty("packets").GetInt64());
        Assert.Equal(1, s.GetProperty("truncated").GetInt64());
        Assert.Equal(2, s.GetProperty("packets_with").GetProperty("vlan").GetInt64());
        Assert.Equal(1, s.GetProperty("problems").GetProperty("truncated_arp").GetInt64());
    }

    [Fact]
    public void CountStopsEarly()
    {
        (int exit, string text, _) = Run("decode", "-c", "1", WriteSample());
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>A pcap with OVN's GARP request on VLAN 100 (padded to 60 bytes) and the same frame cut inside the ARP message.</summary>
    private string WriteSample()
    {
        byte[] garp = Convert.FromHexString(
            "ffffffffffff00163eaa0002810000640806" + // broadcast from the gateway MAC, 802.1Q VLAN 100, ARP
            "000108000604000100163eaa0002cb00710a000000000000cb00710a" + // request, SPA = TPA = 203.0.113.10, THA zero
            "0000000000000000000000000000");
        string path = Path.Combine(_dir, "garp.pcap");
        using (var w = PcapWriter.Create(path, LinkType.Ethernet))
        {
            w.Write(1_700_000_000_000_000_001, garp);
            w.Write(1_700_000_001_000_000_000, garp.AsSpan(0, 30), originalLength: garp.Length);
        }

        return path;
    }

    /// <summary>A generated OVN-uplink mix big enough for two parts (twice <see cref="CaptureFileParts.MinPartBytes"/>).</summary>
    private string WriteTwoPartMix()
    {
        string path = Path.Combine(_dir, "big.pcap");
        var traffic = new SyntheticUplinkTraffic(seed: 11);
        var frame = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        using (var w = PcapWriter.Create(path, LinkType.Ethernet))
        {
            while (new FileInfo(path).Length < (2 * CaptureFileParts.MinPartBytes) + (1 << 20))
            {
                for (int i = 0; i < 1000; i++)
                {
                    int length = traffic.NextFrame(frame, out long ns);
                    w.Write(ns, frame.AsSpan(0, length));
                }

                w.Flush();
            }
        }

        Assert.True(CaptureFileParts.TryOpen(path, 2, out CaptureFileParts? parts));
        parts.Dispose();
        return path;
    }

    [Theory]
    [InlineData("stats")]
    [InlineData("analyze")]
    public void ReadingInPartsOnEveryCoreEqualsOneThread(string verb)
    {
        string path = WriteTwoPartMix();
        foreach (string format in new[] { "text", "json" })
        {
            (int exit1, string one, string err1) = Run(verb, "--threads", "1", "--format", format, path);
            (int exit2, string two, string err2) = Run(verb, "-j", "2", "--format", format, path);
            Assert.Equal((ExitCodes.Ok, ExitCodes.Ok, string.Empty, string.Empty), (exit1, exit2, err1, err2));
            Assert.Equal(one, two);
            Assert.Contains("geneve", one, StringComparison.OrdinalIgnoreCase);
        }

        (int bad, _, string error) = Run(verb, "--threads", "0", path);
        Assert.Equal(ExitCodes.Usage, bad);
        Assert.Contains("--threads", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>stats</c> counts with <see cref="PacketDecoder.DecodeChain"/> (no layer positions on the straight-line path),
    /// <c>decode</c> with the full decoder: the counters must be the same, on a clean mix read in parts and on a copy
    /// with header bytes corrupted in place (malformed and cut headers go through both decoder paths).
    /// </summary>
    [Fact]
    public void StatsCountsWhatDecodeCounts()
    {
        string clean = WriteTwoPartMix();
        byte[] bytes = File.ReadAllBytes(clean);
        var random = new Random(5);
        using (CaptureReader reader = CaptureFile.Open(clean))
        {
            while (reader.TryReadNext(out CaptureRecord record, out _))
            {
                if (random.Next(3) == 0 && record.CapturedLength > 0)
                {
                    // A bit of one of the first 100 bytes of the frame, after the 16-byte record header.
                    bytes[record.FileOffset + 16 + random.Next(Math.Min(record.CapturedLength, 100))] ^= (byte)(1 << random.Next(8));
                }
            }
        }

        string corrupted = Path.Combine(_dir, "corrupted.pcap");
        File.WriteAllBytes(corrupted, bytes);
        foreach (string path in new[] { clean, corrupted })
        {
            (int statsExit, string stats, string statsErr) = Run("stats", path);
            (int decodeExit, _, string summary) = Run("decode", path);
            Assert.Equal((ExitCodes.Ok, ExitCodes.Ok, string.Empty), (statsExit, decodeExit, statsErr));
            Assert.Equal(summary, stats);
            Assert.Contains("geneve ", stats, StringComparison.Ordinal);
        }

        Assert.Matches(@", [1-9][0-9]* malformed", Run("stats", corrupted).Stdout);
    }

    private static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int exit = CliApplication.Run(args, stdout, stderr);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }
}
