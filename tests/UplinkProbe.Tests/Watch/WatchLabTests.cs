using System.Text.Json;
using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Tests.Lab;
using UplinkProbe.Tests.Live;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Watch;

/// <summary>
/// Live failover against the real OVN lab: <c>uplinkprobe watch --format json</c> runs inside each chassis namespace on
/// its uplink NIC for a whole lab run (tools/ovn-lab/lab.sh --watch), and the gateway timeline the three watchers
/// report must be the one offline <c>analyze</c> finds in the same run's tcpdump captures. Root only (CI runs it); in
/// the lab collection so it never overlaps the other lab run.
/// </summary>
[Collection(nameof(LiveLabCollection))]
public sealed class WatchLabTests(ITestOutputHelper output)
{
    /// <summary>Both see the same frames (one skb, one kernel timestamp); this only absorbs a frame at the very edges.</summary>
    private const long ToleranceNs = 50_000_000;

    [Fact]
    public void WatchOnEachChassisReportsTheGatewayTimelineThatOfflineAnalyzeFinds()
    {
        if (Environment.UserName != "root" && !Corpus.InCi)
        {
            output.WriteLine("not root: the OVN lab needs network namespaces; skipped (CI runs it as root)");
            return;
        }

        string dir = Directory.CreateTempSubdirectory("uplinkprobe-watchlab-").FullName;
        string script = Path.Combine(Corpus.RepositoryRoot, "tools", "ovn-lab", "lab.sh");

        // The lab's topology and MACs are constants of lab.sh; the manifest of an earlier run names them before this run
        // has written its own, so the watchers' default filter keeps the gateway's data frames, not only its ARP.
        string inventory = Path.Combine(Corpus.RepositoryRoot, "tests", "UplinkProbe.Tests", "Inventory", "TestData", "ovn-lab", "lab.json");
        string dll = Path.Combine(AppContext.BaseDirectory, "uplinkprobe.dll");
        string watch = $"env DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 {CliProcess.DotnetHost} {dll} watch -i {{iface}} --node {{node}} --format json --status-seconds 5 --inventory {inventory}";
        bool passed = false;
        try
        {
            (int exit, string log) = LiveLabTests.RunProcess("bash",
                [script, "run", "--out", dir, "--quick", "--watch", watch, "--watch-ready", "uplinkprobe: watching up0"], TimeSpan.FromMinutes(8));
            Assert.True(exit == 0, $"lab.sh failed with {exit}:\n{LiveLabTests.Tail(log, 40)}");

            var run = LabRun.Load(dir);
            var analysis = new UplinkAnalysis(InventoryLoader.LoadAll([Path.Combine(dir, "cp", "99-end"), Path.Combine(dir, "lab.json")]));
            foreach (string node in run.Nodes)
            {
                analysis.AddCapture(Path.Combine(dir, $"{node}-uplink-sll2.pcap"), node);
                analysis.AddCapture(Path.Combine(dir, $"{node}-tunnel.pcap"), node);
            }

            AnalysisReport offline = analysis.Run();
            LabAssertions.Check(run, offline, output); // the reference itself agrees with the lab's record
            GatewayReport gateway = Assert.Single(offline.Gateways, g => g.Mac == run.GatewayMac);

            var watchers = run.Nodes.ToDictionary(n => n, n => Watcher.Read(dir, n), StringComparer.Ordinal);
            foreach ((string node, Watcher w) in watchers)
            {
                output.WriteLine($"{node}: {w.Events.Count} events, {w.Packets} packets, {w.KernelDrops} kernel drops, stopped by {w.StoppedBy}; {w.Stderr.Trim().Split('\n')[^1]}");
                Assert.Equal("SIGTERM", w.StoppedBy); // lab.sh stops its watchers with SIGTERM
                Assert.Equal(0UL, w.KernelDrops); // a watcher that missed frames could not be compared
            }

            // 1. The watchers' timelines, combined, are the offline timeline: same segments per node, same instants.
            var live = watchers.Values.SelectMany(w => w.Timeline(run.GatewayMac.ToString())).OrderBy(s => s.StartNs).ToList();
            var off = gateway.Timeline.Select(s => (s.Node, s.StartNs, s.EndNs, s.Frames)).OrderBy(s => s.StartNs).ToList();
            foreach (var s in off)
            {
                output.WriteLine($"offline {s.Node} {Clock(s.StartNs)} – {Clock(s.EndNs)} {s.Frames} frames");
            }

            foreach (var s in live)
            {
                output.WriteLine($"watch   {s.Node} {Clock(s.StartNs)} – {Clock(s.EndNs)} {s.Frames} frames");
            }

            // tcpdump ends on SIGINT at once, a watcher drains what the kernel holds: a segment still running when the
            // captures stopped may go on a little longer in the watcher.
            long captureEnd = offline.Sources.Where(s => s.Packets > 0).Max(s => s.LastNs);
            Assert.Equal(off.Count, live.Count);
            for (int i = 0; i < off.Count; i++)
            {
                Assert.Equal(off[i].Node, live[i].Node);
                Assert.InRange(live[i].StartNs - off[i].StartNs, -ToleranceNs, ToleranceNs);
                bool running = off[i].EndNs >= captureEnd - 2_000_000_000;
                Assert.InRange(live[i].EndNs - off[i].EndNs, -ToleranceNs, running ? 2_000_000_000 : ToleranceNs);
                Assert.InRange(live[i].Frames - off[i].Frames, -2, running ? 50 : 2);
            }

            // 2. Per lab phase, the nodes emitting the gateway MAC are the same.
            foreach (LabRun.Phase phase in run.Phases)
            {
                string Nodes(IEnumerable<(string Node, long StartNs, long EndNs, long Frames)> segments) => string.Join(",",
                    segments.Where(s => s.StartNs <= phase.EndNs && s.EndNs >= phase.StartNs).Select(s => s.Node).Distinct().Order(StringComparer.Ordinal));
                output.WriteLine($"{phase.Label,-20} offline [{Nodes(off)}] watch [{Nodes(live)}]");
                Assert.Equal(Nodes(off), Nodes(live));
            }

            // 3. A move to a node that starts emitting is a "gateway_here" event of its watcher at the move's instant; a
            //    move back to a node that kept emitting (the owner stopped during a split brain) is the old owner's
            //    "gateway_stopped" at its last frame. Each start of emission the watchers announced is a segment start.
            string mac = run.GatewayMac.ToString();
            var here = watchers.SelectMany(w => w.Value.Events.Where(e => e.Kind == "gateway_here" && e.Mac == mac).Select(e => (Node: w.Key, e.Ns))).ToList();
            Assert.NotEmpty(gateway.Failovers);
            foreach (FailoverEvent move in gateway.Failovers)
            {
                if (off.Any(s => s.Node == move.To && Math.Abs(s.StartNs - move.AtNs) <= ToleranceNs))
                {
                    Assert.Contains(here, h => h.Node == move.To && Math.Abs(h.Ns - move.AtNs) <= ToleranceNs);
                }
                else
                {
                    output.WriteLine($"move {move.From} → {move.To} at {Clock(move.AtNs)}: {move.To} was already emitting, {move.From} stopped");
                    Assert.Contains(watchers[move.From!].Events, e => e.Kind == "gateway_stopped" && e.Mac == mac && Math.Abs(e.Ns - move.AtNs) <= ToleranceNs);
                    Assert.Contains(live, s => s.Node == move.To && s.StartNs < move.AtNs && s.EndNs > move.AtNs);
                }
            }

            Assert.Equal(off.Count, here.Count);
            Assert.All(here, h => Assert.Contains(off, s => s.Node == h.Node && Math.Abs(s.StartNs - h.Ns) <= ToleranceNs));

            // 4. When the new owner announces itself, the node it left hears it: "moved away" (or the GARP heard) at that instant.
            foreach (FailoverEvent move in gateway.Failovers.Where(m => m.FirstGarpNs is not null && m.From is not null))
            {
                Watcher from = watchers[move.From!];
                Assert.Contains(from.Events, e => e.Kind is "gateway_away" or "garp" && e.Direction == "in" && e.Mac == mac
                    && Math.Abs(e.Ns - move.FirstGarpNs!.Value) <= ToleranceNs);
            }

            passed = true;
        }
        finally
        {
            LiveLabTests.RunProcess("bash", [script, "cleanup"], TimeSpan.FromMinutes(1));
            if (passed)
            {
                Directory.Delete(dir, recursive: true);
            }
            else
            {
                output.WriteLine($"the lab run is kept in {dir} for inspection");
            }
        }
    }

    private static string Clock(long ns) => UplinkProbe.Reporting.AnalysisTextWriter.Clock(ns);

    /// <summary>What one watcher wrote: its JSON Lines events and the final report record.</summary>
    private sealed class Watcher
    {
        public List<(string Kind, long Ns, string? Mac, string? Direction)> Events { get; } = new();

        public JsonElement Report { get; private set; }

        public string StoppedBy { get; private set; } = string.Empty;

        public long Packets { get; private set; }

        public ulong KernelDrops { get; private set; }

        public string Stderr { get; private set; } = string.Empty;

        public static Watcher Read(string dir, string node)
        {
            var w = new Watcher { Stderr = File.ReadAllText(Path.Combine(dir, $"{node}-watch.err")) };
            foreach (string line in File.ReadLines(Path.Combine(dir, $"{node}-watch.out")).Where(l => l.Length > 0))
            {
                JsonElement e = JsonDocument.Parse(line).RootElement;
                string kind = e.GetProperty("event").GetString()!;
                if (kind == "report")
                {
                    w.Report = e.GetProperty("report");
                    w.StoppedBy = e.GetProperty("stopped_by").GetString()!;
                    w.Packets = e.GetProperty("packets").GetInt64();
                    w.KernelDrops = e.GetProperty("kernel_drops").GetUInt64();
                    continue;
                }

                w.Events.Add((kind, e.GetProperty("time_ns").GetInt64(),
                    e.TryGetProperty("mac", out JsonElement mac) ? mac.GetString() : null,
                    e.TryGetProperty("direction", out JsonElement d) ? d.GetString() : null));
            }

            Assert.True(w.StoppedBy.Length > 0, $"{node}: no final report; stderr: {w.Stderr}");
            return w;
        }

        public IEnumerable<(string Node, long StartNs, long EndNs, long Frames)> Timeline(string mac) =>
            Report.GetProperty("gateways").EnumerateArray().Where(g => g.GetProperty("mac").GetString() == mac)
                .SelectMany(g => g.GetProperty("timeline").EnumerateArray())
                .Select(s => (s.GetProperty("node").GetString()!, s.GetProperty("start_ns").GetInt64(), s.GetProperty("end_ns").GetInt64(), s.GetProperty("frames").GetInt64()));
    }
}
