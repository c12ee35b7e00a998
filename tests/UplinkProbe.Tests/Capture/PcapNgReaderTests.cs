using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Tests.Support;
using Xunit;

namespace UplinkProbe.Tests.Capture;

public sealed class PcapNgReaderTests
{
    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++)
        {
            b[i] = (byte)((i * 7) + seed);
        }

        return b;
    }

    [Fact]
    public void SectionsOfBothByteOrdersHaveTheirOwnInterfaceNumbering()
    {
        var b = new PcapNgBytes().Order(bigEndian: true);
        b.Section(bigEndian: true, options: [b.Opt(4, "writer-be"), b.Opt(1, "first")]);
        b.Interface(1, 0, b.Opt(2, "be0"));
        b.Interface(113, 0, b.Opt(2, "be1"));
        b.Epb(1, 5_000_000, Pattern(30, 1));
        b.Section(bigEndian: false);
        b.Interface(276, 128, b.Opt(2, "le0"));
        b.Epb(0, 6_000_000, Pattern(31, 2));
        b.Section(bigEndian: true);
        b.Interface(0, 0);
        b.Interface(1, 0, b.Opt(2, "be-last"));
        b.Epb(1, 7_000_000, Pattern(32, 3));
        using var reader = (PcapNgReader)CaptureTestIo.Open(b.ToArray());
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Null(reader.Error);
        Assert.Equal(3, reader.Statistics.Sections);
        Assert.Equal(new[] { true, false, true }, reader.Sections.Select(s => s.IsBigEndian));
        Assert.Equal("writer-be", reader.Sections[0].UserApplication);
        Assert.Equal(new[] { "first" }, reader.Sections[0].Comments);
        Assert.Equal(5, reader.Interfaces.Count);
        Assert.Equal(new[] { (0, 0, 0), (1, 0, 1), (2, 1, 0), (3, 2, 0), (4, 2, 1) }, reader.Interfaces.Select(i => (i.Index, i.Section, i.LocalId)));
        Assert.Equal(new[] { "be1", "le0", "be-last" }, records.Select(r => reader.Interfaces[r.Record.InterfaceIndex].Name));
        Assert.Equal(new[] { (0, 1, 1), (1, 0, 2), (2, 1, 4) }, records.Select(r => (r.Record.Section, r.Record.InterfaceId, r.Record.InterfaceIndex)));
        Assert.Equal(new[] { LinkType.LinuxSll, LinkType.LinuxSll2, LinkType.Ethernet }, records.Select(r => r.Record.LinkType));
        Assert.Equal(new[] { 5_000_000_000L, 6_000_000_000L, 7_000_000_000L }, records.Select(r => r.Record.TimestampNs));
        Assert.Equal(Pattern(31, 2), records[1].Data);
    }

    [Fact]
    public void InterfaceOptionsAreRead()
    {
        var b = new PcapNgBytes();
        b.Section(bigEndian: true);
        b.Interface(1, 0,
            b.Opt(1, "idb comment"), b.Opt(2, "enp5s0"), b.Opt(3, "node=mc2; uplink bond"), b.Opt(9, new byte[] { 0x8A }),
            b.Opt(11, new byte[] { 0, (byte)'a', (byte)'r', (byte)'p' }), b.Opt(12, "Linux 6.8\0"), b.Opt(13, new byte[] { 4 }),
            b.OptU64(14, 1000), b.Opt(15, "nic"), b.Opt(2988, new byte[] { 1, 2, 3, 4, 5 }), b.Opt(777, new byte[] { 9 }));
        b.Epb(0, (5 * 1024) + 512, Pattern(20, 0));
        using var reader = CaptureTestIo.Open(b.ToArray());
        Assert.Empty(reader.Interfaces); // interfaces appear as their IDBs are read
        Assert.True(reader.TryReadNext(out CaptureRecord r, out _));
        CaptureInterface i = reader.Interfaces[0];
        Assert.Equal("enp5s0", i.Name);
        Assert.Equal("node=mc2; uplink bond", i.Description);
        Assert.Equal("mc2", i.Node);
        Assert.Equal("idb comment", i.Comment);
        Assert.Equal("arp", i.Filter);
        Assert.Equal("Linux 6.8", i.OperatingSystem);
        Assert.Equal("nic", i.Hardware);
        Assert.Equal(4, i.FcsLength);
        Assert.Equal(1024UL, i.TicksPerSecond);
        Assert.Equal(1000, i.TimestampOffsetSeconds);
        Assert.Equal(0u, i.SnapLength);
        // 2^-10 s ticks: 5.5 s, plus if_tsoffset 1000 s.
        Assert.Equal(1_005_500_000_000L, r.TimestampNs);
        Assert.Equal(0, reader.Statistics.MalformedOptions);
    }

    [Theory]
    [InlineData("node=mc1", "mc1")]
    [InlineData("node=mc1; uplink", "mc1")]
    [InlineData("node=", null)]
    [InlineData("uplink node=mc1", null)]
    [InlineData(null, null)]
    public void NodeComesFromTheStartOfTheDescription(string? description, string? node) =>
        Assert.Equal(node, CaptureInterface.ParseNode(description));

    [Fact]
    public void EpbFlagsDirectionAndCommentAreExposed()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 0);
        b.Epb(0, 1, Pattern(10, 1), options: [b.OptU32(2, 0x0000_0001), b.Opt(1, "in")]);
        b.Epb(0, 2, Pattern(11, 2), options: [b.Opt(2989, "custom"), b.Opt(1, "out-é"), b.OptU32(2, 0x4800_0002), b.Opt(19372, new byte[] { 1 }), b.Opt(19373, new byte[7]), b.Opt(300, new byte[3])]);
        b.Epb(0, 3, Pattern(12, 3));
        b.Epb(0, 4, Pattern(13, 4), options: [b.OptU32(2, 3)]);
        using var reader = CaptureTestIo.Open(b.ToArray());
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Equal(new[] { PacketDirection.Inbound, PacketDirection.Outbound, PacketDirection.Unknown, PacketDirection.Unknown }, records.Select(r => r.Record.Direction));
        Assert.Equal(new[] { true, true, false, true }, records.Select(r => r.Record.HasEpbFlags));
        Assert.Equal(0x4800_0002u, records[1].Record.EpbFlags);
        Assert.Equal(new[] { "in", "out-é", null, null }, records.Select(r => r.Comment));
        Assert.Equal(Pattern(11, 2), records[1].Data);
        Assert.Equal(0, reader.Statistics.MalformedOptions);
    }

    [Fact]
    public void SimplePacketBlocksUseInterfaceZeroAndItsSnapLength()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 315);
        b.Spb(314, Pattern(314, 1));
        b.Spb(342, Pattern(315, 2));       // cut to the snap length, as test012
        b.Spb(500, Pattern(100, 3));       // claims more than the block holds
        using var reader = CaptureTestIo.Open(b.ToArray());
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Equal(new[] { 314, 315, 100 }, records.Select(r => r.Record.CapturedLength));
        Assert.Equal(new[] { 314, 342, 500 }, records.Select(r => r.Record.OriginalLength));
        Assert.All(records, r => Assert.False(r.Record.HasTimestamp));
        Assert.All(records, r => Assert.Equal(0, r.Record.InterfaceId));
        Assert.Equal(new[] { false, false, true }, records.Select(r => r.Record.CaptureLengthClamped));
        Assert.Equal(1, reader.Statistics.ClampedRecords);
        Assert.Equal(Pattern(315, 2), records[1].Data);
    }

    [Fact]
    public void SimplePacketBlockBeforeAnyInterfaceIsAnError()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Spb(10, Pattern(10, 0));
        using var reader = CaptureTestIo.Open(b.ToArray());
        Assert.False(reader.TryReadNext(out _, out _));
        Assert.Equal(28, reader.Error!.Offset);
        Assert.Contains("SPB before any IDB", reader.Error.Message);
    }

    [Fact]
    public void ObsoletePacketBlocksAreRead()
    {
        var b = new PcapNgBytes();
        b.Section(bigEndian: true);
        b.Interface(1, 0);
        b.Interface(1, 0, b.Opt(9, new byte[] { 3 }));
        b.Pb(1, 7, 1234, Pattern(40, 5), b.OptU32(2, 2));
        b.Pb(0, 0xFFFF, 1, Pattern(41, 6));
        using var reader = CaptureTestIo.Open(b.ToArray());
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Equal(2, records.Count);
        Assert.Equal(1, records[0].Record.InterfaceId);
        Assert.Equal(1_234_000_000L, records[0].Record.TimestampNs);
        Assert.Equal(PacketDirection.Outbound, records[0].Record.Direction);
        Assert.Equal(Pattern(40, 5), records[0].Data);
        Assert.Equal(7, reader.Statistics.DroppedPackets);
    }

    [Fact]
    public void NonPacketBlocksAreSkippedAndCounted()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Block(0x0BAD, new byte[] { 0, 0, 0x7e, 0x3f, 1, 2, 3, 4 });
        b.Interface(1, 0);
        b.Block(4, new byte[] { 0, 0, 0, 0 });           // NRB
        b.Block(5, new byte[12]);                        // ISB
        b.Epb(0, 1, Pattern(10, 0));
        b.Block(0x0A, new byte[8]);                      // DSB
        b.Block(0x40000BAD, new byte[4]);                // DCB
        b.Block(0x12345678, new byte[20]);               // unknown
        b.Epb(0, 2, Pattern(10, 1));
        using var reader = CaptureTestIo.Open(b.ToArray());
        Assert.Equal(2, CaptureTestIo.ReadAll(reader).Count);
        Assert.Null(reader.Error);
        var skipped = reader.Statistics.SkippedBlocks;
        Assert.Equal(6, skipped.Count);
        Assert.All(new uint[] { 0x0BAD, 4, 5, 0x0A, 0x40000BAD, 0x12345678 }, t => Assert.Equal(1, skipped[t]));
    }

    [Theory]
    [InlineData(18u, "not a multiple of 4")]
    [InlineData(8u, "not a multiple of 4")]
    [InlineData(0xFFFF_FFF0u, "exceeds the limit")]
    public void BadBlockLengthsStopWithTheOffset(uint length, string text)
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 0);
        int badAt = b.Length;
        b.Raw(b.U32(6)).Raw(b.U32(length)).Raw(new byte[64]);
        using var reader = CaptureTestIo.Open(b.ToArray());
        Assert.False(reader.TryReadNext(out _, out _));
        Assert.Equal(badAt + 4, reader.Error!.Offset);
        Assert.Contains(text, reader.Error.Message);
        Assert.True(CaptureTestIo.Buffer(reader).MaxCapacitySeen <= CaptureFileOptions.DefaultBufferSize);
    }

    [Fact]
    public void TrailerMismatchStopsWithItsOffset()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 0);
        b.Epb(0, 1, Pattern(8, 0));
        byte[] file = b.ToArray();
        file[^1] ^= 0x40;
        using var reader = CaptureTestIo.Open(file);
        Assert.False(reader.TryReadNext(out _, out _));
        Assert.Equal(file.Length - 4, reader.Error!.Offset);
        Assert.Contains("trailing length", reader.Error.Message);
    }

    [Fact]
    public void HugeBlockLengthInASmallStreamDoesNotAllocateIt()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 0);
        int at = b.Length;
        b.Raw(b.U32(6)).Raw(b.U32(60 << 20)).Raw(new byte[100]);
        byte[] file = b.ToArray();
        // Known length: refused at once. Unknown length (pipe): the buffer grows step by step only while data comes.
        foreach (Func<CaptureReader> open in new Func<CaptureReader>[] { () => CaptureTestIo.Open(file), () => CaptureFile.Open(new TrickleStream(file, 50)) })
        {
            using CaptureReader reader = open();
            Assert.False(reader.TryReadNext(out _, out _));
            Assert.Equal(at, reader.Error!.Offset);
            Assert.Contains("cut short", reader.Error.Message);
            Assert.Equal(1, reader.Statistics.TruncatedRecords);
            Assert.True(CaptureTestIo.Buffer(reader).MaxCapacitySeen <= CaptureFileOptions.DefaultBufferSize);
        }
    }

    [Fact]
    public void BlockBiggerThanTheBufferGrowsItUpToTheCapAndNoFurther()
    {
        byte[] big = Pattern(3 << 20, 1);
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 0);
        b.Epb(0, 1, big);
        b.Epb(0, 2, Pattern(50, 2));
        byte[] file = b.ToArray();
        using (var reader = CaptureFile.Open(new TrickleStream(file, 100_000)))
        {
            var records = CaptureTestIo.ReadAll(reader);
            Assert.Equal(2, records.Count);
            Assert.Equal(big, records[0].Data);
            Assert.InRange(CaptureTestIo.Buffer(reader).MaxCapacitySeen, big.Length, CaptureFileOptions.Default.BufferCap);
        }

        var small = new CaptureFileOptions { MaxBlockLength = 2 << 20 };
        using (var reader = CaptureTestIo.Open(file, small))
        {
            Assert.False(reader.TryReadNext(out _, out _));
            Assert.Contains("exceeds the limit of 2097152", reader.Error!.Message);
            Assert.True(CaptureTestIo.Buffer(reader).MaxCapacitySeen <= small.BufferCap);
        }
    }

    [Fact]
    public void TruncatedLastBlockIsCounted()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 0);
        b.Epb(0, 1, Pattern(60, 1));
        int at = b.Length;
        b.Epb(0, 2, Pattern(60, 2));
        byte[] file = b.ToArray()[..^20];
        using var reader = CaptureTestIo.Open(file);
        Assert.Single(CaptureTestIo.ReadAll(reader));
        Assert.Equal(1, reader.Statistics.TruncatedRecords);
        Assert.Equal(at, reader.Error!.Offset);
    }

    [Fact]
    public void CapturedLengthBeyondTheBlockIsClampedAndAboveSnapLengthIsFlagged()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 16);
        b.Epb(0, 1, Pattern(20, 1), originalLength: 100, capturedLength: 60); // block holds 20 bytes
        b.Epb(0, 2, Pattern(20, 2), originalLength: 100);                      // 20 > snaplen 16
        using var reader = CaptureTestIo.Open(b.ToArray());
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Equal(20, records[0].Record.CapturedLength);
        Assert.True(records[0].Record.CaptureLengthClamped);
        Assert.Equal(Pattern(20, 1), records[0].Data);
        Assert.True(records[1].Record.CapturedLengthInconsistent);
        Assert.False(records[1].Record.CaptureLengthClamped);
        Assert.Equal(1, reader.Statistics.ClampedRecords);
        Assert.Equal(2, reader.Statistics.InconsistentLengthRecords);
    }

    [Fact]
    public void UnknownInterfaceIdIsAnError()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 0);
        int at = b.Length;
        b.Epb(3, 1, Pattern(8, 0));
        using var reader = CaptureTestIo.Open(b.ToArray());
        Assert.False(reader.TryReadNext(out _, out _));
        Assert.Equal(at + 8, reader.Error!.Offset);
        Assert.Contains("interface 3", reader.Error.Message);
    }

    [Theory]
    [InlineData(1, 0, 12L)]
    [InlineData(2, 0, 12L)]
    [InlineData(1, 1, 12L)]
    public void SectionVersionOtherThan10IsRejected(ushort major, ushort minor, long offset)
    {
        var b = new PcapNgBytes();
        b.Section(major: major, minor: minor);
        if (major == 1 && minor == 0)
        {
            // A bad version in a later section stops reading there, after the first section's packets.
            b.Interface(1, 0).Epb(0, 1, Pattern(8, 0));
            int at = b.Length;
            b.Section(minor: 2);
            using var reader = CaptureTestIo.Open(b.ToArray());
            Assert.Single(CaptureTestIo.ReadAll(reader));
            Assert.Equal(at + offset, reader.Error!.Offset);
            Assert.Contains("version 1.2", reader.Error.Message);
            return;
        }

        var e = Assert.Throws<CaptureFileException>(() => CaptureTestIo.Open(b.ToArray()));
        Assert.Equal(offset, e.Offset);
        Assert.Contains($"version {major}.{minor}", e.Message);
    }

    [Fact]
    public void BadByteOrderMagicIsRejected()
    {
        var b = new PcapNgBytes();
        b.Section();
        byte[] file = b.ToArray();
        file[8] = 0x11;
        var e = Assert.Throws<CaptureFileException>(() => CaptureTestIo.Open(file));
        Assert.Equal(8, e.Offset);
    }

    [Fact]
    public void TimestampsPast2106AndOverflowingOnes()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 0);                                   // µs
        b.Interface(1, 0, b.Opt(9, new byte[] { 9 }));       // ns
        b.Interface(1, 0, b.Opt(9, new byte[] { 19 }));      // 10^-19 s: largest decimal resolution
        b.Interface(1, 0, b.Opt(9, new byte[] { 20 }));      // not representable: counted, µs assumed
        b.Epb(0, 4_294_967_296UL * 1_000_000, Pattern(4, 0));           // 2^32 s (time_2106_overflow)
        b.Epb(0, ulong.MaxValue, Pattern(4, 0));                          // beyond 64-bit ns
        b.Epb(1, ulong.MaxValue, Pattern(4, 0));                          // 2^64-1 ns > long.MaxValue
        b.Epb(2, ulong.MaxValue, Pattern(4, 0));                          // 1.8 s in 10^-19 ticks
        b.Epb(3, 2_000_000, Pattern(4, 0));
        using var reader = CaptureTestIo.Open(b.ToArray());
        var r = CaptureTestIo.ReadAll(reader);
        Assert.Equal(4_294_967_296L * 1_000_000_000, r[0].Record.TimestampNs);
        Assert.Equal(long.MaxValue, r[1].Record.TimestampNs);
        Assert.Equal(long.MaxValue, r[2].Record.TimestampNs);
        Assert.Equal(1_844_674_407L, r[3].Record.TimestampNs);
        Assert.Equal(2_000_000_000L, r[4].Record.TimestampNs);
        Assert.Equal(2, reader.Statistics.InvalidTimestamps);
        Assert.Equal(1, reader.Statistics.MalformedOptions);
    }

    [Theory]
    [InlineData(1_000UL, 1_000_000UL, 0L, 1_000_000L)]
    [InlineData(1_000UL, 1_000_000_000UL, 0L, 1_000L)]
    [InlineData(3UL, 1024UL, 0L, 2_929_687L)]
    [InlineData(10UL, 1UL, -5L, 5_000_000_000L)]
    [InlineData(0UL, 1_000_000UL, -1L, -1_000_000_000L)]
    [InlineData(ulong.MaxValue, 10_000_000_000_000_000_000UL, 0L, 1_844_674_407L)]
    [InlineData(ulong.MaxValue, 1UL << 63, 0L, 1_999_999_999L)]
    public void TicksConvertWithoutOverflow(ulong ticks, ulong perSecond, long offset, long expected)
    {
        Assert.True(PcapNgReader.TryToNanoseconds(ticks, perSecond, offset, out long ns));
        Assert.Equal(expected, ns);
    }

    [Fact]
    public void OptionRunningPastTheBlockIsCountedAndTheRestKept()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 0, b.Opt(2, "eth0"));
        b.Epb(0, 1, Pattern(8, 0), options: [b.OptU32(2, 1)]);
        byte[] file = b.ToArray();
        // IDB option list: name option at block offset 16; corrupt the length of the end-of-options marker's neighbour:
        // make the if_name length 200 so it runs past the block.
        int idbAt = 28;
        file[idbAt + 16 + 2] = 200;
        using var reader = CaptureTestIo.Open(file);
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Single(records);
        Assert.Null(reader.Interfaces[0].Name);
        Assert.Equal(1, reader.Statistics.MalformedOptions);
        Assert.Equal(PacketDirection.Inbound, records[0].Record.Direction);
    }

    [Fact]
    public void ReadingAllocatesNothingPerPacket()
    {
        var b = new PcapNgBytes();
        b.Section();
        b.Interface(1, 0, b.Opt(9, new byte[] { 9 }));
        b.Interface(1, 0, b.Opt(9, new byte[] { 0x8A }), b.OptU64(14, 7));
        for (int i = 0; i < 3000; i++)
        {
            b.Epb((uint)(i % 2), (ulong)i * 1000, Pattern(60 + (i % 40), i), options: [b.OptU32(2, 1), b.Opt(1, "c")]);
        }

        byte[] file = b.ToArray();
        using (var warm = CaptureTestIo.Open(file))
        {
            CaptureTestIo.ReadAll(warm); // let the JIT settle first
        }

        Allocations.AssertReadingAllocatesNothing(() => CaptureTestIo.Open(file), 2999, reader => reader.CurrentComment.Length, expectedSum: 2999);
    }
}
