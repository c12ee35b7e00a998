using System.Diagnostics;
using System.Globalization;
using System.Text;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Capture;

public sealed class PcapNgWriterTests
{
    private const long T0 = 1_700_000_000_123_456_789L;

    private readonly ITestOutputHelper _output;

    public PcapNgWriterTests(ITestOutputHelper output) => _output = output;

    private sealed record Expected(int InterfaceId, long TimestampNs, PacketDirection Direction, int OriginalLength, byte[] Data, string? Comment);

    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++)
        {
            b[i] = (byte)((i * 13) + seed);
        }

        return b;
    }

    /// <summary>Writes a two-interface capture in two sections; returns what each packet should read back as.</summary>
    private static List<Expected> WriteSample(string path, Action? afterFirstHalf = null)
    {
        var expected = new List<Expected>();
        using var writer = PcapNgWriter.Create(path, comment: "capture start");
        int eth = writer.AddInterface("eth0", LinkType.Ethernet, description: "uplink bond", node: "mc1", filter: "arp or icmp6", operatingSystem: "Linux 6.8");
        int sll = writer.AddInterface("any", LinkType.LinuxSll, snapLength: 64, node: "mc2");
        PacketDirection[] directions = [PacketDirection.Inbound, PacketDirection.Outbound, PacketDirection.Unknown];
        void Packet(int i)
        {
            int iface = i % 3 == 2 ? sll : eth;
            byte[] data = Pattern(42 + (i * 7 % 90), i);
            PacketDirection dir = directions[i % 3];
            string? comment = i % 4 == 1 ? $"packet {i} – note" : null;
            long ts = T0 + (i * 1_000_001_001L);
            writer.WritePacket(iface, ts, data, dir, data.Length + (i == 5 ? 1000 : 0), comment);
            byte[] kept = iface == sll && data.Length > 64 ? data[..64] : data;
            expected.Add(new Expected(iface, ts, dir, data.Length + (i == 5 ? 1000 : 0), kept, comment));
        }

        for (int i = 0; i < 10; i++)
        {
            Packet(i);
        }

        writer.WriteStatistics(eth, T0 + 20_000_000_000L, received: 7, interfaceDrops: 1, osDrops: 2, comment: "stats");
        writer.Flush();
        afterFirstHalf?.Invoke();
        writer.WriteComment("second half");
        for (int i = 10; i < 16; i++)
        {
            Packet(i);
        }

        return expected;
    }

    [Fact]
    public void OurReaderReadsBackWhatTheWriterWrote()
    {
        string path = TempPath();
        try
        {
            List<Expected> expected = WriteSample(path);
            using var reader = (PcapNgReader)CaptureFile.Open(path);
            var records = CaptureTestIo.ReadAll(reader);
            Assert.Null(reader.Error);
            Assert.Equal(expected.Count, records.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Expected e = expected[i];
                (CaptureRecord r, byte[] data, string? comment) = records[i];
                Assert.Equal(e.InterfaceId, r.InterfaceId);
                Assert.Equal(e.TimestampNs, r.TimestampNs);
                Assert.Equal(e.Direction, r.Direction);
                Assert.Equal(e.Direction != PacketDirection.Unknown, r.HasEpbFlags);
                Assert.Equal(e.OriginalLength, r.OriginalLength);
                Assert.Equal(e.Data, data);
                Assert.Equal(e.Comment, comment);
                Assert.Equal(i < 10 ? 0 : 1, r.Section);
                Assert.Equal(reader.Interfaces[r.InterfaceIndex].LocalId, r.InterfaceId);
            }

            Assert.Equal(2, reader.Sections.Count);
            Assert.Equal(new[] { "capture start" }, reader.Sections[0].Comments);
            Assert.Equal(new[] { "second half" }, reader.Sections[1].Comments);
            Assert.All(reader.Sections, s => Assert.Equal("uplinkprobe", s.UserApplication));
            Assert.Equal(4, reader.Interfaces.Count);
            CaptureInterface eth = reader.Interfaces[0];
            Assert.Equal(("eth0", "node=mc1; uplink bond", "mc1", "arp or icmp6", "Linux 6.8", 1_000_000_000UL, 0u),
                (eth.Name, eth.Description, eth.Node, eth.Filter, eth.OperatingSystem, eth.TicksPerSecond, eth.SnapLength));
            CaptureInterface any = reader.Interfaces[3];
            Assert.Equal(("any", "mc2", LinkType.LinuxSll, 64u, 1, 1), (any.Name, any.Node, any.LinkType, any.SnapLength, any.Section, any.LocalId));
            Assert.Equal(1, reader.Statistics.SkippedBlocks[5]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AfterFlushTheFileOnDiskIsCompleteAndValid()
    {
        string path = TempPath();
        try
        {
            int seen = -1;
            string? error = "not checked";
            WriteSample(path, () =>
            {
                using var reader = CaptureFile.Open(path);
                seen = CaptureTestIo.ReadAll(reader).Count;
                error = reader.Error?.ToString();
            });
            Assert.Equal(10, seen);
            Assert.Null(error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TsharkReadsBackWhatTheWriterWrote()
    {
        string? tshark = FindOnPath("tshark");
        if (tshark is null)
        {
            Assert.False(Corpus.InCi, "tshark is required in CI (CI=true)");
            _output.WriteLine("SKIPPED: tshark not on PATH; the tshark half of the round trip did not run");
            return;
        }

        string path = TempPath();
        try
        {
            List<Expected> expected = WriteSample(path);
            using var reader = CaptureFile.Open(path);
            var ours = CaptureTestIo.ReadAll(reader);
            string fields = Run(tshark, "-n", "-r", path, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f",
                "-e", "frame.interface_id", "-e", "frame.packet_flags_direction", "-e", "frame.time_epoch", "-e", "frame.len",
                "-e", "frame.cap_len", "-e", "frame.interface_name", "-e", "frame.comment");
            string[] lines = fields.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(expected.Count, lines.Length);
            for (int i = 0; i < lines.Length; i++)
            {
                (CaptureRecord r, byte[] data, string? comment) = ours[i];
                string seconds = (r.TimestampNs / 1_000_000_000).ToString(CultureInfo.InvariantCulture);
                string nanos = (r.TimestampNs % 1_000_000_000).ToString("D9", CultureInfo.InvariantCulture);
                string mine = string.Join('\t',
                    r.InterfaceId.ToString(CultureInfo.InvariantCulture),
                    r.HasEpbFlags ? $"0x{(uint)r.Direction:x8}" : "",
                    $"{seconds}.{nanos}",
                    r.OriginalLength.ToString(CultureInfo.InvariantCulture),
                    data.Length.ToString(CultureInfo.InvariantCulture),
                    reader.Interfaces[r.InterfaceIndex].Name,
                    comment ?? "");
                Assert.Equal(mine, lines[i].TrimEnd('\r'));
            }

            string capinfos = Run(FindOnPath("capinfos") ?? "capinfos", path);
            _output.WriteLine(capinfos);
            Assert.Contains("Capture comment:     capture start", capinfos);
            Assert.Contains("Capture comment:     second half", capinfos);
            Assert.Contains("Capture application: uplinkprobe", capinfos);
            Assert.Contains("Name = eth0", capinfos);
            Assert.Contains("Description = node=mc1; uplink bond", capinfos);
            Assert.Contains("Capture length = 64", capinfos);
            Assert.Contains("Time ticks per second = 1000000000", capinfos);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void WritingAPacketAllocatesNothing()
    {
        using var writer = new PcapNgWriter(Stream.Null);
        int id = writer.AddInterface("eth0", LinkType.Ethernet);
        byte[] data = Pattern(1500, 1);
        byte[] comment = Encoding.UTF8.GetBytes("note");
        for (int i = 0; i < 200; i++)
        {
            writer.WritePacket(id, T0 + i, data, PacketDirection.Outbound, -1, "warm-up");
        }

        long least = Allocations.Least(3, () => Allocations.During(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                writer.WritePacket(id, T0 + i, data.AsSpan(0, 60 + (i % 1400)), (PacketDirection)(i % 3), -1, i % 2 == 0 ? comment : default);
                writer.WritePacket(id, T0 + i, data, PacketDirection.Inbound, 9000, "text comment");
            }
        }), out IReadOnlyList<long> passes);
        Assert.True(least == 0, $"bytes allocated per pass: {string.Join(", ", passes)}");
    }

    [Fact]
    public void MisuseIsRejected()
    {
        using var writer = new PcapNgWriter(new MemoryStream());
        Assert.Throws<ArgumentException>(() => writer.AddInterface("eth0", LinkType.Ethernet, node: "mc 1"));
        Assert.Throws<ArgumentException>(() => writer.AddInterface("eth0", LinkType.Ethernet, node: "a;b"));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WritePacket(0, T0, new byte[10]));
        int id = writer.AddInterface("eth0", LinkType.Ethernet);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WritePacket(id, -1, new byte[10]));
        Assert.Throws<ArgumentException>(() => writer.WritePacket(id, T0, new byte[10], commentUtf8: new byte[70_000]));
    }

    private static string TempPath() => Path.Combine(Path.GetTempPath(), $"uplinkprobe-writer-{Guid.NewGuid():N}.pcapng");

    private static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["LC_ALL"] = "C";
        psi.Environment["TZ"] = "UTC";
        using Process p = Process.Start(psi)!;
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), $"{exe} did not finish");
        Assert.True(p.ExitCode == 0, $"{exe} exited {p.ExitCode}: {stderr.Result}");
        return stdout;
    }
}
