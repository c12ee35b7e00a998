using System.Buffers.Binary;
using System.Net;
using UplinkProbe.Crafting;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Crafting;

public sealed class SyntheticUplinkTrafficTests
{
    private readonly ITestOutputHelper _output;

    public SyntheticUplinkTrafficTests(ITestOutputHelper output) => _output = output;

    private static List<(long Ts, byte[] Frame, SyntheticFrameKind Kind)> Generate(ulong seed, int count)
    {
        var g = new SyntheticUplinkTraffic(seed);
        var buf = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        var list = new List<(long, byte[], SyntheticFrameKind)>(count);
        for (int i = 0; i < count; i++)
        {
            int n = g.NextFrame(buf, out long ts, out SyntheticFrameKind kind);
            list.Add((ts, buf[..n], kind));
        }

        return list;
    }

    [Fact]
    public void SameSeedGivesIdenticalFramesAndOtherSeedsDiffer()
    {
        var a = Generate(42, 3000);
        var b = Generate(42, 3000);
        var c = Generate(43, 3000);
        Assert.True(a.Zip(b).All(p => p.First.Ts == p.Second.Ts && p.First.Frame.AsSpan().SequenceEqual(p.Second.Frame)));
        Assert.False(a.Zip(c).All(p => p.First.Frame.AsSpan().SequenceEqual(p.Second.Frame)));
    }

    [Fact]
    public void MixSizesAndTimestampsAreAsSpecified()
    {
        const int count = 20000;
        var frames = Generate(7, count);
        var byKind = frames.GroupBy(f => f.Kind).ToDictionary(g => g.Key, g => g.Count());
        AssertShare(byKind, SyntheticFrameKind.Geneve, 0.70, count);
        AssertShare(byKind, SyntheticFrameKind.Tcp, 0.15, count);
        AssertShare(byKind, SyntheticFrameKind.Arp, 0.05, count);
        AssertShare(byKind, SyntheticFrameKind.Ndp, 0.05, count);
        AssertShare(byKind, SyntheticFrameKind.VlanTagged, 0.03, count);
        AssertShare(byKind, SyntheticFrameKind.Broadcast, 0.02, count);

        // The kind reported matches the bytes.
        foreach (var (_, f, kind) in frames)
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12));
            switch (kind)
            {
                case SyntheticFrameKind.Geneve:
                    Assert.Equal(0x0800, type);
                    Assert.Equal(17, f[23]);
                    Assert.Equal(6081, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(36)));
                    Assert.Equal(0x0102, BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(50)));
                    break;
                case SyntheticFrameKind.Tcp:
                    Assert.Equal(0x0800, type);
                    Assert.Equal(6, f[23]);
                    break;
                case SyntheticFrameKind.Arp:
                    Assert.Equal(0x0806, type);
                    break;
                case SyntheticFrameKind.Ndp:
                    Assert.Equal(0x86dd, type);
                    Assert.InRange(f[54], 133, 137);
                    break;
                case SyntheticFrameKind.VlanTagged:
                    Assert.Equal(0x8100, type);
                    break;
            }
        }

        Assert.All(frames, f => Assert.InRange(f.Frame.Length, 60, 1518));
        Assert.Contains(frames, f => f.Frame.Length == 1514);
        Assert.Contains(frames, f => f.Frame.Length == 1518);
        Assert.InRange(frames.Count(f => f.Frame.Length <= 128), count / 5, count * 3 / 5);
        for (int i = 1; i < frames.Count; i++)
        {
            Assert.True(frames[i].Ts > frames[i - 1].Ts);
        }

        double meanGapNs = (double)(frames[^1].Ts - frames[0].Ts) / (count - 1);
        Assert.InRange(meanGapNs, 900, 1100);
    }

    [Fact]
    public void TsharkDecodesTheMixCleanlyWithDocumentationAddressesOnly()
    {
        if (!TsharkRunner.IsUsable(_output))
        {
            return;
        }

        var frames = Generate(99, 3000);
        string path = Doc.WritePcap(frames.Select(f => f.Frame));
        try
        {
            TsharkResult result = TsharkRunner.ReadFields(path,
                ["frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "arp.src.proto_ipv4", "arp.dst.proto_ipv4",
                 "eth.src", "ip.checksum.status", "udp.checksum.status", "tcp.checksum.status", "icmpv6.checksum.status",
                 "geneve.option.class", "geneve.option.type", .. TsharkRunner.ProblemFields],
                TsharkRunner.ChecksumPreferences);
            Assert.Equal(frames.Count, result.Rows.Count);
            for (int i = 0; i < frames.Count; i++)
            {
                TsharkRow r = result.Rows[i];
                // Warnings about TCP sequence gaps are expected (flows are sampled); errors are not.
                Assert.DoesNotContain(r.Problems(), p => !p.Contains("segment", StringComparison.OrdinalIgnoreCase));
                foreach (string field in (string[])["ip.checksum.status", "tcp.checksum.status", "icmpv6.checksum.status"])
                {
                    Assert.All(r.All(field), s => Assert.Equal("1", s));
                }

                Assert.All(r.All("udp.checksum.status"), s => Assert.Equal("1", s));
                foreach (string field in (string[])["ip.src", "ip.dst", "arp.src.proto_ipv4", "arp.dst.proto_ipv4", "ipv6.src", "ipv6.dst"])
                {
                    Assert.All(r.All(field), a => Assert.True(IsDocumentationOrProtocolAddress(a), $"frame {i + 1}: {field} {a}"));
                }

                Assert.All(r.All("eth.src"), m => Assert.StartsWith("00:00:5e:00:53:", m));
                if (frames[i].Kind == SyntheticFrameKind.Geneve)
                {
                    Assert.Contains(":geneve:eth:ethertype:ip:", r["frame.protocols"]);
                    Assert.Equal("0x0102", r["geneve.option.class"]);
                    Assert.Equal("0x80", r["geneve.option.type"]);
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertShare(Dictionary<SyntheticFrameKind, int> byKind, SyntheticFrameKind kind, double share, int count)
    {
        double actual = (double)byKind.GetValueOrDefault(kind) / count;
        Assert.True(Math.Abs(actual - share) < 0.01 + share * 0.1, $"{kind}: {actual:P2} of frames, expected about {share:P0}");
    }

    private static bool IsDocumentationOrProtocolAddress(string text)
    {
        IPAddress a = IPAddress.Parse(text);
        byte[] b = a.GetAddressBytes();
        if (b.Length == 4)
        {
            return (b[0], b[1], b[2]) is (192, 0, 2) or (198, 51, 100) or (203, 0, 113)
                || text is "0.0.0.0" or "255.255.255.255" or "224.0.0.251";
        }

        return (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) || b[0] == 0xff;
    }
}
