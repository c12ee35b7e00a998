using System.Text;
using UplinkProbe.Analysis;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using UplinkProbe.L2Test;
using UplinkProbe.Reporting;
using UplinkProbe.Tests.Analysis;
using Xunit;

namespace UplinkProbe.Tests.L2Test;

/// <summary>analyze's passive evidence section: which broadcast/multicast kinds each node received from which peers.</summary>
public sealed class L2EvidenceAnalyzerTests
{
    private static byte[] Probe(L2ProbeKind kind, string node, byte[] mac)
    {
        byte[] buf = new byte[L2Probe.MaxFrameLength];
        var m = MacAddress.Read(mac);
        int n = L2Probe.Build(buf, new L2ProbeSpec(kind, 1, 0, m, L2Probe.ForeignMac(node, m), default, -1), Encoding.UTF8.GetBytes(node));
        return buf[..n];
    }

    [Fact]
    public void EachNodesReceivedGroupFramesAreListedPerKindAndSourceWithNames()
    {
        using var s = new Scenario();
        s.Node("hv1").Node("hv2").Node("hv3");
        byte[] garp = Scenario.Garp(Scenario.NodeMac(2), [192, 0, 2, 12]);
        s.Sent("hv2", 1, garp).Received("hv1", 2, garp); // the scenario hands a sent broadcast to every other node too
        s.Received("hv1", 3, Probe(L2ProbeKind.Ipv4AdminScoped, "hv3", Scenario.NodeMac(3)));
        s.Received("hv1", 3.5, Probe(L2ProbeKind.Ipv6AllNodes, "hv3", Scenario.NodeMac(3)));
        s.Received("hv3", 4, Probe(L2ProbeKind.Ipv4LinkLocal, "hv1", Scenario.NodeMac(1)));
        s.Received("hv3", 5, Scenario.Ping(Scenario.NodeMac(1), Scenario.NodeMac(3), [192, 0, 2, 11], [192, 0, 2, 13])); // unicast: not evidence

        byte[] solicited = new byte[128];
        var b = new FrameBuilder(solicited);
        b.Ethernet([0x33, 0x33, 0xff, 0x00, 0x00, 0x07], Scenario.NodeMac(2), EtherTypes.Ipv6);
        b.BeginIpv6(System.Net.IPAddress.Parse("fe80::1").GetAddressBytes(), System.Net.IPAddress.Parse("ff02::1:ff00:7").GetAddressBytes(), IpProtocols.Icmpv6, 255);
        b.BeginNeighborSolicitation(System.Net.IPAddress.Parse("2001:db8::7").GetAddressBytes());
        s.Received("hv3", 6, solicited.AsSpan(0, b.Finish(60)));

        AnalysisReport report = s.Analyze();
        string[] rows = report.L2Evidence.Select(r => $"{r.Node} {L2EvidenceRow.KindName(r.Kind)} {r.Source} {r.SourceName} {r.Frames}").ToArray();
        Assert.Equal(
        [
            "hv1 broadcast 00:00:5e:00:53:12 hv2 2", // named from hv2's own transmitted frames
            "hv1 ipv4-multicast 00:00:5e:00:53:13 hv3 1", // named from the l2test probe
            "hv1 ipv6-all-nodes 00:00:5e:00:53:13 hv3 1",
            "hv3 broadcast 00:00:5e:00:53:12 hv2 1",
            "hv3 ipv4-link-local 00:00:5e:00:53:11 hv1 1",
            "hv3 ipv6-solicited-node 00:00:5e:00:53:12 hv2 1",
        ], rows);

        var text = new StringWriter();
        AnalysisTextWriter.Write(text, report);
        Assert.Contains("  hv1        broadcast            00:00:5e:00:53:12 (hv2) ×2", text.ToString(), StringComparison.Ordinal);

        var json = new MemoryStream();
        AnalysisJsonWriter.Write(json, report);
        using var doc = System.Text.Json.JsonDocument.Parse(json.ToArray());
        System.Text.Json.JsonElement first = doc.RootElement.GetProperty("l2_evidence")[0];
        Assert.Equal(("hv1", "broadcast", "hv2", 2), (first.GetProperty("node").GetString(), first.GetProperty("kind").GetString(),
            first.GetProperty("source_node").GetString(), first.GetProperty("frames").GetInt32()));

        var md = new StringWriter();
        AnalysisMarkdownWriter.Write(md, report);
        Assert.Contains("| hv3 | ipv6-solicited-node | 00:00:5e:00:53:12 (hv2) | 1 |", md.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("01:00:5e:00:00:fb", L2EvidenceKind.Ipv4LinkLocal)] // mDNS 224.0.0.251 by MAC
    [InlineData("01:00:5e:64:64:64", L2EvidenceKind.Ipv4Multicast)]
    [InlineData("33:33:00:00:00:01", L2EvidenceKind.Ipv6AllNodes)]
    [InlineData("33:33:ff:12:34:56", L2EvidenceKind.Ipv6SolicitedNode)]
    [InlineData("33:33:00:00:00:16", L2EvidenceKind.Ipv6Multicast)] // MLDv2 reports
    [InlineData("01:80:c2:00:00:0e", L2EvidenceKind.OtherMulticast)] // LLDP
    [InlineData("ff:ff:ff:ff:ff:ff", L2EvidenceKind.Broadcast)]
    public void GroupMacsWithoutAnIpHeaderAreClassifiedByTheMacAlone(string mac, L2EvidenceKind expected)
    {
        byte[] frame = new byte[60];
        MacAddress.Parse(mac).TryWriteBytes(frame);
        frame[12] = 0x88;
        frame[13] = 0xcc;
        Assert.Equal(expected, L2EvidenceAnalyzer.Classify(frame, MacAddress.Parse(mac)));
    }
}
