using UplinkProbe.Analysis;
using UplinkProbe.Reporting;
using Xunit;

namespace UplinkProbe.Tests.Analysis;

/// <summary>
/// The warm-up only saves time if its sample uplink makes every part of the report run: these tests check what the
/// analyzers found in the sample's frames (built by the crafting code, decoded and analysed like a capture).
/// </summary>
public sealed class ReportWarmUpTests
{
    [Fact]
    public void TheSampleUplinkMakesEveryPartOfTheReportRun()
    {
        AnalysisReport report = ReportWarmUp.BuildSampleReport();

        GatewayReport gateway = Assert.Single(report.Gateways, g => g.Mac.ToString() == "00:16:3e:aa:00:02");
        Assert.Equal(["hv1", "hv2"], gateway.Timeline.Select(t => t.Node).Distinct().Order());
        Assert.NotEmpty(gateway.Failovers);
        Assert.NotEmpty(gateway.SplitBrains);

        string[] expected =
        [
            FindingIds.GatewayMoved, FindingIds.TwoHostsEmitGatewayMac, FindingIds.NoGarpAfterMove, FindingIds.IpClaimedByTwoMacs,
            FindingIds.MacFlipFlop, FindingIds.BfdSessionDown, FindingIds.GeneveNearMtu, FindingIds.NoDirection,
        ];
        Assert.Empty(expected.Except(report.Findings.Select(f => f.Id)));

        Assert.Contains(report.GarpBursts, b => b.Count == 5 && b.Verdict == "complete");
        Assert.Contains(report.Announcements, a => a.Ip == "2001:db8::10");
        Assert.Contains(report.Announcements, a => a.Kinds.ContainsKey("rarp"));
        Assert.Equal(3, report.Tunnels.Count);
        Assert.Contains(report.Tunnels, t => t.EgressKeys.ContainsKey(3));
        BfdSessionReport bfd = Assert.Single(report.BfdSessions);
        Assert.Equal(["down", "init", "up", "down"], bfd.Changes.Select(c => c.State));
        Assert.Contains(report.L2Evidence, e => e.Kind == L2EvidenceKind.Broadcast);
        Assert.Contains(report.L2Evidence, e => e.Kind != L2EvidenceKind.Broadcast);
    }

    [Fact]
    public void EveryWriterWritesTheSampleReport()
    {
        AnalysisReport report = ReportWarmUp.BuildSampleReport();
        using var json = new MemoryStream();
        AnalysisJsonWriter.Write(json, report);
        var text = new StringWriter();
        AnalysisTextWriter.Write(text, report);
        var markdown = new StringWriter();
        AnalysisMarkdownWriter.Write(markdown, report);

        Assert.Contains("\"gateway_moved\"", System.Text.Encoding.UTF8.GetString(json.ToArray()));
        Assert.Contains("active on hv2", text.ToString());
        Assert.Contains("gateway_moved", markdown.ToString());
    }

    [Fact]
    public void OnlyCapturesThatTakeLongEnoughToReadAreWorthAWarmUp()
    {
        string dir = Directory.CreateTempSubdirectory("uplinkprobe-warmup-").FullName;
        try
        {
            string small = Path.Combine(dir, "small.pcap"), big = Path.Combine(dir, "big.pcap");
            using (FileStream f = File.Create(small))
            {
                f.SetLength(ReportWarmUp.MinInputBytes / 2);
            }

            using (FileStream f = File.Create(big))
            {
                f.SetLength(ReportWarmUp.MinInputBytes);
            }

            Assert.False(ReportWarmUp.IsWorthwhile([small]));
            Assert.False(ReportWarmUp.IsWorthwhile([small, Path.Combine(dir, "missing.pcap")]));
            Assert.True(ReportWarmUp.IsWorthwhile([small, small]));
            Assert.True(ReportWarmUp.IsWorthwhile([big]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
