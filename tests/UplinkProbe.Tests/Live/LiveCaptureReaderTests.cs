using UplinkProbe.Capture;
using UplinkProbe.Capture.Live;
using UplinkProbe.Decoding;
using UplinkProbe.Tests.Decoding;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Live;

/// <summary>
/// The libpcap binding and <see cref="LiveCaptureReader"/> in-process: handles are opened on a thread that entered the
/// test's own namespace, frames are sent with pcap_inject on one end of a veth pair and read on the other.
/// </summary>
public sealed class LiveCaptureReaderTests(ITestOutputHelper output)
{
    private static readonly PcapSettings Fast = new() { TimeoutMilliseconds = 20, BufferSize = 1 << 20 };

    [Fact]
    public void InboundAndOutboundFramesArriveWithTheirBytesTimestampsAndDirection()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        using LiveCaptureReader reader = lab.Inside(() => LiveCaptureReader.Open(new LiveCaptureOptions { Interfaces = [LiveLab.A], Pcap = Fast, Node = "n1" }));
        byte[][] inbound = Enumerable.Range(0, 20).Select(i => LiveFrames.Arp(LiveFrames.MacB, i)).ToArray();
        byte[][] outbound = Enumerable.Range(100, 20).Select(i => LiveFrames.Udp(LiveFrames.MacA, LiveFrames.MacB, 6081, i)).ToArray();
        long before = NowNs();
        SendOn(lab, LiveLab.B, inbound);
        SendOn(lab, LiveLab.A, outbound);
        long after = NowNs();

        List<Captured> got = ReadUntilStopped(reader, 40);

        Assert.Equal(CaptureFormat.Live, reader.Format);
        Assert.Equal(2, reader.HandleCount);
        CaptureInterface iface = Assert.Single(reader.Interfaces);
        Assert.Equal((LiveLab.A, LinkType.Ethernet, 1_000_000_000UL, "n1"), (iface.Name, iface.LinkType, iface.TicksPerSecond, iface.Node));
        Assert.Equal(40, got.Count);
        Assert.Equal(Enumerable.Range(1, 40).Select(n => (long)n), got.Select(c => c.Record.Number));
        foreach (Captured c in got)
        {
            int seq = LiveFrames.SequenceOf(c.Data);
            byte[] sent = seq < 100 ? inbound[seq] : outbound[seq - 100];
            Assert.Equal(sent, c.Data);
            Assert.Equal(seq < 100 ? PacketDirection.Inbound : PacketDirection.Outbound, c.Record.Direction);
            Assert.Equal((sent.Length, sent.Length), (c.Record.CapturedLength, c.Record.OriginalLength));
            Assert.True(c.Record.HasTimestamp);
            Assert.InRange(c.Record.TimestampNs, before - 1_000_000, after + 1_000_000);
            Assert.Equal(LinkType.Ethernet, c.Record.LinkType);
        }

        // Each direction keeps its send order and its timestamps do not go backwards.
        foreach (PacketDirection d in new[] { PacketDirection.Inbound, PacketDirection.Outbound })
        {
            List<Captured> one = got.Where(c => c.Record.Direction == d).ToList();
            Assert.Equal(one.Select(c => LiveFrames.SequenceOf(c.Data)).Order(), one.Select(c => LiveFrames.SequenceOf(c.Data)));
            Assert.Equal(one.Select(c => c.Record.TimestampNs).Order(), one.Select(c => c.Record.TimestampNs));
        }

        PcapStatistics stats = reader.GetStatistics(0);
        Assert.True(stats.Received >= 40, $"pcap_stats received {stats.Received}");
        Assert.Equal(0UL, stats.Dropped);
        Assert.Equal(40, reader.Statistics.Packets);
    }

    [Fact]
    public void TheDefaultFilterKeepsWhatTheUplinkAnalysisNeedsAndNothingElse()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        byte[] rarp = LiveFrames.Arp(LiveFrames.MacB, 7);
        rarp[12] = 0x80;
        rarp[13] = 0x35;
        rarp[21] = 3;
        byte[][] keep =
        [
            LiveFrames.Arp(LiveFrames.MacB, 1), TestPackets.OvnGarpVlan, rarp, TestPackets.EthNsDad, TestPackets.GeneveOvnGarp,
            TestPackets.VxlanArp(4789), TestPackets.VxlanArp(8472), TestPackets.EthBfdDown, LiveFrames.Udp(LiveFrames.MacB, LiveFrames.MacA, 4784, 2),
            LiveFrames.Udp(LiveFrames.Gateway, LiveFrames.MacA, 9, 3), LiveFrames.Udp(LiveFrames.MacB, LiveFrames.Gateway, 9, 4),
        ];
        byte[][] drop =
        [
            LiveFrames.Udp(LiveFrames.MacB, LiveFrames.MacA, 9, 5), LiveFrames.Udp(LiveFrames.MacB, LiveFrames.MacA, 53, 6), TestPackets.EthIpv4BigTcp,
        ];
        string filter = DefaultCaptureFilter.Build([MacAddress.Read(LiveFrames.Gateway)]);

        using LiveLab lab = LiveLab.Create();
        using LiveCaptureReader reader = lab.Inside(() => LiveCaptureReader.Open(new LiveCaptureOptions { Interfaces = [LiveLab.A], Pcap = Fast, Filter = filter }));
        SendOn(lab, LiveLab.B, drop.Concat(keep).Concat(drop).ToArray());
        SendOn(lab, LiveLab.A, [TestPackets.OvnGarpVlan, drop[0]]); // outbound: a tagged ARP that the kernel did not untag

        List<Captured> got = ReadUntilStopped(reader, keep.Length + 1);

        Assert.Equal(filter, reader.Interfaces[0].Filter);
        Assert.Equal(keep.Select(Convert.ToHexString).Append(Convert.ToHexString(TestPackets.OvnGarpVlan)), got.Select(c => Convert.ToHexString(c.Data)));
        Assert.Equal(PacketDirection.Outbound, got[^1].Record.Direction);
        Assert.All(got.SkipLast(1), c => Assert.Equal(PacketDirection.Inbound, c.Record.Direction));
    }

    [Fact]
    public void ADirectionSettingKeepsOnlyThatDirectionOnOneHandle()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        using LiveCaptureReader reader = lab.Inside(() => LiveCaptureReader.Open(new LiveCaptureOptions
        {
            Interfaces = [LiveLab.A], Pcap = Fast, Direction = PcapCaptureDirection.Out, Filter = "arp",
        }));
        SendOn(lab, LiveLab.B, [LiveFrames.Arp(LiveFrames.MacB, 1), LiveFrames.Arp(LiveFrames.MacB, 2)]);
        SendOn(lab, LiveLab.A, [LiveFrames.Arp(LiveFrames.MacA, 3), LiveFrames.Udp(LiveFrames.MacA, LiveFrames.MacB, 6081, 4)]);

        List<Captured> got = ReadUntilStopped(reader, 1);

        Assert.Equal(1, reader.HandleCount);
        Captured only = Assert.Single(got);
        Assert.Equal((3, PacketDirection.Outbound), (LiveFrames.SequenceOf(only.Data), only.Record.Direction));
    }

    [Fact]
    public void TwoInterfacesAreReadTogetherEachWithItsOwnInterfaceIndex()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        using LiveCaptureReader reader = lab.Inside(() => LiveCaptureReader.Open(new LiveCaptureOptions { Interfaces = [LiveLab.A, LiveLab.B], Pcap = Fast, Filter = "arp" }));
        SendOn(lab, LiveLab.B, Enumerable.Range(0, 10).Select(i => LiveFrames.Arp(LiveFrames.MacB, i)).ToArray());

        List<Captured> got = ReadUntilStopped(reader, 20);

        Assert.Equal([LiveLab.A, LiveLab.B], reader.Interfaces.Select(i => i.Name));
        Assert.Equal(4, reader.HandleCount);
        Assert.Equal(20, got.Count);
        var seen = got.Select(c => (c.Record.InterfaceIndex, c.Record.Direction, Seq: LiveFrames.SequenceOf(c.Data))).ToHashSet();
        for (int i = 0; i < 10; i++)
        {
            Assert.Contains((0, PacketDirection.Inbound, i), seen); // arrived on va
            Assert.Contains((1, PacketDirection.Outbound, i), seen); // sent on vb
        }

        // The same frame is seen leaving vb before it arrives on va.
        foreach (IGrouping<int, Captured> pair in got.GroupBy(c => LiveFrames.SequenceOf(c.Data)))
        {
            long sent = pair.Single(c => c.Record.InterfaceIndex == 1).Record.TimestampNs;
            long received = pair.Single(c => c.Record.InterfaceIndex == 0).Record.TimestampNs;
            Assert.True(sent <= received, $"frame {pair.Key}: sent {sent}, received {received}");
        }
    }

    [Fact]
    public void DispatchHandsRingPacketsToAManagedSinkAndCarriesItsExceptionsBack()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        using PcapSession session = lab.Inside(() => PcapSession.Open(LiveLab.A, Fast));
        session.SetFilter("arp");
        session.SetNonBlocking(true);
        Assert.Contains((int)LinkType.Ethernet, session.ListDataLinks());
        // libpcap 1.10 offers no Linux cooked v2 header on a named interface (hence one handle per direction).
        Assert.False(session.TrySetDataLink((int)LinkType.LinuxSll2, out string? reason));
        output.WriteLine($"{PcapSession.LibraryVersion}; DLT_LINUX_SLL2 on {LiveLab.A}: {reason}");

        byte[][] frames = Enumerable.Range(0, 5).Select(i => LiveFrames.Arp(LiveFrames.MacB, i)).ToArray();
        SendOn(lab, LiveLab.B, frames);
        var sink = new CollectingSink();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (sink.Frames.Count < 5 && DateTime.UtcNow < deadline)
        {
            if (session.Dispatch(-1, sink) == 0)
            {
                Thread.Sleep(10);
            }
        }

        Assert.Equal(frames.Select(Convert.ToHexString), sink.Frames.Select(Convert.ToHexString));
        Assert.All(sink.Lengths, l => Assert.Equal(frames[0].Length, l));

        SendOn(lab, LiveLab.B, [LiveFrames.Arp(LiveFrames.MacB, 9)]);
        var thrower = new ThrowingSink();
        deadline = DateTime.UtcNow.AddSeconds(5);
        InvalidDataException? caught = null;
        while (caught is null && DateTime.UtcNow < deadline)
        {
            try
            {
                session.Dispatch(-1, thrower);
                Thread.Sleep(10);
            }
            catch (InvalidDataException ex)
            {
                caught = ex;
            }
        }

        Assert.NotNull(caught);
        Assert.Equal("sink failed on frame 9", caught.Message);
    }

    [Fact]
    public void OpeningFailuresSayInOneLineWhatIsWrong()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        LiveCaptureException missing = Assert.Throws<LiveCaptureException>(() =>
            lab.Inside(() => LiveCaptureReader.Open(new LiveCaptureOptions { Interfaces = [LiveLab.A, "vz"] })));
        Assert.Equal(LiveCaptureErrorKind.NoSuchInterface, missing.Kind);
        Assert.StartsWith("no interface 'vz' here; interfaces: ", missing.Message, StringComparison.Ordinal);
        Assert.Contains(LiveLab.A, missing.Message, StringComparison.Ordinal);
        Assert.Contains(LiveLab.B, missing.Message, StringComparison.Ordinal);

        LiveCaptureException bad = Assert.Throws<LiveCaptureException>(() =>
            lab.Inside(() => LiveCaptureReader.Open(new LiveCaptureOptions { Interfaces = [LiveLab.A], Filter = "udp port sixty" })));
        Assert.Equal(LiveCaptureErrorKind.BadFilter, bad.Kind);
        Assert.StartsWith("bad capture filter 'udp port sixty': ", bad.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("inbound", bad.Message, StringComparison.Ordinal);

        LiveLab.Ip("-n", lab.Name, "link", "set", LiveLab.B, "down");
        LiveCaptureException down = Assert.Throws<LiveCaptureException>(() =>
            lab.Inside(() => LiveCaptureReader.Open(new LiveCaptureOptions { Interfaces = [LiveLab.B] })));
        Assert.Equal(LiveCaptureErrorKind.InterfaceDown, down.Kind);
        Assert.Contains("ip link set vb up", down.Message, StringComparison.Ordinal);
        Assert.All([missing, bad, down], e => Assert.DoesNotContain('\n', e.Message));
    }

    [Fact]
    public void StopEndsAnIdleCaptureWithinTheDrainWindow()
    {
        if (!LiveLab.Available(output))
        {
            return;
        }

        using LiveLab lab = LiveLab.Create();
        using LiveCaptureReader reader = lab.Inside(() => LiveCaptureReader.Open(new LiveCaptureOptions { Interfaces = [LiveLab.A], Pcap = Fast, Filter = "arp" }));
        int idle = 0;
        reader.Idle = _ => idle++;
        using var timer = new Timer(_ => reader.Stop(), null, 300, Timeout.Infinite);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(reader.TryReadNext(out _, out _));
        Assert.InRange(sw.ElapsedMilliseconds, 250, 3000);
        Assert.True(idle > 0);
        Assert.Null(reader.Error);
        Assert.False(reader.TryReadNext(out _, out _)); // stays ended
    }

    internal static void SendOn(LiveLab lab, string device, byte[][] frames) => lab.Inside(() =>
    {
        using PcapSession sender = LiveFrames.OpenSender(device);
        foreach (byte[] f in frames)
        {
            sender.Inject(f);
        }
    });

    /// <summary>Reads until <paramref name="expected"/> packets came (then stops and drains, keeping any extra) or 5 s passed.</summary>
    private static List<Captured> ReadUntilStopped(LiveCaptureReader reader, int expected)
    {
        var got = new List<Captured>();
        using var guard = new Timer(_ => reader.Stop(), null, 5000, Timeout.Infinite);
        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            got.Add(new Captured(record, data.ToArray()));
            if (got.Count == expected)
            {
                reader.Stop(); // anything the kernel still holds is drained, so a frame too many would show
            }
        }

        Assert.Null(reader.Error);
        return got;
    }

    private static long NowNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    private sealed record Captured(CaptureRecord Record, byte[] Data);

    private sealed class CollectingSink : PcapPacketSink
    {
        public List<byte[]> Frames { get; } = new();

        public List<int> Lengths { get; } = new();

        public override void OnPacket(long timestampNs, int originalLength, ReadOnlySpan<byte> data)
        {
            Frames.Add(data.ToArray());
            Lengths.Add(originalLength);
        }
    }

    private sealed class ThrowingSink : PcapPacketSink
    {
        public override void OnPacket(long timestampNs, int originalLength, ReadOnlySpan<byte> data) =>
            throw new InvalidDataException($"sink failed on frame {LiveFrames.SequenceOf(data)}");
    }
}
