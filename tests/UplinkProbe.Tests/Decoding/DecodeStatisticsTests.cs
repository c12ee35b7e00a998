using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Decoding;

/// <summary>The statistics' chain table must give exactly the counts of a plain walk over every layer.</summary>
public class DecodeStatisticsTests
{
    private static readonly LayerKind[] Kinds = Enum.GetValues<LayerKind>().Where(k => k != LayerKind.None).ToArray();

    [Fact]
    public void LayerKindsFitTheChainAndMaskEncoding()
    {
        Assert.True(Kinds.Max(k => (int)k) < 64, "DecodedPacket.Chain and LayerMask need every LayerKind below 64");
    }

    [Fact]
    public void ChainOfAPacketListsItsKinds()
    {
        var p = new DecodedPacket();
        new PacketDecoder().Decode(TestPackets.GeneveOvnGarp, LinkType.Ethernet, p);
        ulong expected = 0, mask = 0;
        foreach (Layer l in p.Layers)
        {
            expected = (expected << 6) | (ulong)l.Kind;
            mask |= 1UL << (int)l.Kind;
        }

        Assert.Equal(expected, p.Chain);
        Assert.Equal(mask, p.LayerMask);
        Assert.Equal((1UL << (int)LayerKind.Ethernet) | (1UL << (int)LayerKind.Ipv4) | (1UL << (int)LayerKind.Udp) | (1UL << (int)LayerKind.Geneve) | (1UL << (int)LayerKind.Arp), p.LayerMask);
    }

    /// <summary>Hundreds of distinct chains (more than the table holds), long chains, empty chains, and reads in between.</summary>
    [Fact]
    public void CountsEqualAPlainWalk()
    {
        var rng = new Random(7);
        var stats = new DecodeStatistics();
        var layers = new long[64];
        var with = new long[64];
        var p = new DecodedPacket();
        for (int i = 0; i < 50_000; i++)
        {
            p.Reset(LinkType.Ethernet, 100);
            int n = rng.Next(10) == 0 ? rng.Next(11, 40) : rng.Next(0, 11);
            var seen = new HashSet<LayerKind>();
            for (int j = 0; j < n; j++)
            {
                // Few kinds early on, all of them later: the table fills up part-way through.
                LayerKind kind = Kinds[rng.Next(i < 20_000 ? 4 : Kinds.Length)];
                p.TryAdd(kind, j, 1, 0);
                layers[(int)kind]++;
                seen.Add(kind);
            }

            foreach (LayerKind k in seen)
            {
                with[(int)k]++;
            }

            stats.Add(p);
            if (i % 9_999 == 0)
            {
                AssertCounts(stats, layers, with);
            }
        }

        AssertCounts(stats, layers, with);
        Assert.Equal(50_000, stats.CleanPackets);

        stats.Clear();
        AssertCounts(stats, new long[64], new long[64]);
    }

    [Fact]
    public void DecodedTrafficCountsEqualAPlainWalk()
    {
        var decoder = new PacketDecoder();
        var stats = new DecodeStatistics();
        var p = new DecodedPacket();
        var layers = new long[64];
        var with = new long[64];
        byte[][] packets =
        [
            TestPackets.GeneveOvnGarp, TestPackets.EthRa, TestPackets.EthIpv6ExtChain, TestPackets.QinQArpRequest,
            TestPackets.PbbVlanIpv4, TestPackets.MplsPwControlWord, TestPackets.VnTagSandwich, TestPackets.OvnGarp,
        ];
        for (int i = 0; i < 1000; i++)
        {
            decoder.Decode(packets[i % packets.Length], LinkType.Ethernet, p);
            stats.Add(p);
            foreach (Layer l in p.Layers)
            {
                layers[(int)l.Kind]++;
            }

            foreach (LayerKind k in p.Layers.ToArray().Select(l => l.Kind).Distinct())
            {
                with[(int)k]++;
            }
        }

        AssertCounts(stats, layers, with);
    }

    private static void AssertCounts(DecodeStatistics stats, long[] layers, long[] with)
    {
        foreach (LayerKind k in Kinds)
        {
            Assert.Equal(layers[(int)k], stats.LayerCount(k));
            Assert.Equal(with[(int)k], stats.PacketsWith(k));
        }
    }
}
