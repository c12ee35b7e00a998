using System.Diagnostics;
using UplinkProbe.Capture;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Capture;

/// <summary>
/// Hostile input: every corpus file, mutated many times (bit flips, truncation, corrupted pcap record lengths and
/// pcapng block/option lengths). The readers must never throw except <see cref="CaptureFileException"/> from Open,
/// must make progress on every record, and must keep their buffer within the cap.
/// </summary>
public sealed class CaptureMutationTests
{
    private const int MinimumMutants = 20_000;

    private readonly ITestOutputHelper _output;

    public CaptureMutationTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void MutatedCorpusFilesNeverCrashHangOrOverAllocate()
    {
        if (Corpus.RequireRoot(_output) is not { } corpus)
        {
            return;
        }

        int seed = int.TryParse(Environment.GetEnvironmentVariable("UPLINKPROBE_FUZZ_SEED"), out int s) ? s : 20_260_117;
        IReadOnlyList<string> files = Corpus.CaptureFiles();
        int perFile = Math.Max((MinimumMutants / files.Count) + 1, 400);
        var small = new CaptureFileOptions { BufferSize = 64 * 1024, MaxBlockLength = 256 * 1024, MaxPcapRecordLength = 100_000 };
        var failures = new List<string>();
        long mutants = 0, rejectedAtOpen = 0, stoppedWithError = 0, packets = 0;
        var clock = Stopwatch.StartNew();
        foreach (string file in files)
        {
            byte[] original = File.ReadAllBytes(Path.Combine(corpus, file));
            foreach (CaptureMutator.Mutant mutant in CaptureMutator.Mutate(original, seed, perFile))
            {
                mutants++;
                CaptureFileOptions options = mutants % 2 == 0 ? CaptureFileOptions.Default : small;
                string? problem = Check(mutant.Bytes, options, pipe: mutants % 7 == 0, ref rejectedAtOpen, ref stoppedWithError, ref packets);
                if (problem is not null && failures.Count < 20)
                {
                    failures.Add($"{file} ({mutant.Description}): {problem}");
                }
            }
        }

        _output.WriteLine($"seed {seed}: {mutants} mutated files from {files.Count} captures in {clock.Elapsed.TotalSeconds:F1} s; " +
            $"{rejectedAtOpen} rejected at open, {stoppedWithError} stopped with an error, {packets} packets returned");
        Assert.True(mutants >= MinimumMutants, $"only {mutants} mutants");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Reads one mutated file; returns a description of what went wrong, or null.</summary>
    private static string? Check(byte[] bytes, CaptureFileOptions options, bool pipe, ref long rejectedAtOpen, ref long stoppedWithError, ref long packets)
    {
        CaptureReader reader;
        try
        {
            reader = pipe ? CaptureFile.Open(new TrickleStream(bytes, 1000), options) : CaptureTestIo.Open(bytes, options);
        }
        catch (CaptureFileException e)
        {
            rejectedAtOpen++;
            return e.Message.Contains('\n') || !e.Message.Contains("at offset ", StringComparison.Ordinal) ? $"open error is not one line naming an offset: {e.Message}" : null;
        }
        catch (Exception e)
        {
            return $"Open threw {e.GetType().Name}: {e.Message}";
        }

        using (reader)
        {
            try
            {
                long returned = 0;
                long position = CaptureTestIo.Position(reader);
                while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
                {
                    returned++;
                    long now = CaptureTestIo.Position(reader);
                    if (now <= position)
                    {
                        return $"no progress: record {record.Number} left the reader at offset {now} (was {position})";
                    }

                    position = now;
                    if (data.Length != record.CapturedLength || record.CapturedLength < 0 || record.Number != returned)
                    {
                        return $"record {returned}: span {data.Length} bytes, CapturedLength {record.CapturedLength}, Number {record.Number}";
                    }

                    if (returned > bytes.Length)
                    {
                        return "more records than bytes";
                    }
                }

                if (reader.TryReadNext(out _, out _))
                {
                    return "TryReadNext returned a record after returning false";
                }

                packets += returned;
                if (reader.Error is CaptureFileError error)
                {
                    stoppedWithError++;
                    if (error.Message.Contains('\n') || error.Offset < 0 || error.Offset > bytes.Length)
                    {
                        return $"bad error: {error}";
                    }
                }

                if (reader.Statistics.Packets != returned)
                {
                    return $"Statistics.Packets {reader.Statistics.Packets} != {returned} returned";
                }

                int max = CaptureTestIo.Buffer(reader).MaxCapacitySeen;
                if (max > options.BufferCap)
                {
                    return $"buffer grew to {max} bytes, cap {options.BufferCap}";
                }
            }
            catch (Exception e)
            {
                return $"TryReadNext threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}";
            }
        }

        return null;
    }
}
