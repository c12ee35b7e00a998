using UplinkProbe.Decoding;
using Xunit;
using static UplinkProbe.Tests.Decoding.DecodeHelpers;

namespace UplinkProbe.Tests.Decoding;

public class LinkAndArpTests
{
    [Fact]
    public void OvnGarpUnpaddedIsAGratuitousRequest()
    {
        byte[] pkt = TestPackets.OvnGarp;
        Assert.Equal(42, pkt.Length);
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Arp@14+28/0", Detail(p));

        Assert.True(EthernetHeader.TryRead(pkt, out EthernetHeader eth, out _));
        Assert.True(eth.Destination.IsBroadcast);
        Assert.Equal("0a:58:c6:33:64:01", eth.Source.ToString());
        Assert.Equal(EtherTypes.Arp, eth.EtherType);

        Assert.True(ArpPacket.TryRead(eth.Payload, out ArpPacket arp, out DecodeProblem problem));
        Assert.Equal(DecodeProblem.None, problem);
        Assert.True(arp.IsEthernetIpv4);
        Assert.Equal(ArpPacket.OpRequest, arp.Operation);
        Assert.Equal("0a:58:c6:33:64:01", arp.SenderMac.ToString());
        Assert.Equal("198.51.100.1", arp.SenderIp.ToString());
        Assert.True(arp.TargetMac.IsZero);
        Assert.Equal(arp.SenderIp, arp.TargetIp);
        Assert.Equal(ArpKind.GratuitousRequest, arp.Classify());
        Assert.Equal(28, arp.MessageLength);
        Assert.True(arp.Payload.IsEmpty);
    }

    [Fact]
    public void PaddedGarpKeepsPaddingOutOfTheArpLayer()
    {
        byte[] pkt = TestPackets.OvnGarpPadded;
        Assert.Equal(60, pkt.Length);
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Arp@14+28/0", Detail(p));
        Assert.True(ArpPacket.TryRead(pkt.AsSpan(14), out ArpPacket arp, out _));
        Assert.Equal(ArpKind.GratuitousRequest, arp.Classify());
        Assert.Equal(18, arp.Payload.Length);
    }

    [Fact]
    public void TaggedGarpHasVlanTag()
    {
        byte[] pkt = TestPackets.OvnGarpVlan;
        DecodedPacket p = Decode(pkt);
        Assert.Equal("Ethernet@0+14/0 Dot1Q@14+4/0 Arp@18+28/0", Detail(p));
        Assert.True(VlanTag.TryRead(pkt.AsSpan(14), out VlanTag tag, out _));
        Assert.Equal(100, tag.VlanId);
        Assert.Equal(1, tag.Priority);
        Assert.False(tag.DropEligible);
        Assert.Equal(EtherTypes.Arp, tag.EtherType);
    }

    [Fact]
    public void QinQStackDecodesBothTags()
    {
        byte[] pkt = TestPackets.QinQArpRequest;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Dot1AD@14+4/0 Dot1Q@18+4/0 Arp@22+28/0", Detail(p));
        Assert.True(VlanTag.TryRead(pkt.AsSpan(14), out VlanTag s, out _));
        Assert.Equal((100, 5, false, EtherTypes.Vlan), (s.VlanId, s.Priority, s.DropEligible, s.EtherType));
        Assert.True(VlanTag.TryRead(pkt.AsSpan(18), out VlanTag c, out _));
        Assert.Equal((200, 1, true, EtherTypes.Arp), (c.VlanId, c.Priority, c.DropEligible, c.EtherType));
        Assert.True(ArpPacket.TryRead(pkt.AsSpan(22), out ArpPacket arp, out _));
        Assert.Equal(ArpKind.Request, arp.Classify());
        Assert.Equal("198.51.100.9", arp.TargetIp.ToString());
    }

    [Fact]
    public void ThreeStackedCTagsAnd9100AreFollowed()
    {
        byte[] pkt = TestPackets.Hex("ffffffffffff 020000000001 9100 0001 8100 0002 8100 0003 0806 " + TestPackets.GarpArp);
        DecodedPacket p = Decode(pkt);
        Assert.Equal("Ethernet Dot1AD Dot1Q Dot1Q Arp", Chain(p));
        Assert.False(p.HasProblem);
    }

    [Fact]
    public void RarpRequestIsRarp()
    {
        byte[] pkt = TestPackets.RarpRequest;
        DecodedPacket p = Decode(pkt);
        Assert.Equal("Ethernet@0+14/0 Rarp@14+28/0", Detail(p));
        Assert.True(ArpPacket.TryRead(pkt.AsSpan(14), out ArpPacket arp, out _));
        Assert.Equal(ArpKind.RarpRequest, arp.Classify());
        Assert.Equal("00:00:5e:00:53:01", arp.TargetMac.ToString());

        pkt[21] = 4; // opcode 4
        Assert.True(ArpPacket.TryRead(pkt.AsSpan(14), out arp, out _));
        Assert.Equal(ArpKind.RarpReply, arp.Classify());
    }

    [Fact]
    public void ArpInsideLlcSnap()
    {
        byte[] pkt = TestPackets.SnapArpReply;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Llc@14+3/0 Snap@17+5/0 Arp@22+28/0", Detail(p));
        Assert.True(EthernetHeader.TryRead(pkt, out EthernetHeader eth, out _));
        Assert.True(eth.IsLengthField);
        Assert.Equal(0, eth.EtherType);
        Assert.Equal(36, eth.Payload.Length);
        Assert.True(LlcHeader.TryRead(eth.Payload, out LlcHeader llc, out _));
        Assert.True(llc.IsSnap);
        Assert.True(SnapHeader.TryRead(llc.Payload, out SnapHeader snap, out _));
        Assert.Equal((0u, EtherTypes.Arp, true), (snap.Oui, snap.ProtocolId, snap.IsEtherType));
        Assert.True(ArpPacket.TryRead(snap.Payload, out ArpPacket arp, out _));
        Assert.Equal(ArpKind.Reply, arp.Classify());
    }

    [Fact]
    public void Dot3LengthBoundsTheLlcPayload()
    {
        // 802.3 length 3: LLC (STP-style 42-42-03) with nothing else inside; 8 bytes of padding follow.
        byte[] pkt = TestPackets.Hex("0180c2000000 020000000001 0003 424203 0000000000000000");
        DecodedPacket p = Decode(pkt);
        Assert.Equal("Ethernet@0+14/0 Llc@14+3/0", Detail(p));
        Assert.False(p.HasProblem);

        // Length 2 cannot hold an LLC header although the frame has bytes after it: malformed, not truncated.
        pkt[13] = 2;
        p = Decode(pkt);
        Assert.Equal(DecodeProblem.ExceedsEnclosingLength, p.Problem);
        Assert.Equal(LayerKind.Llc, p.ProblemLayer);
        Assert.True(p.IsMalformed);
    }

    [Theory]
    [InlineData(1, 1, "0a58c6336401 c6336401 000000000000 c6336402", ArpKind.Request)]
    [InlineData(2, 1, "0a58c6336401 c6336401 020000000002 c6336402", ArpKind.Reply)]
    [InlineData(1, 1, "0a58c6336401 c6336401 ffffffffffff c6336401", ArpKind.Announcement)]
    [InlineData(2, 1, "0a58c6336401 c6336401 ffffffffffff c6336401", ArpKind.GratuitousReply)]
    [InlineData(1, 1, "0a58c6336401 00000000 000000000000 c6336401", ArpKind.Probe)]
    [InlineData(9, 1, "0a58c6336401 c6336401 000000000000 c6336401", ArpKind.Other)]
    public void ArpClassification(int op, int htype, string addresses, ArpKind expected)
    {
        byte[] arp = TestPackets.Hex($"{htype:x4} 0800 0604 {op:x4} {addresses}");
        Assert.True(ArpPacket.TryRead(arp, out ArpPacket view, out _));
        Assert.Equal(expected, view.Classify());
    }

    [Fact]
    public void ArpWithOddSizesIsReadGenericallyAndTypedAccessorsRefuse()
    {
        // Hardware size 14, as in tcpdump's arp-too-long-tha.pcap: valid as long as the message fits.
        byte[] arp = TestPackets.Hex("3030 0800 0e04 0001 " + new string('1', 28) + "c0000201" + new string('2', 28) + "c0000201");
        Assert.True(ArpPacket.TryRead(arp, out ArpPacket view, out _));
        Assert.Equal(44, view.MessageLength);
        Assert.False(view.HasMacAddresses);
        Assert.True(view.HasIpv4Addresses);
        Assert.True(view.SenderMac.IsZero);
        Assert.Equal("192.0.2.1", view.SenderIp.ToString());
        Assert.Equal(14, view.TargetHardwareAddress.Length);
        Assert.Equal(ArpKind.Announcement, view.Classify()); // SPA = TPA, THA non-zero

        // Sizes of 255 (zeek arp-leak) in a short message: truncated, no address is read.
        byte[] leak = TestPackets.Hex("0001 0800 ff04 0001 7e8e20d823a7");
        Assert.False(ArpPacket.TryRead(leak, out _, out DecodeProblem problem));
        Assert.Equal(DecodeProblem.TruncatedArp, problem);

        // Sizes 0/0 with unknown types (tcpdump getname_2_read4_asan): an 8-byte message with no addresses.
        byte[] empty = TestPackets.Hex("ff00 8b01 0000 0004");
        Assert.True(ArpPacket.TryRead(empty, out view, out _));
        Assert.Equal(8, view.MessageLength);
        Assert.Equal(ArpKind.RarpReply, view.Classify());
        Assert.False(view.IsEthernetIpv4);
    }

    [Fact]
    public void SllV1OutgoingGarp()
    {
        byte[] pkt = TestPackets.SllGarp;
        DecodedPacket p = Decode(pkt, LinkType.LinuxSll);
        Assert.Equal("LinuxSll@0+16/0 Arp@16+28/0", Detail(p));
        Assert.True(LinuxSllHeader.TryRead(pkt, out LinuxSllHeader sll, out _));
        Assert.True(sll.IsOutgoing);
        Assert.Equal(ArpHardwareTypes.Ethernet, sll.HardwareType);
        Assert.Equal("0a:58:c6:33:64:01", sll.SourceMac.ToString());
        Assert.Equal(6, sll.Address.Length);
        Assert.Equal(EtherTypes.Arp, sll.Protocol);
    }

    [Fact]
    public void SllIpGreProtocolIsAGreType()
    {
        DecodedPacket p = Decode(TestPackets.SllGreEthernet, LinkType.LinuxSll);
        Assert.Equal("LinuxSll Ethernet Arp", Chain(p));
        Assert.Equal(LayerKind.Ethernet, PacketDecoder.FromSllProtocol(ArpHardwareTypes.IpGre, 0x6558));
        Assert.Equal(LayerKind.Payload, PacketDecoder.FromSllProtocol(ArpHardwareTypes.Ethernet, 0x6558));
        Assert.Equal(LayerKind.Llc, PacketDecoder.FromSllProtocol(ArpHardwareTypes.Ethernet, 0x0004));
        Assert.Equal(LayerKind.Ipv6, PacketDecoder.FromSllProtocol(ArpHardwareTypes.IpGre, EtherTypes.Ipv6));
    }

    [Fact]
    public void Sll2CarriesIfindexAndDirection()
    {
        byte[] pkt = TestPackets.Sll2NsDad;
        DecodedPacket p = Decode(pkt, LinkType.LinuxSll2);
        Assert.Equal("LinuxSll2@0+20/0 Ipv6@20+40/0 Icmpv6@60+32/0", Detail(p));
        Assert.True(LinuxSll2Header.TryRead(pkt, out LinuxSll2Header sll2, out _));
        Assert.Equal(3u, sll2.InterfaceIndex);
        Assert.True(sll2.IsOutgoing);
        Assert.Equal(EtherTypes.Ipv6, sll2.Protocol);
        Assert.Equal("02:00:00:00:00:01", sll2.SourceMac.ToString());
    }

    [Theory]
    [InlineData(LinkType.Null, "02000000", LayerKind.Ipv4)]
    [InlineData(LinkType.Null, "00000002", LayerKind.Ipv4)]
    [InlineData(LinkType.Loop, "00000002", LayerKind.Ipv4)]
    [InlineData(LinkType.Loop, "00000018", LayerKind.Ipv6)]
    [InlineData(LinkType.Null, "1e000000", LayerKind.Ipv6)]
    [InlineData(LinkType.Null, "1c000000", LayerKind.Ipv6)]
    [InlineData(LinkType.Null, "07000000", LayerKind.Payload)]
    public void LoopbackAddressFamilyInEitherByteOrder(LinkType link, string family, LayerKind expected)
    {
        string ip = expected == LayerKind.Ipv6
            ? "6000000000003b40 20010db8000000000000000000000001 20010db8000000000000000000000002"
            : "45000014 00000000 40ff0000 c0000201 c0000202";
        DecodedPacket p = Decode(TestPackets.Hex(family + ip), link);
        Assert.Equal(LayerKind.Loopback, p.Layers[0].Kind);
        Assert.Equal(expected, p.Layers[1].Kind);
    }

    [Fact]
    public void RawIpPicksTheVersion()
    {
        DecodedPacket p = Decode(TestPackets.Hex("6000000000003b40 20010db8000000000000000000000001 20010db8000000000000000000000002"), LinkType.Raw);
        Assert.Equal("Ipv6", Chain(p));
        p = Decode(TestPackets.Hex("45000014 00000000 40ff0000 c0000201 c0000202"), LinkType.Raw);
        Assert.Equal("Ipv4", Chain(p));
    }

    [Fact]
    public void UnsupportedLinkTypeIsReportedNotDecoded()
    {
        DecodedPacket p = Decode(TestPackets.OvnGarp, (LinkType)127);
        Assert.Equal(DecodeProblem.UnsupportedLinkType, p.Problem);
        Assert.Empty(p.Layers.ToArray());

        var stats = new DecodeStatistics();
        stats.Add(p);
        stats.Add(Decode(TestPackets.OvnGarp));
        Assert.Equal(1, stats.UnsupportedLinkTypes[127]);
        Assert.Equal(1, stats.UnsupportedLinkTypePackets);
        Assert.Equal(0, stats.MalformedPackets);
        Assert.Equal(1, stats.CleanPackets);
        Assert.Equal(2, stats.Packets);
        Assert.Equal(84, stats.Bytes);
        Assert.Equal(1, stats.LayerCount(LayerKind.Arp));
    }

    [Fact]
    public void UnknownEtherTypeBecomesPayload()
    {
        byte[] pkt = TestPackets.Hex("ffffffffffff 020000000001 88cc 0207040200000000 0001");
        DecodedPacket p = Decode(pkt);
        Assert.Equal("Ethernet@0+14/0 Payload@14+10/0", Detail(p));
        Assert.False(p.HasProblem);
    }
}
