using System.Text;
using UplinkProbe.Cli;
using UplinkProbe.Decoding;
using UplinkProbe.L2Test;
using Xunit;

namespace UplinkProbe.Tests.L2Test;

/// <summary>The report's matrices and verdicts on node files written by hand (three nodes, three probes per stream).</summary>
public sealed class L2TestReportTests : IDisposable
{
    private const long T0 = 1_800_000_000_000_000_000;
    private static readonly string[] Names = ["hv1", "hv2", "hv3"];

    private readonly string _dir = Directory.CreateTempSubdirectory("uplinkprobe-l2report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// A node file: listening T0+startMs … T0+startMs+5 s, three probes of every stream sent at +1, +2, +3 s, and
    /// <paramref name="received"/>(from, kind) probes received from each peer (default 3).
    /// </summary>
    private static string NodeJson(string node, Func<string, string, int>? received = null, long startMs = 0, string[]? peers = null)
    {
        peers ??= Names.Where(n => n != node).ToArray();
        int index = Array.IndexOf(Names, node) + 1;
        long start = T0 + startMs * 1_000_000;
        var sent = new List<string>();
        foreach (L2ProbeKind k in L2ProbeKinds.All)
        {
            string name = L2ProbeKinds.Name(k);
            IEnumerable<string?> targets = L2ProbeKinds.IsDirected(k) ? peers : new string?[] { null };
            foreach (string? to in targets)
            {
                string toJson = to is null ? "null" : $"\"{to}\"";
                string toMac = to is null ? "null" : $"\"02:00:5e:00:53:0{Array.IndexOf(Names, to) + 1}\"";
                sent.Add($$"""{"kind":"{{name}}","vlan":null,"to":{{toJson}},"to_mac":{{toMac}},"count":3,"send_offsets_ms":[1000,2000,3000]}""");
            }
        }

        var got = new List<string>();
        foreach (string from in Names.Where(n => n != node))
        {
            foreach (L2ProbeKind k in L2ProbeKinds.All)
            {
                int count = received?.Invoke(from, L2ProbeKinds.Name(k)) ?? 3;
                if (count > 0)
                {
                    got.Add($$"""
                        {"from":"{{from}}","from_mac":"02:00:5e:00:53:0{{Array.IndexOf(Names, from) + 1}}","kind":"{{L2ProbeKinds.Name(k)}}","vlan":null,
                         "eth_source":"02:00:5e:00:53:0{{Array.IndexOf(Names, from) + 1}}","count":{{count}},"first_seq":1,"last_seq":{{count}},"out_of_order":0,
                         "first":"x","first_ns":{{start + 1_000_000_000}},"last":"x","last_ns":{{start + 3_000_000_000}},"delay_ms":{"min":0.1,"avg":0.2,"max":0.4} }
                        """);
                }
            }
        }

        return $$"""
            {"format":"uplinkprobe-l2test-node","version":1,"node":"{{node}}","interface":"eth0",
             "nic_mac":"02:00:5e:00:53:0{{index}}","foreign_mac":"0a:00:5e:00:53:0{{index}}","vlan":null,"ethertype":"0x88b5","udp_port":51381,
             "start":"x","start_ns":{{start}},"end":"x","end_ns":{{start + 5_000_000_000}},
             "send_start":"x","send_start_ns":{{start + 1_000_000_000}},"send_end":"x","send_end_ns":{{start + 4_000_000_000}},"stop_reason":"duration reached",
             "sent_totals":{},"sent":[{{string.Join(",", sent)}}],"received":[{{string.Join(",", got)}}],
             "peers":[],"ignored":{"foreign":0,"malformed":0,"shape_mismatch":0,"not_for_us":0,"own":0,"kernel_dropped":0},"warnings":[]}
            """;
    }

    private static L2TestReport Build(params string[] jsons) =>
        L2TestReport.Build(jsons.Select(j => L2NodeJson.Parse(Encoding.UTF8.GetBytes(j))).Select(r => new L2ReportNode(r.Node, null, r, null)));

    [Fact]
    public void AllProbesArrivingPassesEveryKind()
    {
        L2TestReport report = Build(NodeJson("hv1"), NodeJson("hv2"), NodeJson("hv3"));
        Assert.True(report.Passed);
        Assert.All(report.Kinds, k => Assert.Equal(L2Verdict.Ok, k.Verdict));
        Assert.Equal("OK on all 6 pairs", report.Kind(L2ProbeKind.Broadcast).Summary);
        L2Cell c = report.Kind(L2ProbeKind.Unicast).Cell("hv2", "hv3");
        Assert.Equal((3, 3, 3L, 0.0), (c.Sent, c.Expected, c.Received, c.LossPercent));
        Assert.Equal("3/3 (0.2 ms)", L2TestReportWriter.CellText(c));
    }

    [Fact]
    public void OneReceiverWithoutMulticastIsNamedWithItsSenders()
    {
        string hv3 = NodeJson("hv3", (from, kind) => kind.StartsWith("ipv4", StringComparison.Ordinal) ? 0 : 3);
        L2TestReport report = Build(NodeJson("hv1"), NodeJson("hv2"), hv3);
        Assert.False(report.Passed);
        L2KindResult k = report.Kind(L2ProbeKind.Ipv4AdminScoped);
        Assert.Equal(L2Verdict.Fail, k.Verdict);
        Assert.Equal("FAIL hv3 receives nothing from hv1, hv2", k.Summary);
        Assert.Equal(["hv1→hv3", "hv2→hv3"], k.Cells.Where(c => c.IsFailure).Select(c => $"{c.From}→{c.To}"));
        Assert.Equal("0/3 FAIL", L2TestReportWriter.CellText(k.Cell("hv1", "hv3")));
        Assert.Equal(L2Verdict.Ok, report.Kind(L2ProbeKind.Ipv6AllNodes).Verdict);
    }

    [Fact]
    public void ForeignSourceDroppedEverywhereIsCalledMacSpoofProtection()
    {
        Func<string, string, int> noForeign = (_, kind) => kind == "foreign-source" ? 0 : 3;
        L2TestReport report = Build(NodeJson("hv1", noForeign), NodeJson("hv2", noForeign), NodeJson("hv3", noForeign));
        Assert.Equal("FAIL — frames from a non-NIC MAC are dropped between all pairs (MAC spoof protection?)", report.Kind(L2ProbeKind.ForeignSource).Summary);
        Assert.Equal(L2Verdict.Ok, report.Kind(L2ProbeKind.Unicast).Verdict);
    }

    [Fact]
    public void OneSendersForeignFramesLostEverywhereAreBlamedOnItsPort()
    {
        Func<string, string, int> fromHv2 = (from, kind) => kind == "foreign-source" && from == "hv2" ? 0 : 3;
        L2TestReport report = Build(NodeJson("hv1", fromHv2), NodeJson("hv2"), NodeJson("hv3", fromHv2));
        Assert.Equal("FAIL nothing from hv2 reaches hv1, hv3 (MAC spoof protection on hv2's port?)", report.Kind(L2ProbeKind.ForeignSource).Summary);
    }

    [Fact]
    public void LossAboveTheLimitFailsAndLossWithinItPasses()
    {
        string hv2 = NodeJson("hv2", (from, kind) => kind == "broadcast" && from == "hv1" ? 1 : 3);
        L2TestReport strict = Build(NodeJson("hv1"), hv2, NodeJson("hv3"));
        L2Cell c = strict.Kind(L2ProbeKind.Broadcast).Cell("hv1", "hv2");
        Assert.Equal(L2CellStatus.Lossy, c.Status);
        Assert.Equal(66.7, Math.Round(c.LossPercent, 1));
        Assert.Equal("FAIL hv2 loses 66.7% from hv1 (1/3)", strict.Kind(L2ProbeKind.Broadcast).Summary);

        L2TestReport lenient = L2TestReport.Build(strict.Nodes, maxLossPercent: 70);
        Assert.Equal(L2Verdict.Ok, lenient.Kind(L2ProbeKind.Broadcast).Verdict);
    }

    [Fact]
    public void ProbesSentBeforeALateReceiverListenedAreNotCountedAsLoss()
    {
        // hv3 starts 1.5 s late: the +1 s probes of hv1 and hv2 went out before it listened.
        string hv3 = NodeJson("hv3", (_, _) => 2, startMs: 1500);
        L2TestReport report = Build(NodeJson("hv1"), NodeJson("hv2"), hv3);
        L2Cell c = report.Kind(L2ProbeKind.Broadcast).Cell("hv1", "hv3");
        Assert.Equal((3, 2, 2L, L2CellStatus.Ok), (c.Sent, c.Expected, c.Received, c.Status));
        // hv3's own probes (at its +1..+3 s) fell inside the others' windows (they listen until +5 s).
        Assert.Equal(3, report.Kind(L2ProbeKind.Broadcast).Cell("hv3", "hv1").Expected);
        Assert.True(report.Passed);
    }

    [Fact]
    public void ANodeThatNeverStartedIsNoReportNotLoss()
    {
        string dir = _dir;
        foreach (string n in new[] { "hv1", "hv2" })
        {
            File.WriteAllText(Path.Combine(dir, n + ".json"), NodeJson(n, peers: new[] { "hv1", "hv2" }.Where(p => p != n).ToArray(), received: (from, _) => from == "hv3" ? 0 : 3));
        }

        var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = CliApplication.Run(["l2test", "report", Path.Combine(dir, "hv1.json"), Path.Combine(dir, "hv2.json"), Path.Combine(dir, "hv3.json")], stdout, stderr);
        string text = Encoding.UTF8.GetString(stdout.ToArray());
        Assert.Equal(L2TestCommand.NotProven, exit);
        Assert.Contains("hv3.json", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("  hv3: no report (no file)", text, StringComparison.Ordinal);
        Assert.Contains("  broadcast: OK on all 2 pairs", text, StringComparison.Ordinal); // pairs are ordered: hv1→hv2 and hv2→hv1
        Assert.Contains("RESULT: FAIL — no report from hv3", text, StringComparison.Ordinal);
        Assert.DoesNotContain("0/", text, StringComparison.Ordinal);

        stdout = new MemoryStream();
        exit = CliApplication.Run(["l2test", "report", "--format", "json", Path.Combine(dir, "hv1.json"), Path.Combine(dir, "hv2.json"), Path.Combine(dir, "hv3.json")], stdout, new StringWriter());
        Assert.Equal(L2TestCommand.NotProven, exit);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout.ToArray());
        Assert.False(doc.RootElement.GetProperty("passed").GetBoolean());
        Assert.Equal("no report", doc.RootElement.GetProperty("nodes")[2].GetProperty("status").GetString());
        System.Text.Json.JsonElement pairs = doc.RootElement.GetProperty("kinds")[0].GetProperty("pairs");
        Assert.Equal(["ok", "no report", "ok", "no report", "no report", "no report"], pairs.EnumerateArray().Select(p => p.GetProperty("status").GetString()));
    }

    [Fact]
    public void DirectedProbesNeverSentLeaveThePairUntestedAndTheKindIncomplete()
    {
        string hv1 = NodeJson("hv1", peers: ["hv2"]); // hv1 never learned hv3
        L2TestReport report = Build(hv1, NodeJson("hv2"), NodeJson("hv3", (from, kind) => from == "hv1" && kind is "unicast" or "foreign-source" or "ipv6-solicited-node" ? 0 : 3));
        L2KindResult k = report.Kind(L2ProbeKind.Unicast);
        Assert.Equal(L2CellStatus.NotSent, k.Cell("hv1", "hv3").Status);
        Assert.Equal(L2Verdict.Incomplete, k.Verdict);
        Assert.Equal("INCOMPLETE — OK on 5 pairs; untested: hv1→hv3 (never sent: hv1 never learned hv3's MAC)", k.Summary);
        Assert.False(report.Passed); // the solicited-node and foreign-source kinds are required and not proven for that pair
    }

    [Fact]
    public void NodeFilesRoundTripThroughTheWriter()
    {
        var node = new L2TestNode("hv1", "eth0", MacAddress.Parse("02:00:5e:00:53:01"), 100);
        var peer = new L2TestNode("hv2", "eth0", MacAddress.Parse("02:00:5e:00:53:02"), -1);
        byte[] buf = new byte[L2Probe.MaxFrameLength];
        for (int i = 0; i < 12; i++)
        {
            long now = T0 + i * 100_000_000L;
            node.Result.StartNs = T0;
            int n = peer.NextFrame(buf, now);
            node.OnFrame(now + 50_000, buf.AsSpan(0, n));
            n = node.NextFrame(buf, now + 1_000); // send offsets are kept to the microsecond
            peer.OnFrame(now + 60_000, buf.AsSpan(0, n));
        }

        node.Result.EndNs = T0 + 2_000_000_000;
        var ms = new MemoryStream();
        L2NodeJson.Write(ms, node.Result);
        L2NodeResult back = L2NodeJson.Parse(ms.ToArray());
        Assert.Equal(("hv1", "eth0", 100), (back.Node, back.Interface, back.VlanId));
        Assert.Equal(node.Result.NicMac, back.NicMac);
        Assert.Equal(node.Result.ForeignMac, back.ForeignMac);
        Assert.Equal(node.Result.Sent.Select(s => (s.Kind, s.VlanId, s.To, s.Count)), back.Sent.Select(s => (s.Kind, s.VlanId, s.To, s.Count)));
        Assert.Equal(node.Result.Sent.SelectMany(s => s.TimesNs), back.Sent.SelectMany(s => s.TimesNs));
        Assert.Equal(node.Result.Received.Select(r => (r.From, r.Kind, r.Count, r.FirstSequence, r.LastSequence)), back.Received.Select(r => (r.From, r.Kind, r.Count, r.FirstSequence, r.LastSequence)));
        Assert.All(back.Received, r => Assert.Equal(0.05, r.DelayAverageNs / 1e6, 6));
        Assert.Equal(["hv2"], back.Peers.Select(p => p.Node));
    }

    [Fact]
    public void TwoNodesInMemoryLearnEachOtherAndDirectProbesOnlyAfterwards()
    {
        var a = new L2TestNode("a", "eth0", MacAddress.Parse("02:00:5e:00:53:0a"), -1);
        var b = new L2TestNode("b", "eth0", MacAddress.Parse("02:00:5e:00:53:0b"), -1);
        byte[] buf = new byte[L2Probe.MaxFrameLength];
        var kindsA = new List<L2ProbeKind>();
        for (int i = 0; i < 14; i++)
        {
            int n = a.NextFrame(buf, T0 + i);
            Assert.Equal(L2ProbeProblem.None, L2Probe.TryDecode(buf.AsSpan(0, n), out L2ProbeFrame p));
            kindsA.Add(p.Kind);
            b.OnFrame(T0 + i, buf.AsSpan(0, n));
            a.OnFrame(T0 + i, buf.AsSpan(0, b.NextFrame(buf, T0 + i)));
        }

        // The first four of a's frames are the undirected kinds; b was learned from b's first probe, so its directed
        // probes join the round right after them, before the next round.
        Assert.Equal([L2ProbeKind.Broadcast, L2ProbeKind.Ipv4LinkLocal, L2ProbeKind.Ipv4AdminScoped, L2ProbeKind.Ipv6AllNodes,
            L2ProbeKind.Ipv6SolicitedNode, L2ProbeKind.ForeignSource, L2ProbeKind.Unicast], kindsA.Take(7));
        Assert.All(L2ProbeKinds.All, k => Assert.True(b.Result.FindReceived("a", k, -1)?.Count >= 1, $"{k} not received"));
        Assert.Equal(0, b.Result.Ignored.NotForUs);

        // A third node sees a's probes to b (flooded): it ignores the directed ones as not for it.
        var c = new L2TestNode("c", "eth0", MacAddress.Parse("02:00:5e:00:53:0c"), -1);
        int m = a.NextFrame(buf, T0 + 100);
        while (!L2ProbeKinds.IsDirected(Kind(buf.AsSpan(0, m))))
        {
            m = a.NextFrame(buf, T0 + 100);
        }

        c.OnFrame(T0 + 100, buf.AsSpan(0, m));
        Assert.Equal(1, c.Result.Ignored.NotForUs);
        Assert.Empty(c.Result.Received);

        // Its own name coming back (a loop) is ignored too.
        a.OnFrame(T0, buf.AsSpan(0, m));
        Assert.Equal(1, a.Result.Ignored.Own);
    }

    private static L2ProbeKind Kind(ReadOnlySpan<byte> frame)
    {
        Assert.Equal(L2ProbeProblem.None, L2Probe.TryDecode(frame, out L2ProbeFrame p));
        return p.Kind;
    }

    [Theory]
    [InlineData("", "not an l2test node file")]
    [InlineData("[]", "\"format\" is not")]
    [InlineData("{\"format\":\"uplinkprobe-l2test-node\",\"version\":9}", "version 9 is not supported")]
    [InlineData("{\"format\":\"uplinkprobe-l2test-node\",\"version\":1,\"node\":\"hv1\"}", "not an l2test node file")]
    public void UnusableNodeFilesGiveOneLineErrors(string content, string expected)
    {
        string path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, content);
        L2TestFormatException ex = Assert.Throws<L2TestFormatException>(() => L2NodeJson.Read(path));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith(path + ": ", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
