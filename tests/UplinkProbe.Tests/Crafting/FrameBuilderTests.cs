using System.Buffers.Binary;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Crafting;

/// <summary>Byte-level checks of what the builder writes, against the wire formats in the RFCs.</summary>
public sealed class FrameBuilderTests
{
    private static readonly byte[] MacA = Doc.Mac(0x0a);
    private static readonly byte[] MacB = Doc.Mac(0x0b);
    private static readonly byte[] IpA = Doc.Ip(192, 0, 2, 1);
    private static readonly byte[] IpB = Doc.Ip(192, 0, 2, 2);

    [Fact]
    public void GratuitousArpRequestBytes()
    {
        var buf = new byte[64];
        buf.AsSpan().Fill(0xee);
        int n = OvnFrames.GratuitousArpRequest(buf, MacA, IpA, pad: false);
        byte[] expected = Convert.FromHexString(
            "ffffffffffff" + "00005e00530a" + "0806" +
            "0001" + "0800" + "06" + "04" + "0001" +
            "00005e00530a" + "c0000201" + "000000000000" + "c0000201");
        Assert.Equal(expected, buf[..n]);

        n = OvnFrames.GratuitousArpRequest(buf, MacA, IpA, vlanId: 4094, pad: true);
        Assert.Equal(60, n);
        Assert.Equal(Convert.FromHexString("81000ffe0806"), buf[12..18]);
        Assert.All(buf[46..60], b => Assert.Equal(0, b));
    }

    [Fact]
    public void StackedTagsCarryPcpDeiVid()
    {
        byte[] f = Frames.Build((ref FrameBuilder b) =>
        {
            b.Ethernet(MacB, MacA, EtherTypes.QinQ);
            b.VlanTag(0x123, EtherTypes.Vlan, priority: 7, dropEligible: true);
            b.VlanTag(0, EtherTypes.Arp);
        });
        Assert.Equal(Convert.FromHexString("88a8f1238100" + "00000806"), f[12..22]);
    }

    [Fact]
    public void Ethernet8023LengthCountsLlcAndPayloadButNotPadding()
    {
        byte[] f = Frames.Build((ref FrameBuilder b) =>
        {
            b.BeginEthernet8023(MacB, MacA);
            b.Llc(0x42, 0x42, 0x03);
            b.Write([1, 2, 3, 4, 5]);
        }, FrameBuilder.EthernetMinimumFrameLength);
        Assert.Equal(60, f.Length);
        Assert.Equal(8, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)));
        Assert.Equal(new byte[] { 0x42, 0x42, 0x03, 1, 2, 3, 4, 5 }, f[14..22]);
    }

    [Fact]
    public void Ipv4HeaderFieldsAndChecksum()
    {
        byte[] f = Frames.Build((ref FrameBuilder b) =>
        {
            b.Ethernet(MacB, MacA, EtherTypes.Ipv4);
            b.BeginIpv4(IpA, IpB, 253, ttl: 9, identification: 0xabcd, flags: Ipv4Flags.DontFragment | Ipv4Flags.MoreFragments,
                fragmentOffset: 0x1fff, typeOfService: 0xb8, options: [0x94, 0x04, 0x00]);
            b.Write([9, 9, 9]);
        });
        ReadOnlySpan<byte> ip = f.AsSpan(14);
        Assert.Equal(0x46, ip[0]); // version 4, IHL 6 (3 option bytes padded to 4)
        Assert.Equal(0xb8, ip[1]);
        Assert.Equal(24 + 3, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
        Assert.Equal(0xabcd, BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
        Assert.Equal(0x7fff, BinaryPrimitives.ReadUInt16BigEndian(ip[6..]));
        Assert.Equal(9, ip[8]);
        Assert.Equal(253, ip[9]);
        Assert.Equal(new byte[] { 0x94, 0x04, 0x00, 0x00 }, ip[20..24].ToArray());
        Assert.Equal(0, InternetChecksum.Compute(ip[..24]));
    }

    [Fact]
    public void UdpOverIpv4WithoutChecksumLeavesZero()
    {
        byte[] f = Frames.Build((ref FrameBuilder b) =>
        {
            b.Ethernet(MacB, MacA, EtherTypes.Ipv4);
            b.BeginIpv4(IpA, IpB, IpProtocols.Udp);
            b.BeginUdp(1, 2, checksum: false);
            b.Write([0xff]);
        });
        Assert.Equal(Convert.FromHexString("0001000200090000ff"), f[34..]);
    }

    [Fact]
    public void UdpChecksumVerifiesOverPseudoHeader()
    {
        byte[] f = Frames.Build((ref FrameBuilder b) =>
        {
            b.Ethernet(MacB, MacA, EtherTypes.Ipv6);
            b.BeginIpv6(Doc.Ip6(1), Doc.Ip6(2), IpProtocols.DestinationOptions);
            b.Ipv6DestinationOptions(IpProtocols.Udp, []);
            b.BeginUdp(1000, 2000);
            b.Write("hello"u8);
        });
        ReadOnlySpan<byte> udp = f.AsSpan(14 + 40 + 8);
        Assert.Equal(13, BinaryPrimitives.ReadUInt16BigEndian(udp[4..]));
        // The pseudo-header names UDP (17), not the destination-options header, and the UDP length.
        ulong sum = InternetChecksum.PseudoHeaderIpv6(f.AsSpan(22, 16), f.AsSpan(38, 16), IpProtocols.Udp, udp.Length);
        Assert.Equal(0, InternetChecksum.Finish(InternetChecksum.Add(sum, udp)));
        Assert.Equal(8 + 13, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(18))); // IPv6 payload length
    }

    [Theory]
    [InlineData(0, "3c00" + "01040000" + "0000")] // 2 bytes of header + PadN(4) ... = 8
    [InlineData(1, "3c00" + "aa" + "0103000000")]
    [InlineData(5, "3c00" + "0503000102" + "00")] // Pad1 for the single remaining byte
    [InlineData(6, "3c00" + "050400010203")]
    [InlineData(7, "3c01" + "05050001020304" + "01050000000000")]
    public void Ipv6OptionsHeadersArePaddedWithPad1OrPadN(int optionLength, string expectedHex)
    {
        byte[] options = optionLength switch
        {
            0 => [],
            1 => [0xaa],
            5 => [5, 3, 0, 1, 2],
            6 => [5, 4, 0, 1, 2, 3],
            _ => [5, 5, 0, 1, 2, 3, 4],
        };
        var buf = new byte[64];
        buf.AsSpan().Fill(0x77);
        var b = new FrameBuilder(buf);
        b.Ipv6HopByHop(IpProtocols.DestinationOptions, options);
        Assert.Equal(expectedHex, Convert.ToHexString(b.Written).ToLowerInvariant());
    }

    [Fact]
    public void GeneveOptionsUpdateOptLenAndCriticalFlag()
    {
        var buf = new byte[64];
        var b = new FrameBuilder(buf);
        b.Geneve(0x123456, EtherTypes.Ipv4, oam: true);
        Assert.Equal("00800800" + "12345600", Convert.ToHexString(b.Written).ToLowerInvariant());
        b.GeneveOption(0x0101, 0x01, [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Equal(0x03, buf[0]); // 12 bytes of options
        Assert.Equal(0x80, buf[1]); // not critical yet
        b.OvnGeneveOption(0x7fff, 0x8001);
        Assert.Equal(0x05, buf[0]);
        Assert.Equal(0xc0, buf[1]);
        Assert.Equal("01028001" + "7fff8001", Convert.ToHexString(buf, 20, 8).ToLowerInvariant());
        Assert.Equal(28, b.Length);
    }

    [Fact]
    public void OvnOptionValueLayout()
    {
        uint v = OvnGeneveOption.Encode(0x1234, 0xfedc);
        Assert.Equal(0x1234fedcu, v);
        var decoded = new OvnGeneveMetadata(v);
        Assert.Equal(0x1234, decoded.IngressPortKey);
        Assert.Equal(0xfedc, decoded.EgressPortKey);
        Assert.False(decoded.ReservedBit);
        Assert.Throws<ArgumentOutOfRangeException>(() => OvnGeneveOption.Encode(0x8000, 1));
    }

    [Fact]
    public void VxlanAndBfdBytes()
    {
        var buf = new byte[64];
        var b = new FrameBuilder(buf);
        b.Vxlan(0xabcdef);
        b.Bfd(new BfdControl
        {
            Diagnostic = BfdDiagnostic.PathDown,
            State = BfdState.Up,
            Flags = BfdFlags.Poll | BfdFlags.Demand,
            DetectMultiplier = 5,
            MyDiscriminator = 1,
            YourDiscriminator = 2,
            DesiredMinTxInterval = 300_000,
            RequiredMinRxInterval = 200_000,
            RequiredMinEchoRxInterval = 50_000,
        });
        Assert.Equal(
            "08000000abcdef00" + "25" + "e2" + "05" + "18" + "00000001" + "00000002" + "000493e0" + "00030d40" + "0000c350",
            Convert.ToHexString(b.Written).ToLowerInvariant());
    }

    [Fact]
    public void DnsSearchListEncodesLabelsAndPads()
    {
        var buf = new byte[64];
        var b = new FrameBuilder(buf);
        b.NdpDnsSearchList(0x11223344, "a.example.");
        Assert.Equal("1f03000011223344" + "0161076578616d706c6500" + "0000000000", Convert.ToHexString(b.Written).ToLowerInvariant());
    }

    [Fact]
    public void MisuseThrowsClearly()
    {
        var small = new byte[10];
        Assert.Throws<InvalidOperationException>(() =>
        {
            var b = new FrameBuilder(small);
            b.Ethernet(MacA, MacB, EtherTypes.Ipv4);
        });
        Assert.Throws<ArgumentException>(() =>
        {
            var b = new FrameBuilder(new byte[64]);
            b.Ethernet(MacA.AsSpan(0, 5), MacB, EtherTypes.Ipv4);
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            var b = new FrameBuilder(new byte[64]);
            b.End();
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            var b = new FrameBuilder(new byte[64]);
            b.BeginUdp(1, 2);
        });
        Assert.Throws<InvalidOperationException>(() =>
        {
            var b = new FrameBuilder(new byte[64]);
            b.Geneve(1);
            b.WriteByte(0);
            b.GeneveOption(1, 1, [0, 0, 0, 0]);
        });
    }

    [Fact]
    public void ReusedBufferGivesIdenticalFrames()
    {
        var buf = new byte[256];
        byte[] Build()
        {
            var b = new FrameBuilder(buf);
            b.Ethernet(MacB, MacA, EtherTypes.Ipv4);
            b.BeginIpv4(IpA, IpB, IpProtocols.Tcp, options: [1]);
            b.BeginTcp(1, 2, 3, 4, TcpFlags.Syn, options: [2, 4, 5, 0xb4, 1]);
            int n = b.Finish(FrameBuilder.EthernetMinimumFrameLength);
            return buf[..n];
        }

        buf.AsSpan().Fill(0x00);
        byte[] first = Build();
        buf.AsSpan().Fill(0xff);
        Assert.Equal(first, Build());
    }

    [Fact]
    public void BuildingDoesNotAllocate()
    {
        var buf = new byte[256];
        byte[] mac = MacA, ip = IpA;
        void BuildOnce()
        {
            var b = new FrameBuilder(buf);
            b.Ethernet(mac, mac, EtherTypes.Ipv4);
            b.BeginIpv4(ip, ip, IpProtocols.Udp);
            b.BeginUdp(1, UdpPorts.Geneve);
            b.Geneve(5);
            b.OvnGeneveOption(1, 2);
            b.Ethernet(mac, mac, EtherTypes.Ipv4);
            b.BeginIpv4(ip, ip, IpProtocols.Tcp);
            b.BeginTcp(1, 2, 3, 4, TcpFlags.Ack);
            b.WriteZeros(100);
            b.Finish();
        }

        BuildOnce();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            BuildOnce();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
