using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Tests.Support;
using Xunit;

namespace UplinkProbe.Tests.Capture;

public sealed class PcapReaderTests
{
    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++)
        {
            b[i] = (byte)((i * 31) + seed);
        }

        return b;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void ReadsBothByteOrdersAndBothPrecisions(bool bigEndian, bool nanoseconds)
    {
        byte[] p1 = Pattern(60, 1), p2 = Pattern(42, 2);
        byte[] file = new PcapBytes(bigEndian, nanoseconds, snapLength: 65535, linkType: 113)
            .Record(1_700_000_000, nanoseconds ? 123_456_789u : 123_456u, p1)
            .Record(1_700_000_001, 0, p2, originalLength: 1500)
            .ToArray();
        using var reader = CaptureTestIo.Open(file);
        var pcap = Assert.IsType<PcapReader>(reader);
        Assert.Equal(bigEndian, pcap.IsBigEndian);
        Assert.Equal(nanoseconds, pcap.IsNanosecond);
        CaptureInterface iface = Assert.Single(reader.Interfaces);
        Assert.Equal(LinkType.LinuxSll, iface.LinkType);
        Assert.Equal(65535u, iface.SnapLength);
        Assert.Equal(nanoseconds ? 1_000_000_000UL : 1_000_000UL, iface.TicksPerSecond);
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Equal(2, records.Count);
        Assert.Equal(1_700_000_000_123_456_789L - (nanoseconds ? 0 : 789), records[0].Record.TimestampNs);
        Assert.Equal(p1, records[0].Data);
        Assert.Equal(1, records[0].Record.Number);
        Assert.Equal(24, records[0].Record.FileOffset);
        Assert.Equal(LinkType.LinuxSll, records[0].Record.LinkType);
        Assert.Equal(1500, records[1].Record.OriginalLength);
        Assert.Equal(42, records[1].Record.CapturedLength);
        Assert.Equal(p2, records[1].Data);
        Assert.Null(reader.Error);
        Assert.Equal(2, reader.Statistics.Packets);
    }

    [Fact]
    public void LinkTypeUpperBitsAreMaskedAndFcsLengthKept()
    {
        // Bit 26 set: bits 28-31 hold the FCS length in 16-bit words (2 words = 4 bytes).
        using (var r = CaptureTestIo.Open(new PcapBytes(linkType: 0x2400_0001).Record(1, 0, Pattern(20, 0)).ToArray()))
        {
            CaptureInterface i = r.Interfaces[0];
            Assert.Equal(LinkType.Ethernet, i.LinkType);
            Assert.Equal(0x2400_0001u, i.RawLinkType);
            Assert.Equal(4, i.FcsLength);
            Assert.True(r.TryReadNext(out CaptureRecord rec, out _));
            Assert.Equal(LinkType.Ethernet, rec.LinkType);
        }

        // FCS bits without the "valid" flag (aarp-heapoverflow's 0x30000001): the length is not known.
        using (var r = CaptureTestIo.Open(new PcapBytes(linkType: 0x3000_0001).ToArray()))
        {
            Assert.Equal(-1, r.Interfaces[0].FcsLength);
            Assert.Equal(LinkType.Ethernet, r.Interfaces[0].LinkType);
        }
    }

    [Theory]
    [InlineData(0x0030_0000u)]
    [InlineData(0x0001_0001u)]
    [InlineData(0x0200_0001u)]
    public void ReservedLinkTypeBitsAreRejectedAtOffset20(uint linkType)
    {
        var e = Assert.Throws<CaptureFileException>(() => CaptureTestIo.Open(new PcapBytes(linkType: linkType).ToArray()));
        Assert.Equal(20, e.Offset);
        Assert.Contains("reserved", e.Message);
    }

    [Fact]
    public void Version25IsReadAndOtherMajorsRejected()
    {
        using (var r = (PcapReader)CaptureTestIo.Open(new PcapBytes(minor: 5).Record(5, 6, Pattern(10, 1)).ToArray()))
        {
            Assert.Equal((2, 5), (r.VersionMajor, r.VersionMinor));
            Assert.Single(CaptureTestIo.ReadAll(r));
        }

        foreach ((ushort major, ushort minor) in new (ushort, ushort)[] { (1, 4), (3, 0), (0, 0) })
        {
            var e = Assert.Throws<CaptureFileException>(() => CaptureTestIo.Open(new PcapBytes(major: major, minor: minor).ToArray()));
            Assert.Equal(4, e.Offset);
            Assert.Contains($"version {major}.{minor}", e.Message);
        }
    }

    [Theory]
    [InlineData(new byte[0], 0L, "empty")]
    [InlineData(new byte[] { 0xd4, 0xc3 }, 0L, "too short")]
    [InlineData(new byte[] { 0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0 }, 0L, "not a pcap or pcapng file")]
    [InlineData(new byte[] { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0 }, 10L, "cut short")]
    public void UnreadableFilesThrowOneLineWithOffset(byte[] bytes, long offset, string text)
    {
        var e = Assert.Throws<CaptureFileException>(() => CaptureTestIo.Open(bytes));
        Assert.Equal(offset, e.Offset);
        Assert.Contains(text, e.Message);
        Assert.Contains($"at offset {offset}", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void EmptyFileOnDiskThrowsAndTryOpenReportsIt()
    {
        string path = Path.Combine(Path.GetTempPath(), $"uplinkprobe-empty-{Guid.NewGuid():N}.pcap");
        File.WriteAllBytes(path, Array.Empty<byte>());
        try
        {
            Assert.Throws<CaptureFileException>(() => CaptureFile.Open(path));
            Assert.False(CaptureFile.TryOpen(path, out CaptureReader? reader, out string error));
            Assert.Null(reader);
            Assert.Contains("at offset 0: file is empty", error);
            Assert.False(CaptureFile.TryOpen(path + ".missing", out _, out error));
            Assert.Contains(".missing", error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CapturedLengthAboveSnapOrOriginalLengthIsReturnedAsWrittenAndCounted()
    {
        byte[] file = new PcapBytes(snapLength: 16)
            .Record(1, 0, Pattern(34, 3), originalLength: 32) // caplen > snaplen and > len (aoe-oobr-1)
            .Record(2, 0, Pattern(8, 4), originalLength: 78)  // normal cut
            .Record(3, 0, Array.Empty<byte>(), originalLength: 0)
            .ToArray();
        using var reader = CaptureTestIo.Open(file);
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Equal(3, records.Count);
        Assert.Equal(34, records[0].Record.CapturedLength);
        Assert.Equal(32, records[0].Record.OriginalLength);
        Assert.True(records[0].Record.CapturedLengthInconsistent);
        Assert.False(records[0].Record.CaptureLengthClamped);
        Assert.Equal(Pattern(34, 3), records[0].Data);
        Assert.False(records[1].Record.CapturedLengthInconsistent);
        Assert.Empty(records[2].Data);
        Assert.Equal(1, reader.Statistics.InconsistentLengthRecords);
        Assert.Equal(0, reader.Statistics.ClampedRecords);
        Assert.Null(reader.Error);
    }

    [Fact]
    public void HostileCapturedLengthStopsWithErrorWithoutAllocating()
    {
        byte[] file = new PcapBytes().Record(1, 0, Pattern(20, 0)).Record(2, 0, Pattern(20, 0), capturedLength: 0x7FFF_FFF0).ToArray();
        using var reader = CaptureTestIo.Open(file);
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Single(records);
        Assert.NotNull(reader.Error);
        Assert.Equal(24 + 16 + 20, reader.Error!.Offset);
        Assert.Contains("exceeds the maximum", reader.Error.Message);
        Assert.True(CaptureTestIo.Buffer(reader).MaxCapacitySeen <= CaptureFileOptions.DefaultBufferSize);
        Assert.False(reader.TryReadNext(out _, out _));
    }

    [Fact]
    public void TruncatedLastRecordIsCountedAndNamedNotReturned()
    {
        byte[] whole = new PcapBytes().Record(1, 0, Pattern(100, 1)).Record(2, 0, Pattern(100, 2)).ToArray();
        byte[] cutData = whole[..^30];
        using (var reader = CaptureTestIo.Open(cutData))
        {
            var records = CaptureTestIo.ReadAll(reader);
            Assert.Single(records);
            Assert.Equal(1, reader.Statistics.TruncatedRecords);
            Assert.Equal(24 + 116, reader.Error!.Offset);
            Assert.Contains("only 70 bytes left", reader.Error.Message);
        }

        byte[] cutHeader = whole[..(24 + 116 + 10)];
        using (var reader = CaptureFile.Open(new TrickleStream(cutHeader, 7)))
        {
            Assert.Single(CaptureTestIo.ReadAll(reader));
            Assert.Equal(1, reader.Statistics.TruncatedRecords);
            Assert.Equal(24 + 116, reader.Error!.Offset);
            Assert.Contains("10 of 16", reader.Error.Message);
        }
    }

    [Theory]
    [InlineData(false, 1_000_000u, 1_418_145_371_000_000_000L)]
    [InlineData(false, 2_147_483_648u, 1_418_147_517_483_648_000L)]
    [InlineData(true, 1_000_000_000u, 1_418_145_371_000_000_000L)]
    [InlineData(true, 2_147_483_648u, 1_418_145_372_147_483_648L)]
    public void FractionOutOfRangeIsCountedAndCarried(bool nanoseconds, uint fraction, long expectedNs)
    {
        byte[] file = new PcapBytes(nanoseconds: nanoseconds).Record(1_418_145_370, fraction, Pattern(10, 0)).ToArray();
        using var reader = CaptureTestIo.Open(file);
        Assert.True(reader.TryReadNext(out CaptureRecord r, out _));
        Assert.Equal(expectedNs, r.TimestampNs);
        Assert.Equal(1, reader.Statistics.InvalidTimestamps);
    }

    [Fact]
    public void RecordsStraddlingTheBufferEndAreWholeFromFileAndFromAPipe()
    {
        // 3.3 MB of records of odd sizes: many records cross the 1 MiB buffer end.
        var builder = new PcapBytes();
        int count = 0;
        while (builder.Length < 3_300_000)
        {
            builder.Record((uint)count, 0, Pattern(997 + (count % 13), count));
            count++;
        }

        byte[] file = builder.ToArray();
        string path = Path.Combine(Path.GetTempPath(), $"uplinkprobe-straddle-{Guid.NewGuid():N}.pcap");
        File.WriteAllBytes(path, file);
        try
        {
            foreach (Func<CaptureReader> open in new Func<CaptureReader>[] { () => CaptureFile.Open(path), () => CaptureFile.Open(new TrickleStream(file)) })
            {
                using CaptureReader reader = open();
                int n = 0;
                while (reader.TryReadNext(out CaptureRecord rec, out ReadOnlySpan<byte> data))
                {
                    Assert.Equal(n, (int)(rec.TimestampNs / 1_000_000_000));
                    Assert.True(data.SequenceEqual(Pattern(997 + (n % 13), n)), $"record {n} at offset {rec.FileOffset} differs");
                    n++;
                }

                Assert.Equal(count, n);
                Assert.Null(reader.Error);
                Assert.Equal(CaptureFileOptions.DefaultBufferSize, CaptureTestIo.Buffer(reader).MaxCapacitySeen);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void RecordBiggerThanTheBufferGrowsItWithinTheCap()
    {
        var options = new CaptureFileOptions { BufferSize = 64 * 1024 };
        byte[] big = Pattern(200_000, 9);
        byte[] file = new PcapBytes().Record(1, 0, Pattern(100, 1)).Record(2, 0, big).Record(3, 0, Pattern(100, 3)).ToArray();
        using var reader = CaptureFile.Open(new TrickleStream(file), options);
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Equal(3, records.Count);
        Assert.Equal(big, records[1].Data);
        Assert.Equal(Pattern(100, 3), records[2].Data);
        CaptureBuffer buffer = CaptureTestIo.Buffer(reader);
        Assert.InRange(buffer.MaxCapacitySeen, 200_016, options.BufferCap);
    }

    [Fact]
    public void ReadingAllocatesNothingPerPacket()
    {
        var builder = new PcapBytes();
        for (int i = 0; i < 5000; i++)
        {
            builder.Record((uint)i, 0, Pattern(60 + (i % 50), i));
        }

        byte[] file = builder.ToArray();
        using (var warm = CaptureTestIo.Open(file))
        {
            CaptureTestIo.ReadAll(warm); // let the JIT settle first
        }

        Allocations.AssertReadingAllocatesNothing(() => CaptureTestIo.Open(file), 4999);
    }
}
