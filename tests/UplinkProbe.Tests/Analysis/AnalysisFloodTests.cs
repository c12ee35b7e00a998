using UplinkProbe.Analysis;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Analysis;

/// <summary>
/// Floods of new keys (random Geneve flows, source MACs, ARP and NA claims) at the analyzers' default caps: the state
/// an analysis keeps stays bounded whatever the capture's length, and what the inventory names survives the flood.
/// Run alone: the memory they measure is the whole process's.
/// </summary>
[Collection(nameof(MemoryMeasurementCollection))]
public sealed class AnalysisFloodTests
{
    private readonly ITestOutputHelper _output;

    public AnalysisFloodTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void AFloodOfNewKeysKeepsTheStateBoundedAndTheInventorysTrafficReported()
    {
        using var scenario = new Scenario();
        scenario.WithOvnInventory();
        var options = new AnalysisOptions();
        var session = new AnalysisSession(scenario.Inventory, options);
        CaptureSource hv1 = session.AddSource("hv1.pcapng", "hv1", "--node");
        CaptureSource hv2 = session.AddSource("hv2.pcapng", "hv2", "--node");
        var random = new Random(3);
        byte[] gateway = Scenario.Ping(Scenario.GatewayMac, Scenario.RouterMac, Scenario.GatewayIp, Scenario.UpstreamIp);
        byte[] toGateway = Scenario.Geneve(2, 1, 2, 1, 3);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        long number = 0;
        const int Rounds = 120_000;
        for (int i = 0; i < Rounds; i++)
        {
            long ns = Scenario.T0 + (i * 1_000_000L);
            Feed(session, hv1, ++number, ns, gateway, PacketDirection.Outbound);
            Feed(session, hv2, ++number, ns, toGateway, PacketDirection.Outbound);
            Feed(session, hv1, ++number, ns, FloodFrames.GeneveFlow(random), PacketDirection.Inbound);
            Feed(session, hv2, ++number, ns, FloodFrames.GeneveFlow(random), PacketDirection.Outbound);
            Feed(session, hv1, ++number, ns, FloodFrames.FromRandomMac(random), PacketDirection.Outbound);
            Feed(session, hv2, ++number, ns, FloodFrames.FromRandomMac(random), PacketDirection.Unknown);
            Feed(session, hv1, ++number, ns, i % 2 == 0 ? FloodFrames.RandomGarp(random) : FloodFrames.RandomNeighborAdvertisement(random), PacketDirection.Outbound);
        }

        long held = GC.GetTotalMemory(forceFullCollection: true) - before;
        AnalysisReport report = session.BuildReport();
        _output.WriteLine($"{number:N0} packets: {held / 1e6:F1} MB held; {report.Tunnels.Count} flows, {report.Announcements.Count} announcements");
        foreach (string note in report.Notes)
        {
            _output.WriteLine(note);
        }

        // Unbounded, this flood held 240,000 flows (about 330 bytes each), 240,000 emission tracks (about 400) and
        // 120,000 bindings and IPs: more than 200 MB. Capped: at most twice each cap while a table fills up.
        Assert.True(held < 80_000_000, $"{held / 1e6:F1} MB held after {number:N0} packets");
        Assert.Equal(options.MaxTunnelFlows, report.Tunnels.Count);
        Assert.Equal(options.MaxBindings, report.Announcements.Count);
        Assert.Contains(report.Tunnels, t => t.SourceNode == "hv2" && t.DestinationNode == "hv1" && t.Vni == 2 && t.Packets == Rounds && t.EgressKeys[3] == Rounds);
        GatewayReport gatewayReport = Assert.Single(report.Gateways);
        TimelineSegment segment = Assert.Single(gatewayReport.Timeline);
        Assert.Equal(("hv1", (long)Rounds), (segment.Node, segment.Frames));
        Assert.Contains(report.Notes, n => n.StartsWith($"Geneve: more than {options.MaxTunnelFlows} flows", StringComparison.Ordinal));
        Assert.Contains(report.Notes, n => n.StartsWith($"Emitters: more than {options.MaxEmitters}", StringComparison.Ordinal));
        Assert.Contains(report.Notes, n => n.StartsWith($"Announcements: more than {options.MaxBindings} (IP, MAC) bindings", StringComparison.Ordinal));
        Assert.Contains(report.Notes, n => n.StartsWith($"Announcements: more than {options.MaxBindings} claimed IPs", StringComparison.Ordinal));
    }

    [Fact]
    public void SparseTalkersKeepTheirRunsBounded()
    {
        // 128 MACs sending a frame every 3 s from a capture without direction (each frame a probable emission and a run
        // of its own) and 128 Geneve flows doing the same, for 10,000 rounds (8 hours): 2.56 million runs. Itemising
        // every run holds each; the default limit holds at most twice 1,024 per track and flow.
        (long bounded, AnalysisReport report) = Sparse(new AnalysisOptions());
        (long unbounded, _) = Sparse(new AnalysisOptions { MaxRunsPerTrack = 0 });
        _output.WriteLine($"held: {bounded / 1e6:F1} MB with the default limit, {unbounded / 1e6:F1} MB itemising every run");
        // At most 256 × 2,048 runs of about 12 bytes, in logs that grow by doubling: 12.6 MB, plus the tables.
        Assert.True(bounded < 14_000_000, $"{bounded / 1e6:F1} MB");
        Assert.True(unbounded > 2 * bounded, $"{unbounded / 1e6:F1} MB against {bounded / 1e6:F1} MB");
        Assert.Equal(128, report.Tunnels.Count);
        Assert.All(report.Tunnels, t => Assert.Equal((10_000L, Scenario.T0, Scenario.T0 + (9_999 * 3_000_000_000L)), (t.Packets, t.FirstNs, t.LastNs)));

        static (long Held, AnalysisReport Report) Sparse(AnalysisOptions options)
        {
            var session = new AnalysisSession(null, options);
            CaptureSource hv1 = session.AddSource("hv1.pcap", "hv1", "--node");
            byte[][] frames = new byte[256][];
            for (int k = 0; k < 128; k++)
            {
                frames[k] = Scenario.Ping([0x02, 0x00, 0x5e, 0x00, 0x53, (byte)k], Scenario.RouterMac, [203, 0, 113, (byte)(100 + k)], Scenario.UpstreamIp);
                frames[128 + k] = Scenario.Geneve(1, 2, (uint)(10 + k), 1, 3);
            }

            long before = GC.GetTotalMemory(forceFullCollection: true);
            long number = 0;
            for (int round = 0; round < 10_000; round++)
            {
                long ns = Scenario.T0 + (round * 3_000_000_000L);
                foreach (byte[] frame in frames)
                {
                    Feed(session, hv1, ++number, ns, frame, PacketDirection.Unknown);
                }
            }

            long held = GC.GetTotalMemory(forceFullCollection: true) - before;
            return (held, session.BuildReport());
        }
    }

    [Fact]
    public void AGatewayThatFlapsAllDayListsTheEndsOfItsNewestRunsAndCountsTheRest()
    {
        // hv1 and hv2 take turns emitting the gateway MAC every 3 s (more than the run gap apart): 6,000 runs, 3,000 per
        // node, each its own segment and each a move without a GARP. Each node's track itemises its newest 1,024 runs,
        // so the timeline starts after hv2's latest forgotten run (i = 3,951): 2,048 segments, of which the first and
        // last 500 are listed.
        using var scenario = new Scenario();
        scenario.WithOvnInventory();
        var session = new AnalysisSession(scenario.Inventory);
        CaptureSource[] nodes = [session.AddSource("hv1.pcapng", "hv1", "--node"), session.AddSource("hv2.pcapng", "hv2", "--node")];
        byte[] gateway = Scenario.Ping(Scenario.GatewayMac, Scenario.RouterMac, Scenario.GatewayIp, Scenario.UpstreamIp);
        const int Segments = 6000;
        int keep = new AnalysisOptions().MaxRunsPerTrack;
        for (int i = 0; i < Segments; i++)
        {
            Feed(session, nodes[i % 2], i + 1, Scenario.T0 + (i * 3_000_000_000L), gateway, PacketDirection.Outbound);
        }

        AnalysisReport report = session.BuildReport();
        GatewayReport lr0 = Assert.Single(report.Gateways);
        int firstPlaced = Segments - (2 * keep);
        Assert.Equal(3952, firstPlaced);
        Assert.Equal("hv2", lr0.ActiveNode);
        Assert.Equal(Scenario.T0 + ((Segments - 1) * 3_000_000_000L), lr0.ActiveSinceNs);
        Assert.Equal(GatewayEmitterAnalyzer.MaxListedPerGateway, lr0.Timeline.Count);
        Assert.Equal(GatewayEmitterAnalyzer.MaxListedPerGateway, lr0.Failovers.Count);
        Assert.Equal((Scenario.T0 + (firstPlaced * 3_000_000_000L), "hv1"), (lr0.Timeline[0].StartNs, lr0.Timeline[0].Node));
        Assert.Equal((Scenario.T0 + ((Segments - 1) * 3_000_000_000L), "hv2"), (lr0.Timeline[^1].StartNs, lr0.Timeline[^1].Node));
        Assert.Equal(Scenario.T0 + ((Segments - 500) * 3_000_000_000L), lr0.Timeline[500].StartNs);
        Assert.Equal(("hv1", "hv2", "missing"), (lr0.Failovers[^1].From, lr0.Failovers[^1].To, lr0.Failovers[^1].GarpVerdict));
        Assert.Equal(AnalysisReport.MaxFindingsPerSubject, report.Findings.Count(f => f.Id == FindingIds.GatewayMoved));
        var moved = report.Findings.Where(f => f.Id == FindingIds.GatewayMoved).OrderBy(f => f.AtNs).ToList();
        Assert.Equal(Scenario.T0 + ((firstPlaced + 1) * 3_000_000_000L), moved[0].AtNs);
        Assert.Equal(Scenario.T0 + ((Segments - 1) * 3_000_000_000L), moved[^1].AtNs);
        Assert.Contains($"{FindingIds.GatewayMoved} (lr0): {(2 * keep) - 1} findings; the first and latest {AnalysisReport.MaxFindingsPerSubject / 2} are listed", report.Notes);
        Assert.Contains($"lr0: {2 * keep} timeline segments, {(2 * keep) - 1} moves and 0 split brains; the first and last 500 of each are listed", report.Notes);
        Assert.Contains($"lr0: the timeline starts after {AnalysisClock.Format(Scenario.T0 + ((firstPlaced - 1) * 3_000_000_000L))}: hv2 emitted {MacAddress.Read(Scenario.GatewayMac)} " +
                        $"in more than {keep} separate runs (gaps over 2 s) in hv2.pcapng, of which the newest are itemised; {firstPlaced} earlier frames of {MacAddress.Read(Scenario.GatewayMac)} are counted, not placed", report.Notes);
    }

    [Fact]
    public void ThousandsOfSplitBrainsAreEachFoundWithTheirNodes()
    {
        // hv1 emits the gateway every second (one run), hv2 once every 3 s in between: a split brain each time (the
        // quadratic search for the segments involved made this slow). hv2's 3,000 runs are more than a track itemises:
        // its newest 1,024 give as many split brains, the first and last 500 listed; hv1's run is kept whole.
        using var scenario = new Scenario();
        scenario.WithOvnInventory();
        var session = new AnalysisSession(scenario.Inventory);
        CaptureSource hv1 = session.AddSource("hv1.pcapng", "hv1", "--node"), hv2 = session.AddSource("hv2.pcapng", "hv2", "--node");
        byte[] gateway = Scenario.Ping(Scenario.GatewayMac, Scenario.RouterMac, Scenario.GatewayIp, Scenario.UpstreamIp);
        int keep = new AnalysisOptions().MaxRunsPerTrack;
        long number = 0;
        for (int i = 0; i < 9000; i++)
        {
            long ns = Scenario.T0 + (i * 1_000_000_000L);
            Feed(session, hv1, ++number, ns, gateway, PacketDirection.Outbound);
            if (i % 3 == 1)
            {
                Feed(session, hv2, ++number, ns + 500_000_000, gateway, PacketDirection.Outbound);
            }
        }

        AnalysisReport report = session.BuildReport();
        GatewayReport lr0 = Assert.Single(report.Gateways);
        Assert.Equal("hv1", lr0.ActiveNode);
        Assert.Equal(Scenario.T0, lr0.ActiveSinceNs);
        Assert.Empty(lr0.Failovers);
        Assert.Equal(GatewayEmitterAnalyzer.MaxListedPerGateway, lr0.SplitBrains.Count);
        Assert.All(lr0.SplitBrains, s => Assert.Equal(["hv1", "hv2"], s.Nodes));
        Assert.All(lr0.SplitBrains, s => Assert.Equal(2, s.Evidence.Count));
        int firstPlacedRun = 3000 - keep;
        Assert.Equal(Scenario.T0 + ((3L * firstPlacedRun) + 1) * 1_000_000_000L + 500_000_000, lr0.SplitBrains[0].StartNs);
        Assert.Equal((Scenario.T0, "hv1", 9000L), (lr0.Timeline[0].StartNs, lr0.Timeline[0].Node, lr0.Timeline[0].Frames));
        Assert.Contains($"lr0: {keep + 1} timeline segments, 0 moves and {keep} split brains; the first and last 500 of each are listed", report.Notes);
        Assert.Contains($"{FindingIds.TwoHostsEmitGatewayMac} (lr0): {keep} findings; the first and latest {AnalysisReport.MaxFindingsPerSubject / 2} are listed", report.Notes);
        Assert.Contains(report.Notes, n => n.StartsWith("lr0: the timeline starts after ", StringComparison.Ordinal) && n.EndsWith($"; {firstPlacedRun} earlier frames of {MacAddress.Read(Scenario.GatewayMac)} are counted, not placed", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void APcapngNamingThousandsOfNodesGivesEachNodeOneSource(bool firstInterfaceNamesANode)
    {
        // 3,000 interfaces naming 1,000 nodes (hv{i % 1000}); the first names none, or hv0 and so takes over the file's source.
        string dir = Directory.CreateTempSubdirectory("uplinkprobe-ifaces-").FullName;
        try
        {
            string path = Path.Combine(dir, "many.pcapng");
            using (var w = PcapNgWriter.Create(path))
            {
                for (int i = 0; i < 3000; i++)
                {
                    int id = w.AddInterface($"if{i}", LinkType.Ethernet, node: i == 0 && !firstInterfaceNamesANode ? null : $"hv{i % 1000}");
                    w.WritePacket(id, Scenario.T0 + (i * 1_000_000L), Scenario.Garp(Scenario.GatewayMac, Scenario.GatewayIp), PacketDirection.Outbound);
                }
            }

            var analysis = new UplinkAnalysis();
            analysis.AddCapture(path);
            AnalysisReport report = analysis.Run();
            var bySource = report.Sources.Where(s => s.Packets > 0).ToDictionary(s => s.Node, s => (s.Packets, s.NodeFrom));
            Assert.Equal(firstInterfaceNamesANode ? 1000 : 1001, bySource.Count);
            Assert.All(Enumerable.Range(1, 999), k => Assert.Equal((3L, "pcapng interface"), bySource[$"hv{k}"]));
            Assert.Equal((firstInterfaceNamesANode ? 3L : 2L, "pcapng interface"), bySource["hv0"]);
            if (!firstInterfaceNamesANode)
            {
                Assert.Equal((1L, "file name"), bySource["many"]);
            }

            Assert.Equal(report.Sources.Count, report.Sources.Select(s => s.Node).Distinct().Count());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void SeenByNamesOnlyCapturesItCanTellApart()
    {
        // The seen-by mask has a bit per capture for the first 63; the 64th and later share bit 63. Before, a flow seen
        // by capture 66 was listed as seen by capture 2 (66 mod 64).
        var session = new AnalysisSession();
        for (int i = 0; i < 70; i++)
        {
            session.AddSource($"hv{i}.pcap", $"hv{i}", "--node");
        }

        byte[] geneve = Scenario.Geneve(2, 1, 2, 1, 3);
        Feed(session, session.Sources[66], 1, Scenario.T0, geneve, PacketDirection.Inbound);
        Feed(session, session.Sources[3], 2, Scenario.T0 + 1, geneve, PacketDirection.Inbound);
        AnalysisReport report = session.BuildReport();
        Assert.Equal(["hv3"], Assert.Single(report.Tunnels).SeenBy);
        Assert.Contains("Geneve: seen_by names the first 63 captures of this analysis; flows seen by later ones do not list those", report.Notes);

        var few = new AnalysisSession();
        for (int i = 0; i < 64; i++)
        {
            few.AddSource($"hv{i}.pcap", $"hv{i}", "--node");
        }

        Feed(few, few.Sources[63], 1, Scenario.T0, geneve, PacketDirection.Inbound);
        AnalysisReport exact = few.BuildReport();
        Assert.Equal(["hv63"], Assert.Single(exact.Tunnels).SeenBy);
        Assert.DoesNotContain(exact.Notes, n => n.Contains("seen_by", StringComparison.Ordinal));
    }

    [Fact]
    public void TheInventorysAddressesAndMacsRankFirst()
    {
        using var scenario = new Scenario();
        scenario.WithOvnInventory();
        scenario.Inventory.GatewayPorts[0].NatExternalIps.Add("2001:db8::10");
        var priorities = new KeepPriorities(scenario.Inventory);
        Assert.Equal(0, priorities.RankOfEncapIp(IpKey.Of(new Ipv4Address(192, 0, 2, 11))));
        Assert.Equal(1, priorities.RankOfEncapIp(IpKey.Of(new Ipv4Address(192, 0, 2, 99))));
        Assert.Equal(0, priorities.RankOfIp(IpKey.Of(new Ipv4Address(203, 0, 113, 10)))); // from "203.0.113.10/24"
        Assert.True(Ipv6Address.TryParse("2001:db8::10", out Ipv6Address v6));
        Assert.Equal(0, priorities.RankOfIp(IpKey.Of(v6)));
        Assert.Equal(1, priorities.RankOfIp(IpKey.Of(new Ipv4Address(203, 0, 113, 11))));
        Assert.Equal(0, priorities.RankOfMac(MacAddress.Read(Scenario.GatewayMac).Value));
        Assert.Equal(0, priorities.RankOfMac(MacAddress.Read(Scenario.NodeMac(2)).Value));
        Assert.Equal(1, priorities.RankOfMac(0xfa163e000001UL));
        Assert.Equal(2, priorities.RankOfMac(0x020000000001UL));
    }

    private static void Feed(AnalysisSession session, CaptureSource source, long number, long ns, byte[] frame, PacketDirection direction) =>
        session.OnPacket(source, new CaptureRecord
        {
            Number = number, TimestampNs = ns, HasTimestamp = true, LinkType = LinkType.Ethernet, Direction = direction,
            OriginalLength = frame.Length, CapturedLength = frame.Length,
        }, frame);
}

[CollectionDefinition(nameof(MemoryMeasurementCollection), DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
}
