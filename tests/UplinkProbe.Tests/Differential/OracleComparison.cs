using System.Diagnostics;
using System.Text;
using System.Text.Json;
using UplinkProbe.Cli;
using UplinkProbe.Tests.Support;

namespace UplinkProbe.Tests.Differential;

/// <summary>
/// Compares `uplinkprobe decode --format json` with tshark's decode (oracle.sh columns), packet by packet and column
/// by column. Used for the shared corpus and for the OVN packets the tests build themselves.
/// </summary>
internal static class OracleComparison
{
    public sealed record Difference(int No, string Column, string Expected, string Actual);

    /// <summary>Packet rows of the oracle: tshark 4.0 lists pcapng custom blocks as records ("data", no interface, no time), readers skip them.</summary>
    public static List<string[]> PacketRows(OracleFile oracle) =>
        oracle.Rows.Where(r => !(oracle.Get(r, "protocols") == "data" && oracle.Get(r, "if").Length == 0 && oracle.Get(r, "epoch").Length == 0)).ToList();

    /// <summary>Every differing (packet, column); null when the packet counts differ. <paramref name="tally"/> sees each comparison.</summary>
    public static List<Difference>? Compare(OracleFile oracle, IReadOnlyList<JsonElement> ours, Action<string, bool>? tally = null)
    {
        List<string[]> rows = PacketRows(oracle);
        if (rows.Count != ours.Count)
        {
            return null;
        }

        var differences = new List<Difference>();
        for (int i = 0; i < rows.Count; i++)
        {
            int no = int.Parse(oracle.Get(rows[i], "no"), System.Globalization.CultureInfo.InvariantCulture);
            foreach (string column in OracleProjection.ComparedColumns)
            {
                string expected = oracle.Get(rows[i], column);
                string actual = OracleProjection.Project(ours[i], column);
                tally?.Invoke(column, expected == actual);
                if (expected != actual)
                {
                    differences.Add(new Difference(no, column, expected, actual));
                }
            }
        }

        return differences;
    }

    /// <summary>Runs the CLI's decode in-process; the per-file summary is dropped, "uplinkprobe:" error lines are kept.</summary>
    public static (int Exit, List<JsonElement> Packets, string Stderr) Decode(string path)
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int exit = CliApplication.Run(["decode", "--format", "json", path], stdout, stderr);
        var packets = new List<JsonElement>();
        foreach (string line in Encoding.UTF8.GetString(stdout.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            packets.Add(JsonDocument.Parse(line).RootElement.Clone());
        }

        string errors = string.Join("\n", stderr.ToString().Split('\n').Where(l => l.StartsWith("uplinkprobe:", StringComparison.Ordinal)));
        return (exit, packets, errors);
    }

    /// <summary>Runs ../shared/corpus/oracle.sh (tshark) on a capture; null when the corpus or tshark is missing outside CI.</summary>
    public static OracleFile? RunOracle(string capture)
    {
        if (Corpus.Root is not { } root || TsharkRunner.ExecutablePath is null)
        {
            if (Corpus.InCi)
            {
                throw new InvalidOperationException("oracle.sh needs ../shared/corpus and tshark, which CI must have");
            }

            return null;
        }

        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(root, "oracle.sh"));
        psi.ArgumentList.Add(capture);
        using var process = Process.Start(psi)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException("oracle.sh did not finish in 2 minutes");
        }

        string text = output.Result;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"oracle.sh failed ({process.ExitCode}): {error.Result}");
        }

        return OracleFile.Parse(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), capture);
    }
}
