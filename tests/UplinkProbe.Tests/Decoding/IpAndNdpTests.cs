using UplinkProbe.Decoding;
using Xunit;
using static UplinkProbe.Tests.Decoding.DecodeHelpers;

namespace UplinkProbe.Tests.Decoding;

public class IpAndNdpTests
{
    [Fact]
    public void Ipv4WithOptions()
    {
        byte[] pkt = TestPackets.EthIpv4Options;
        DecodedPacket p = Decode(pkt);
        Assert.Equal("Ethernet@0+14/0 Ipv4@14+24/0 Payload@38+8/0", Detail(p));
        Assert.True(Ipv4Header.TryRead(pkt.AsSpan(14), out Ipv4Header ip, out _));
        Assert.Equal(24, ip.HeaderLength);
        Assert.Equal("94040000", Convert.ToHexString(ip.Options).ToLowerInvariant());
        Assert.Equal(2, ip.Protocol);
        Assert.Equal("224.0.0.22", ip.Destination.ToString());
        Assert.Equal(1, ip.TimeToLive);
        Assert.Equal(8, ip.Payload.Length);
    }

    [Fact]
    public void Ipv4PaddingIsNotPayload()
    {
        // 46-byte IPv4 datagram? No: a 28-byte ICMP echo datagram padded to 60 bytes by Ethernet.
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 0800 4500001c 00010000 40010000 c0000201 c0000202 0800f7fe 00010000" + new string('0', 36));
        DecodedPacket p = Decode(pkt);
        Assert.Equal("Ethernet@0+14/0 Ipv4@14+20/0 Icmpv4@34+8/0", Detail(p));
        Assert.True(Ipv4Header.TryRead(pkt.AsSpan(14), out Ipv4Header ip, out _));
        Assert.Equal(8, ip.Payload.Length);
        Assert.True(Icmpv4Header.TryRead(ip.Payload, out Icmpv4Header icmp, out _));
        Assert.Equal((8, 0, 1, 0), (icmp.Type, icmp.Code, icmp.Identifier, icmp.SequenceNumber));
    }

    [Fact]
    public void FirstFragmentIsDecodedLaterFragmentsAreNot()
    {
        byte[] first = TestPackets.EthIpv4FirstFragment;
        DecodedPacket p = Decode(first);
        // The UDP length (1024) describes the whole datagram, not this fragment: no problem.
        Assert.Equal("Ethernet@0+14/0 Ipv4@14+20/0 Udp@34+8/0 Payload@42+8/0", Detail(p));
        Assert.False(p.HasProblem);
        Assert.True(Ipv4Header.TryRead(first.AsSpan(14), out Ipv4Header ip, out _));
        Assert.True(ip.MoreFragments && ip.IsFirstFragment && ip.IsFragment);

        byte[] later = TestPackets.EthIpv4LaterFragment;
        p = Decode(later);
        Assert.Equal("Ethernet@0+14/0 Ipv4@14+20/0 Payload@34+8/0", Detail(p));
        Assert.True(Ipv4Header.TryRead(later.AsSpan(14), out ip, out _));
        Assert.Equal(185, ip.FragmentOffset);
        Assert.False(ip.IsFirstFragment);
    }

    [Fact]
    public void Ipv4TotalLengthZeroFallsBackToCapturedLength()
    {
        byte[] pkt = TestPackets.EthIpv4BigTcp;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Ipv4@14+20/0 Tcp@34+20/0 Payload@54+100/0", Detail(p));
        Assert.True(Ipv4Header.TryRead(pkt.AsSpan(14), out Ipv4Header ip, out _));
        Assert.True(ip.UsesCapturedLength);
        Assert.Equal(120, ip.Payload.Length);
        Assert.True(TcpHeader.TryRead(ip.Payload, out TcpHeader tcp, out _));
        Assert.Equal((49152, 80, TcpFlags.Ack, 20), (tcp.SourcePort, tcp.DestinationPort, tcp.Flags, tcp.HeaderLength));
    }

    [Theory]
    [InlineData("55", DecodeProblem.Ipv4BadVersion)]
    [InlineData("44", DecodeProblem.Ipv4BadHeaderLength)]
    [InlineData("4f", DecodeProblem.TruncatedIpv4)]
    public void Ipv4HeaderProblems(string firstByte, DecodeProblem expected)
    {
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 0800 " + firstByte + "000028 00010000 40110000 c0000201 c0000202 c000c001 00140000 000000000000000000000000");
        DecodedPacket p = Decode(pkt);
        Assert.Equal(expected, p.Problem);
        Assert.Equal(LayerKind.Ipv4, p.ProblemLayer);
        Assert.Equal(14, p.ProblemOffset);
    }

    [Fact]
    public void Ipv4TotalLengthBelowHeaderIsMalformed()
    {
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 0800 45000010 00010000 40110000 c0000201 c0000202");
        Assert.Equal(DecodeProblem.Ipv4TotalLengthTooSmall, Decode(pkt).Problem);
    }

    [Fact]
    public void UdpLengthBeyondIpPayloadIsMalformed()
    {
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 0800 4500001c 00010000 40110000 c0000201 c0000202 c000c001 00200000");
        DecodedPacket p = Decode(pkt);
        Assert.Equal(DecodeProblem.UdpBadLength, p.Problem);
        Assert.Equal(34, p.ProblemOffset);

        pkt[39] = 4; // UDP length 4 (< 8)
        Assert.Equal(DecodeProblem.UdpBadLength, Decode(pkt).Problem);
    }

    [Fact]
    public void Ipv6ExtensionChainIsFollowed()
    {
        byte[] pkt = TestPackets.EthIpv6ExtChain;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal(
            "Ethernet@0+14/0 Ipv6@14+40/0 Ipv6HopByHop@54+8/0 Ipv6DestinationOptions@62+8/0 Ipv6Fragment@70+8/0 Icmpv6@78+8/0",
            Detail(p));
        Assert.True(Ipv6ExtensionHeader.TryRead(pkt.AsSpan(70), IpProtocols.Fragment, out Ipv6ExtensionHeader frag, out _));
        Assert.Equal((0, false, 0x12345678u, IpProtocols.Icmpv6), (frag.FragmentOffset, frag.MoreFragments, frag.Identification, frag.NextHeader));
    }

    [Fact]
    public void Ipv6AuthenticationHeaderLengthIsIn32BitWordsMinusTwo()
    {
        byte[] pkt = TestPackets.EthIpv6Ah;
        DecodedPacket p = Decode(pkt);
        Assert.Equal("Ethernet@0+14/0 Ipv6@14+40/0 Ipv6AuthenticationHeader@54+24/0 Icmpv6@78+8/0", Detail(p));
        Assert.True(Ipv6ExtensionHeader.TryRead(pkt.AsSpan(54), IpProtocols.AuthenticationHeader, out Ipv6ExtensionHeader ah, out _));
        Assert.Equal(0x100u, ah.SecurityParametersIndex);
    }

    [Fact]
    public void Ipv6ExtensionPastPayloadLengthIsMalformedPastCaptureIsTruncated()
    {
        // Hop-by-hop claims (1+1)×8 = 16 bytes, payload length says 8 and 8 are there: malformed.
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 86dd 6000000000080040 20010db8000000000000000000000001 20010db8000000000000000000000002 3b01010400000000");
        DecodedPacket p = Decode(pkt);
        Assert.Equal(DecodeProblem.Ipv6BadExtensionLength, p.Problem);
        Assert.Equal(LayerKind.Ipv6HopByHop, p.ProblemLayer);
        Assert.Equal(54, p.ProblemOffset);

        // Payload length 16, only 8 captured: truncated.
        pkt[19] = 16;
        p = Decode(pkt);
        Assert.Equal(DecodeProblem.TruncatedIpv6Extension, p.Problem);
        Assert.True(p.IsTruncated);
    }

    [Fact]
    public void Ipv6LaterFragmentAndNoNextHeader()
    {
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 86dd 6000000000102c40 20010db8000000000000000000000001 20010db8000000000000000000000002 1100000912345678 0102030405060708");
        Assert.Equal("Ethernet Ipv6 Ipv6Fragment Payload", Chain(Decode(pkt)));

        pkt = TestPackets.Hex("020000000002 020000000001 86dd 6000000000003b40 20010db8000000000000000000000001 20010db8000000000000000000000002");
        DecodedPacket p = Decode(pkt);
        Assert.Equal("Ethernet Ipv6", Chain(p));
        Assert.False(p.HasProblem);
    }

    [Fact]
    public void Ipv6BadVersion()
    {
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 86dd 5000000000003b40 20010db8000000000000000000000001 20010db8000000000000000000000002");
        Assert.Equal(DecodeProblem.Ipv6BadVersion, Decode(pkt).Problem);
    }

    [Fact]
    public void NeighborSolicitationForDadWithNonce()
    {
        byte[] pkt = TestPackets.EthNsDad;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Ipv6@14+40/0 Icmpv6@54+32/0", Detail(p));
        Assert.True(Ipv6Header.TryRead(pkt.AsSpan(14), out Ipv6Header ip6, out _));
        Assert.True(ip6.Source.IsZero);
        Assert.True(ip6.Destination.IsSolicitedNodeMulticast);
        Assert.Equal(255, ip6.HopLimit);

        Assert.True(NdpMessage.TryRead(pkt.AsSpan(54), out NdpMessage ns, out _));
        Assert.Equal(Icmpv6Header.NeighborSolicitation, ns.Type);
        Assert.Equal("2001:db8::1", ns.TargetAddress.ToString());
        Assert.True(ns.TryFindOption(NdpOptionTypes.Nonce, out NdpOption nonce));
        Assert.True(nonce.TryGetNonce(out ReadOnlySpan<byte> n));
        Assert.Equal("112233445566", Convert.ToHexString(n));
        Assert.False(ns.TryFindOption(NdpOptionTypes.SourceLinkLayerAddress, out _));
    }

    [Fact]
    public void NeighborAdvertisementFlagsAndTlla()
    {
        byte[] pkt = TestPackets.EthNa;
        Assert.True(NdpMessage.TryRead(pkt.AsSpan(54), out NdpMessage na, out _));
        Assert.Equal((true, true, true), (na.RouterFlag, na.SolicitedFlag, na.OverrideFlag));
        Assert.True(na.TryFindOption(NdpOptionTypes.TargetLinkLayerAddress, out NdpOption tlla));
        Assert.True(tlla.TryGetLinkLayerAddress(out MacAddress mac));
        Assert.Equal("02:00:00:00:00:01", mac.ToString());

        pkt[58] = 0x40; // S only
        Assert.True(NdpMessage.TryRead(pkt.AsSpan(54), out na, out _));
        Assert.Equal((false, true, false), (na.RouterFlag, na.SolicitedFlag, na.OverrideFlag));
    }

    [Fact]
    public void RouterSolicitationWithSlla()
    {
        byte[] pkt = TestPackets.EthRs;
        Assert.Equal("Ethernet@0+14/0 Ipv6@14+40/0 Icmpv6@54+16/0", Detail(Decode(pkt)));
        Assert.True(NdpMessage.TryRead(pkt.AsSpan(54), out NdpMessage rs, out _));
        Assert.Equal(8, rs.FixedLength);
        Assert.True(rs.TryFindOption(NdpOptionTypes.SourceLinkLayerAddress, out NdpOption slla));
        Assert.True(slla.TryGetLinkLayerAddress(out MacAddress mac));
        Assert.Equal("02:00:00:00:00:01", mac.ToString());
    }

    [Fact]
    public void RouterAdvertisementFixedPartAndEveryOption()
    {
        byte[] pkt = TestPackets.EthRa;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.Equal("Ethernet@0+14/0 Ipv6@14+40/0 Icmpv6@54+112/0", Detail(p));
        Assert.True(NdpMessage.TryRead(pkt.AsSpan(54), out NdpMessage ra, out _));
        Assert.Equal(64, ra.CurrentHopLimit);
        Assert.Equal(0xc8, ra.RouterFlags);
        Assert.True(ra.ManagedAddressConfiguration && ra.OtherConfiguration);
        Assert.Equal(1, ra.RouterPreference);
        Assert.Equal(1800, ra.RouterLifetime);
        Assert.Equal(30000u, ra.ReachableTime);
        Assert.Equal(1000u, ra.RetransTimer);

        var types = new List<(byte, byte)>();
        foreach (NdpOption o in ra.Options)
        {
            types.Add((o.Type, o.LengthUnits));
            switch (o.Type)
            {
                case NdpOptionTypes.SourceLinkLayerAddress:
                    Assert.True(o.TryGetLinkLayerAddress(out MacAddress mac));
                    Assert.Equal("02:00:00:00:00:01", mac.ToString());
                    break;
                case NdpOptionTypes.Mtu:
                    Assert.True(o.TryGetMtu(out uint mtu));
                    Assert.Equal(1500u, mtu);
                    break;
                case NdpOptionTypes.PrefixInformation:
                    Assert.True(o.TryGetPrefixInformation(out NdpPrefixInformation pi));
                    Assert.Equal((64, true, true, 2592000u, 604800u), (pi.PrefixLength, pi.OnLink, pi.Autonomous, pi.ValidLifetime, pi.PreferredLifetime));
                    Assert.Equal("2001:db8:0:1::", pi.Prefix.ToString());
                    break;
                case NdpOptionTypes.RecursiveDnsServer:
                    Assert.True(o.TryGetRecursiveDnsServers(out uint life, out int count));
                    Assert.Equal((3600u, 1), (life, count));
                    Assert.Equal("2001:db8::35", o.GetRecursiveDnsServer(0).ToString());
                    break;
                case NdpOptionTypes.DnsSearchList:
                    Assert.True(o.TryGetDnsSearchList(out uint dlife, out ReadOnlySpan<byte> names));
                    Assert.Equal(3600u, dlife);
                    Assert.Equal("076578616D706C6503636F6D00000000", Convert.ToHexString(names));
                    break;
            }

            Assert.False(o.TryGetNonce(out _));
        }

        Assert.Equal([(1, 1), (5, 1), (3, 4), (25, 3), (31, 3)], types);
        Assert.Equal(DecodeProblem.None, ra.ValidateOptions(out _));
    }

    [Fact]
    public void RedirectWithRedirectedHeader()
    {
        byte[] pkt = TestPackets.EthRedirect;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem);
        Assert.True(NdpMessage.TryRead(pkt.AsSpan(54), out NdpMessage rd, out _));
        Assert.Equal("fe80::2", rd.TargetAddress.ToString());
        Assert.Equal("2001:db8::99", rd.DestinationAddress.ToString());
        Assert.True(rd.TryFindOption(NdpOptionTypes.RedirectedHeader, out NdpOption rh));
        Assert.Equal(6, rh.LengthUnits);
        Assert.True(rh.TryGetRedirectedPacket(out ReadOnlySpan<byte> inner));
        Assert.True(Ipv6Header.TryRead(inner, out Ipv6Header innerIp, out _));
        Assert.Equal("2001:db8::99", innerIp.Destination.ToString());
    }

    [Fact]
    public void NdpOptionWithLengthZeroIsMalformed()
    {
        byte[] pkt = (byte[])TestPackets.EthNsDad.Clone();
        pkt[79] = 0; // Nonce option length 0
        DecodedPacket p = Decode(pkt);
        Assert.Equal(DecodeProblem.NdpOptionLengthZero, p.Problem);
        Assert.True(p.IsMalformed);
        Assert.Equal(78, p.ProblemOffset);
        Assert.Equal("Ethernet Ipv6 Icmpv6", Chain(p)); // the fixed part was fine and is kept

        var e = new NdpOptionEnumerator(pkt.AsSpan(78, 8));
        Assert.False(e.MoveNext());
        Assert.Equal(DecodeProblem.NdpOptionLengthZero, e.Problem);
    }

    [Fact]
    public void NdpOptionPastThePayloadIsOverrunPastTheCaptureIsTruncated()
    {
        byte[] pkt = (byte[])TestPackets.EthNsDad.Clone();
        pkt[79] = 2; // Nonce option claims 16 bytes, 8 are in the message
        DecodedPacket p = Decode(pkt);
        Assert.Equal(DecodeProblem.NdpOptionOverrun, p.Problem);

        // The capture stops 3 bytes into the option (snaplen): truncated.
        p = Decode(TestPackets.EthNsDad[..81]);
        Assert.Equal(DecodeProblem.TruncatedNdpOption, p.Problem);
        Assert.True(p.IsTruncated);
    }

    [Fact]
    public void NdpMessageShorterThanItsFixedPart()
    {
        // NA whose payload length says 16 (fixed part is 24), as in zeek icmp6-nd-short-options.
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 86dd 6000000000103aff 20010db8000000000000000000000001 20010db8000000000000000000000002 88000000 a0000000 20010db800000000");
        DecodedPacket p = Decode(pkt);
        Assert.Equal(DecodeProblem.NdpMessageTooShort, p.Problem);
        Assert.Equal("Ethernet Ipv6 Icmpv6", Chain(p));

        Assert.False(NdpMessage.TryRead(pkt.AsSpan(54), out _, out DecodeProblem problem));
        Assert.Equal(DecodeProblem.TruncatedIcmpv6, problem);
        Assert.False(NdpMessage.TryRead(TestPackets.Hex("80000000 00010001"), out _, out problem));
        Assert.Equal(DecodeProblem.None, problem); // echo request: not ND
    }

    [Fact]
    public void RouteInformationOptionOfEveryLength()
    {
        byte[] pkt = TestPackets.EthRaRouteInformation;
        DecodedPacket p = Decode(pkt);
        Assert.False(p.HasProblem, p.Problem.ToString());
        Layer icmp = Find(p, LayerKind.Icmpv6);
        Assert.True(NdpMessage.TryRead(pkt.AsSpan(icmp.Offset, icmp.Length), out NdpMessage ra, out _));

        var seen = new List<string>();
        foreach (NdpOption o in ra.Options)
        {
            Assert.Equal(NdpOptionTypes.RouteInformation, o.Type);
            seen.Add(o.TryGetRouteInformation(out NdpRouteInformation r)
                ? $"{r.Prefix}/{r.PrefixLength} bytes {r.PrefixBytes} pref {r.Preference} life {r.RouteLifetime} has {r.HasPrefixBytes}"
                : $"invalid length {o.LengthUnits}");
            Assert.False(o.TryGetPrefixInformation(out _));
        }

        Assert.Equal(
            [
                "::/0 bytes 0 pref 0 life 3600 has False",
                "2001:db8:aabb::/48 bytes 8 pref 1 life 7200 has True",
                "2001:db8:0:1::1/128 bytes 16 pref 3 life 4294967295 has True",
                "invalid length 4",
            ],
            seen);
    }
}
