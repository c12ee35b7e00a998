using System.Buffers.Binary;
using System.Text;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using UplinkProbe.L2Test;
using Xunit;

namespace UplinkProbe.Tests.L2Test;

public sealed class L2ProbeTests
{
    private static readonly MacAddress Hv1 = MacAddress.Parse("02:00:5e:00:53:01");
    private static readonly MacAddress Hv2 = MacAddress.Parse("02:00:5e:00:53:02");
    private static readonly MacAddress Foreign1 = L2Probe.ForeignMac("hv1", Hv1);

    public static TheoryData<L2ProbeKind, int> KindsAndTags()
    {
        var data = new TheoryData<L2ProbeKind, int>();
        foreach (L2ProbeKind k in L2ProbeKinds.All)
        {
            data.Add(k, -1);
            data.Add(k, 100);
        }

        return data;
    }

    private static byte[] Build(L2ProbeKind kind, int vlan = -1, string node = "hv1", uint seq = 7, long time = 1_700_000_000_123_456_789)
    {
        byte[] buf = new byte[L2Probe.MaxFrameLength];
        int n = L2Probe.Build(buf, new L2ProbeSpec(kind, seq, time, Hv1, Foreign1, Hv2, vlan), Encoding.UTF8.GetBytes(node));
        return buf[..n];
    }

    [Theory]
    [MemberData(nameof(KindsAndTags))]
    public void EveryKindRoundTripsWithItsSignatureAndAddresses(L2ProbeKind kind, int vlan)
    {
        byte[] frame = Build(kind, vlan);
        Assert.True(frame.Length >= 60);
        Assert.Equal(L2ProbeProblem.None, L2Probe.TryDecode(frame, out L2ProbeFrame p));
        Assert.Equal(kind, p.Kind);
        Assert.Equal(7u, p.Sequence);
        Assert.Equal(1_700_000_000_123_456_789, p.SendTimeNs);
        Assert.Equal(Hv1, p.SenderMac);
        Assert.Equal("hv1", Encoding.UTF8.GetString(p.NodeName));
        Assert.Equal(vlan, p.VlanId);
        Assert.Equal(kind == L2ProbeKind.ForeignSource ? Foreign1 : Hv1, p.EthernetSource);

        string expectedDestination = kind switch
        {
            L2ProbeKind.Broadcast => "ff:ff:ff:ff:ff:ff",
            L2ProbeKind.Ipv4LinkLocal => "01:00:5e:00:00:01",
            L2ProbeKind.Ipv4AdminScoped => "01:00:5e:64:64:64",
            L2ProbeKind.Ipv6AllNodes => "33:33:00:00:00:01",
            L2ProbeKind.Ipv6SolicitedNode => "33:33:ff:00:53:02", // hv2's group: ff02::1:ff00:5302
            _ => "02:00:5e:00:53:02",
        };
        Assert.Equal(expectedDestination, p.EthernetDestination.ToString());
        Assert.True(L2Probe.IsAddressedTo(p, Hv2));
        if (L2ProbeKinds.IsDirected(kind))
        {
            Assert.False(L2Probe.IsAddressedTo(p, Hv1)); // directed at hv2, not at anyone else
        }
    }

    [Theory]
    [InlineData(L2ProbeKind.Ipv4LinkLocal, new byte[] { 224, 0, 0, 1 })]
    [InlineData(L2ProbeKind.Ipv4AdminScoped, new byte[] { 239, 100, 100, 100 })]
    public void Ipv4ProbesAreRealMulticastUdpWithValidChecksumsAndNoClaimedAddress(L2ProbeKind kind, byte[] group)
    {
        byte[] f = Build(kind);
        Assert.Equal(EtherTypes.Ipv4, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)));
        ReadOnlySpan<byte> ip = f.AsSpan(14, 20);
        Assert.Equal(0x45, ip[0]);
        Assert.Equal(1, ip[8]); // TTL 1: stays on the link
        Assert.Equal(IpProtocols.Udp, ip[9]);
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, ip.Slice(12, 4).ToArray());
        Assert.Equal(group, ip.Slice(16, 4).ToArray());
        Assert.Equal(0, InternetChecksum.Compute(ip)); // a header including its checksum sums to zero (RFC 1071)

        int total = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        ReadOnlySpan<byte> udp = f.AsSpan(34, total - 20);
        Assert.Equal(L2Probe.UdpPort, BinaryPrimitives.ReadUInt16BigEndian(udp));
        Assert.Equal(L2Probe.UdpPort, BinaryPrimitives.ReadUInt16BigEndian(udp[2..]));
        ulong sum = InternetChecksum.PseudoHeaderIpv4(ip.Slice(12, 4), ip.Slice(16, 4), IpProtocols.Udp, udp.Length);
        Assert.Equal(0, InternetChecksum.Finish(InternetChecksum.Add(sum, udp)));
    }

    [Theory]
    [InlineData(L2ProbeKind.Ipv6AllNodes, "ff02::1")]
    [InlineData(L2ProbeKind.Ipv6SolicitedNode, "ff02::1:ff00:5302")]
    public void Ipv6ProbesComeFromTheEui64LinkLocalAndCarryAValidUdpChecksum(L2ProbeKind kind, string group)
    {
        byte[] f = Build(kind);
        Assert.Equal(EtherTypes.Ipv6, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)));
        ReadOnlySpan<byte> ip = f.AsSpan(14, 40);
        Assert.Equal(IpProtocols.Udp, ip[6]);
        Assert.Equal(1, ip[7]);
        Assert.Equal("fe80::5eff:fe00:5301", Ipv6Address.Read(ip[8..]).ToString()); // 02:00:5e:… with the U/L bit flipped: 0000:5eff:fe00:5301
        Assert.Equal(System.Net.IPAddress.Parse("fe80::0:5eff:fe00:5301").GetAddressBytes(), ip.Slice(8, 16).ToArray());
        Assert.Equal(System.Net.IPAddress.Parse(group).GetAddressBytes(), ip.Slice(24, 16).ToArray());

        int length = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
        ReadOnlySpan<byte> udp = f.AsSpan(54, length);
        ulong sum = InternetChecksum.PseudoHeaderIpv6(ip.Slice(8, 16), ip.Slice(24, 16), IpProtocols.Udp, udp.Length);
        Assert.Equal(0, InternetChecksum.Finish(InternetChecksum.Add(sum, udp)));
    }

    [Fact]
    public void TheForeignMacIsLocallyAdministeredUnicastStableAndNeverTheNics()
    {
        foreach (string node in new[] { "hv1", "hv2", "gateway-with-a-long-name", "ü" })
        {
            MacAddress m = L2Probe.ForeignMac(node, Hv1);
            Assert.True(m.IsLocallyAdministered);
            Assert.False(m.IsMulticast);
            Assert.NotEqual(Hv1, m);
            Assert.Equal(m, L2Probe.ForeignMac(node, Hv1));
            Assert.NotEqual(m, L2Probe.ForeignMac(node, m)); // even a NIC that happens to have that MAC gets another one
        }

        Assert.NotEqual(L2Probe.ForeignMac("hv1", Hv1), L2Probe.ForeignMac("hv2", Hv1));
    }

    [Fact]
    public void OtherTrafficAndOtherSignaturesAreForeign()
    {
        byte[] probe = Build(L2ProbeKind.Broadcast);

        byte[] otherVersion = (byte[])probe.Clone();
        otherVersion[18] = 2;
        Assert.Equal(L2ProbeProblem.Foreign, L2Probe.TryDecode(otherVersion, out _));

        byte[] otherMagic = (byte[])probe.Clone();
        otherMagic[14] = (byte)'X';
        Assert.Equal(L2ProbeProblem.Foreign, L2Probe.TryDecode(otherMagic, out _));

        byte[] otherType = (byte[])probe.Clone();
        otherType[13] = 0xB6; // 0x88b6, the other local experimental EtherType
        Assert.Equal(L2ProbeProblem.Foreign, L2Probe.TryDecode(otherType, out _));

        byte[] otherPort = Build(L2ProbeKind.Ipv4LinkLocal);
        otherPort[14 + 20 + 3] ^= 1;
        Assert.Equal(L2ProbeProblem.Foreign, L2Probe.TryDecode(otherPort, out _));

        byte[] fragment = Build(L2ProbeKind.Ipv4AdminScoped);
        fragment[14 + 6] |= 0x20; // more fragments
        Assert.Equal(L2ProbeProblem.Foreign, L2Probe.TryDecode(fragment, out _));
    }

    [Fact]
    public void BrokenProbesAreMalformedAndWrongShapesAreMismatched()
    {
        byte[] probe = Build(L2ProbeKind.Broadcast, node: "hv1");

        byte[] badKind = (byte[])probe.Clone();
        badKind[14 + 5] = 99;
        Assert.Equal(L2ProbeProblem.Malformed, L2Probe.TryDecode(badKind, out _));

        byte[] longName = (byte[])probe.Clone();
        longName[14 + 26] = 65;
        Assert.Equal(L2ProbeProblem.Malformed, L2Probe.TryDecode(longName, out _));

        byte[] zeroName = (byte[])probe.Clone();
        zeroName[14 + 26] = 0;
        Assert.Equal(L2ProbeProblem.Malformed, L2Probe.TryDecode(zeroName, out _));

        byte[] badUtf8 = (byte[])probe.Clone();
        badUtf8[14 + 27] = 0xff;
        Assert.Equal(L2ProbeProblem.Malformed, L2Probe.TryDecode(badUtf8, out _));

        byte[] multicastBroadcast = (byte[])probe.Clone();
        multicastBroadcast[5] = 0xfe; // ff:ff:ff:ff:ff:fe: not the broadcast address
        Assert.Equal(L2ProbeProblem.ShapeMismatch, L2Probe.TryDecode(multicastBroadcast, out _));

        byte[] unicastFromForeign = Build(L2ProbeKind.Unicast);
        Foreign1.TryWriteBytes(unicastFromForeign.AsSpan(6)); // "unicast" must come from the NIC MAC it names
        Assert.Equal(L2ProbeProblem.ShapeMismatch, L2Probe.TryDecode(unicastFromForeign, out _));

        byte[] foreignFromNic = Build(L2ProbeKind.ForeignSource);
        Hv1.TryWriteBytes(foreignFromNic.AsSpan(6));
        Assert.Equal(L2ProbeProblem.ShapeMismatch, L2Probe.TryDecode(foreignFromNic, out _));

        byte[] wrongGroupMac = Build(L2ProbeKind.Ipv4AdminScoped);
        wrongGroupMac[5] = 0x65;
        Assert.Equal(L2ProbeProblem.ShapeMismatch, L2Probe.TryDecode(wrongGroupMac, out _));
    }

    [Fact]
    public void EveryTruncationAndEveryByteFlipOfEveryKindIsHandledWithoutThrowing()
    {
        foreach (L2ProbeKind kind in L2ProbeKinds.All)
        {
            foreach (int vlan in new[] { -1, 4094 })
            {
                byte[] f = Build(kind, vlan, node: "a-node-name");
                for (int n = 0; n < f.Length; n++)
                {
                    L2ProbeProblem p = L2Probe.TryDecode(f.AsSpan(0, n), out _);
                    // Cut inside the signature: never a valid probe (the padding past it may go).
                    int signatureEnd = f.AsSpan().IndexOf("a-node-name"u8) + "a-node-name".Length;
                    if (n < signatureEnd)
                    {
                        Assert.NotEqual(L2ProbeProblem.None, p);
                    }
                }

                for (int i = 0; i < f.Length; i++)
                {
                    foreach (byte x in new byte[] { 0x01, 0x80, 0xff })
                    {
                        byte[] g = (byte[])f.Clone();
                        g[i] ^= x;
                        _ = L2Probe.TryDecode(g, out _);
                    }
                }
            }
        }
    }

    [Fact]
    public void CaptureFilterMatchesEveryKindAndNothingElse()
    {
        Assert.Equal("ether proto 0x88b5 or udp dst port 51381 or (vlan and (ether proto 0x88b5 or udp dst port 51381))", L2Probe.CaptureFilter);
    }
}
