using System.Text;
using System.Text.Json;
using UplinkProbe.Cli;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Differential;

/// <summary>
/// Runs `uplinkprobe decode --format json` over every capture of the shared corpus and compares, packet by packet,
/// every oracle column UplinkProbe decodes with tshark 4.0.17's value. Each disagreement is either fixed or listed in
/// <see cref="DifferentialAllowList"/> with its reason.
/// </summary>
public sealed class TsharkDifferentialTests
{
    private readonly ITestOutputHelper _output;

    public TsharkDifferentialTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void EveryCorpusPacketMatchesTsharkInEveryDecodedColumn()
    {
        if (Corpus.RequireRoot(_output) is not { } root)
        {
            return;
        }

        IReadOnlyList<string> files = Corpus.CaptureFiles();
        Assert.True(files.Count >= 170, $"expected the 180-file corpus, found {files.Count} captures with oracles");

        var failures = new List<string>();
        var used = new HashSet<(DifferentialAllowList.Entry, string)>();
        var perColumn = ComparedColumnTally();
        long packets = 0, compared = 0, equal = 0, allowed = 0;
        int rejected = 0;

        foreach (string file in files)
        {
            OracleFile oracle = OracleFile.Load(Path.Combine(root, file + ".oracle.tsv"));
            (int exit, List<JsonElement> ours, string stderr) = Decode(Path.Combine(root, file));

            if (oracle.TsharkRejected)
            {
                if (exit == ExitCodes.Failure && ours.Count == 0)
                {
                    rejected++;
                    Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                    Assert.Contains("offset", stderr, StringComparison.Ordinal);
                }
                else if (DifferentialAllowList.Find(file, "open", 0) is { } entry)
                {
                    used.Add((entry, "open"));
                }
                else
                {
                    failures.Add($"{file}: tshark cannot open it ({string.Join(" ", oracle.Stderr)}) but we read {ours.Count} packets (exit {exit})");
                }

                continue;
            }

            List<OracleComparison.Difference>? differences = OracleComparison.Compare(oracle, ours, (column, equalHere) =>
            {
                compared++;
                perColumn[column].Compared++;
                if (equalHere)
                {
                    equal++;
                    perColumn[column].Equal++;
                }
            });
            if (differences is null)
            {
                failures.Add($"{file}: tshark has {OracleComparison.PacketRows(oracle).Count} packets, we have {ours.Count} (exit {exit}: {stderr.Trim()})");
                continue;
            }

            packets += ours.Count;
            foreach (OracleComparison.Difference d in differences)
            {
                if (DifferentialAllowList.Find(file, d.Column, d.No) is { } entry)
                {
                    allowed++;
                    used.Add((entry, d.Column));
                }
                else
                {
                    failures.Add($"{file} #{d.No} {d.Column}: tshark '{d.Expected}' ours '{d.Actual}'");
                }
            }
        }

        foreach (DifferentialAllowList.Entry entry in DifferentialAllowList.Entries)
        {
            foreach (string column in entry.Columns.Where(c => !used.Contains((entry, c))))
            {
                failures.Add($"allow-list entry no longer needed: {entry.File} {column} ({entry.Reason})");
            }
        }

        _output.WriteLine($"{files.Count} captures ({rejected} rejected as tshark rejects them), {packets} packets");
        _output.WriteLine($"fields compared {compared}, equal {equal} ({100.0 * equal / Math.Max(1, compared):F3}%), allow-listed {allowed} in {DifferentialAllowList.Entries.Length} entries");
        foreach ((string column, Tally t) in perColumn.Where(p => p.Value.Compared != p.Value.Equal))
        {
            _output.WriteLine($"  {column}: {t.Equal}/{t.Compared}");
        }

        foreach (string f in failures.Take(3000))
        {
            _output.WriteLine(f);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} disagreements with tshark; first: {string.Join(" | ", failures.Take(5))}");
    }

    private static (int Exit, List<JsonElement> Packets, string Stderr) Decode(string path) => OracleComparison.Decode(path);

    private static Dictionary<string, Tally> ComparedColumnTally() => OracleProjection.ComparedColumns.ToDictionary(c => c, _ => new Tally());

    private sealed class Tally
    {
        public long Compared { get; set; }

        public long Equal { get; set; }
    }
}
