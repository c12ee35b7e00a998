using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Decoding;

/// <summary>
/// The decoder's straight-line path for Ethernet/IPv4/TCP|UDP[/Geneve/...] must give exactly what the general loop
/// gives, on clean uplink traffic and on every corruption of it; where it is unsure it must leave the packet to the
/// general loop. <see cref="PacketDecoder.DecodeChain"/>, what <c>stats</c> counts with, must give the same chain, mask and
/// problem without the layers' positions exactly where the straight-line path is taken.
/// </summary>
public sealed class CommonPathTests
{
    private readonly PacketDecoder _general = new() { UseCommonPath = false };
    private readonly PacketDecoder _common = new();

    [Fact]
    public void CleanUplinkMixTakesTheCommonPathForGeneveTcpArpAndVlanAndMatchesTheGeneralLoop()
    {
        var traffic = new SyntheticUplinkTraffic(seed: 7);
        var buffer = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        var byKind = new Dictionary<SyntheticFrameKind, (int Frames, int Common)>();
        for (int i = 0; i < 20_000; i++)
        {
            int length = traffic.NextFrame(buffer, out _, out SyntheticFrameKind kind);
            byte[] frame = buffer.AsSpan(0, length).ToArray();
            bool common = _common.TryDecodeCommon<RecordLayers>(frame, new DecodedPacket(), frame.Length);
            (int frames, int taken) = byKind.GetValueOrDefault(kind);
            byKind[kind] = (frames + 1, taken + (common ? 1 : 0));
            AssertSame(frame, frame.Length);
        }

        foreach (SyntheticFrameKind kind in new[] { SyntheticFrameKind.Geneve, SyntheticFrameKind.Tcp, SyntheticFrameKind.Arp, SyntheticFrameKind.VlanTagged })
        {
            Assert.Equal(byKind[kind].Frames, byKind[kind].Common);
        }

        Assert.Equal(0, byKind[SyntheticFrameKind.Ndp].Common); // IPv6 is left to the general loop
    }

    [Fact]
    public void CorruptedAndCutFramesDecodeTheSameOnBothPaths()
    {
        var traffic = new SyntheticUplinkTraffic(seed: 11);
        var random = new Random(11);
        var buffer = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        int taken = 0, refused = 0;
        for (int i = 0; i < 6_000; i++)
        {
            int length = traffic.NextFrame(buffer, out _, out _);
            byte[] clean = buffer.AsSpan(0, length).ToArray();
            for (int m = 0; m < 12; m++)
            {
                byte[] frame = (byte[])clean.Clone();
                for (int k = random.Next(1, 4); k > 0 && frame.Length > 0; k--) // up to three at once: e.g. a fragment flag and a UDP length
                {
                int headerEnd = Math.Min(frame.Length, 120);
                switch (random.Next(4))
                {
                    case 0: // one header byte replaced: versions, lengths, protocols, ports, flags, option lengths
                        frame[random.Next(headerEnd)] = (byte)random.Next(256);
                        break;
                    case 1: // a bit flipped
                        frame[random.Next(headerEnd)] ^= (byte)(1 << random.Next(8));
                        break;
                    case 2: // cut inside the headers
                        frame = frame[..random.Next(headerEnd + 1)];
                        break;
                    default: // a 16-bit length field set to an extreme (IPv4 total at 16/16+outer, UDP length, ...)
                        int at = random.Next(Math.Max(1, headerEnd - 1));
                        ushort value = (ushort)(random.Next(3) switch { 0 => 0, 1 => random.Next(64), _ => 0xFFFF - random.Next(64) });
                        if (at + 1 < frame.Length)
                        {
                            frame[at] = (byte)(value >> 8);
                            frame[at + 1] = (byte)value;
                        }

                        break;
                }
                }

                // Both a whole capture and one that says the packet was longer on the wire.
                int originalLength = random.Next(2) == 0 ? frame.Length : clean.Length + 4;
                if (_common.TryDecodeCommon<RecordLayers>(frame, new DecodedPacket(), originalLength))
                {
                    taken++;
                }
                else
                {
                    refused++;
                }

                AssertSame(frame, originalLength);
            }
        }

        // Both outcomes must be exercised for the comparison to mean anything.
        Assert.True(taken > 10_000, $"common path took {taken}");
        Assert.True(refused > 10_000, $"common path refused {refused}");
    }

    private void AssertSame(byte[] frame, int originalLength)
    {
        var expected = new DecodedPacket();
        var actual = new DecodedPacket();
        _general.Decode(frame, LinkType.Ethernet, expected, originalLength);
        _common.Decode(frame, LinkType.Ethernet, actual, originalLength);
        string Describe(DecodedPacket p) =>
            $"{DecodeHelpers.Detail(p)} chain {p.Chain:x} mask {p.LayerMask:x} {p.Problem}/{p.ProblemLayer}@{p.ProblemOffset} len {p.Length}/{p.OriginalLength} {p.LinkType} trunc {p.IsTruncated} malformed {p.IsMalformed}";
        Assert.True(Describe(expected) == Describe(actual), $"{Convert.ToHexString(frame)}\n general {Describe(expected)}\n common  {Describe(actual)}");

        var counted = new DecodedPacket();
        _common.DecodeChain(frame, LinkType.Ethernet, counted, originalLength);
        string Counts(DecodedPacket p) =>
            $"{p.LayerCount} chain {p.Chain:x} mask {p.LayerMask:x} {p.Problem}/{p.ProblemLayer}@{p.ProblemOffset} len {p.Length}/{p.OriginalLength} {p.LinkType} trunc {p.IsTruncated} malformed {p.IsMalformed}";
        Assert.True(Counts(expected) == Counts(counted), $"{Convert.ToHexString(frame)}\n decode {Counts(expected)}\n chain  {Counts(counted)}");
        bool straightLine = _common.TryDecodeCommon<ChainOnly>(frame, new DecodedPacket(), originalLength);
        Assert.Equal(!straightLine, counted.HasLayerPositions);
        Assert.Equal(straightLine ? 0 : expected.LayerCount, counted.Layers.Length);
        Assert.True(actual.HasLayerPositions);
        Assert.Equal(straightLine ? -1 : expected.IndexOf(LayerKind.Ethernet), counted.IndexOf(LayerKind.Ethernet));
    }
}
