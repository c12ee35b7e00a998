using UplinkProbe.Decoding;
using Xunit;
using static UplinkProbe.Tests.Decoding.DecodeHelpers;

namespace UplinkProbe.Tests.Decoding;

public class RobustnessTests
{
    public static TheoryData<string, LinkType> Representative() => new()
    {
        { nameof(TestPackets.OvnGarp), LinkType.Ethernet },
        { nameof(TestPackets.QinQArpRequest), LinkType.Ethernet },
        { nameof(TestPackets.SnapArpReply), LinkType.Ethernet },
        { nameof(TestPackets.SllGarp), LinkType.LinuxSll },
        { nameof(TestPackets.Sll2NsDad), LinkType.LinuxSll2 },
        { nameof(TestPackets.EthRa), LinkType.Ethernet },
        { nameof(TestPackets.EthRedirect), LinkType.Ethernet },
        { nameof(TestPackets.EthIpv6ExtChain), LinkType.Ethernet },
        { nameof(TestPackets.EthIpv6Ah), LinkType.Ethernet },
        { nameof(TestPackets.EthIpv4Options), LinkType.Ethernet },
        { nameof(TestPackets.GeneveOvnGarp), LinkType.Ethernet },
        { nameof(TestPackets.GeneveOamIpv4), LinkType.Ethernet },
        { nameof(TestPackets.GeneveBfd), LinkType.Ethernet },
        { nameof(TestPackets.EthBfdDown), LinkType.Ethernet },
        { nameof(TestPackets.VnTagSandwich), LinkType.Ethernet },
        { nameof(TestPackets.VnTagFromBridgeArp), LinkType.Ethernet },
        { nameof(TestPackets.PbbVlanIpv4), LinkType.Ethernet },
        { nameof(TestPackets.PbbArp), LinkType.Ethernet },
        { nameof(TestPackets.MplsIpv4), LinkType.Ethernet },
        { nameof(TestPackets.MplsTwoLabelsIpv6), LinkType.Ethernet },
        { nameof(TestPackets.MplsGalAchIpv4), LinkType.Ethernet },
        { nameof(TestPackets.MplsInIpv4), LinkType.Ethernet },
    };

    private static byte[] Get(string name) => (byte[])typeof(TestPackets).GetField(name)!.GetValue(null)!;

    /// <summary>
    /// Every prefix of a packet whose headers account for all its bytes is a capture cut short: the decoder must
    /// say "truncated" (never malformed, never clean), name a layer, and keep every layer inside the bytes it had.
    /// </summary>
    [Theory]
    [MemberData(nameof(Representative))]
    public void EveryTruncationIsReportedAsTruncation(string name, LinkType link)
    {
        byte[] full = Get(name);
        DecodedPacket whole = Decode(full, link);
        Assert.False(whole.HasProblem, $"{name}: {whole.Problem}");

        // Bytes the decoder leaves undecoded (TCP data, unknown protocols) may be cut by a snap length without
        // that being a problem: a header-only capture is not an error.
        int payloadStart = whole.Layers[^1].Kind == LayerKind.Payload ? whole.Layers[^1].Offset : int.MaxValue;
        for (int n = 0; n < full.Length; n++)
        {
            byte[] cut = full[..n];
            DecodedPacket p = Decode(cut, link);
            if (n >= payloadStart && !p.HasProblem)
            {
                Assert.Equal(LayerKind.Payload, whole.Layers[p.LayerCount == whole.LayerCount ? ^1 : p.LayerCount].Kind);
                continue;
            }

            Assert.True(p.IsTruncated, $"{name} cut at {n}: problem {p.Problem}, layers {Detail(p)}");
            Assert.NotEqual(LayerKind.None, p.ProblemLayer);
            Assert.InRange(p.ProblemOffset, 0, n);
            foreach (Layer l in p.Layers)
            {
                Assert.True(l.Offset >= 0 && l.End <= n, $"{name} cut at {n}: layer {l} outside the packet");
            }

            // The layers decoded before the cut are a prefix of the full chain.
            for (int i = 0; i < p.LayerCount; i++)
            {
                if (p.Layers[i].Kind is not (LayerKind.Payload or LayerKind.Icmpv6 or LayerKind.Icmpv4))
                {
                    Assert.Equal(whole.Layers[i], p.Layers[i]);
                }
            }
        }
    }

    /// <summary>Random bytes and random corruptions of real packets under every link type: no exception, layers in bounds.</summary>
    [Fact]
    public void RandomAndCorruptedInputNeverThrows()
    {
        var rng = new Random(20240521);
        var decoder = new PacketDecoder();
        var result = new DecodedPacket();
        var stats = new DecodeStatistics();
        LinkType[] links = [LinkType.Ethernet, LinkType.LinuxSll, LinkType.LinuxSll2, LinkType.Null, LinkType.Loop, LinkType.Raw, LinkType.Ipv4, LinkType.Ipv6];
        var seeds = Representative().Select(row => Get((string)row[0])).ToArray();

        for (int i = 0; i < 60_000; i++)
        {
            byte[] pkt;
            if (i % 3 == 0)
            {
                pkt = new byte[rng.Next(0, 200)];
                rng.NextBytes(pkt);
            }
            else
            {
                pkt = (byte[])seeds[rng.Next(seeds.Length)].Clone();
                int flips = rng.Next(1, 6);
                for (int f = 0; f < flips && pkt.Length > 0; f++)
                {
                    pkt[rng.Next(pkt.Length)] = (byte)rng.Next(256);
                }

                if (rng.Next(4) == 0)
                {
                    pkt = pkt[..rng.Next(pkt.Length + 1)];
                }
            }

            LinkType link = links[rng.Next(links.Length)];
            decoder.Decode(pkt, link, result);
            stats.Add(result);
            int lastEnd = 0;
            foreach (Layer l in result.Layers)
            {
                Assert.True(l.Offset >= lastEnd && l.Length >= 0 && l.End <= pkt.Length, $"layer {l} of {Convert.ToHexString(pkt)} ({link})");
                lastEnd = l.Offset;
            }
        }

        Assert.Equal(60_000, stats.Packets);
        Assert.True(stats.TruncatedPackets > 0 && stats.MalformedPackets > 0 && stats.CleanPackets > 0);
    }

    [Fact]
    public void OriginalLengthTellsTruncatedFromTooShort()
    {
        // An ARP cut after 30 bytes: cut by the snap length (original 42) it is truncated; if the wire frame
        // itself was only 30 bytes long (original = captured, as in tcpdump's arp-oobr.pcap) it is malformed.
        byte[] cut = TestPackets.OvnGarp[..30];
        var decoder = new PacketDecoder();
        var p = new DecodedPacket();

        decoder.Decode(cut, LinkType.Ethernet, p, originalLength: 42);
        Assert.Equal(DecodeProblem.TruncatedArp, p.Problem);
        Assert.True(p.IsTruncated);
        Assert.False(p.IsMalformed);

        decoder.Decode(cut, LinkType.Ethernet, p, originalLength: 30);
        Assert.Equal(DecodeProblem.TruncatedArp, p.Problem);
        Assert.False(p.IsTruncated);
        Assert.True(p.IsMalformed);

        var stats = new DecodeStatistics();
        stats.Add(p);
        decoder.Decode(cut, LinkType.Ethernet, p);
        stats.Add(p);
        Assert.Equal((1L, 1L, 2L), (stats.MalformedPackets, stats.TruncatedPackets, stats.ProblemCountOf(DecodeProblem.TruncatedArp)));
    }

    [Fact]
    public void IcmpWithoutAnIpLengthIsCutWhenTheWireFrameWasLonger()
    {
        // IPv4 total length 0 (as on Linux BIG TCP captures): the ICMP echo runs to the end of the captured bytes.
        byte[] pkt = TestPackets.Hex("020000000002 020000000001 0800 45000000 00010000 40010000 c0000201 c0000202 08000000 00010001 6869");
        var decoder = new PacketDecoder();
        var p = new DecodedPacket();

        decoder.Decode(pkt, LinkType.Ethernet, p, originalLength: pkt.Length);
        Assert.False(p.HasProblem);
        Assert.Equal(10, Find(p, LayerKind.Icmpv4).Length);

        decoder.Decode(pkt, LinkType.Ethernet, p, originalLength: pkt.Length + 100);
        Assert.True(p.IsTruncated);
        Assert.Equal(DecodeProblem.TruncatedIcmpv4, p.Problem);

        decoder.Decode(pkt, LinkType.Ethernet, p);
        Assert.False(p.HasProblem, "without an original length nothing says the message was cut");
    }

    [Fact]
    public void LongIpv6ExtensionChainStopsAtTheLayerLimit()
    {
        // 200 destination-options headers of 8 bytes: more than DecodedPacket.MaxLayers.
        var hex = new System.Text.StringBuilder("020000000002 020000000001 86dd 60000000 0640 3c40 20010db8000000000000000000000001 20010db8000000000000000000000002 ");
        for (int i = 0; i < 200; i++)
        {
            hex.Append(i == 199 ? "3b00010400000000 " : "3c00010400000000 ");
        }

        DecodedPacket p = Decode(TestPackets.Hex(hex.ToString()));
        Assert.Equal(DecodeProblem.TooManyLayers, p.Problem);
        Assert.Equal(DecodedPacket.MaxLayers, p.LayerCount);
    }
}
