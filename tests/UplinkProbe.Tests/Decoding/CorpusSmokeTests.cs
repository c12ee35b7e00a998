using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Decoding;

/// <summary>
/// Structural checks over every packet of the shared corpus that the tshark differential cannot make: the layer
/// chain is contiguous and inside the captured bytes, every recorded layer can be re-read by its typed view, tunnel
/// depth only grows behind a tunnel header, the statistics partition the packets, a reused result equals a fresh
/// one, the text formatter handles every packet, and every snap-length cut of a clean packet is reported as a
/// truncation (never malformed, never out of bounds).
/// </summary>
public sealed class CorpusSmokeTests
{
    /// <summary>Snap lengths tried on every clean packet (all cuts up to this many bytes).</summary>
    private const int MaxCut = 160;

    private readonly ITestOutputHelper _output;

    public CorpusSmokeTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void EveryCorpusPacketDecodesConsistently()
    {
        if (Corpus.RequireRoot(_output) is not { } root)
        {
            return;
        }

        var decoder = new PacketDecoder();
        var reused = new DecodedPacket();
        var fresh = new DecodedPacket();
        var cut = new DecodedPacket();
        var stats = new DecodeStatistics();
        var text = new PacketTextFormatter();
        var failures = new List<string>();
        long packets = 0, cuts = 0;
        int files = 0;

        foreach (string file in Corpus.CaptureFiles())
        {
            if (!CaptureFile.TryOpen(Path.Combine(root, file), out CaptureReader? reader, out _))
            {
                continue;
            }

            files++;
            using (reader)
            {
                while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
                {
                    packets++;
                    string where = $"{file} #{record.Number}";
                    decoder.Decode(data, record.LinkType, reused, record.OriginalLength);
                    stats.Add(reused);
                    CheckStructure(where, data, reused, failures);
                    text.Format(record, data, reused);

                    decoder.Decode(data, record.LinkType, fresh = new DecodedPacket(), record.OriginalLength);
                    if (!fresh.Layers.SequenceEqual(reused.Layers) || fresh.Problem != reused.Problem || fresh.ProblemOffset != reused.ProblemOffset)
                    {
                        failures.Add($"{where}: a reused result differs from a fresh one");
                    }

                    if (reused.HasProblem || record.OriginalLength != data.Length)
                    {
                        continue;
                    }

                    // Cut the clean packet as a snap length would: the original length says more was on the wire.
                    int payloadStart = FirstUndecodedByte(reused);
                    for (int n = 0; n < Math.Min(data.Length, MaxCut); n++)
                    {
                        cuts++;
                        decoder.Decode(data[..n], record.LinkType, cut, data.Length);
                        CheckStructure($"{where} cut at {n}", data[..n], cut, failures);
                        if (!cut.IsTruncated && !(n >= payloadStart && !cut.HasProblem))
                        {
                            failures.Add($"{where} cut at {n}: {(cut.HasProblem ? DecodeProblems.Name(cut.Problem) : "clean")} ({Describe(cut)}), full {Describe(reused)}");
                        }
                    }
                }
            }
        }

        _output.WriteLine($"{files} files, {packets} packets, {cuts} cut packets; clean {stats.CleanPackets}, truncated {stats.TruncatedPackets}, " +
                          $"malformed {stats.MalformedPackets}, other {stats.OtherProblemPackets}, unsupported link {stats.UnsupportedLinkTypePackets}");
        foreach (string f in failures.Take(200))
        {
            _output.WriteLine(f);
        }

        Assert.True(files >= 170, $"only {files} corpus files opened");
        Assert.Equal(packets, stats.Packets);
        Assert.Equal(stats.Packets, stats.CleanPackets + stats.TruncatedPackets + stats.MalformedPackets + stats.OtherProblemPackets + stats.UnsupportedLinkTypePackets);
        Assert.True(failures.Count == 0, $"{failures.Count} failures; first: {string.Join(" | ", failures.Take(5))}");
    }

    /// <summary>Where the bytes the decoder does not interpret begin: the payload layer, or padding/trailer after the last layer.</summary>
    private static int FirstUndecodedByte(DecodedPacket p)
    {
        if (p.LayerCount == 0)
        {
            return 0;
        }

        Layer last = p.Layers[^1];
        return last.Kind == LayerKind.Payload ? last.Offset : last.End;
    }

    private static string Describe(DecodedPacket p) => string.Join(" ", p.Layers.ToArray().Select(l => $"{l.Kind}@{l.Offset}+{l.Length}/{l.Depth}"));

    private static void CheckStructure(string where, ReadOnlySpan<byte> data, DecodedPacket p, List<string> failures)
    {
        ReadOnlySpan<Layer> layers = p.Layers;
        int expectedOffset = 0;
        byte depth = 0;
        LayerKind previous = LayerKind.None;
        for (int i = 0; i < layers.Length; i++)
        {
            Layer l = layers[i];
            if (l.Offset != expectedOffset || l.Length < 0 || l.End > data.Length)
            {
                failures.Add($"{where}: layer {i} {l} is not where the previous ended ({expectedOffset}) or not inside {data.Length} bytes");
                return;
            }

            if (l.Depth != depth)
            {
                bool tunnel = previous is LayerKind.Geneve or LayerKind.Vxlan or LayerKind.PbbITag or LayerKind.PwControlWord
                    || (previous == LayerKind.Mpls && l.Kind == LayerKind.Ethernet);
                if (l.Depth != depth + 1 || !tunnel)
                {
                    failures.Add($"{where}: depth {l.Depth} after {previous} at depth {depth}");
                    return;
                }

                depth = l.Depth;
            }

            if (!Rereads(l.Kind, data.Slice(l.Offset, l.Length), data[l.Offset..]))
            {
                failures.Add($"{where}: layer {i} {l} cannot be read again by its view");
            }

            expectedOffset = l.End;
            previous = l.Kind;
        }

        if (p.HasProblem && p.Problem != DecodeProblem.UnsupportedLinkType && (p.ProblemLayer == LayerKind.None || p.ProblemOffset < 0 || p.ProblemOffset > data.Length))
        {
            failures.Add($"{where}: problem {p.Problem} at {p.ProblemLayer}@{p.ProblemOffset} of {data.Length}");
        }
    }

    /// <summary>The typed view of <paramref name="kind"/> accepts the bytes the layer was recorded with.</summary>
    private static bool Rereads(LayerKind kind, ReadOnlySpan<byte> layer, ReadOnlySpan<byte> rest) => kind switch
    {
        LayerKind.Ethernet => EthernetHeader.TryRead(layer, out _, out _),
        LayerKind.Dot1Q or LayerKind.Dot1AD => VlanTag.TryRead(layer, out _, out _),
        LayerKind.VnTag => VnTag.TryRead(layer, out _, out _),
        LayerKind.PbbITag => PbbITag.TryRead(layer, out _, out _),
        LayerKind.Mpls => MplsLabel.TryRead(layer, out _, out _),
        LayerKind.PwControlWord or LayerKind.PwAch => PseudowireHeader.TryRead(layer, out _, out _),
        LayerKind.Llc => LlcHeader.TryRead(layer, out LlcHeader llc, out _) && llc.HeaderLength == layer.Length,
        LayerKind.Snap => SnapHeader.TryRead(layer, out _, out _),
        LayerKind.LinuxSll => LinuxSllHeader.TryRead(layer, out _, out _),
        LayerKind.LinuxSll2 => LinuxSll2Header.TryRead(layer, out _, out _),
        LayerKind.Arp or LayerKind.Rarp => ArpPacket.TryRead(layer, out ArpPacket arp, out _) && arp.MessageLength == layer.Length,
        LayerKind.Ipv4 => Ipv4Header.TryRead(rest, out Ipv4Header ip, out _) && ip.HeaderLength == layer.Length,
        LayerKind.Ipv6 => Ipv6Header.TryRead(rest, out _, out _),
        LayerKind.Udp => UdpHeader.TryRead(layer, out _, out _),
        LayerKind.Tcp => TcpHeader.TryRead(rest, out TcpHeader tcp, out _) && tcp.HeaderLength == layer.Length,
        LayerKind.Geneve => GeneveHeader.TryRead(rest, out GeneveHeader g, out _) && g.HeaderLength == layer.Length,
        LayerKind.Vxlan => VxlanHeader.TryRead(layer, out _, out _),
        LayerKind.Icmpv6 => Icmpv6Header.TryRead(layer, out _, out _),
        LayerKind.Icmpv4 => Icmpv4Header.TryRead(layer, out _, out _),
        LayerKind.Bfd => BfdControlPacket.TryRead(layer, out BfdControlPacket bfd, out _) && bfd.MessageLength == layer.Length,
        _ => true,
    };
}
