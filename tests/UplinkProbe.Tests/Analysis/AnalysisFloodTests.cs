using UplinkProbe.Analysis;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Analysis;

/// <summary>
/// Floods of new keys (random Geneve flows, source MACs, ARP and NA claims) at the analyzers' default caps: the state
/// an analysis keeps stays bounded whatever the capture's length, and what the inventory names survives the flood.
/// </summary>
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

    private static void Feed(AnalysisSession session, CaptureSource source, long number, long ns, byte[] frame, PacketDirection direction) =>
        session.OnPacket(source, new CaptureRecord
        {
            Number = number, TimestampNs = ns, HasTimestamp = true, LinkType = LinkType.Ethernet, Direction = direction,
            OriginalLength = frame.Length, CapturedLength = frame.Length,
        }, frame);
}
