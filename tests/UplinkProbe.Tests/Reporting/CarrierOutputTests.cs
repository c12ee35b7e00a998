using System.Text;
using System.Text.Json;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;
using UplinkProbe.Tests.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Reporting;

/// <summary>JSON and text output for VN-Tag, PBB, MPLS/pseudowires and the NDP Route Information option.</summary>
public class CarrierOutputTests
{
    private static JsonElement Json(byte[] packet)
    {
        var decoded = new DecodedPacket();
        new PacketDecoder().Decode(packet, LinkType.Ethernet, decoded, packet.Length);
        var record = new CaptureRecord { Number = 1, LinkType = LinkType.Ethernet, OriginalLength = packet.Length, CapturedLength = packet.Length };
        string line = Encoding.UTF8.GetString(new PacketJsonWriter().Format(record, packet, decoded, CaptureFormat.Pcap));
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private static string Text(byte[] packet)
    {
        var decoded = new DecodedPacket();
        new PacketDecoder().Decode(packet, LinkType.Ethernet, decoded, packet.Length);
        var b = new LineBuilder();
        PacketTextFormatter.AppendSummary(b, packet, decoded);
        return b.Span.ToString();
    }

    private static string Layers(JsonElement p) => string.Join(",", p.GetProperty("layers").EnumerateArray().Select(e => e.GetString()));

    [Fact]
    public void VnTagObject()
    {
        JsonElement p = Json(TestPackets.VnTagFromBridgeArp);
        Assert.Equal("eth,vntag,arp", Layers(p));
        JsonElement t = Assert.Single(p.GetProperty("vntag").EnumerateArray());
        Assert.Equal(
            """{"dir":1,"ptr":1,"dst_vif":4660,"looped":1,"ver":1,"src_vif":2748,"type":"0x0806"}""",
            t.GetRawText());
        Assert.StartsWith(" 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff vntag dst 4660 ", Text(TestPackets.VnTagFromBridgeArp));
    }

    [Fact]
    public void PbbObjectAndInnerVlan()
    {
        JsonElement p = Json(TestPackets.PbbVlanIpv4);
        Assert.Equal("eth,vlan,pbb,vlan,ipv4,udp,payload", Layers(p));
        JsonElement i = Assert.Single(p.GetProperty("pbb").EnumerateArray());
        Assert.Equal(
            """{"isid":2014020,"pcp":5,"dei":1,"uca":1,"c_src":"02:00:00:00:00:11","c_dst":"02:00:00:00:00:12","type":"0x8100"}""",
            i.GetRawText());
        Assert.Equal("4051,4020", string.Join(",", p.GetProperty("vlan").EnumerateArray().Select(v => v.GetProperty("id").GetInt32())));
        Assert.Single(p.GetProperty("eth").EnumerateArray());
        Assert.StartsWith(" 02:00:00:00:00:01 > 02:00:00:00:00:02 vlan 4051 pbb isid 2014020 02:00:00:00:00:11 > 02:00:00:00:00:12 vlan 4020 192.0.2.1 > 192.0.2.2 udp 49152 > 49153",
            Text(TestPackets.PbbVlanIpv4));
    }

    [Fact]
    public void MplsLabelList()
    {
        JsonElement p = Json(TestPackets.MplsTwoLabelsIpv6);
        Assert.Equal(
            """[{"label":1048575,"tc":7,"s":0,"ttl":255},{"label":16,"tc":0,"s":1,"ttl":1}]""",
            p.GetProperty("mpls").GetRawText());
        Assert.Equal(" 02:00:00:00:00:01 > 02:00:00:00:00:02 mpls 1048575/16 2001:db8::1 > 2001:db8::2 udp 49152 > 49153", Text(TestPackets.MplsTwoLabelsIpv6));
    }

    [Fact]
    public void PseudowireObjects()
    {
        JsonElement cw = Json(TestPackets.MplsPwControlWord);
        Assert.Equal("eth,mpls,pwcw,eth,ipv4,udp,payload", Layers(cw));
        Assert.Equal("""[{"flags":"0x00","frg":0,"len":0,"seq":42}]""", cw.GetProperty("pwcw").GetRawText());
        Assert.Equal(2, cw.GetProperty("eth").GetArrayLength());
        Assert.Equal(" 02:00:00:00:00:01 > 02:00:00:00:00:02 mpls 200 pw seq 42 [ 02:00:00:00:00:21 > 02:00:00:00:00:22 198.51.100.1 > 198.51.100.2 udp 49152 > 49153 ]",
            Text(TestPackets.MplsPwControlWord));

        JsonElement ach = Json(TestPackets.MplsGalAchIpv4);
        Assert.Equal("""[{"ver":0,"channel":"0x0021"}]""", ach.GetProperty("pwach").GetRawText());

        Assert.Contains(" mpls 200 pw [ 02:00:00:00:00:21 > 0a:00:00:00:00:22 vlan 100 ", Text(TestPackets.MplsPwNoControlWordVlan), StringComparison.Ordinal);
    }

    [Fact]
    public void RouteInformationOptionsPrintTheirPrefix()
    {
        JsonElement p = Json(TestPackets.EthRaRouteInformation);
        JsonElement[] options = p.GetProperty("icmpv6").GetProperty("options").EnumerateArray().ToArray();
        Assert.Equal(4, options.Length);
        Assert.Equal("""{"type":24,"len":1,"prefix_len":0,"route_pref":"medium","route_lifetime":3600}""", options[0].GetRawText());
        Assert.Equal("""{"type":24,"len":2,"prefix":"2001:db8:aabb::","prefix_len":48,"route_pref":"high","route_lifetime":7200}""", options[1].GetRawText());
        Assert.Equal("""{"type":24,"len":3,"prefix":"2001:db8:0:1::1","prefix_len":128,"route_pref":"low","route_lifetime":4294967295}""", options[2].GetRawText());
        Assert.Equal("""{"type":24,"len":4}""", options[3].GetRawText());
    }
}
