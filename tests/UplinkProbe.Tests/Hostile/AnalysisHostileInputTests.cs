using System.Text.Json;
using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;
using UplinkProbe.Tests.Capture;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Hostile;

/// <summary>
/// Hostile input through the analysis (<c>analyze</c>, <c>watch</c>), which reads packet bytes of its own on top of
/// the decoder's layers — tunnel endpoints and VNIs, OVN's Geneve option, link addresses, ARP and NDP claims, BFD
/// inside Geneve — and builds reports from whatever state the packets left. Packets of the committed OVN lab run (GARP
/// bursts, Geneve with OVN's option, BFD, SLL2 direction), of the synthetic uplink mix and of the corpus have their
/// headers corrupted, are cut, mislabelled and given hostile timestamps and directions, and go through one session
/// with the lab's inventory; reports are built and written in all three formats along the way. Whole capture files of
/// the lab run are corrupted and analyzed the way <c>analyze</c> does. Nothing may throw or hang; every JSON report must
/// parse; a capture that cannot be read says so in one line.
/// </summary>
public sealed class AnalysisHostileInputTests
{
    private const int PacketMutants = 60_000;
    private const int ReportEvery = 6_000;
    private const int FileMutantsPerCapture = 120;

    private static readonly LinkType[] LinkTypes = [LinkType.Ethernet, LinkType.LinuxSll, LinkType.LinuxSll2, LinkType.Raw];
    private static readonly PacketDirection[] Directions = [PacketDirection.Unknown, PacketDirection.Inbound, PacketDirection.Outbound];

    private readonly ITestOutputHelper _output;

    public AnalysisHostileInputTests(ITestOutputHelper output) => _output = output;

    private static string LabDirectory => Path.Combine(Corpus.RepositoryRoot, "captures", "ovn-lab");

    [Fact]
    public void CorruptedPacketsNeverBreakTheAnalysisOrItsReports()
    {
        List<(byte[] Bytes, LinkType Link, int OriginalLength)> packets = LoadPackets(out string origin);
        CloudInventory inventory = InventoryLoader.Load(Path.Combine(LabDirectory, "inventory.json"));
        var session = new AnalysisSession(inventory);
        CaptureSource[] sources =
        [
            session.AddSource("hv1-uplink.pcap", "hv1", "file name"),
            session.AddSource("hv2-uplink-out.pcap", "hv2", "--node", transmitOnly: true),
            session.AddSource("hv3.pcapng", "hv3", "pcapng interface"),
        ];
        var rng = new Random(HostileRun.Seed);
        var decoder = new PacketDecoder();
        var decoded = new DecodedPacket();
        var failures = new List<string>();
        byte[] work = new byte[packets.Max(p => p.Bytes.Length)];
        long ns = 1_763_700_000L * 1_000_000_000L;
        int reports = 0;
        AnalysisReport? last = null;

        HostileRun.Bounded(() =>
        {
            for (int i = 0; i < PacketMutants && failures.Count < 20; i++)
            {
                (byte[] original, LinkType link, int originalLength) = packets[rng.Next(packets.Count)];
                Span<byte> bytes = work.AsSpan(0, original.Length);
                original.CopyTo(bytes);

                // One packet in eight goes through intact, so that real state (bursts, flows, timelines) builds up for
                // the corrupted ones to collide with; the others get one to three header corruptions.
                string what = "intact";
                if (rng.Next(8) != 0)
                {
                    var changes = new List<string>();
                    for (int c = 1 + rng.Next(3); c > 0; c--)
                    {
                        decoder.Decode(bytes, link, decoded, originalLength);
                        if (decoded.LayerCount == 0)
                        {
                            break;
                        }

                        Layer layer = decoded.Layers[rng.Next(decoded.LayerCount)];
                        (int at, int width) = HostileInputTests.CorruptHeader(bytes, layer, rng);
                        changes.Add($"{layer.Kind}+{at - layer.Offset}x{width}");
                    }

                    what = string.Join(",", changes);
                }

                int length = rng.Next(8) == 0 ? rng.Next(bytes.Length + 1) : bytes.Length;
                LinkType decodeAs = rng.Next(16) == 0 ? LinkTypes[rng.Next(LinkTypes.Length)] : link;
                int claimed = rng.Next(8) == 0 ? rng.Next(0, 70_000) : originalLength;
                ns = NextTimestamp(ns, rng);
                var record = new CaptureRecord
                {
                    Number = i + 1,
                    TimestampNs = ns,
                    HasTimestamp = rng.Next(32) != 0,
                    LinkType = decodeAs,
                    Direction = Directions[rng.Next(Directions.Length)],
                    OriginalLength = claimed,
                    CapturedLength = length,
                };
                CaptureSource source = sources[rng.Next(sources.Length)];
                try
                {
                    session.OnPacket(source, record, bytes[..length]);
                }
                catch (Exception e)
                {
                    failures.Add($"packet {i} ({what}, {length} bytes as {decodeAs}, {record.Direction}, at {ns}): {e.GetType().Name}: {e.Message}");
                }

                if ((i + 1) % ReportEvery == 0 && CheckReport(session, $"report after packet {i + 1}", failures) is { } report)
                {
                    last = report;
                    reports++;
                }
            }
        });

        _output.WriteLine($"{PacketMutants} mutants of {packets.Count} packets ({origin}); {reports} reports built and written; " +
                          $"last: {last?.Announcements.Count} announcements, {last?.Tunnels.Count} tunnel flows, {last?.Findings.Count} findings, " +
                          $"{last?.GarpBursts.Count} GARP bursts, {last?.BfdSessions.Count} BFD sessions, {last?.L2Evidence.Count} L2 rows");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(PacketMutants / ReportEvery, reports);
        Assert.Equal(PacketMutants, session.Packets);

        // The run reached the analysis, not only the decoder's error paths.
        Assert.NotNull(last);
        Assert.NotEmpty(last.Announcements);
        Assert.NotEmpty(last.Tunnels);
        Assert.NotEmpty(last.GarpBursts);
        Assert.NotEmpty(last.BfdSessions);
        Assert.NotEmpty(last.Findings);
    }

    [Fact]
    public void CorruptedCaptureFilesGiveAReportOrAOneLineError()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"uplinkprobe-hostile-analysis-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        var failures = new List<string>();
        long mutants = 0, unreadable = 0, stopped = 0;
        try
        {
            CloudInventory inventory = InventoryLoader.Load(Path.Combine(LabDirectory, "inventory.json"));
            HostileRun.Bounded(() =>
            {
                foreach (string capture in LabCaptures())
                {
                    byte[] original = File.ReadAllBytes(capture);
                    foreach (CaptureMutator.Mutant mutant in CaptureMutator.Mutate(original, HostileRun.Seed, FileMutantsPerCapture))
                    {
                        mutants++;
                        string path = Path.Combine(dir, Path.GetFileName(capture));
                        File.WriteAllBytes(path, mutant.Bytes);
                        string label = $"{Path.GetFileName(capture)} ({mutant.Description})";
                        var analysis = new UplinkAnalysis(mutants % 2 == 0 ? inventory : null) { Threads = 1 };
                        if (mutants % 3 == 0)
                        {
                            analysis.AddCapture(path, "hv1", transmitOnly: mutants % 6 == 0);
                        }
                        else
                        {
                            analysis.AddCapture(path);
                        }

                        AnalysisReport report;
                        try
                        {
                            report = analysis.Run();
                        }
                        catch (Exception e)
                        {
                            failures.Add($"{label}: {e.GetType().Name}: {e.Message}");
                            continue;
                        }

                        foreach (CaptureSource source in report.Sources.Where(s => s.ReadError is not null))
                        {
                            unreadable += source.Packets == 0 ? 1 : 0;
                            stopped += source.Packets > 0 ? 1 : 0;
                            if (source.ReadError!.Contains('\n') || source.ReadError.Contains('\r'))
                            {
                                failures.Add($"{label}: read error on several lines: {source.ReadError}");
                            }
                        }

                        CheckWriters(report, label, failures);
                    }
                }
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        _output.WriteLine($"{mutants} corrupted lab captures analyzed: {unreadable} unreadable, {stopped} stopped part-way with an error, the rest read to the end");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(stopped > 0, "no mutant reached the readers' record errors");
    }

    /// <summary>Builds the session's report and writes it in every format; the report, or null after recording a failure.</summary>
    private static AnalysisReport? CheckReport(AnalysisSession session, string label, List<string> failures)
    {
        AnalysisReport report;
        try
        {
            report = session.BuildReport();
        }
        catch (Exception e)
        {
            failures.Add($"{label}: building: {e.GetType().Name}: {e.Message}");
            return null;
        }

        return CheckWriters(report, label, failures) ? report : null;
    }

    private static bool CheckWriters(AnalysisReport report, string label, List<string> failures)
    {
        try
        {
            using var json = new MemoryStream();
            AnalysisJsonWriter.Write(json, report);
            using (JsonDocument.Parse(json.ToArray()))
            {
            }

            var text = new StringWriter();
            AnalysisTextWriter.Write(text, report);
            var markdown = new StringWriter();
            AnalysisMarkdownWriter.Write(markdown, report);
            if (text.ToString().Length == 0 || markdown.ToString().Length == 0)
            {
                failures.Add($"{label}: an empty text or markdown report");
                return false;
            }

            return true;
        }
        catch (Exception e)
        {
            failures.Add($"{label}: writing: {e.GetType().Name}: {e.Message}");
            return false;
        }
    }

    /// <summary>Mostly forward in small steps, sometimes the same instant, a jump of minutes, or up to 5 s backwards.</summary>
    private static long NextTimestamp(long ns, Random rng) => rng.Next(16) switch
    {
        0 => ns,
        1 => ns - rng.NextInt64(5_000_000_000),
        2 => ns + rng.NextInt64(600_000_000_000),
        _ => ns + rng.NextInt64(1, 500_000_000),
    };

    /// <summary>The committed lab run's capture files, in name order.</summary>
    private static IEnumerable<string> LabCaptures() =>
        Directory.GetFiles(LabDirectory).Where(f => f.EndsWith(".pcap", StringComparison.Ordinal) || f.EndsWith(".pcapng", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

    /// <summary>The lab run's packets (always there: they are committed), the synthetic mix, and the corpus when present.</summary>
    private static List<(byte[], LinkType, int)> LoadPackets(out string origin)
    {
        List<(byte[], LinkType, int)> list = HostileInputTests.ReadPackets(LabCaptures());
        int lab = list.Count;
        var traffic = new SyntheticUplinkTraffic(7);
        byte[] frame = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        for (int i = 0; i < 5_000; i++)
        {
            int n = traffic.NextFrame(frame, out _);
            list.Add((frame[..n], LinkType.Ethernet, n));
        }

        List<(byte[], LinkType, int)> corpus = Corpus.Root is { } root ? HostileInputTests.LoadCorpusPackets(root) : [];
        list.AddRange(corpus);
        origin = $"{lab} from the lab run, 5000 synthetic, {corpus.Count} from the corpus";
        return list;
    }
}
