using UplinkProbe.Capture;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Capture;

/// <summary>
/// Files read by the background read-ahead thread (<see cref="CaptureFileOptions.ReadAhead"/>) must give exactly what
/// the caller-thread reader gives: same records, bytes, comments, errors and counters, with bounded buffers.
/// Small chunks (64 KiB, 16 KiB head room) make records cross chunk borders and outgrow the head room often.
/// </summary>
public sealed class ReadAheadTests : IDisposable
{
    private static readonly CaptureFileOptions SmallChunks = new() { BufferSize = 64 * 1024, ReadAhead = true };
    private static readonly CaptureFileOptions Sequential = new() { BufferSize = 64 * 1024, ReadAhead = false };

    private readonly ITestOutputHelper _output;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"uplinkprobe-readahead-{Guid.NewGuid():N}");

    public ReadAheadTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++)
        {
            b[i] = (byte)((i * 31) + seed);
        }

        return b;
    }

    private string Write(byte[] bytes, string name = "capture")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void RecordsCrossingChunkBordersComeBackWhole()
    {
        var builder = new PcapBytes();
        int count = 0;
        while (builder.Length < 1_500_000)
        {
            builder.Record((uint)count, 0, Pattern(997 + (count * 7919 % 3001), count));
            count++;
        }

        string path = Write(builder.ToArray());
        using CaptureReader reader = CaptureFile.Open(path, SmallChunks);
        CaptureBuffer buffer = CaptureTestIo.Buffer(reader);
        Assert.True(buffer.IsReadAhead);
        int n = 0;
        long position = CaptureTestIo.Position(reader);
        while (reader.TryReadNext(out CaptureRecord rec, out ReadOnlySpan<byte> data))
        {
            Assert.Equal(n, (int)(rec.TimestampNs / 1_000_000_000));
            Assert.Equal(position, rec.FileOffset);
            Assert.True(data.SequenceEqual(Pattern(997 + (n * 7919 % 3001), n)), $"record {n} at offset {rec.FileOffset} differs");
            position = CaptureTestIo.Position(reader);
            Assert.Equal(rec.FileOffset + 16 + data.Length, position);
            n++;
        }

        Assert.Equal(count, n);
        Assert.Null(reader.Error);
        Assert.Equal(new FileInfo(path).Length, position);
        Assert.Equal(64 * 1024, buffer.MaxCapacitySeen);
    }

    [Fact]
    public void RecordsLongerThanTheHeadRoomOrTheChunkAreGathered()
    {
        // 16 KiB head room, 64 KiB chunks: 20 000 bytes only fit by gathering, 200 000 bytes span four chunks.
        var builder = new PcapBytes();
        int[] sizes = [100, 20_000, 60, 200_000, 70_000, 64 * 1024 - 16, 5, 150_000, 1];
        for (int i = 0; i < sizes.Length; i++)
        {
            builder.Record((uint)i, 0, Pattern(sizes[i], i));
        }

        using CaptureReader reader = CaptureFile.Open(Write(builder.ToArray()), SmallChunks);
        var records = CaptureTestIo.ReadAll(reader);
        Assert.Null(reader.Error);
        Assert.Equal(sizes.Length, records.Count);
        for (int i = 0; i < sizes.Length; i++)
        {
            Assert.Equal(Pattern(sizes[i], i), records[i].Data);
        }

        Assert.InRange(CaptureTestIo.Buffer(reader).MaxCapacitySeen, 200_016, SmallChunks.BufferCap);
    }

    [Theory]
    [InlineData(7)] // inside the last record header
    [InlineData(16 + 500)] // inside the last record's data
    public void TruncatedLastRecordIsCountedWithItsOffset(int keepOfLast)
    {
        var builder = new PcapBytes();
        for (int i = 0; i < 400; i++)
        {
            builder.Record((uint)i, 0, Pattern(700 + i, i));
        }

        int lastOffset = builder.Length;
        builder.Record(400, 0, Pattern(1000, 400));
        byte[] file = builder.ToArray()[..(lastOffset + keepOfLast)];
        using CaptureReader ahead = CaptureFile.Open(Write(file), SmallChunks);
        using CaptureReader plain = CaptureFile.Open(new MemoryStream(file), Sequential);
        Assert.Equal(400, CaptureTestIo.ReadAll(ahead).Count);
        CaptureTestIo.ReadAll(plain);
        Assert.Equal(1, ahead.Statistics.TruncatedRecords);
        Assert.Equal(lastOffset, ahead.Error!.Offset);
        Assert.Equal(plain.Error, ahead.Error);
        Assert.False(ahead.TryReadNext(out _, out _));
    }

    [Fact]
    public void DisposingBeforeTheEndStopsTheThread()
    {
        var builder = new PcapBytes();
        for (int i = 0; i < 3000; i++)
        {
            builder.Record((uint)i, 0, Pattern(900, i));
        }

        string path = Write(builder.ToArray());
        for (int i = 0; i < 20; i++)
        {
            using CaptureReader reader = CaptureFile.Open(path, SmallChunks);
            for (int k = 0; k < i * 50 && reader.TryReadNext(out _, out _); k++)
            {
            }
        }

        // The file can be deleted: no read-ahead thread still holds it open.
        File.Delete(path);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void AutomaticModeReadsAheadOnlyLongFiles()
    {
        var builder = new PcapBytes();
        for (int i = 0; i < 400; i++)
        {
            builder.Record((uint)i, 0, Pattern(1000, i));
        }

        string path = Write(builder.ToArray());
        var auto = new CaptureFileOptions { BufferSize = 64 * 1024 };
        using (CaptureReader small = CaptureFile.Open(path, auto))
        {
            // 400 kB ≥ four 64 KiB chunks: read ahead when there is a second core.
            Assert.Equal(Environment.ProcessorCount > 1, CaptureTestIo.Buffer(small).IsReadAhead);
        }

        using CaptureReader big = CaptureFile.Open(path);
        Assert.False(CaptureTestIo.Buffer(big).IsReadAhead); // below four default 1 MiB buffers
        using CaptureReader stream = CaptureFile.Open(new MemoryStream(File.ReadAllBytes(path)), SmallChunks);
        Assert.False(CaptureTestIo.Buffer(stream).IsReadAhead);
    }

    [Fact]
    public void ReadingAheadAllocatesNothingPerPacket()
    {
        var builder = new PcapBytes();
        for (int i = 0; i < 5000; i++)
        {
            builder.Record((uint)i, 0, Pattern(60 + (i % 500), i));
        }

        string path = Write(builder.ToArray());
        using (CaptureReader warm = CaptureFile.Open(path, SmallChunks))
        {
            CaptureTestIo.ReadAll(warm);
        }

        Allocations.AssertReadingAllocatesNothing(() => CaptureFile.Open(path, SmallChunks), 4999);
    }

    /// <summary>Every corpus capture and a few hundred mutants of them: read-ahead and the plain reader agree on everything.</summary>
    [Fact]
    public void CorpusAndMutantsReadTheSameAhead()
    {
        if (Corpus.RequireRoot(_output) is not { } corpus)
        {
            return;
        }

        var failures = new List<string>();
        int files = 0;
        foreach (string file in Corpus.CaptureFiles())
        {
            byte[] original = File.ReadAllBytes(Path.Combine(corpus, file));
            var inputs = new List<(string Name, byte[] Bytes)> { (file, original) };
            inputs.AddRange(CaptureMutator.Mutate(original, 20_260_121, 12).Select(m => ($"{file} ({m.Description})", m.Bytes)));
            foreach ((string name, byte[] bytes) in inputs)
            {
                files++;
                if (Compare(bytes) is { } problem && failures.Count < 20)
                {
                    failures.Add($"{name}: {problem}");
                }
            }
        }

        _output.WriteLine($"{files} files compared");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private string? Compare(byte[] bytes)
    {
        string path = Write(bytes, "compare");
        string? expectedOpenError = null, actualOpenError = null;
        CaptureReader? plain = null, ahead = null;
        try
        {
            try
            {
                plain = CaptureFile.Open(new MemoryStream(bytes), Sequential);
            }
            catch (CaptureFileException e)
            {
                expectedOpenError = e.Message;
            }

            try
            {
                ahead = CaptureFile.Open(path, SmallChunks);
            }
            catch (CaptureFileException e)
            {
                actualOpenError = e.Message.Replace(path, "stream", StringComparison.Ordinal);
            }

            if (expectedOpenError is not null || actualOpenError is not null)
            {
                return expectedOpenError == actualOpenError ? null : $"open: '{expectedOpenError}' vs '{actualOpenError}'";
            }

            var expected = CaptureTestIo.ReadAll(plain!);
            var actual = CaptureTestIo.ReadAll(ahead!);
            if (expected.Count != actual.Count)
            {
                return $"{expected.Count} records vs {actual.Count} read ahead";
            }

            for (int i = 0; i < expected.Count; i++)
            {
                if (expected[i].Record != actual[i].Record || !expected[i].Data.AsSpan().SequenceEqual(actual[i].Data) || expected[i].Comment != actual[i].Comment)
                {
                    return $"record {i + 1} differs";
                }
            }

            if (plain!.Error != ahead!.Error)
            {
                return $"error '{plain.Error}' vs '{ahead.Error}'";
            }

            CaptureReaderStatistics a = plain.Statistics, b = ahead.Statistics;
            if ((a.Packets, a.ClampedRecords, a.InconsistentLengthRecords, a.MalformedOptions, a.DroppedPackets, a.TruncatedRecords, a.InvalidTimestamps, a.Sections)
                != (b.Packets, b.ClampedRecords, b.InconsistentLengthRecords, b.MalformedOptions, b.DroppedPackets, b.TruncatedRecords, b.InvalidTimestamps, b.Sections)
                || !a.SkippedBlocks.OrderBy(p => p.Key).SequenceEqual(b.SkippedBlocks.OrderBy(p => p.Key)))
            {
                return "statistics differ";
            }

            if (plain.Interfaces.Count != ahead.Interfaces.Count)
            {
                return "interfaces differ";
            }

            int max = CaptureTestIo.Buffer(ahead).MaxCapacitySeen;
            return max > SmallChunks.BufferCap ? $"buffer grew to {max}" : null;
        }
        finally
        {
            plain?.Dispose();
            ahead?.Dispose();
        }
    }
}
