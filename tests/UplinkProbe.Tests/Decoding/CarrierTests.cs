using UplinkProbe.Decoding;
using Xunit;
using static UplinkProbe.Tests.Decoding.DecodeHelpers;

namespace UplinkProbe.Tests.Decoding;

/// <summary>VN-Tag, 802.1ah PBB and MPLS on hand-made packets (field values cross-checked with tshark 4.0.17).</summary>
public class CarrierTests
{
    [Fact]
    public void VnTagBetweenTwoVlanTags()
    {
        byte[] pkt = TestPackets.VnTagSandwich;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem, p.Problem.ToString());
        Assert.Equal("Ethernet@0+14/0 Dot1Q@14+4/0 VnTag@18+6/0 Dot1Q@24+4/0 Ipv4@28+20/0 Udp@48+8/0 Payload@56+2/0", Detail(p));

        Assert.True(VnTag.TryRead(pkt.AsSpan(18), out VnTag tag, out _));
        Assert.False(tag.FromBridge);
        Assert.False(tag.IsPointer);
        Assert.Equal(0, tag.DestinationVif);
        Assert.False(tag.Looped);
        Assert.Equal(0, tag.Version);
        Assert.Equal(51, tag.SourceVif);
        Assert.Equal(EtherTypes.Vlan, tag.EtherType);
    }

    [Fact]
    public void VnTagFieldsFromTheBridge()
    {
        byte[] pkt = TestPackets.VnTagFromBridgeArp;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet VnTag Arp", Chain(p));

        Assert.True(VnTag.TryRead(pkt.AsSpan(14), out VnTag tag, out _));
        Assert.Equal(0xd2349abcu, tag.Tag);
        Assert.True(tag.FromBridge);
        Assert.True(tag.IsPointer);
        Assert.Equal(0x1234, tag.DestinationVif);
        Assert.True(tag.Looped);
        Assert.Equal(1, tag.Version);
        Assert.Equal(0xabc, tag.SourceVif);
        Assert.Equal(EtherTypes.Arp, tag.EtherType);
    }

    [Fact]
    public void PbbCustomerFrameIsOneLevelDeeper()
    {
        byte[] pkt = TestPackets.PbbVlanIpv4;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem, p.Problem.ToString());
        Assert.Equal("Ethernet@0+14/0 Dot1Q@14+4/0 PbbITag@18+18/0 Dot1Q@36+4/1 Ipv4@40+20/1 Udp@60+8/1 Payload@68+2/1", Detail(p));

        Assert.True(PbbITag.TryRead(pkt.AsSpan(18), out PbbITag itag, out _));
        Assert.Equal(2014020u, itag.Isid);
        Assert.Equal(5, itag.Priority);
        Assert.True(itag.DropEligible);
        Assert.True(itag.UseCustomerAddresses);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:12"), itag.CustomerDestination);
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:11"), itag.CustomerSource);
        Assert.Equal(EtherTypes.Vlan, itag.EtherType);

        VlanTag.TryRead(pkt.AsSpan(Find(p, LayerKind.Dot1Q, 1).Offset), out VlanTag inner, out _);
        Assert.Equal(4020, inner.VlanId);
    }

    [Fact]
    public void PbbWithArpAndNoBackboneTag()
    {
        DecodedPacket p = Decode(TestPackets.PbbArp);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 PbbITag@14+18/0 Arp@32+28/1", Detail(p));
        Assert.True(ArpPacket.TryRead(TestPackets.PbbArp.AsSpan(32), out ArpPacket arp, out _));
        Assert.Equal(ArpKind.GratuitousRequest, arp.Classify());
    }

    [Fact]
    public void PbbIsATunnelLevelForTheDepthLimit()
    {
        var decoder = new PacketDecoder(new PacketDecoderOptions { MaxTunnelDepth = 0 });
        DecodedPacket p = Decode(TestPackets.PbbArp, decoder: decoder);
        Assert.Equal(DecodeProblem.TunnelTooDeep, p.Problem);
        Assert.Equal("Ethernet@0+14/0 PbbITag@14+18/0 Payload@32+28/0", Detail(p));
        Assert.False(p.IsMalformed);
    }

    [Fact]
    public void MplsSingleLabelThenIpv4()
    {
        byte[] pkt = TestPackets.MplsIpv4;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Mpls@14+4/0 Ipv4@18+20/0 Udp@38+8/0 Payload@46+2/0", Detail(p));
        Assert.True(MplsLabel.TryRead(pkt.AsSpan(14), out MplsLabel label, out _));
        Assert.Equal((100u, (byte)0, true, (byte)64), (label.Label, label.TrafficClass, label.BottomOfStack, label.TimeToLive));
    }

    [Fact]
    public void MplsLabelStackFieldsAtTheirLimits()
    {
        byte[] pkt = TestPackets.MplsTwoLabelsIpv6;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet Mpls Mpls Ipv6 Udp Payload", Chain(p));

        Assert.True(MplsLabel.TryRead(pkt.AsSpan(14), out MplsLabel top, out _));
        Assert.Equal((1048575u, (byte)7, false, (byte)255), (top.Label, top.TrafficClass, top.BottomOfStack, top.TimeToLive));
        Assert.True(MplsLabel.TryRead(pkt.AsSpan(18), out MplsLabel bottom, out _));
        Assert.Equal((16u, (byte)0, true, (byte)1), (bottom.Label, bottom.TrafficClass, bottom.BottomOfStack, bottom.TimeToLive));
    }

    [Fact]
    public void MplsMulticastEtherTypeAndMplsInIp()
    {
        Assert.Equal("Ethernet Mpls Ipv4 Udp Payload", Chain(Decode(TestPackets.MplsMulticastIpv4)));

        DecodedPacket p = Decode(TestPackets.MplsInIpv4);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Ipv4@14+20/0 Mpls@34+4/0 Ipv4@38+20/0 Udp@58+8/0 Payload@66+2/0", Detail(p));
    }

    [Fact]
    public void GalAndAssociatedChannelHeaderCarryIpv4()
    {
        byte[] pkt = TestPackets.MplsGalAchIpv4;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Mpls@14+4/0 Mpls@18+4/0 PwAch@22+4/0 Ipv4@26+20/0 Udp@46+8/0 Payload@54+2/0", Detail(p));
        Assert.True(PseudowireHeader.TryRead(pkt.AsSpan(22), out PseudowireHeader ach, out _));
        Assert.True(ach.IsAssociatedChannel);
        Assert.Equal(0, ach.ChannelVersion);
        Assert.Equal(PseudowireHeader.ChannelIpv4, ach.ChannelType);
    }

    [Fact]
    public void EthernetPseudowireWithControlWord()
    {
        byte[] pkt = TestPackets.MplsPwControlWord;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Mpls@14+4/0 PwControlWord@18+4/0 Ethernet@22+14/1 Ipv4@36+20/1 Udp@56+8/1 Payload@64+2/1", Detail(p));
        Assert.True(PseudowireHeader.TryRead(pkt.AsSpan(18), out PseudowireHeader cw, out _));
        Assert.False(cw.IsAssociatedChannel);
        Assert.Equal((0, 0, 0, 42), (cw.Flags, cw.Fragmentation, cw.PayloadLength, (int)cw.SequenceNumber));
        Assert.True(EthernetHeader.TryRead(pkt.AsSpan(22), out EthernetHeader inner, out _));
        Assert.Equal(MacAddress.Parse("02:00:00:00:00:21"), inner.Source);
    }

    [Theory]
    [InlineData(nameof(TestPackets.MplsPwNoControlWordArp), "Ethernet@0+14/0 Mpls@14+4/0 Ethernet@18+14/1 Arp@32+28/1")]
    [InlineData(nameof(TestPackets.MplsPwNoControlWordVlan), "Ethernet@0+14/0 Mpls@14+4/0 Ethernet@18+14/1 Dot1Q@32+4/1 Ipv4@36+20/1 Udp@56+8/1 Payload@64+2/1")]
    public void EthernetPseudowireWithoutControlWord(string name, string expected)
    {
        // Both frames also have a decodable EtherType (0x0800) at byte 16, where a control-word frame would have it.
        DecodedPacket p = Decode(Get(name));
        Assert.False(p.HasProblem);
        Assert.Equal(expected, Detail(p));
    }

    [Theory]
    [InlineData("5", "Ethernet Mpls Payload")] // first nibble 5: tshark shows data too
    [InlineData("f", "Ethernet Mpls Payload")]
    [InlineData("0", "Ethernet Mpls Payload")] // nibble 0 but neither Ethernet reading has a known EtherType
    public void UnknownPayloadAfterTheStackIsLeftAlone(string nibble, string chain)
    {
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 8847 00064140 " + nibble + new string('0', 59));
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal(chain, Chain(p));
        Assert.Equal(30, p.Layers[^1].Length);
    }

    [Fact]
    public void LabelStackWithoutBottomIsTruncatedOrMalformed()
    {
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 8847 00064040 000c80ff");
        var decoder = new PacketDecoder();
        var p = new DecodedPacket();

        decoder.Decode(pkt, LinkType.Ethernet, p, originalLength: 100);
        Assert.True(p.IsTruncated);
        Assert.Equal(DecodeProblem.TruncatedMpls, p.Problem);
        Assert.Equal((LayerKind.Mpls, 22), (p.ProblemLayer, p.ProblemOffset));
        Assert.Equal("Ethernet Mpls Mpls", Chain(p));

        // The whole frame was captured: the stack really ends without its S bit (tshark: malformed).
        decoder.Decode(pkt, LinkType.Ethernet, p, originalLength: pkt.Length);
        Assert.True(p.IsMalformed);
        Assert.Equal(DecodeProblem.TruncatedMpls, p.Problem);
    }

    [Fact]
    public void NothingAfterTheBottomLabelIsAProblem()
    {
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 8847 00064140");
        var decoder = new PacketDecoder();
        var p = new DecodedPacket();
        decoder.Decode(pkt, LinkType.Ethernet, p, originalLength: pkt.Length);
        Assert.Equal("Ethernet Mpls", Chain(p));
        Assert.Equal(DecodeProblem.TruncatedMpls, p.Problem);
        Assert.Equal(18, p.ProblemOffset);
        Assert.True(p.IsMalformed);
    }

    [Theory]
    [InlineData("020000000002 020000000001 8926 00000033 08", LayerKind.VnTag, DecodeProblem.TruncatedVnTag, 14)]
    [InlineData("020000000002 020000000001 88e7 001ebb3b ffffffffffff 0a58c6336401 08", LayerKind.PbbITag, DecodeProblem.TruncatedPbbITag, 14)]
    [InlineData("020000000002 020000000001 8847 000641", LayerKind.Mpls, DecodeProblem.TruncatedMpls, 14)]
    [InlineData("020000000002 020000000001 8847 0000d101 100000", LayerKind.PwAch, DecodeProblem.TruncatedPseudowire, 18)]
    public void CutHeadersNameTheirLayer(string hex, LayerKind layer, DecodeProblem problem, int offset)
    {
        DecodedPacket p = Decode(TestPackets.Hex(hex));
        Assert.True(p.IsTruncated);
        Assert.Equal((problem, layer, offset), (p.Problem, p.ProblemLayer, p.ProblemOffset));
    }

    [Fact]
    public void EndlessLabelStackStopsAtTheLayerLimit()
    {
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 8847 " + string.Concat(Enumerable.Repeat("00064040", 300)));
        DecodedPacket p = Decode(pkt);
        Assert.Equal(DecodeProblem.TooManyLayers, p.Problem);
        Assert.Equal(DecodedPacket.MaxLayers, p.LayerCount);
        Assert.Equal(DecodedPacket.MaxLayers - 1, stats(p));

        static int stats(DecodedPacket d) => d.Layers.ToArray().Count(l => l.Kind == LayerKind.Mpls);
    }

    [Fact]
    public void StatisticsCountTheNewLayers()
    {
        var decoder = new PacketDecoder();
        var p = new DecodedPacket();
        var stats = new DecodeStatistics();
        foreach (byte[] pkt in new[] { TestPackets.VnTagSandwich, TestPackets.PbbVlanIpv4, TestPackets.MplsTwoLabelsIpv6, TestPackets.MplsPwControlWord })
        {
            decoder.Decode(pkt, LinkType.Ethernet, p);
            stats.Add(p);
        }

        Assert.Equal(4, stats.CleanPackets);
        Assert.Equal(1, stats.PacketsWith(LayerKind.VnTag));
        Assert.Equal(1, stats.PacketsWith(LayerKind.PbbITag));
        Assert.Equal(2, stats.PacketsWith(LayerKind.Mpls));
        Assert.Equal(3, stats.LayerCount(LayerKind.Mpls));
        Assert.Equal(1, stats.PacketsWith(LayerKind.PwControlWord));
        Assert.Equal(2, stats.PacketsWith(LayerKind.Dot1Q));
        Assert.Equal(4, stats.LayerCount(LayerKind.Dot1Q));
        Assert.Equal(5, stats.LayerCount(LayerKind.Ethernet));
    }

    private static byte[] Get(string name) => (byte[])typeof(TestPackets).GetField(name)!.GetValue(null)!;
}
