using UplinkProbe.Decoding;
using Xunit;
using static UplinkProbe.Tests.Decoding.DecodeHelpers;

namespace UplinkProbe.Tests.Decoding;

public class TunnelTests
{
    [Fact]
    public void GeneveWithOvnOptionCarriesGarp()
    {
        byte[] pkt = TestPackets.GeneveOvnGarp;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal(
            "Ethernet@0+14/0 Ipv4@14+20/0 Udp@34+8/0 Geneve@42+16/0 Ethernet@58+14/1 Arp@72+28/1",
            Detail(p));

        Assert.True(GeneveHeader.TryRead(pkt.AsSpan(42), out GeneveHeader g, out _));
        Assert.Equal((0, 2, 8, 16), (g.Version, g.OptionsLengthWords, g.OptionsLength, g.HeaderLength));
        Assert.False(g.IsOam);
        Assert.True(g.HasCriticalOptions);
        Assert.Equal(5u, g.Vni);
        Assert.Equal(EtherTypes.TransparentEthernetBridging, g.ProtocolType);

        int count = 0;
        foreach (GeneveOption o in g.Options)
        {
            count++;
            Assert.Equal((0x0102, 0x80, true, 1, 8), (o.Class, o.Type, o.IsCritical, o.LengthWords, o.Length));
            Assert.True(o.TryGetOvnMetadata(out OvnGeneveMetadata ovn));
            Assert.Equal(5, ovn.IngressPortKey);
            Assert.Equal(0x8001, ovn.EgressPortKey);
            Assert.True(ovn.EgressIsMulticastGroup);
            Assert.False(ovn.ReservedBit);
        }

        Assert.Equal(1, count);
        Assert.True(g.TryGetOvnMetadata(out OvnGeneveMetadata m));
        Assert.Equal(0x00058001u, m.RawValue);

        Layer inner = Find(p, LayerKind.Arp);
        Assert.True(ArpPacket.TryRead(pkt.AsSpan(inner.Offset), out ArpPacket arp, out _));
        Assert.Equal(ArpKind.GratuitousRequest, arp.Classify());
    }

    [Fact]
    public void OvnOptionBitLayout()
    {
        // 1 reserved bit | 15-bit ingress | 16-bit egress: all-ones ingress, egress 1, reserved bit set.
        var m = new OvnGeneveMetadata(0xFFFF_0001);
        Assert.Equal((0x7FFF, 1, true, false), (m.IngressPortKey, m.EgressPortKey, m.ReservedBit, m.EgressIsMulticastGroup));
        // An option of the right class but another type is not OVN's.
        byte[] opt = TestPackets.Hex("01020001 00058001");
        var e = new GeneveOptionEnumerator(opt);
        Assert.True(e.MoveNext());
        Assert.False(e.Current.IsCritical);
        Assert.False(e.Current.TryGetOvnMetadata(out _));
    }

    [Fact]
    public void GeneveOamBitWithInnerIpv4()
    {
        byte[] pkt = TestPackets.GeneveOamIpv4;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet Ipv4 Udp Geneve Ipv4 Icmpv4", Chain(p));
        Assert.Equal(1, Find(p, LayerKind.Ipv4, 1).Depth);
        Assert.True(GeneveHeader.TryRead(pkt.AsSpan(42), out GeneveHeader g, out _));
        Assert.True(g.IsOam);
        Assert.False(g.HasCriticalOptions);
        Assert.Equal(7u, g.Vni);
        Assert.Equal(8, g.HeaderLength);
    }

    [Fact]
    public void GeneveWithArpDirectly()
    {
        DecodedPacket p = Decode(TestPackets.GeneveArp);
        Assert.Equal("Ethernet@0+14/0 Ipv4@14+20/0 Udp@34+8/0 Geneve@42+8/0 Arp@50+28/1", Detail(p));
    }

    [Fact]
    public void GeneveInnerIpv6()
    {
        // Protocol 0x86dd, inner IPv6 with no next header.
        byte[] pkt = TestPackets.Hex(
            "020000000002 020000000001 0800 4500004c 00004000 40110000 c0000201 c0000202 c00017c1 00380000 " +
            "000086dd 00000800 6000000000003b40 20010db8000000000000000000000001 20010db8000000000000000000000002");
        Assert.Equal("Ethernet Ipv4 Udp Geneve Ipv6", Chain(Decode(pkt)));
    }

    [Fact]
    public void GeneveOptionRunningPastOptLenIsMalformed()
    {
        DecodedPacket p = Decode(TestPackets.GeneveOptionOverrun);
        Assert.Equal(DecodeProblem.GeneveOptionOverrun, p.Problem);
        Assert.Equal(LayerKind.Geneve, p.ProblemLayer);
        Assert.Equal(42, p.ProblemOffset);
        Assert.True(p.IsMalformed);

        var e = new GeneveOptionEnumerator(TestPackets.GeneveOptionOverrun.AsSpan(50, 8));
        Assert.False(e.MoveNext());
        Assert.Equal(DecodeProblem.GeneveOptionOverrun, e.Problem);
    }

    [Fact]
    public void GeneveOptLenPastUdpLengthIsMalformedPastCaptureIsTruncated()
    {
        // Opt Len 63 words (252 bytes) in a 66-byte UDP datagram that was captured whole.
        byte[] pkt = (byte[])TestPackets.GeneveOvnGarp.Clone();
        pkt[42] = 0x3f;
        Assert.Equal(DecodeProblem.GeneveOptionsOverrun, Decode(pkt).Problem);

        // Capture ends inside the option.
        DecodedPacket p = Decode(TestPackets.GeneveOvnGarp[..54]);
        Assert.Equal(DecodeProblem.TruncatedGeneveOption, p.Problem);
        Assert.True(p.IsTruncated);
    }

    [Fact]
    public void GeneveVersionOtherThanZero()
    {
        byte[] pkt = (byte[])TestPackets.GeneveOvnGarp.Clone();
        pkt[42] |= 0x40; // version 1
        Assert.Equal(DecodeProblem.GeneveBadVersion, Decode(pkt).Problem);
    }

    [Fact]
    public void MultipleGeneveOptionsIncludingCritical()
    {
        // Opt Len 5 words: class 0x0000 type 0x80 (critical) no data; class 0xff72 type 0x01 len 3 (12 bytes data).
        byte[] opts = TestPackets.Hex("00008000 ff720103 000000000000000000000000");
        var seen = new List<(ushort, byte, bool, int)>();
        foreach (GeneveOption o in new GeneveOptionEnumerator(opts))
        {
            seen.Add((o.Class, o.Type, o.IsCritical, o.Data.Length));
        }

        Assert.Equal([(0x0000, 0x80, true, 0), (0xff72, 0x01, false, 12)], seen);
    }

    [Theory]
    [InlineData(4789, true)]
    [InlineData(8472, true)]
    [InlineData(4790, false)]
    public void VxlanOnItsPortsButNotOnGpe(ushort port, bool vxlan)
    {
        byte[] pkt = TestPackets.VxlanArp(port);
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        if (vxlan)
        {
            Assert.Equal("Ethernet@0+14/0 Ipv4@14+20/0 Udp@34+8/0 Vxlan@42+8/0 Ethernet@50+14/1 Arp@64+28/1", Detail(p));
            Assert.True(VxlanHeader.TryRead(pkt.AsSpan(42), out VxlanHeader v, out _));
            Assert.True(v.HasVni);
            Assert.Equal(100u, v.Vni);
            Assert.Equal(0x08, v.Flags);
        }
        else
        {
            Assert.Equal("Ethernet@0+14/0 Ipv4@14+20/0 Udp@34+8/0 Payload@42+50/0", Detail(p));
        }
    }

    [Fact]
    public void BfdInsideGeneveVniZero()
    {
        byte[] pkt = TestPackets.GeneveBfd;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal(
            "Ethernet@0+14/0 Ipv4@14+20/0 Udp@34+8/0 Geneve@42+8/0 Ethernet@50+14/1 Ipv4@64+20/1 Udp@84+8/1 Bfd@92+24/1",
            Detail(p));
        Assert.True(GeneveHeader.TryRead(pkt.AsSpan(42), out GeneveHeader g, out _));
        Assert.Equal(0u, g.Vni);
        Assert.True(BfdControlPacket.TryRead(pkt.AsSpan(92), out BfdControlPacket bfd, out _));
        Assert.Equal((1, BfdState.Up, BfdDiagnostic.None, 3), (bfd.Version, bfd.State, bfd.Diagnostic, bfd.DetectMultiplier));
        Assert.Equal((1u, 2u), (bfd.MyDiscriminator, bfd.YourDiscriminator));
        Assert.Equal((1_000_000u, 1_000_000u, 0u), (bfd.DesiredMinTxInterval, bfd.RequiredMinRxInterval, bfd.RequiredMinEchoRxInterval));
        Assert.False(bfd.Poll || bfd.Final || bfd.AuthenticationPresent || bfd.Demand || bfd.Multipoint || bfd.ControlPlaneIndependent);
    }

    [Fact]
    public void BfdStateDiagAndFlags()
    {
        byte[] pkt = TestPackets.EthBfdDown;
        DecodedPacket p = Decode(pkt);
        Assert.Equal("Ethernet Ipv4 Udp Bfd", Chain(p));
        Assert.True(BfdControlPacket.TryRead(pkt.AsSpan(42), out BfdControlPacket bfd, out _));
        Assert.Equal((BfdState.Down, BfdDiagnostic.ControlDetectionTimeExpired, true, 5), (bfd.State, bfd.Diagnostic, bfd.Poll, bfd.DetectMultiplier));
        Assert.Equal(0xabcdu, bfd.MyDiscriminator);
        Assert.Equal(500_000u, bfd.DesiredMinTxInterval);

        // Every state and diag value comes out of the right bits.
        for (int state = 0; state < 4; state++)
        {
            for (int diag = 0; diag < 10; diag++)
            {
                byte[] b = TestPackets.Hex("20000318 00000001 00000002 000f4240 000f4240 00000000");
                b[0] = (byte)(0x20 | diag);
                b[1] = (byte)((state << 6) | 0x3b); // P F C D M, not A
                Assert.True(BfdControlPacket.TryRead(b, out bfd, out _));
                Assert.Equal(((BfdState)state, (BfdDiagnostic)diag), (bfd.State, bfd.Diagnostic));
                Assert.True(bfd.Poll && bfd.Final && bfd.ControlPlaneIndependent && bfd.Demand && bfd.Multipoint);
                Assert.False(bfd.AuthenticationPresent);
            }
        }
    }

    [Theory]
    [InlineData("00c00318", DecodeProblem.BfdBadVersion)]
    [InlineData("20c00310", DecodeProblem.BfdBadLength)]
    [InlineData("20c40318", DecodeProblem.BfdBadLength)] // A bit set but no room for the auth section
    [InlineData("20c00320", DecodeProblem.TruncatedBfd)]
    public void BfdProblems(string firstWord, DecodeProblem expected)
    {
        byte[] b = TestPackets.Hex(firstWord + "00000001 00000002 000f4240 000f4240 00000000");
        Assert.False(BfdControlPacket.TryRead(b, out _, out DecodeProblem problem));
        Assert.Equal(expected, problem);
    }

    [Fact]
    public void BfdLengthPastUdpPayloadIsMalformed()
    {
        byte[] pkt = (byte[])TestPackets.EthBfdDown.Clone();
        pkt[45] = 0x20; // BFD length 32 in a 24-byte UDP payload captured whole
        Assert.Equal(DecodeProblem.BfdBadLength, Decode(pkt).Problem);
    }

    [Fact]
    public void TunnelDepthIsLimited()
    {
        // VXLAN in VXLAN in VXLAN with MaxTunnelDepth 2: the third level is payload, flagged.
        string inner = "020000000002 020000000001 0806 " + TestPackets.GarpArp;
        string Wrap(string frame)
        {
            int len = frame.Replace(" ", "").Length / 2;
            return $"020000000002 020000000001 0800 4500{20 + 16 + len:x4} 00004000 40110000 c0000201 c0000202 c00012b5 {16 + len:x4}0000 08000000 00006400 " + frame;
        }

        byte[] pkt = TestPackets.Hex(Wrap(Wrap(Wrap(inner))));
        DecodedPacket full = Decode(pkt);
        Assert.False(full.HasProblem);
        Assert.Equal(3, full.Layers[^1].Depth);

        var shallow = new PacketDecoder(new PacketDecoderOptions { MaxTunnelDepth = 2 });
        DecodedPacket p = Decode(pkt, decoder: shallow);
        Assert.Equal(DecodeProblem.TunnelTooDeep, p.Problem);
        Assert.Equal(LayerKind.Payload, p.Layers[^1].Kind);
        Assert.Equal(2, p.Layers[^1].Depth);
        Assert.Equal(3, p.Layers.ToArray().Count(l => l.Kind == LayerKind.Vxlan)); // the third header is read, its frame is not
        Assert.Equal(3, full.Layers.ToArray().Count(l => l.Kind == LayerKind.Vxlan));
        Assert.Equal(4, full.Layers.ToArray().Count(l => l.Kind == LayerKind.Ethernet));
        Assert.Equal(3, p.Layers.ToArray().Count(l => l.Kind == LayerKind.Ethernet));
    }

    [Fact]
    public void PortOptionsAreHonoured()
    {
        var d = new PacketDecoder(new PacketDecoderOptions { GenevePort = 47101, VxlanPorts = [4789], BfdPorts = [3784] });
        Assert.Equal(LayerKind.Geneve, d.UdpPortKind(47101));
        Assert.Equal(LayerKind.None, d.UdpPortKind(6081));
        Assert.Equal(LayerKind.None, d.UdpPortKind(8472));
        DecodedPacket p = Decode(TestPackets.VxlanArp(8472), decoder: d);
        Assert.Equal("Ethernet Ipv4 Udp Payload", Chain(p));
    }
}
