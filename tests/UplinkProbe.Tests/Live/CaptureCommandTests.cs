using System.Diagnostics;
using System.Text;
using UplinkProbe.Capture;
using UplinkProbe.Capture.Live;
using UplinkProbe.Cli;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Live;

/// <summary>
/// <c>uplinkprobe capture</c> as users run it: the CLI (built beside the test assembly) runs in the test's namespace as
/// a child process (<c>ip netns exec</c>), frames are sent from this process, files are checked with tshark and our reader.
/// </summary>
public sealed class CaptureCommandTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    private readonly string _dir = Directory.CreateTempSubdirectory("uplinkprobe-live-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(CliProcess.SigInt, "SIGINT")]
    [InlineData(CliProcess.SigTerm, "SIGTERM")]
    public void ASignalMidStreamLeavesACompleteFileWithEverythingSentBeforeIt(int signal, string name)
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        string file = Path.Combine(_dir, "sig.pcapng");
        using LiveLab lab = LiveLab.Create();
        using CliProcess cli = lab.StartCli(["capture", "-i", LiveLab.A, "-w", file, "--node", "gw1"]);
        Assert.True(cli.WaitForStderr("capturing on", StartTimeout), cli.Stderr);

        int sentBeforeSignal = 0;
        int sentTotal = 0;
        lab.Inside(() =>
        {
            using PcapSession sender = LiveFrames.OpenSender(LiveLab.B);
            var sw = Stopwatch.StartNew();
            for (int seq = 0; sw.ElapsedMilliseconds < 1500; seq++)
            {
                sender.Inject(LiveFrames.Arp(LiveFrames.MacB, seq));
                sentTotal = seq + 1;
                if (seq == 300)
                {
                    sentBeforeSignal = seq + 1;
                    cli.Signal(signal); // the stream goes on while the capture shuts down
                }

                if (seq % 10 == 0)
                {
                    Thread.Sleep(1);
                }
            }
        });

        int exit = cli.WaitForExit(ExitTimeout);
        output.WriteLine(cli.Stderr);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains($"capture stopped ({name})", cli.Stderr, StringComparison.Ordinal);
        Assert.Contains("0 dropped by the kernel", cli.Stderr, StringComparison.Ordinal);

        List<int> seqs = ReadBack(file, out CaptureReader reader, out int isbs);
        using (reader)
        {
            // Complete and gap-free: 0..k-1, with k at least what was sent before the signal.
            Assert.Equal(Enumerable.Range(0, seqs.Count), seqs);
            Assert.InRange(seqs.Count, sentBeforeSignal, sentTotal);
            Assert.True(isbs >= 1, "no interface statistics block at the end");
            CaptureInterface iface = reader.Interfaces[0];
            Assert.Equal((LiveLab.A, "gw1"), (iface.Name, iface.Node));
            Assert.Equal(DefaultCaptureFilter.Build(), iface.Filter);
        }

        (int count, string directions) = Tshark(file);
        Assert.Equal(seqs.Count, count);
        Assert.Equal("1", directions); // every frame inbound (epb_flags 01 = inbound, shown by tshark as p2p_dir 1)
    }

    [Fact]
    public void WithoutWriteItPrintsOneDecodedLinePerPacketAndStopsAtTheCount()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        using CliProcess cli = lab.StartCli(["capture", "-i", LiveLab.A, "-c", "3", "-f", "arp"]);
        Assert.True(cli.WaitForStderr("capturing on", StartTimeout), cli.Stderr);
        LiveCaptureReaderTests.SendOn(lab, LiveLab.B, [.. Enumerable.Range(0, 5).Select(i => LiveFrames.Arp(LiveFrames.MacB, i))]);
        LiveCaptureReaderTests.SendOn(lab, LiveLab.B, [LiveFrames.Udp(LiveFrames.MacB, LiveFrames.MacA, 6081, 9)]);

        Assert.Equal(ExitCodes.Ok, cli.WaitForExit(ExitTimeout));
        string[] lines = cli.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.StartsWith($"{i + 1} ", lines[i], StringComparison.Ordinal);
            Assert.Contains(" in 02:00:5e:00:53:0b > ff:ff:ff:ff:ff:ff ", lines[i], StringComparison.Ordinal);
            Assert.Contains($"who-has 192.0.2.{i + 2} tell 192.0.2.1", lines[i], StringComparison.Ordinal);
        }

        Assert.Contains("capture stopped (count reached): 3 packets captured", cli.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoInterfacesGoIntoOneFileEachWithItsOwnInterfaceBlock()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        string file = Path.Combine(_dir, "two.pcapng");
        using LiveLab lab = LiveLab.Create();
        using CliProcess cli = lab.StartCli(["capture", "-i", LiveLab.A, "-i", LiveLab.B, "-f", "udp port 6081", "-w", file, "-c", "20", "--node", "mc2"]);
        Assert.True(cli.WaitForStderr("capturing on", StartTimeout), cli.Stderr);
        LiveCaptureReaderTests.SendOn(lab, LiveLab.B, [.. Enumerable.Range(0, 10).Select(i => LiveFrames.Udp(LiveFrames.MacB, LiveFrames.MacA, 6081, i))]);
        Assert.Equal(ExitCodes.Ok, cli.WaitForExit(ExitTimeout));

        using CaptureReader reader = CaptureFile.Open(file);
        var seen = new List<(string?, PacketDirection, int)>();
        while (reader.TryReadNext(out CaptureRecord r, out ReadOnlySpan<byte> data))
        {
            seen.Add((reader.Interfaces[r.InterfaceIndex].Name, r.Direction, LiveFrames.SequenceOf(data)));
        }

        Assert.Equal(20, seen.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => ((string?)LiveLab.A, PacketDirection.Inbound, i)), seen.Where(s => s.Item1 == LiveLab.A).OrderBy(s => s.Item3));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => ((string?)LiveLab.B, PacketDirection.Outbound, i)), seen.Where(s => s.Item1 == LiveLab.B).OrderBy(s => s.Item3));
        Assert.All(reader.Interfaces, i => Assert.Equal(("mc2", "udp port 6081"), (i.Node, i.Filter)));
        Assert.Equal(20, Tshark(file).Count);
    }

    [Fact]
    public void RotationKeepsARingOfCompleteFiles()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        string file = Path.Combine(_dir, "ring.pcapng");
        using LiveLab lab = LiveLab.Create();
        using CliProcess cli = lab.StartCli(["capture", "-i", LiveLab.A, "-f", "arp", "-w", file, "--rotate-size", "4k", "--ring", "3"]);
        Assert.True(cli.WaitForStderr("capturing on", StartTimeout), cli.Stderr);
        const int Sent = 400; // ~80 bytes per EPB: about 8 files of 4 KiB
        LiveCaptureReaderTests.SendOn(lab, LiveLab.B, [.. Enumerable.Range(0, Sent).Select(i => LiveFrames.Arp(LiveFrames.MacB, i))]);
        Thread.Sleep(500);
        cli.Signal(CliProcess.SigInt);
        Assert.Equal(ExitCodes.Ok, cli.WaitForExit(ExitTimeout));

        string[] files = Directory.GetFiles(_dir, "ring-*.pcapng").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(3, files.Length);
        int lastNumber = int.Parse(Path.GetFileNameWithoutExtension(files[^1])["ring-".Length..]);
        Assert.True(lastNumber >= 5, $"only {lastNumber} files were written");
        Assert.Equal(Enumerable.Range(lastNumber - 2, 3).Select(n => CaptureRecorder.RotatedName(file, n)), files);

        // Each file reads back complete, and together they hold the newest frames without a gap up to the last one sent.
        var all = new List<int>();
        foreach (string f in files)
        {
            List<int> seqs = ReadBack(f, out CaptureReader reader, out int isbs);
            reader.Dispose();
            Assert.True(isbs >= 1, $"{f} has no statistics block");
            Assert.Equal(seqs.Count, Tshark(f).Count);
            all.AddRange(seqs);
        }

        Assert.Equal(Enumerable.Range(Sent - all.Count, all.Count), all);
    }

    [Fact]
    public void AMissingInterfaceIsOneLineListingTheInterfacesThereAre()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        (int exit, string stderr) = RunToEnd(lab, ["capture", "-i", "vz9"]);
        Assert.Equal(ExitCodes.Failure, exit);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("uplinkprobe: no interface 'vz9' here; interfaces: ", line, StringComparison.Ordinal);
        Assert.Contains("va", line, StringComparison.Ordinal);
        Assert.Contains("vb", line, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadFilterIsOneLineQuotingIt()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        (int exit, string stderr) = RunToEnd(lab, ["capture", "-i", LiveLab.A, "-f", "udp prot 6081"]);
        Assert.Equal(ExitCodes.Failure, exit);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("uplinkprobe: bad capture filter 'udp prot 6081': ", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bounding-set", "missing capability CAP_NET_RAW and CAP_NET_ADMIN")]
    [InlineData("nobody", "missing capability CAP_NET_RAW and CAP_NET_ADMIN")]
    [InlineData("no-net-raw", "missing capability CAP_NET_RAW (")]
    public void WithoutPermissionItNamesTheMissingCapabilityAndTheGuide(string how, string expected)
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        string[] wrapper = how switch
        {
            "bounding-set" => ["setpriv", "--bounding-set", "-net_raw,-net_admin", "--"],
            "no-net-raw" => ["setpriv", "--bounding-set", "-net_raw", "--"],
            _ => ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"],
        };
        using LiveLab lab = LiveLab.Create();
        using CliProcess cli = lab.StartCli(["capture", "-i", LiveLab.A], wrapper, new Dictionary<string, string> { ["HOME"] = "/tmp", ["DOTNET_CLI_HOME"] = "/tmp" });
        int exit = cli.WaitForExit(ExitTimeout);
        output.WriteLine(cli.Stderr);
        Assert.Equal(ExitCodes.Failure, exit);
        string line = Assert.Single(cli.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"uplinkprobe: {LiveLab.A}: permission denied: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Contains("run-as-root.md", line, StringComparison.Ordinal);
    }

    [Fact]
    public void CaptureNeedsOnlyNetRawNotNetAdmin()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        using CliProcess cli = lab.StartCli(["capture", "-i", LiveLab.A, "-c", "2", "-f", "arp"], ["setpriv", "--bounding-set", "-net_admin", "--"]);
        Assert.True(cli.WaitForStderr("capturing on", StartTimeout), cli.Stderr);
        LiveCaptureReaderTests.SendOn(lab, LiveLab.B, [LiveFrames.Arp(LiveFrames.MacB, 0), LiveFrames.Arp(LiveFrames.MacB, 1)]);
        Assert.Equal(ExitCodes.Ok, cli.WaitForExit(ExitTimeout));
        Assert.Equal(2, cli.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void WithoutLibpcapItNamesTheDebianPackage()
    {
        // Needs no privilege: the library is looked for before any interface is touched.
        var psi = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        CliProcess.AddDotnetCli(psi, ["capture", "-i", "lo"], new Dictionary<string, string> { [LibPcap.LibraryOverrideVariable] = Path.Combine(_dir, "no-such-libpcap.so") });
        using var cli = new CliProcess(psi);
        Assert.Equal(ExitCodes.Failure, cli.WaitForExit(ExitTimeout));
        string line = Assert.Single(cli.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("uplinkprobe: libpcap (libpcap.so.0.8) is not installed; install it with: apt-get install libpcap0.8", line);
    }

    private static (int Exit, string Stderr) RunToEnd(LiveLab lab, string[] args)
    {
        using CliProcess cli = lab.StartCli(args);
        int exit = cli.WaitForExit(ExitTimeout);
        return (exit, cli.Stderr);
    }

    /// <summary>Reads a recorded file with our reader: the sequence numbers of its frames, in file order, and the ISB count.</summary>
    private static List<int> ReadBack(string file, out CaptureReader reader, out int isbs)
    {
        reader = CaptureFile.Open(file);
        var seqs = new List<int>();
        while (reader.TryReadNext(out _, out ReadOnlySpan<byte> data))
        {
            seqs.Add(LiveFrames.SequenceOf(data));
        }

        Assert.Null(reader.Error);
        Assert.Equal(0, reader.Statistics.TruncatedRecords);
        isbs = (int)reader.Statistics.SkippedBlocks.GetValueOrDefault(PcapNgFormat.InterfaceStatisticsBlock);
        return seqs;
    }

    /// <summary>tshark's packet count and the distinct directions it shows; fails when tshark reports a damaged file.</summary>
    private static (int Count, string Directions) Tshark(string file)
    {
        var psi = new ProcessStartInfo("tshark") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "-n", "-r", file, "-T", "fields", "-e", "frame.p2p_dir" })
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"tshark failed on {file}: {stderr}");
        Assert.DoesNotContain("cut short", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("appears to be damaged", stderr, StringComparison.Ordinal);
        string[] lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return (lines.Length, string.Join(",", lines.Distinct().Order(StringComparer.Ordinal)));
    }
}

/// <summary>The capture verb's command line, in-process (no privilege needed).</summary>
public sealed class CaptureCommandLineTests
{
    [Theory]
    [InlineData("capture")]
    [InlineData("capture", "-i", "eth0", "--ring", "3")]
    [InlineData("capture", "-i", "eth0", "--rotate-size", "10M")]
    [InlineData("capture", "-i", "eth0", "-w", "x.pcapng", "--rotate-size", "ten")]
    [InlineData("capture", "-i", "eth0", "--duration", "soon")]
    [InlineData("capture", "-i", "eth0", "-c", "0")]
    [InlineData("capture", "-i", "eth0", "--node", "a b")]
    [InlineData("capture", "-i", "eth0", "-Q", "sideways")]
    public void UsageErrorsExitTwo(params string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = CliApplication.Run(args, stdout, stderr);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Empty(stdout.ToArray());
        Assert.Contains("--help", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void HelpDescribesTheOptionsAndHowDropsAreReported()
    {
        var stdout = new MemoryStream();
        int exit = CliApplication.Run(["capture", "--help"], stdout, new StringWriter());
        string help = Encoding.UTF8.GetString(stdout.ToArray());
        Assert.Equal(ExitCodes.Ok, exit);
        foreach (string option in new[] { "--interface", "--node", "--filter", "--count", "--duration", "--write", "--rotate-size", "--rotate-seconds", "--ring" })
        {
            Assert.Contains(option, help, StringComparison.Ordinal);
        }

        Assert.Contains("kernel drops are reported on stderr and in the pcapng", help, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30", 30)]
    [InlineData("90s", 90)]
    [InlineData("5m", 300)]
    [InlineData("1.5h", 5400)]
    public void DurationsParse(string text, double seconds)
    {
        Assert.True(CaptureCommand.TryParseDuration(text, out TimeSpan t));
        Assert.Equal(seconds, t.TotalSeconds);
    }

    [Theory]
    [InlineData("1000000", 1_000_000L)]
    [InlineData("4k", 4096L)]
    [InlineData("100M", 104_857_600L)]
    [InlineData("2G", 2_147_483_648L)]
    public void SizesParse(string text, long bytes)
    {
        Assert.True(CaptureCommand.TryParseSize(text, out long n));
        Assert.Equal(bytes, n);
    }
}
