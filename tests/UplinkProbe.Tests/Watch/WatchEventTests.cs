using System.Text.Json;
using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Analysis.Live;
using UplinkProbe.Capture;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;
using UplinkProbe.Tests.Analysis;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Watch;

/// <summary>The incremental events of <c>watch</c>, fed with hand-built OVN frames, against the analysis of the same packets.</summary>
public sealed class WatchEventTests(ITestOutputHelper output)
{
    private static readonly MacAddress Gateway = MacAddress.Read(Scenario.GatewayMac);
    private static readonly byte[] GatewayGarp = Scenario.Garp(Scenario.GatewayMac, Scenario.GatewayIp);

    [Fact]
    public void TheGatewayBecomesActiveHereAnnouncesItselfAndStopsAfterTheRunGap()
    {
        var feed = new WatchFeed(WatchFeed.OvnInventory());
        feed.Traffic(0, 5).Sent(1.0, GatewayGarp);
        int frames = feed.Session.Analysis.Packets is var p ? (int)p : 0;

        LiveEvent here = Assert.Single(feed.Of(LiveEventKind.GatewayHere));
        Assert.Equal((WatchFeed.Ns(0), "hv1", "lr0", Gateway, (string?)null), (here.TimestampNs, here.Node, here.Gateway, here.Mac!.Value, here.PreviousNode));
        Assert.Equal("gateway lr0 (00:16:3e:aa:00:02) active here", here.Text);

        LiveEvent garp = Assert.Single(feed.Of(LiveEventKind.Garp));
        Assert.Equal((WatchFeed.Ns(1), "out", "gratuitous_request", "203.0.113.10"), (garp.TimestampNs, garp.Direction, garp.ClaimKind, garp.Ip));
        Assert.Equal("GARP 203.0.113.10 (00:16:3e:aa:00:02, lr0) from this node", garp.Text);

        // The stretch ends when the run gap (2 s) has passed without a frame — not a moment earlier.
        feed.Tick(7.0);
        Assert.Empty(feed.Of(LiveEventKind.GatewayStopped));
        feed.Tick(7.01);
        LiveEvent stopped = Assert.Single(feed.Of(LiveEventKind.GatewayStopped));
        Assert.Equal((WatchFeed.Ns(5), WatchFeed.Ns(0), (long)frames), (stopped.TimestampNs, stopped.SinceNs!.Value, stopped.Frames!.Value));
        Assert.StartsWith("gateway lr0 (00:16:3e:aa:00:02) no longer emitted here: last frame ", stopped.Text, StringComparison.Ordinal);

        TimelineSegment segment = Assert.Single(Assert.Single(feed.Session.Analysis.BuildReport().Gateways).Timeline);
        Assert.Equal(("hv1", here.TimestampNs, stopped.TimestampNs, stopped.Frames), (segment.Node, segment.StartNs, segment.EndNs, (long?)segment.Frames));
        Assert.Equal("idle here", Assert.Single(feed.Session.Tracker.Status()).State);
    }

    [Fact]
    public void AnotherNodesGarpMovesTheGatewayAwayOncePerClaimAndItsReturnIsAMoveHere()
    {
        var feed = new WatchFeed(WatchFeed.OvnInventory());
        feed.Traffic(0, 3);
        feed.Heard(3.5, GatewayGarp).Heard(5.5, GatewayGarp).Heard(9.5, GatewayGarp); // OVN's +1, +3, +7 s of one claim
        Assert.Equal("away", Assert.Single(feed.Session.Tracker.Status()).State);
        feed.Traffic(20, 21);

        LiveEvent away = Assert.Single(feed.Of(LiveEventKind.GatewayAway));
        Assert.Equal((WatchFeed.Ns(3.5), "203.0.113.10", "in"), (away.TimestampNs, away.Ip, away.Direction));
        Assert.Equal("gateway lr0 (00:16:3e:aa:00:02) moved away: another node announced 203.0.113.10", away.Text);
        Assert.All(feed.Of(LiveEventKind.Garp), g => Assert.Equal("GARP 203.0.113.10 (00:16:3e:aa:00:02, lr0) from another node", g.Text));
        Assert.Equal(3, feed.Of(LiveEventKind.Garp).Count);

        Assert.Equal([WatchFeed.Ns(3)], feed.Of(LiveEventKind.GatewayStopped).Select(e => e.TimestampNs));
        var heres = feed.Of(LiveEventKind.GatewayHere);
        Assert.Equal([WatchFeed.Ns(0), WatchFeed.Ns(20)], heres.Select(e => e.TimestampNs));
        Assert.Equal(("another node", "gateway lr0 (00:16:3e:aa:00:02) moved here (it was on another node)"), (heres[1].PreviousNode, heres[1].Text));
        Assert.Equal("here", Assert.Single(feed.Session.Tracker.Status()).State);

        // Event order is time order: here, away, GARPs heard, stopped (on the next packet), here again.
        Assert.Equal(
            [LiveEventKind.GatewayHere, LiveEventKind.GatewayAway, LiveEventKind.Garp, LiveEventKind.GatewayStopped, LiveEventKind.Garp, LiveEventKind.Garp, LiveEventKind.GatewayHere],
            feed.Events.Select(e => e.Kind));
    }

    [Fact]
    public void TheGatewayMacArrivingFromElsewhereWhileThisNodeEmitsItIsFlaggedOncePerStretch()
    {
        var feed = new WatchFeed(WatchFeed.OvnInventory());
        byte[] ping = Scenario.Ping(Scenario.GatewayMac, Scenario.RouterMac, Scenario.GatewayIp, Scenario.UpstreamIp);
        feed.Traffic(0, 4);
        feed.Heard(2.0, ping).Heard(2.1, ping).Heard(3.9, ping);
        feed.Heard(7.0, ping); // after the run gap, and this node no longer emits

        var heard = feed.Of(LiveEventKind.GatewayHeard);
        Assert.Equal([WatchFeed.Ns(2.0), WatchFeed.Ns(7.0)], heard.Select(e => e.TimestampNs));
        Assert.Equal("gateway lr0 (00:16:3e:aa:00:02) heard from another node while this node emits it: split brain?", heard[0].Text);
        Assert.Equal("gateway lr0 (00:16:3e:aa:00:02) heard from another node", heard[1].Text);
        Assert.Equal("heard elsewhere", Assert.Single(feed.Session.Tracker.Status()).State);
    }

    [Fact]
    public void EventInstantsAreTheStartsAndEndsOfTheReportsTimelineAndMoves()
    {
        var feed = new WatchFeed(WatchFeed.OvnInventory(), "hv1", "hv2");
        feed.Traffic(0, 3, "hv1").Traffic(6, 8, "hv1").Traffic(9.6, 10, "hv1"); // 1.6 s gap: one segment 6-10
        feed.Traffic(10.5, 14, "hv2").Sent(11.5, GatewayGarp, "hv2").Sent(13.5, GatewayGarp, "hv2");
        feed.Traffic(14.4, 16, "hv1"); // hv1 takes it back while hv2 still emits: a move and a split brain
        feed.Tick(40);

        GatewayReport gateway = Assert.Single(feed.Session.Analysis.BuildReport().Gateways);
        foreach (TimelineSegment s in gateway.Timeline)
        {
            output.WriteLine($"{s.Node} {(s.StartNs - Scenario.T0) / 1e9:F1}-{(s.EndNs - Scenario.T0) / 1e9:F1} {s.Frames}");
        }

        Assert.Equal(gateway.Timeline.Select(s => (s.Node, s.StartNs)), feed.Of(LiveEventKind.GatewayHere).Select(e => (e.Node!, e.TimestampNs)));
        Assert.Equal(gateway.Timeline.Select(s => (s.Node, s.EndNs, s.Frames)).OrderBy(x => x.EndNs),
            feed.Of(LiveEventKind.GatewayStopped).Select(e => (e.Node!, e.TimestampNs, e.Frames!.Value)).OrderBy(x => x.Item2));
        Assert.Equal(4, gateway.Timeline.Count);

        // Every move of the report is a "moved here" event of its target at the same instant, naming where it came from.
        Assert.Equal(2, gateway.Failovers.Count);
        foreach (FailoverEvent move in gateway.Failovers)
        {
            LiveEvent e = Assert.Single(feed.Of(LiveEventKind.GatewayHere), e => e.TimestampNs == move.AtNs);
            Assert.Equal((move.To, move.From), (e.Node!, e.PreviousNode));
            Assert.Equal($"gateway lr0 (00:16:3e:aa:00:02) moved here from {move.From}", e.Text);
        }
    }

    [Fact]
    public void WithoutAnInventoryAGatewayIsLearnedFromItsGarpButAFloatingIpIsNot()
    {
        var inventory = new CloudInventory();
        inventory.DistributedFloatingIps.Add(new FloatingIpInfo { ExternalIp = "203.0.113.23", ExternalMac = MacAddress.Read(Scenario.FipMac), Source = new FactSource("test") });
        var feed = new WatchFeed(inventory);
        feed.Sent(0, Scenario.Garp(Scenario.FipMac, Scenario.FipIp));
        feed.Sent(0.5, GatewayGarp).Traffic(0.6, 1.0);

        LiveEvent here = Assert.Single(feed.Of(LiveEventKind.GatewayHere));
        Assert.Equal((WatchFeed.Ns(0.5), "00:16:3e:aa:00:02", "gateway 00:16:3e:aa:00:02 active here"), (here.TimestampNs, here.Gateway, here.Text));
        Assert.Equal(["GARP 203.0.113.23 (00:16:3e:bb:00:03) from this node", "GARP 203.0.113.10 (00:16:3e:aa:00:02) from this node"],
            feed.Of(LiveEventKind.Garp).Select(e => e.Text));
        Assert.Equal("00:16:3e:aa:00:02", Assert.Single(feed.Session.Analysis.BuildReport().Gateways).Name);
    }

    [Fact]
    public void AGarpFloodFromRandomMacsLearnsNoMoreGatewaysThanTheCap()
    {
        var feed = new WatchFeed(new CloudInventory());
        feed.Sent(0, GatewayGarp);
        var random = new Random(9);
        for (int i = 0; i < 1000; i++)
        {
            feed.Sent(1 + (i * 0.001), FloodFrames.RandomGarp(random));
        }

        Assert.Equal(GatewayEventTracker.MaxLearnedGateways, feed.Session.Tracker.Status().Count);
        Assert.Equal(1001 - GatewayEventTracker.MaxLearnedGateways, feed.Session.Tracker.GatewaysNotLearned);
        Assert.Contains(feed.Session.Tracker.Status(), g => g.Name == "00:16:3e:aa:00:02");
        Assert.EndsWith($"; 745 GARP requests from MACs beyond the first {GatewayEventTracker.MaxLearnedGateways} not tracked as gateways",
            feed.Session.Status(WatchFeed.Ns(3), null).Text, StringComparison.Ordinal);
    }

    [Fact]
    public void AFindingIsReportedOnceWhenItHasSettledAndATransientOneNever()
    {
        var feed = new WatchFeed(WatchFeed.OvnInventory(), "hv1", "hv2");
        feed.Traffic(0, 5, "hv1").Traffic(5.4, 30, "hv2");

        // Right after the move hv2 has sent no GARP yet (OVN sends the first ~1 s after the claim): the report says so...
        AnalysisReport early = feed.Session.CheckFindings(WatchFeed.Ns(5.6));
        Assert.Contains(early.Findings, f => f.Id == FindingIds.NoGarpAfterMove);
        feed.Session.CheckFindings(WatchFeed.Ns(6.0));
        feed.Sent(6.4, GatewayGarp, "hv2").Sent(8.4, GatewayGarp, "hv2");
        // ...but it did not last, so it is never reported; the move itself is, once, when it has settled.
        for (double t = 9; t <= 20; t += 1)
        {
            feed.Session.CheckFindings(WatchFeed.Ns(t));
        }

        var findings = feed.Of(LiveEventKind.Finding);
        Assert.DoesNotContain(findings, e => e.Finding!.Id == FindingIds.NoGarpAfterMove);
        LiveEvent moved = Assert.Single(findings, e => e.Finding!.Id == FindingIds.GatewayMoved);
        Assert.Equal(WatchFeed.Ns(5.4), moved.TimestampNs);
        Assert.StartsWith("INFO gateway_moved: lr0 moved from hv1 to hv2", moved.Text, StringComparison.Ordinal);
        Assert.Single(findings); // nothing else is wrong in this story
    }

    [Fact]
    public void JsonLinesCarryEveryEventAndEndWithTheAnalyzeReport()
    {
        var feed = new WatchFeed(WatchFeed.OvnInventory());
        feed.Traffic(0, 3).Sent(1, GatewayGarp).Heard(4, GatewayGarp).Tick(10);
        var drops = new DropCounter(["up0"], _ => new UplinkProbe.Capture.Live.PcapStatistics(100, 7, 0));
        var stream = new MemoryStream();
        using (LiveEventWriter writer = LiveEventWriter.ForJsonLines(stream))
        {
            foreach (LiveEvent e in feed.Events)
            {
                writer.Write(e);
            }

            foreach (LiveEvent e in drops.Poll(WatchFeed.Ns(10), feed.Session.Analysis.Packets))
            {
                writer.Write(e);
            }

            writer.Write(feed.Session.Status(WatchFeed.Ns(10), drops));
            writer.WriteReport(feed.Session.Analysis.BuildReport(), "SIGINT", feed.Session.Analysis.Packets, drops);
        }

        string[] lines = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var docs = lines.Select(l => JsonDocument.Parse(l)).ToList();
        Assert.Equal(["gateway_here", "garp", "gateway_away", "garp", "gateway_stopped", "drops", "status", "report"],
            docs.Select(d => d.RootElement.GetProperty("event").GetString()));
        JsonElement here = docs[0].RootElement;
        Assert.Equal((WatchFeed.Ns(0), "hv1", "lr0", "00:16:3e:aa:00:02"),
            (here.GetProperty("time_ns").GetInt64(), here.GetProperty("node").GetString(), here.GetProperty("gateway").GetString(), here.GetProperty("mac").GetString()));
        Assert.Equal(7UL, docs[5].RootElement.GetProperty("kernel_drops").GetUInt64());
        Assert.Contains("DROPPED 7 by the kernel", docs[6].RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("away", docs[6].RootElement.GetProperty("gateways")[0].GetProperty("state").GetString());
        JsonElement report = docs[7].RootElement;
        Assert.Equal(("SIGINT", 7UL), (report.GetProperty("stopped_by").GetString(), report.GetProperty("kernel_drops").GetUInt64()));
        JsonElement timeline = report.GetProperty("report").GetProperty("gateways")[0].GetProperty("timeline");
        Assert.Equal(("hv1", WatchFeed.Ns(0)), (timeline[0].GetProperty("node").GetString(), timeline[0].GetProperty("start_ns").GetInt64()));
    }

    [Fact]
    public void TheLiveSessionsReportIsTheOfflineAnalysisOfTheSamePacketsAndCanBeBuiltRepeatedly()
    {
        using var scenario = new Scenario();
        scenario.WithOvnInventory().Node("hv1").Node("hv2");
        scenario.Traffic("hv1", 0, 5, Scenario.GatewayMac).GarpBurst("hv1", -0.5, Scenario.GatewayMac, Scenario.GatewayIp, 3);
        scenario.Traffic("hv2", 5.3, 12, Scenario.GatewayMac).GarpBurst("hv2", 5.0, Scenario.GatewayMac, Scenario.GatewayIp, 3);
        scenario.Traffic("hv1", 11, 11.3, Scenario.GatewayMac);
        AnalysisReport offline = scenario.Analyze();

        // The same frames, in time order, through a watch session (both nodes' views, as two live sources).
        var feed = new WatchFeed(scenario.Inventory, "hv1", "hv2");
        var frames = new List<(double T, byte[] Frame, string Node, PacketDirection Direction)>();
        foreach (string node in new[] { "hv1", "hv2" })
        {
            string path = Directory.GetFiles(ScenarioDirectory(offline), node + ".pcapng").Single();
            using CaptureReader reader = CaptureFile.Open(path);
            while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
            {
                frames.Add(((record.TimestampNs - Scenario.T0) / 1e9, data.ToArray(), node, record.Direction));
            }
        }

        foreach (var f in frames.OrderBy(f => f.T))
        {
            feed.Packet(f.T, f.Frame, f.Direction, f.Node);
        }

        string first = Json(feed.Session.Analysis.BuildReport());
        string second = Json(feed.Session.Analysis.BuildReport());
        Assert.Equal(first, second);

        GatewayReport live = Assert.Single(feed.Session.Analysis.BuildReport().Gateways);
        GatewayReport off = Assert.Single(offline.Gateways);
        Assert.Equal(off.Timeline.Select(s => (s.Node, s.StartNs, s.EndNs, s.Frames)), live.Timeline.Select(s => (s.Node, s.StartNs, s.EndNs, s.Frames)));
        Assert.Equal(off.Failovers.Select(m => (m.From, m.To, m.AtNs, m.GarpVerdict)), live.Failovers.Select(m => (m.From, m.To, m.AtNs, m.GarpVerdict)));
        Assert.Equal(off.SplitBrains.Select(s => (s.StartNs, s.EndNs)), live.SplitBrains.Select(s => (s.StartNs, s.EndNs)));
        Assert.Equal(offline.Findings.Select(f => (f.Id, f.AtNs)), feed.Session.Analysis.BuildReport().Findings.Select(f => (f.Id, f.AtNs)));
        Assert.NotEmpty(off.Failovers);
    }

    [Fact]
    public void OrdinaryPacketsThroughTheWatchSessionAllocateNothing()
    {
        const int Packets = 20_000;
        var frames = new List<(long, byte[])>();
        var traffic = new SyntheticUplinkTraffic(11);
        var buffer = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        byte[] ping = Scenario.Ping(Scenario.GatewayMac, Scenario.RouterMac, Scenario.GatewayIp, Scenario.UpstreamIp);
        while (frames.Count < Packets)
        {
            int n = traffic.NextFrame(buffer, out long ts, out SyntheticFrameKind kind);
            if (kind is not (SyntheticFrameKind.Arp or SyntheticFrameKind.Ndp))
            {
                frames.Add((ts, buffer[..n]));
                frames.Add((ts + 1, ping)); // the gateway MAC, from this node, all along
            }
        }

        long span = frames[^1].Item1 - frames[0].Item1 + 1_000;
        void Run(int repeats)
        {
            var events = new List<LiveEvent>();
            var session = new WatchSession(WatchFeed.OvnInventory(), null, events.Add);
            CaptureSource source = session.AddSource("up0", "hv1");
            long number = 0;
            for (int r = 0; r < repeats; r++)
            {
                foreach ((long ts, byte[] frame) in frames)
                {
                    var record = new CaptureRecord
                    {
                        Number = ++number, TimestampNs = ts + (r * span), HasTimestamp = true, LinkType = LinkType.Ethernet,
                        Direction = PacketDirection.Outbound, OriginalLength = frame.Length, CapturedLength = frame.Length,
                    };
                    session.Analysis.OnPacket(source, record, frame);
                }
            }
        }

        Run(1); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(1);
        long a1 = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        Run(3);
        long a3 = GC.GetAllocatedBytesForCurrentThread() - before;
        double perPacket = (a3 - a1) / (2.0 * frames.Count);
        output.WriteLine($"once: {a1} bytes, three times: {a3} bytes, {perPacket:F3} bytes per extra packet");
        Assert.True(perPacket < 0.5, $"{perPacket:F2} bytes allocated per packet");
    }

    private static string Json(AnalysisReport report)
    {
        var stream = new MemoryStream();
        AnalysisJsonWriter.Write(stream, report);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string ScenarioDirectory(AnalysisReport report) => Path.GetDirectoryName(report.Sources[0].Path)!;
}
