using System.Text;
using UplinkProbe.Capture.Live;
using UplinkProbe.Cli;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using UplinkProbe.L2Test;
using UplinkProbe.Tests.Live;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.L2Test;

/// <summary>
/// <c>uplinkprobe l2test</c> as users run it: three nodes on one Linux bridge, each node's CLI a child process in its
/// own namespace, all three at once; then <c>l2test report</c> on their files. Bridge port flags break one thing at a
/// time and the matrices must show exactly those cells failing. Needs root (skipped otherwise, required in CI).
/// </summary>
public sealed class L2TestLiveTests(ITestOutputHelper output) : IDisposable
{
    private const string Duration = "4";

    private static readonly L2ProbeKind[] MulticastKinds =
        [L2ProbeKind.Ipv4LinkLocal, L2ProbeKind.Ipv4AdminScoped, L2ProbeKind.Ipv6AllNodes, L2ProbeKind.Ipv6SolicitedNode];

    private readonly string _dir = Directory.CreateTempSubdirectory("uplinkprobe-l2test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EveryKindPassesBetweenAllPairsAndForeignFramesAreIgnored()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using L2Lab lab = L2Lab.Create(3, multicastSnooping: false);
        int injected = 0;
        L2TestReport report = RunNodes(lab, ["--vlan", "100", "--duration", "6"], during: () => injected = InjectForeignFrames(lab, "hv1"));

        // Every kind, tagged or not, between every pair; the strangers' frames changed nothing.
        foreach (L2KindResult k in report.Kinds)
        {
            AssertCells(k, failing: []);
        }

        Assert.Equal("OK on all 6 pairs", report.Kind(L2ProbeKind.Broadcast).Summary);
        Assert.True(report.Passed);
        foreach (string node in new[] { "hv2", "hv3" })
        {
            L2IgnoredCounts ignored = report.Nodes.Single(n => n.Node == node).Result!.Ignored;
            output.WriteLine($"{node} ignored: {ignored.Foreign} foreign, {ignored.Malformed} malformed, {ignored.ShapeMismatch} misaddressed, {ignored.NotForUs} not for us");
            Assert.Equal(3, ignored.Foreign); // other signature, other version, bare UDP to our port; the ARP never passed the kernel filter
            Assert.Equal(1, ignored.Malformed);
            Assert.Equal(1, ignored.ShapeMismatch);
            Assert.Equal(0, ignored.Own);
            Assert.Equal(0, ignored.KernelDropped);
            Assert.DoesNotContain(report.Nodes.Single(n => n.Node == node).Result!.Peers, p => p.Node.StartsWith("stranger", StringComparison.Ordinal));
        }

        Assert.Equal(6, injected);

        // The same files plus a node that never started: "no report", not loss, and the run is not proven.
        (int exit, string text) = Report([.. lab.Nodes.Select(FileOf), "--expect", "hv4"]);
        Assert.Equal(L2TestCommand.NotProven, exit);
        Assert.Contains("  broadcast: OK on all 6 pairs", text, StringComparison.Ordinal);
        Assert.Contains("  hv4: no report (expected, no file given)", text, StringComparison.Ordinal);
        Assert.Contains("RESULT: FAIL — no report from hv4", text, StringComparison.Ordinal);
        Assert.Matches(@"hv1 +- +\d+/\d+ \([\d.]+ ms\) +\d+/\d+ \([\d.]+ ms\) +no report", text);
        Assert.DoesNotContain(" FAIL", text.Replace("RESULT: FAIL", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MulticastNotFloodedToOnePortFailsExactlyItsMulticastColumn(bool snooping)
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using L2Lab lab = L2Lab.Create(3, multicastSnooping: snooping);
        lab.Bridge("link", "set", "dev", L2Lab.PortOf("hv3"), "mcast_flood", "off");
        L2TestReport report = RunNodes(lab, []);

        foreach (L2KindResult k in report.Kinds)
        {
            AssertCells(k, failing: MulticastKinds.Contains(k.Kind) ? [("hv1", "hv3"), ("hv2", "hv3")] : []);
        }

        Assert.Equal("FAIL hv3 receives nothing from hv1, hv2", report.Kind(L2ProbeKind.Ipv4AdminScoped).Summary);
        (int exit, string text) = Report([.. lab.Nodes.Select(FileOf)]);
        Assert.Equal(L2TestCommand.NotProven, exit);
        Assert.Contains("  IPv4 multicast 239.100.100.100 (admin-scoped): FAIL hv3 receives nothing from hv1, hv2", text, StringComparison.Ordinal);
        Assert.Contains("  broadcast: OK on all 6 pairs", text, StringComparison.Ordinal);
    }

    [Fact]
    public void BroadcastNotFloodedToOnePortFailsExactlyItsBroadcastColumn()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using L2Lab lab = L2Lab.Create(3, multicastSnooping: false);
        lab.Bridge("link", "set", "dev", L2Lab.PortOf("hv2"), "bcast_flood", "off");
        L2TestReport report = RunNodes(lab, []);

        foreach (L2KindResult k in report.Kinds)
        {
            AssertCells(k, failing: k.Kind == L2ProbeKind.Broadcast ? [("hv1", "hv2"), ("hv3", "hv2")] : []);
        }

        Assert.Equal("FAIL hv2 receives nothing from hv1, hv3", report.Kind(L2ProbeKind.Broadcast).Summary);
        Assert.False(report.Passed);
    }

    [Fact]
    public void ALockedPortWithItsNicMacInTheFdbFailsOnlyThatNodesForeignSourceRow()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using L2Lab lab = L2Lab.Create(3, multicastSnooping: false);
        lab.Bridge("fdb", "add", L2Lab.MacOf(0), "dev", L2Lab.PortOf("hv1"), "master", "static");
        lab.Bridge("link", "set", "dev", L2Lab.PortOf("hv1"), "locked", "on");
        L2TestReport report = RunNodes(lab, []);

        foreach (L2KindResult k in report.Kinds)
        {
            AssertCells(k, failing: k.Kind == L2ProbeKind.ForeignSource ? [("hv1", "hv2"), ("hv1", "hv3")] : []);
        }

        Assert.Equal("FAIL nothing from hv1 reaches hv2, hv3 (MAC spoof protection on hv1's port?)", report.Kind(L2ProbeKind.ForeignSource).Summary);
        (int exit, string text) = Report([.. lab.Nodes.Select(FileOf)]);
        Assert.Equal(L2TestCommand.NotProven, exit);
        Assert.Contains("RESULT: FAIL — not proven: foreign source MAC", text, StringComparison.Ordinal);
    }

    /// <summary>Asserts that exactly <paramref name="failing"/> cells of <paramref name="kind"/> received nothing and every other cell is OK.</summary>
    private void AssertCells(L2KindResult kind, (string From, string To)[] failing)
    {
        foreach (L2Cell c in kind.Cells)
        {
            bool shouldFail = failing.Contains((c.From, c.To));
            string what = $"{kind.StreamName} {c.From}→{c.To}: {L2TestReportWriter.CellText(c)} ({c.Status}, {c.Sent} sent)";
            if (shouldFail)
            {
                Assert.True(c.Status == L2CellStatus.Nothing && c.Expected > 0, what);
            }
            else
            {
                Assert.True(c.Status == L2CellStatus.Ok && c.Expected > 0 && c.Received >= c.Expected, what);
            }
        }

        Assert.Equal(failing.Length == 0 ? L2Verdict.Ok : L2Verdict.Fail, kind.Verdict);
    }

    private string FileOf(string node) => Path.Combine(_dir, node + ".json");

    /// <summary>Runs every node's l2test at once as child processes, optionally doing <paramref name="during"/> meanwhile, and builds the report.</summary>
    private L2TestReport RunNodes(L2Lab lab, string[] extra, Action? during = null)
    {
        var clis = new List<CliProcess>();
        try
        {
            foreach (string node in lab.Nodes)
            {
                clis.Add(lab.StartCli(node, ["l2test", "-i", L2Lab.Nic, "--node", node, .. extra.Contains("--duration") ? [] : new[] { "--duration", Duration }, "--out", FileOf(node), .. extra]));
            }

            during?.Invoke();
            foreach (CliProcess cli in clis)
            {
                int exit = cli.WaitForExit(TimeSpan.FromSeconds(60));
                output.WriteLine(cli.Stderr.TrimEnd());
                Assert.Equal(ExitCodes.Ok, exit);
            }
        }
        finally
        {
            foreach (CliProcess cli in clis)
            {
                cli.Dispose();
            }
        }

        L2TestReport report = L2TestReport.Build(lab.Nodes.Select(n => new L2ReportNode(n, FileOf(n), L2NodeJson.Read(FileOf(n)), null)));
        var text = new StringWriter();
        L2TestReportWriter.WriteText(text, report);
        output.WriteLine(text.ToString());
        return report;
    }

    private static (int Exit, string Text) Report(string[] args)
    {
        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = CliApplication.Run(["l2test", "report", .. args], stdout, stderr);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()) + stderr);
    }

    /// <summary>
    /// While the nodes run, sends from <paramref name="node"/>'s NIC frames that are not valid probes of this run: an ARP,
    /// another protocol on our EtherType, a probe of another version, a bare UDP datagram to our port, a truncated probe
    /// and a valid signature in the wrong frame shape. Returns how many were sent.
    /// </summary>
    private static int InjectForeignFrames(L2Lab lab, string node)
    {
        Thread.Sleep(1500); // inside the others' listening window
        return lab.Inside(node, () =>
        {
            using PcapSession sender = LiveFrames.OpenSender(L2Lab.Nic);
            var stranger = new MacAddress(0x02_00_5e_00_53_99UL);
            Span<byte> buf = stackalloc byte[L2Probe.MaxFrameLength];
            var frames = new List<byte[]>();

            frames.Add(LiveFrames.Arp(LiveFrames.Gateway, 1)); // other traffic: the kernel filter keeps it out

            var b = new FrameBuilder(buf);
            b.Ethernet([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x02, 0x00, 0x5e, 0x00, 0x53, 0x99], L2Probe.EtherType);
            b.Write("another experiment on 0x88b5"u8);
            frames.Add(buf[..b.Finish(60)].ToArray());

            int n = L2Probe.Build(buf, new L2ProbeSpec(L2ProbeKind.Broadcast, 1, 0, stranger, default, default, -1), "stranger-v2"u8);
            buf[18] = 2; // version 2: someone else's signature, not ours
            frames.Add(buf[..n].ToArray());

            b = new FrameBuilder(buf);
            b.Ethernet([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01], [0x02, 0x00, 0x5e, 0x00, 0x53, 0x99], EtherTypes.Ipv4);
            b.BeginIpv4([192, 0, 2, 9], L2Probe.Ipv4LinkLocalGroup, IpProtocols.Udp, ttl: 1);
            b.BeginUdp(L2Probe.UdpPort, L2Probe.UdpPort);
            b.Write("not a probe"u8);
            frames.Add(buf[..b.Finish(60)].ToArray());

            n = L2Probe.Build(buf, new L2ProbeSpec(L2ProbeKind.Broadcast, 1, 0, stranger, default, default, -1), "stranger-cut"u8);
            byte[] cut = buf[..n].ToArray();
            cut[14 + 26] = 60; // the name length points past the frame
            frames.Add(cut);

            n = L2Probe.Build(buf, new L2ProbeSpec(L2ProbeKind.Broadcast, 1, 0, stranger, default, default, -1), "stranger-shape"u8);
            byte[] shape = buf[..n].ToArray();
            shape[0] = 0x01; // a "broadcast" probe sent to a multicast MAC
            shape[5] = 0x05;
            frames.Add(shape);

            foreach (byte[] f in frames)
            {
                sender.Inject(f);
            }

            return frames.Count;
        });
    }
}
