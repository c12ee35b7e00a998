using UplinkProbe.Analysis;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Analysis;

/// <summary>Each analyzer on hand-built OVN uplink captures, one behaviour per test.</summary>
public sealed class AnalyzerTests
{
    private static readonly MacAddress Gateway = MacAddress.Read(Scenario.GatewayMac);

    [Fact]
    public void CleanFailoverIsOneMoveWithACompleteGarpBurstAndNoWarning()
    {
        using var s = new Scenario().Node("hv1").Node("hv2").Node("hv3").WithOvnInventory(activeNode: "hv2");
        s.Traffic("hv1", 0, 10, Scenario.GatewayMac).GarpBurst("hv1", -1, Scenario.GatewayMac, Scenario.GatewayIp, count: 3)
         .Traffic("hv2", 11, 60, Scenario.GatewayMac).GarpBurst("hv2", 10.9, Scenario.GatewayMac, Scenario.GatewayIp);

        AnalysisReport report = s.Analyze();

        GatewayReport g = Assert.Single(report.Gateways);
        Assert.Equal("hv2", g.ActiveNode);
        Assert.Equal(Scenario.T0 + 11_000_000_000, g.ActiveSinceNs);
        Assert.Equal(5, g.ActiveGarps);
        Assert.Equal(["hv1", "hv2"], g.Timeline.Select(t => t.Node));
        FailoverEvent move = Assert.Single(g.Failovers);
        Assert.Equal(("hv1", "hv2", "complete"), (move.From, move.To, move.GarpVerdict));
        Assert.Equal(1_000_000_000, move.GapNs);
        Assert.Equal(Scenario.T0 + 11_900_000_000, move.FirstGarpNs);
        Assert.Empty(g.SplitBrains);
        Assert.DoesNotContain(report.Findings, f => f.Severity >= FindingSeverity.Warning);
        Assert.Contains(report.Findings, f => f.Id == FindingIds.GatewayMoved && f.Message.Contains("from hv1 to hv2", StringComparison.Ordinal));
        Assert.StartsWith("lr0 203.0.113.10 (00:16:3e:aa:00:02, cr-lr0-ext): active on hv2 since ", UplinkProbe.Reporting.AnalysisTextWriter.AnswerLine(g), StringComparison.Ordinal);
    }

    [Fact]
    public void TwoNodesEmittingTheGatewayMacAtOnceIsASplitBrainWithEvidenceFromBoth()
    {
        using var s = new Scenario().Node("hv1").Node("hv2").WithOvnInventory();
        s.Traffic("hv1", 0, 30, Scenario.GatewayMac).Traffic("hv2", 10.1, 20, Scenario.GatewayMac, every: 0.5);

        AnalysisReport report = s.Analyze();

        GatewayReport g = Assert.Single(report.Gateways);
        SplitBrainEvent split = Assert.Single(g.SplitBrains);
        Assert.Equal(["hv1", "hv2"], split.Nodes.Order());
        Assert.Equal(Scenario.T0 + 10_100_000_000, split.StartNs);
        Finding f = Assert.Single(report.Findings, f => f.Id == FindingIds.TwoHostsEmitGatewayMac);
        Assert.Equal(FindingSeverity.Error, f.Severity);
        Assert.Equal(["hv1", "hv2"], f.Evidence.Select(e => e.Node!).Order());
        Assert.All(f.Evidence, e => Assert.NotEmpty(e.Frames));
        Assert.Equal("hv1", g.ActiveNode); // hv2 stopped, hv1 went on
    }

    [Fact]
    public void MoveWithoutGarpAndMoveWithAShortBurstAreFlagged()
    {
        using var s = new Scenario().Node("hv1").Node("hv2").WithOvnInventory();
        s.Traffic("hv1", 0, 5, Scenario.GatewayMac)
         .Traffic("hv2", 6, 50, Scenario.GatewayMac).GarpBurst("hv2", 5, Scenario.GatewayMac, Scenario.GatewayIp, count: 2)
         .Traffic("hv1", 51, 100, Scenario.GatewayMac);

        AnalysisReport report = s.Analyze();

        GatewayReport g = Assert.Single(report.Gateways);
        Assert.Equal(["incomplete", "missing"], g.Failovers.Select(m => m.GarpVerdict));
        Finding incomplete = Assert.Single(report.Findings, f => f.Id == FindingIds.GarpBurstIncomplete);
        Assert.Contains("2 of 5", incomplete.Message, StringComparison.Ordinal);
        Finding missing = Assert.Single(report.Findings, f => f.Id == FindingIds.NoGarpAfterMove);
        Assert.Contains("moved to hv1", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ControlPlaneNamingAnotherNodeIsADisagreement()
    {
        using var s = new Scenario().Node("hv1").Node("hv2").WithOvnInventory(activeNode: "hv1");
        s.Traffic("hv2", 0, 20, Scenario.GatewayMac);

        AnalysisReport report = s.Analyze();

        Finding f = Assert.Single(report.Findings, f => f.Id == FindingIds.ControlPlaneDisagrees);
        Assert.Contains("control plane says hv1", f.Message, StringComparison.Ordinal);
        Assert.Contains("packets show hv2", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IpClaimedByTwoMacsBackAndForthIsAFlipFlop()
    {
        byte[] other = [0x00, 0x16, 0x3e, 0xcc, 0x00, 0x09];
        using var s = new Scenario().Node("hv1").Node("hv2");
        s.Sent("hv1", 0, Scenario.Garp(Scenario.GatewayMac, Scenario.GatewayIp))
         .Sent("hv2", 5, Scenario.Garp(other, Scenario.GatewayIp))
         .Sent("hv1", 10, Scenario.Garp(Scenario.GatewayMac, Scenario.GatewayIp));

        AnalysisReport report = s.Analyze();

        Finding claimed = Assert.Single(report.Findings, f => f.Id == FindingIds.IpClaimedByTwoMacs);
        Assert.Contains("203.0.113.10 was claimed by 2 MACs", claimed.Message, StringComparison.Ordinal);
        Assert.Single(report.Findings, f => f.Id == FindingIds.MacFlipFlop);
        AnnouncementReport a = Assert.Single(report.Announcements, a => a.Mac == Gateway);
        Assert.Equal(2, a.Announcers["hv1"]);
        Assert.False(a.Announcers.ContainsKey("hv2")); // hv2 only heard hv1's broadcast GARPs
    }

    [Fact]
    public void WithoutDirectionBroadcastGarpsAreNotAttributedAndTheCaptureIsFlagged()
    {
        using var s = new Scenario().Node("hv1", withDirection: false);
        s.GarpBurst("hv1", 0, Scenario.GatewayMac, Scenario.GatewayIp);

        AnalysisReport report = s.Analyze();

        AnnouncementReport a = Assert.Single(report.Announcements);
        Assert.Empty(a.Announcers);
        Assert.Equal(5, a.Unattributed);
        Assert.Single(report.Findings, f => f.Id == FindingIds.NoDirection);
        Assert.All(report.Gateways, g => Assert.Empty(g.Timeline)); // broadcast frames prove nothing without direction
    }

    [Fact]
    public void WithoutDirectionUnicastFramesAreProbablySentByTheCapturingNode()
    {
        using var s = new Scenario().Node("hv1", withDirection: false).WithOvnInventory();
        s.Traffic("hv1", 0, 5, Scenario.GatewayMac);

        GatewayReport g = Assert.Single(s.Analyze().Gateways);
        TimelineSegment segment = Assert.Single(g.Timeline);
        Assert.Equal(("hv1", Attribution.Probable), (segment.Node, segment.Attribution));
    }

    [Fact]
    public void DistributedFloatingIpOnItsOwnChassisIsExpectedNotAFinding()
    {
        using var s = new Scenario().Node("hv1").Node("hv3").WithOvnInventory(activeNode: "hv1");
        s.Traffic("hv1", 0, 10, Scenario.GatewayMac)
         .GarpBurst("hv3", 0, Scenario.FipMac, Scenario.FipIp).Traffic("hv3", 0, 40, Scenario.FipMac);

        AnalysisReport report = s.Analyze();

        FloatingIpReport fip = Assert.Single(report.FloatingIps);
        Assert.Equal(["hv3"], fip.EmittedBy.Keys);
        Assert.DoesNotContain(report.Findings, f => f.Subject == "203.0.113.23");
        Assert.DoesNotContain(report.Gateways, g => g.Mac == MacAddress.Read(Scenario.FipMac));
    }

    [Fact]
    public void DistributedFloatingIpFromAnotherChassisIsAFinding()
    {
        using var s = new Scenario().Node("hv1").WithOvnInventory();
        s.Traffic("hv1", 0, 10, Scenario.FipMac);

        Finding f = Assert.Single(s.Analyze().Findings, f => f.Subject == "203.0.113.23");
        Assert.Contains("emitted by hv1", f.Message, StringComparison.Ordinal);
        Assert.Contains("bound to hv3", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GatewayMacFromANodeThatIsNotACandidateIsAnError()
    {
        using var s = new Scenario().Node("hv4").WithOvnInventory();
        s.Traffic("hv4", 0, 3, Scenario.GatewayMac);

        Finding f = Assert.Single(s.Analyze().Findings, f => f.Id == FindingIds.UnexpectedGatewayEmitter);
        Assert.Equal(FindingSeverity.Error, f.Severity);
        Assert.Contains("hv4, which is not one of its gateway chassis", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TunnelsAreCountedPerEndpointPairAndVniWithOvnPortKeysNamed()
    {
        using var s = new Scenario().Node("hv2").WithOvnInventory();
        for (int i = 0; i < 10; i++)
        {
            s.Received("hv2", i, Scenario.Geneve(1, 2, vni: 2, ingressKey: 1, egressKey: 3));
            s.Sent("hv2", i + 0.5, Scenario.Geneve(2, 1, vni: 1, ingressKey: 2, egressKey: 1));
        }

        AnalysisReport report = s.Analyze();

        TunnelFlowReport toGateway = Assert.Single(report.Tunnels, t => t.Vni == 2);
        Assert.Equal(("hv1", "hv2", 10L, "lr0"), (toGateway.SourceNode, toGateway.DestinationNode, toGateway.Packets, toGateway.DatapathName));
        Assert.Equal(10, toGateway.EgressKeys[3]);
        Assert.Equal("cr-lr0-ext", toGateway.EgressKeyNames[3]);
        Assert.DoesNotContain(report.Findings, f => f.Id == FindingIds.TunnelOneWay);
    }

    [Fact]
    public void EveryEgressKeyOfAFlowIsCountedHoweverManyThereAre()
    {
        // A flow toward a chassis with many instance ports: more keys than are counted inline, in a mixed order.
        using var s = new Scenario().Node("hv2");
        var expected = new SortedDictionary<int, long>();
        var random = new Random(3);
        ushort[] start = [5, 0, 9, 0, 0, 12]; // key 0 while inline slots are still empty: an empty slot must not match it
        for (int i = 0; i < 400; i++)
        {
            ushort key = i < start.Length ? start[i] : (ushort)random.Next(40);
            expected[key] = expected.GetValueOrDefault(key) + 1;
            s.Received("hv2", i * 0.01, Scenario.Geneve(1, 2, vni: 2, ingressKey: 1, egressKey: key));
        }

        TunnelFlowReport flow = Assert.Single(s.Analyze().Tunnels);
        Assert.Equal(40, expected.Count);
        Assert.Equal(expected, flow.EgressKeys);
    }

    [Fact]
    public void GeneveThatNeverComesBackIsOneWay()
    {
        using var s = new Scenario().Node("hv2").WithOvnInventory();
        for (int i = 0; i < 5; i++)
        {
            s.Received("hv2", i, Scenario.Geneve(1, 2, vni: 2, ingressKey: 1, egressKey: 3));
        }

        Finding f = Assert.Single(s.Analyze().Findings, f => f.Id == FindingIds.TunnelOneWay);
        Assert.Contains("hv1 (192.0.2.11) → hv2 (192.0.2.12) carried 5 packets, but nothing came back", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NodeWhoseGeneveToTheGatewayStopsIsNamed()
    {
        using var s = new Scenario().Node("hv1").Node("hv2").Node("hv3").WithOvnInventory(activeNode: "hv2");
        s.Traffic("hv2", 0, 40, Scenario.GatewayMac, every: 1);
        for (int i = 0; i <= 40; i++)
        {
            s.Sent("hv3", i, Scenario.Geneve(3, 2, vni: 2, ingressKey: 1, egressKey: 3));
            s.Received("hv2", i, Scenario.Geneve(3, 2, vni: 2, ingressKey: 1, egressKey: 3));
            if (i < 20)
            {
                s.Sent("hv1", i, Scenario.Geneve(1, 2, vni: 2, ingressKey: 1, egressKey: 3));
                s.Received("hv2", i, Scenario.Geneve(1, 2, vni: 2, ingressKey: 1, egressKey: 3));
            }

            s.Sent("hv2", i + 0.5, Scenario.Geneve(2, 1, vni: 1, ingressKey: 2, egressKey: 1));
            s.Sent("hv2", i + 0.5, Scenario.Geneve(2, 3, vni: 1, ingressKey: 2, egressKey: 1));
        }

        AnalysisReport report = s.Analyze();

        Finding f = Assert.Single(report.Findings, f => f.Id == FindingIds.NoTunnelTrafficToGateway);
        Assert.Equal("hv1", f.Subject);
        Assert.Contains("no Geneve from hv1 to the active gateway hv2 (vni 2, egress key 3) after", f.Message, StringComparison.Ordinal);
        Assert.Contains("while hv3 kept sending until", f.Message, StringComparison.Ordinal);
        Assert.Equal(FindingSeverity.Error, f.Severity);
    }

    [Fact]
    public void AnIdleGatewayOfOneNodeIsActiveSinceItsFirstFrameWhenItsEarlyRunsAreOnlyCounted()
    {
        // An idle router: its gateway MAC claimed by hv1 with a GARP burst, then one frame every 5 s for 10 minutes (a
        // run each). Four runs itemised: the timeline starts late, but hv1 alone ever emitted the MAC, so it has been
        // the gateway since the claim, and the claim's GARPs count.
        using var s = new Scenario().Node("hv1").Node("hv2").WithOvnInventory(activeNode: "hv1");
        s.GarpBurst("hv1", 0, Scenario.GatewayMac, Scenario.GatewayIp);
        s.Traffic("hv1", 0, 600, Scenario.GatewayMac, every: 5);

        GatewayReport limited = Assert.Single(s.Analyze(new AnalysisOptions { MaxRunsPerTrack = 4 }).Gateways);
        GatewayReport all = Assert.Single(s.Analyze().Gateways);

        Assert.Equal(("hv1", Scenario.T0, 5, 5), (all.ActiveNode, all.ActiveSinceNs, all.ActiveGarps, all.ActiveGarpsExpected));
        Assert.Equal((all.ActiveNode, all.ActiveSinceNs, all.ActiveGarps, all.ActiveGarpsExpected), (limited.ActiveNode, limited.ActiveSinceNs, limited.ActiveGarps, limited.ActiveGarpsExpected));
        Assert.Equal(4, limited.Timeline.Count);
        Assert.True(limited.Timeline[0].StartNs > Scenario.T0 + 500_000_000_000L);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void GeneveToAGatewayWhoseRunsAreOnlyCountedIsNotJudgedForThatTime(int keepRuns)
    {
        // hv1 is the gateway for 30 s, then hv2. hv3 sends Geneve to hv1 every 3 s for 90 s (a run each), hv2 only
        // until 10 s. Every run itemised: hv2 went silent toward the gateway hv1 while hv3 went on. Four itemised: the
        // runs during hv1's time are only counted, so nothing is said about it, and a note says why.
        using var s = new Scenario().Node("hv1").Node("hv2").Node("hv3").WithOvnInventory(activeNode: "hv2");
        s.Traffic("hv1", 0, 30, Scenario.GatewayMac, every: 1).Traffic("hv2", 31, 90, Scenario.GatewayMac, every: 1);
        for (int i = 0; i < 30; i++)
        {
            s.Sent("hv3", i * 3, Scenario.Geneve(3, 1, vni: 2, ingressKey: 1, egressKey: 3));
            if (i * 3 < 10)
            {
                s.Sent("hv2", i * 3, Scenario.Geneve(2, 1, vni: 2, ingressKey: 1, egressKey: 3));
            }
        }

        AnalysisReport report = s.Analyze(new AnalysisOptions { MaxRunsPerTrack = keepRuns });

        Assert.Equal(30, report.Tunnels.Single(t => t.SourceNode == "hv3").Packets);
        Assert.Equal((Scenario.T0, Scenario.T0 + 87_000_000_000L), (report.Tunnels.Single(t => t.SourceNode == "hv3").FirstNs, report.Tunnels.Single(t => t.SourceNode == "hv3").LastNs));
        if (keepRuns == 0)
        {
            Finding f = Assert.Single(report.Findings, f => f.Id == FindingIds.NoTunnelTrafficToGateway);
            Assert.Equal("hv2", f.Subject);
            Assert.DoesNotContain(report.Notes, n => n.Contains("was not checked", StringComparison.Ordinal));
        }
        else
        {
            Assert.DoesNotContain(report.Findings, f => f.Id == FindingIds.NoTunnelTrafficToGateway);
            Assert.Contains("lr0: no_tunnel_traffic_to_gateway was not checked while hv1 was the gateway from 14:13:20.000: Geneve toward it from hv3 came in more than 4 separate runs, " +
                            "and the older ones, which reach into that time, are only counted", report.Notes);
        }
    }

    [Fact]
    public void BfdThatFallsAfterUpIsReportedWithItsDiagnostic()
    {
        using var s = new Scenario().Node("hv1").WithOvnInventory();
        s.Sent("hv1", 0, Scenario.Bfd(1, 2, BfdState.Down))
         .Sent("hv1", 1, Scenario.Bfd(1, 2, BfdState.Init))
         .Sent("hv1", 2, Scenario.Bfd(1, 2, BfdState.Up))
         .Sent("hv1", 3, Scenario.Bfd(1, 2, BfdState.Up))
         .Sent("hv1", 4, Scenario.Bfd(1, 2, BfdState.Down, BfdDiagnostic.ControlDetectionTimeExpired));

        AnalysisReport report = s.Analyze();

        BfdSessionReport session = Assert.Single(report.BfdSessions);
        Assert.Equal(("hv1", "hv2", "down", 5L), (session.SourceNode, session.DestinationNode, session.LastState, session.Packets));
        Assert.Equal(["down", "init", "up", "down"], session.Changes.Select(c => c.State));
        Finding f = Assert.Single(report.Findings, f => f.Id == FindingIds.BfdSessionDown);
        Assert.Contains("is down since", f.Message, StringComparison.Ordinal);
        Assert.Contains("diag control_detection_time_expired", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BfdComingUpFromDownIsNotAFinding()
    {
        using var s = new Scenario().Node("hv1").WithOvnInventory();
        s.Sent("hv1", 0, Scenario.Bfd(1, 2, BfdState.Down)).Sent("hv1", 1, Scenario.Bfd(1, 2, BfdState.Up));

        Assert.DoesNotContain(s.Analyze().Findings, f => f.Id == FindingIds.BfdSessionDown);
    }

    [Fact]
    public void GenevePacketsCloseToTheMtuAreFlagged()
    {
        using var s = new Scenario().Node("hv1").WithOvnInventory();
        s.Sent("hv1", 0, Scenario.Geneve(1, 2, vni: 2, ingressKey: 1, egressKey: 3, innerPayload: 1400));
        s.Sent("hv1", 1, Scenario.Geneve(1, 2, vni: 2, ingressKey: 1, egressKey: 3, innerPayload: 100));

        Finding f = Assert.Single(s.Analyze().Findings, f => f.Id == FindingIds.GeneveNearMtu);
        Assert.Contains("1 Geneve packets", f.Message, StringComparison.Ordinal);
        Assert.Contains("largest outer IP packet 1486 bytes", f.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GenevePacketIsCountedAlikeUntaggedTaggedAndWithOuterLengthZero()
    {
        // The untagged frame is read in place (Ethernet / IPv4 / UDP / Geneve); the tagged one through the layer walk.
        byte[] untagged = Scenario.Geneve(1, 2, vni: 2, ingressKey: 1, egressKey: 3, innerPayload: 200);
        byte[] tagged = [.. untagged[..12], 0x81, 0x00, 0x00, 0x0A, .. untagged[12..]];
        byte[] bigTcp = untagged.ToArray();
        bigTcp[16] = bigTcp[17] = 0; // outer IPv4 total length 0 (BIG TCP): the IP packet is what was captured after Ethernet
        byte[] bigTcpTagged = [.. bigTcp[..12], 0x81, 0x00, 0x00, 0x0A, .. bigTcp[12..]];
        using var s = new Scenario().Node("hv1");
        s.Sent("hv1", 0, untagged).Sent("hv1", 1, tagged).Sent("hv1", 2, bigTcp).Sent("hv1", 3, bigTcpTagged);

        TunnelFlowReport flow = Assert.Single(s.Analyze().Tunnels);
        Assert.Equal(("192.0.2.11", "192.0.2.12", 2u), (flow.SourceIp, flow.DestinationIp, flow.Vni));
        Assert.Equal(4, flow.Packets);
        Assert.Equal(untagged.Length - 14, flow.MaxOuterIpLength);
        Assert.Equal(3, Assert.Single(flow.EgressKeys).Key);
        Assert.Equal(4, flow.EgressKeys[3]);
    }

    [Fact]
    public void WithoutInventoryGatewaysAreLearnedFromGarps()
    {
        using var s = new Scenario().Node("hv1");
        s.GarpBurst("hv1", 0, Scenario.GatewayMac, Scenario.GatewayIp).Traffic("hv1", 0, 5, Scenario.GatewayMac);

        AnalysisReport report = s.Analyze();

        GatewayReport g = Assert.Single(report.Gateways);
        Assert.Equal(Gateway, g.Mac);
        Assert.Equal("packets", g.Source.Kind);
        Assert.Contains("on OVN's schedule (1 burst(s)", g.Source.Detail, StringComparison.Ordinal);
        Assert.Contains("00:16:3e is the prefix LXD/MicroCloud give", g.Source.Detail, StringComparison.Ordinal);
        Assert.Equal("hv1", g.ActiveNode);
        Assert.Contains(report.Notes, n => n.Contains("learned from gratuitous ARP", StringComparison.Ordinal));
    }
}
