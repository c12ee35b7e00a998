using System.Globalization;
using UplinkProbe.Capture;
using UplinkProbe.Tests.Differential;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Capture;

/// <summary>
/// Reads every corpus capture and compares each record with tshark 4.0.17's columns 1-7 (no, epoch, if, dir, flags,
/// len, caplen) in the file's .oracle.tsv.
/// </summary>
public sealed class CaptureCorpusDifferentialTests
{
    private readonly ITestOutputHelper _output;

    public CaptureCorpusDifferentialTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void EveryCorpusFileMatchesTheOracle()
    {
        if (Corpus.RequireRoot(_output) is not { } corpus)
        {
            return;
        }

        IReadOnlyList<string> files = Corpus.CaptureFiles();
        Assert.True(files.Count >= 150, $"only {files.Count} captures found under {corpus}");
        var failures = new List<string>();
        long allowed = 0;
        long compared = 0, equal = 0, records = 0, rejected = 0;
        foreach (string file in files)
        {
            string path = Path.Combine(corpus, file);
            OracleFile oracleFile = OracleFile.Load(path + ".oracle.tsv");
            List<OracleRow> rows = OracleRow.All(oracleFile);
            if (oracleFile.TsharkRejected)
            {
                // tshark could not open it: neither may we, with a one-line message naming the offset.
                var e = Record.Exception(() => CaptureFile.Open(path).Dispose());
                if (e is not CaptureFileException cfe || cfe.Message.Contains('\n') || !cfe.Message.Contains("at offset ", StringComparison.Ordinal))
                {
                    failures.Add($"{file}: tshark rejects it ({string.Join(" ", oracleFile.Stderr)}) but Open gave {e?.GetType().Name ?? "a reader"}: {e?.Message}");
                }
                else
                {
                    rejected++;
                    _output.WriteLine($"rejected as tshark does: {cfe.Message}");
                }

                continue;
            }

            using CaptureReader reader = CaptureFile.Open(path);
            var ours = CaptureTestIo.ReadAll(reader);
            if (reader.Error is not null)
            {
                failures.Add($"{file}: reader stopped with {reader.Error}, tshark read the whole file");
            }

            var packetRows = rows.Where(r => !r.IsCustomBlock).ToList();
            int customRows = rows.Count - packetRows.Count;
            long skippedCustom = reader.Statistics.SkippedBlocks.GetValueOrDefault(0x00000BADu) + reader.Statistics.SkippedBlocks.GetValueOrDefault(0x40000BADu);
            if (customRows != skippedCustom)
            {
                failures.Add($"{file}: tshark lists {customRows} custom-block records, we skipped {skippedCustom} custom blocks");
            }

            if (ours.Count != packetRows.Count)
            {
                failures.Add($"{file}: {ours.Count} records, oracle has {packetRows.Count} packet rows");
            }

            for (int i = 0; i < Math.Min(ours.Count, packetRows.Count); i++)
            {
                records++;
                OracleRow row = packetRows[i];
                (CaptureRecord rec, byte[] data, _) = ours[i];
                if (data.Length != rec.CapturedLength)
                {
                    failures.Add($"{file} #{row.No}: span length {data.Length} != CapturedLength {rec.CapturedLength}");
                }

                int customBefore = rows.Count(r => r.IsCustomBlock && r.No < row.No);
                Check("no", (row.No - customBefore).ToString(CultureInfo.InvariantCulture), rec.Number.ToString(CultureInfo.InvariantCulture));
                Check("epoch", Epoch(row.Epoch), rec.HasTimestamp ? rec.TimestampNs.ToString(CultureInfo.InvariantCulture) : "");
                Check("if", row.If, reader.Format == CaptureFormat.Pcap ? "" : rec.InterfaceId.ToString(CultureInfo.InvariantCulture));
                Check("dir", row.Dir, rec.HasEpbFlags ? $"0x{(uint)rec.Direction:x8}" : "");
                Check("flags", row.Flags, rec.HasEpbFlags ? $"0x{rec.EpbFlags:x8}" : "");
                Check("len", row.Len, rec.OriginalLength.ToString(CultureInfo.InvariantCulture));
                Check("caplen", row.CapLen, rec.CapturedLength.ToString(CultureInfo.InvariantCulture));

                void Check(string column, string expected, string actual)
                {
                    compared++;
                    if (expected == actual)
                    {
                        equal++;
                    }
                    else if (DifferentialAllowList.Find(file, column, row.No) is not null)
                    {
                        allowed++;
                    }
                    else
                    {
                        failures.Add($"{file} #{row.No} {column}: oracle '{expected}', ours '{actual}'");
                    }
                }
            }
        }

        _output.WriteLine($"{files.Count} captures, {rejected} rejected as tshark does, {records} records; fields compared {compared}, equal {equal} ({100.0 * equal / Math.Max(1, compared):F3}%), allow-listed {allowed} (entries are checked for staleness by the full differential test)");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(60)));
    }

    /// <summary>tshark prints "seconds.fraction" with the nanoseconds as %09d, so a fraction ≥ 10^9 comes out with 10 digits; read it back as nanoseconds.</summary>
    private static string Epoch(string epoch)
    {
        if (epoch.Length == 0)
        {
            return "";
        }

        int dot = epoch.IndexOf('.');
        if (dot < 0 || epoch.StartsWith('-'))
        {
            return "unparsable:" + epoch;
        }

        long seconds = long.Parse(epoch.AsSpan(0, dot), CultureInfo.InvariantCulture);
        long nanos = long.Parse(epoch.AsSpan(dot + 1), CultureInfo.InvariantCulture);
        return ((seconds * 1_000_000_000L) + nanos).ToString(CultureInfo.InvariantCulture);
    }
}
