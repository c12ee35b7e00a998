using System.Buffers.Binary;
using UplinkProbe.Capture;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Capture;

/// <summary>
/// A classic pcap file read in parts (<see cref="CaptureFileParts"/>) must give exactly what one reader gives from start
/// to end — the same records at the same offsets, the same counters, the same error — whether the guessed part starts
/// are right or not. Parts are made small (64 KiB minimum) so that small files are cut in several places.
/// </summary>
public sealed class CaptureFilePartsTests : IDisposable
{
    private const long SmallParts = 64 << 10;
    private readonly string _dir = Directory.CreateTempSubdirectory("uplinkprobe-parts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Seen(long Offset, long Number, long TimestampNs, int CapturedLength, int OriginalLength, int Hash);

    private sealed record Outcome(List<Seen> Records, long Packets, long Truncated, long Inconsistent, long InvalidTimestamps, string? Error)
    {
        public void AssertSameAs(Outcome other)
        {
            Assert.Equal(other.Records.Count, Records.Count);
            for (int i = 0; i < Records.Count; i++)
            {
                Assert.Equal(other.Records[i], Records[i]);
            }

            Assert.Equal((other.Packets, other.Truncated, other.Inconsistent, other.InvalidTimestamps, other.Error),
                (Packets, Truncated, Inconsistent, InvalidTimestamps, Error));
        }
    }

    private static List<Seen> Drain(CaptureReader reader, long frameOffset = 0)
    {
        var seen = new List<Seen>();
        while (reader.TryReadNext(out CaptureRecord r, out ReadOnlySpan<byte> data))
        {
            seen.Add(new Seen(r.FileOffset, r.Number + frameOffset, r.TimestampNs, r.CapturedLength, r.OriginalLength, HashOf(data)));
        }

        return seen;
    }

    private static int HashOf(ReadOnlySpan<byte> data)
    {
        var hash = new HashCode();
        hash.AddBytes(data);
        return hash.ToHashCode();
    }

    private static Outcome Sequential(string path)
    {
        using CaptureReader reader = CaptureFile.Open(path, new CaptureFileOptions { ReadAhead = false });
        List<Seen> records = Drain(reader);
        return Summarize(records, reader);
    }

    private static Outcome Summarize(List<Seen> records, CaptureReader reader) =>
        new(records, reader.Statistics.Packets, reader.Statistics.TruncatedRecords, reader.Statistics.InconsistentLengthRecords,
            reader.Statistics.InvalidTimestamps, reader.Error?.ToString());

    /// <summary>Reads in parts; returns the outcome, the number of parts and how many of them counted.</summary>
    private static (Outcome Outcome, int Parts, int Counted) InParts(string path, int maxParts)
    {
        Assert.True(CaptureFileParts.TryOpen(path, maxParts, out CaptureFileParts? parts, null, SmallParts), "the file was not split");
        using (parts)
        {
            IReadOnlyList<PartResult<List<Seen>>> results = parts.Read(_ => new List<Seen>(), (reader, list) => list.AddRange(Drain(reader)));
            var records = new List<Seen>();
            foreach (PartResult<List<Seen>> part in results)
            {
                records.AddRange(part.State.Select(s => s with { Number = s.Number + part.FrameOffset }));
            }

            return (Summarize(records, parts.First), parts.Count, results.Count);
        }
    }

    private string WriteSynthetic(int frames, string name, bool bigEndian = false, bool nanoseconds = false)
    {
        var traffic = new SyntheticUplinkTraffic(seed: 7);
        var bytes = new PcapBytes(bigEndian, nanoseconds);
        var frame = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        for (int i = 0; i < frames; i++)
        {
            int length = traffic.NextFrame(frame, out long ns);
            bytes.Record((uint)(ns / 1_000_000_000), (uint)(ns % 1_000_000_000 / (nanoseconds ? 1 : 1000)), frame.AsSpan(0, length).ToArray());
        }

        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void CleanFileReadInPartsEqualsOneReader(int maxParts)
    {
        string path = WriteSynthetic(4000, "mix.pcap");
        Outcome expected = Sequential(path);
        (Outcome got, int parts, int counted) = InParts(path, maxParts);

        Assert.Equal(maxParts, parts);
        Assert.Equal(parts, counted);
        got.AssertSameAs(expected);
        Assert.Equal(4000, got.Packets);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void ByteOrderAndResolutionCarryToEveryPart(bool bigEndian, bool nanoseconds)
    {
        string path = WriteSynthetic(3000, "swapped.pcap", bigEndian, nanoseconds);
        (Outcome got, int parts, int counted) = InParts(path, 4);

        Assert.Equal(parts, counted);
        got.AssertSameAs(Sequential(path));
    }

    /// <summary>
    /// Every record's payload is itself a long run of well-formed record headers, so the guessed part starts fall inside
    /// payloads. The part before must notice that it stepped over the guess, read on, and the later parts must be dropped.
    /// </summary>
    [Fact]
    public void RecordsThatLookLikeRecordHeadersInsideDoNotChangeTheResult()
    {
        var bytes = new PcapBytes();
        for (int i = 0; i < 40; i++)
        {
            bytes.Record((uint)(1_700_000_000 + i), 0, FakeRecords(60_000 + (i * 13), seed: i));
        }

        string path = Path.Combine(_dir, "fakes.pcap");
        File.WriteAllBytes(path, bytes.ToArray());
        Outcome expected = Sequential(path);
        (Outcome got, int parts, int counted) = InParts(path, 5);

        Assert.Equal(5, parts);
        Assert.True(counted < parts, "every guessed start was a real one: the test did not exercise a wrong guess");
        got.AssertSameAs(expected);
        Assert.Equal(40, got.Packets);
    }

    /// <summary>A payload made of 100-byte records with valid headers, cut off at an odd length (so a chain overruns the real end).</summary>
    private static byte[] FakeRecords(int length, int seed)
    {
        var b = new byte[length];
        for (int p = 3; p + 16 <= length; p += 116)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(p), (uint)(1_700_000_000 + seed));
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(p + 4), 1000);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(p + 8), 100);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(p + 12), 100);
        }

        return b;
    }

    [Fact]
    public void ADamagedRecordInALaterPartStopsReadingWhereOneReaderStops()
    {
        byte[] file = File.ReadAllBytes(WriteSynthetic(4000, "clean.pcap"));
        // Corrupt the captured length of the record nearest to 70% of the file: one reader stops there with an error.
        int target = file.Length * 7 / 10;
        int offset = 24;
        while (true)
        {
            int next = offset + 16 + BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(offset + 8));
            if (next > target)
            {
                break;
            }

            offset = next;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(offset + 8), 10_000_000);
        string path = Path.Combine(_dir, "damaged.pcap");
        File.WriteAllBytes(path, file);

        Outcome expected = Sequential(path);
        Assert.NotNull(expected.Error);
        (Outcome got, _, _) = InParts(path, 4);
        got.AssertSameAs(expected);
    }

    [Fact]
    public void ATruncatedLastRecordIsCountedOnceAsByOneReader()
    {
        byte[] file = File.ReadAllBytes(WriteSynthetic(3000, "whole.pcap"));
        string path = Path.Combine(_dir, "cut.pcap");
        File.WriteAllBytes(path, file.AsSpan(0, file.Length - 100).ToArray());

        Outcome expected = Sequential(path);
        Assert.Equal(1, expected.Truncated);
        (Outcome got, int parts, int counted) = InParts(path, 3);
        Assert.Equal(parts, counted);
        got.AssertSameAs(expected);
    }

    [Fact]
    public void FilesThatCannotBeSplitAreLeftToTheOrdinaryReader()
    {
        string small = WriteSynthetic(50, "small.pcap");
        Assert.False(CaptureFileParts.TryOpen(small, 4, out _));
        Assert.False(CaptureFileParts.TryOpen(WriteSynthetic(4000, "one.pcap"), 1, out _, null, SmallParts));

        string pcapng = Path.Combine(_dir, "mix.pcapng");
        using (PcapNgWriter writer = PcapNgWriter.Create(pcapng))
        {
            writer.AddInterface("up0", LinkType.Ethernet);
            var traffic = new SyntheticUplinkTraffic(seed: 3);
            var frame = new byte[SyntheticUplinkTraffic.MaxFrameLength];
            for (int i = 0; i < 2000; i++)
            {
                int length = traffic.NextFrame(frame, out long ns);
                writer.WritePacket(0, ns, frame.AsSpan(0, length));
            }
        }

        Assert.False(CaptureFileParts.TryOpen(pcapng, 4, out _, null, SmallParts));
        Assert.False(CaptureFileParts.TryOpen(Path.Combine(_dir, "missing.pcap"), 4, out _));
    }
}
