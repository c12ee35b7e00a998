using System.Diagnostics;
using System.Text.Json;
using UplinkProbe.Cli;
using UplinkProbe.Tests.Analysis;
using UplinkProbe.Tests.Live;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Watch;

/// <summary>
/// <c>uplinkprobe watch</c> as users run it, on a veth pair in the test's own namespace (<see cref="LiveLab"/>): frames
/// injected on the watched end are this node's, frames injected on the peer arrive from "another node".
/// </summary>
public sealed class WatchCommandTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void InjectedGarpsBecomeEventsAsTheyHappenAndTheReportFollowsTheSignal()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        using CliProcess cli = lab.StartCli(["watch", "-i", LiveLab.A, "--node", "hv1", "--format", "json", "--status-seconds", "1"]);
        Assert.True(cli.WaitForStderr("watching va", StartTimeout), cli.Stderr);
        // The notice is the next line of stderr, read apart from the first: wait for it rather than expect it with the first.
        Assert.True(cli.WaitForStderr("no inventory gateway ports", StartTimeout), cli.Stderr);

        byte[] garp = Scenario.Garp(Scenario.GatewayMac, Scenario.GatewayIp);
        LiveCaptureReaderTests.SendOn(lab, LiveLab.A, [garp]); // this node announces the gateway
        Assert.True(WaitForStdout(cli, "\"event\":\"gateway_here\""), cli.Stdout);
        LiveCaptureReaderTests.SendOn(lab, LiveLab.B, [garp]); // another node announces it
        Assert.True(WaitForStdout(cli, "\"event\":\"gateway_away\""), cli.Stdout);
        Assert.True(WaitForStdout(cli, "\"event\":\"status\""), cli.Stdout);

        cli.Signal(CliProcess.SigInt);
        Assert.Equal(ExitCodes.Ok, cli.WaitForExit(ExitTimeout));
        output.WriteLine(cli.Stdout);
        output.WriteLine(cli.Stderr);

        var events = cli.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        // Status lines come every second; the stretch of emission ends 2 s after the GARP (wall clock) if the run lasts that long.
        var kinds = events.Select(e => e.GetProperty("event").GetString()).Where(k => k is not ("status" or "gateway_stopped")).ToList();
        Assert.Equal(["gateway_here", "garp", "gateway_away", "garp", "report"], kinds);
        JsonElement here = events.First(e => e.GetProperty("event").GetString() == "gateway_here");
        Assert.All(events.Where(e => e.GetProperty("event").GetString() == "gateway_stopped"),
            e => Assert.Equal(here.GetProperty("time_ns").GetInt64(), e.GetProperty("time_ns").GetInt64()));
        Assert.Equal(("hv1", "va", "00:16:3e:aa:00:02", "out"),
            (here.GetProperty("node").GetString(), here.GetProperty("interface").GetString(), here.GetProperty("mac").GetString(), here.GetProperty("direction").GetString()));
        var garps = events.Where(e => e.GetProperty("event").GetString() == "garp").Select(e => e.GetProperty("text").GetString()).ToList();
        Assert.Equal(["GARP 203.0.113.10 (00:16:3e:aa:00:02) from this node", "GARP 203.0.113.10 (00:16:3e:aa:00:02) from another node"], garps);
        JsonElement status = events.First(e => e.GetProperty("event").GetString() == "status");
        Assert.Equal(0UL, status.GetProperty("kernel_drops").GetUInt64());

        JsonElement report = events[^1];
        Assert.Equal(("SIGINT", 2L, 0UL), (report.GetProperty("stopped_by").GetString(), report.GetProperty("packets").GetInt64(), report.GetProperty("kernel_drops").GetUInt64()));
        JsonElement gateway = report.GetProperty("report").GetProperty("gateways")[0];
        Assert.Equal(("00:16:3e:aa:00:02", "hv1"), (gateway.GetProperty("mac").GetString(), gateway.GetProperty("active_node").GetString()));
        Assert.Equal(here.GetProperty("time_ns").GetInt64(), gateway.GetProperty("timeline")[0].GetProperty("start_ns").GetInt64());
        Assert.Contains("watch stopped (SIGINT): 2 packets; 0 dropped by the kernel", cli.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void KernelDropsAreReportedInTheStatusOnStderrAndInTheReport()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        using CliProcess cli = lab.StartCli(["watch", "-i", LiveLab.A, "--node", "hv1", "-B", "1", "--status-seconds", "1", "-f", "udp port 6081"]);
        Assert.True(cli.WaitForStderr("watching va", StartTimeout), cli.Stderr);

        // Freeze the watcher, fill its 1 MiB ring with far more than it holds, let it go on.
        const int Sent = 4000;
        byte[][] frames = Enumerable.Range(0, Sent).Select(i =>
        {
            byte[] f = LiveFrames.Udp(LiveFrames.MacB, LiveFrames.MacA, 6081, i);
            Array.Resize(ref f, 1400); // trailing bytes after the IP packet, as an Ethernet trailer
            return f;
        }).ToArray();
        cli.Signal(SigStop);
        try
        {
            LiveCaptureReaderTests.SendOn(lab, LiveLab.B, frames);
        }
        finally
        {
            cli.Signal(SigCont);
        }

        Assert.True(cli.WaitForStderr("DROPPED", TimeSpan.FromSeconds(20)), cli.Stderr);
        Assert.True(WaitForStdout(cli, "status: ", s => s.Contains("DROPPED", StringComparison.Ordinal)), cli.Stdout);
        cli.Signal(CliProcess.SigTerm);
        Assert.Equal(ExitCodes.Ok, cli.WaitForExit(ExitTimeout)); // drops are loud, not an exit code
        output.WriteLine(cli.Stderr);
        output.WriteLine(string.Join('\n', cli.Stdout.Split('\n').Where(l => l.Contains("status") || l.Contains("DROP") || l.StartsWith("===", StringComparison.Ordinal))));

        string stopped = cli.Stderr.Split('\n').Single(l => l.Contains("watch stopped (SIGTERM)", StringComparison.Ordinal));
        var m = System.Text.RegularExpressions.Regex.Match(stopped, @": (\d+) packets; DROPPED (\d+) packets");
        Assert.True(m.Success, stopped);
        long captured = long.Parse(m.Groups[1].Value), dropped = long.Parse(m.Groups[2].Value);
        Assert.True(dropped > 0 && captured < Sent, stopped);
        Assert.InRange(captured + dropped, Sent - 10, Sent); // every frame is either analysed or counted as dropped
        Assert.Contains("=== watch stopped (SIGTERM)", cli.Stdout, StringComparison.Ordinal);
        Assert.Contains("Note: the capture missed packets: DROPPED", cli.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingInterfaceIsOneLineAndExitCodeOne()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        using CliProcess cli = lab.StartCli(["watch", "-i", "nosuch0"]);
        Assert.Equal(ExitCodes.Failure, cli.WaitForExit(ExitTimeout));
        string line = Assert.Single(cli.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("uplinkprobe: no interface 'nosuch0' here", line, StringComparison.Ordinal);
        Assert.Contains("va", line, StringComparison.Ordinal);
    }

    private const int SigStop = 19;
    private const int SigCont = 18;

    private static bool WaitForStdout(CliProcess cli, string text, Func<string, bool>? line = null)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(20))
        {
            string stdout = cli.Stdout;
            if (line is null ? stdout.Contains(text, StringComparison.Ordinal) : stdout.Split('\n').Any(l => l.Contains(text, StringComparison.Ordinal) && line(l)))
            {
                return true;
            }

            Thread.Sleep(50);
        }

        return false;
    }
}
