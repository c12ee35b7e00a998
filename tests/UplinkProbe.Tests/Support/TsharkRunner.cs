using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Support;

/// <summary>
/// Runs Wireshark's tshark as an independent oracle: <c>tshark -n -r FILE -T fields -e …</c> with an empty
/// configuration directory (no user preferences or decode-as), LC_ALL=C and TZ=UTC, every occurrence of a
/// field kept. Tests call <see cref="IsUsable"/> first: without tshark they return early with a message,
/// except under CI=true, where a missing tshark fails the test.
/// </summary>
internal static class TsharkRunner
{
    /// <summary>Separates the occurrences of a repeated field (ASCII unit separator, never in tshark's values).</summary>
    private const char Aggregator = '\x1f';

    private static readonly Lazy<string?> Executable = new(FindExecutable);

    /// <summary>Turns on tshark's IPv4/UDP/TCP checksum validation (ICMP and ICMPv6 are always validated).</summary>
    public static readonly string[] ChecksumPreferences =
    [
        "-o", "ip.check_checksum:TRUE",
        "-o", "udp.check_checksum:TRUE",
        "-o", "tcp.check_checksum:TRUE",
    ];

    /// <summary>Fields that report problems: <c>_ws.malformed</c> and the expert items with their severities.</summary>
    public static readonly string[] ProblemFields = ["_ws.malformed", "_ws.expert.severity", "_ws.expert.message"];

    public static string? ExecutablePath => Executable.Value;

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when tshark can be run. Otherwise writes why and returns false, or fails the test under CI=true.</summary>
    public static bool IsUsable(ITestOutputHelper? output)
    {
        if (ExecutablePath is not null)
        {
            return true;
        }

        const string message = "tshark is not on PATH (apt-get install tshark); tshark cross-checks skipped";
        if (IsCi)
        {
            Assert.Fail(message + " — required when CI=true");
        }

        output?.WriteLine(message);
        return false;
    }

    /// <summary>Runs tshark over <paramref name="captureFile"/> and returns one row per packet.</summary>
    public static TsharkResult ReadFields(string captureFile, IReadOnlyList<string> fields, IEnumerable<string>? extraArguments = null)
    {
        string exe = ExecutablePath ?? throw new InvalidOperationException("tshark is not available; call IsUsable first");
        string configDir = Directory.CreateTempSubdirectory("uplinkprobe-tshark-cfg-").FullName;
        try
        {
            var psi = new ProcessStartInfo(exe)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.Environment["WIRESHARK_CONFIG_DIR"] = configDir;
            psi.Environment["LC_ALL"] = "C";
            psi.Environment["TZ"] = "UTC";
            foreach (string a in (string[])["-n", "-r", captureFile])
            {
                psi.ArgumentList.Add(a);
            }

            foreach (string a in extraArguments ?? [])
            {
                psi.ArgumentList.Add(a);
            }

            foreach (string a in (string[])["-T", "fields", "-E", "header=n", "-E", "separator=/t", "-E", "quote=n", "-E", "occurrence=a", "-E", $"aggregator={Aggregator}"])
            {
                psi.ArgumentList.Add(a);
            }

            foreach (string f in fields)
            {
                psi.ArgumentList.Add("-e");
                psi.ArgumentList.Add(f);
            }

            using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start tshark");
            Task<string> stderrTask = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(120_000))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"tshark did not finish on {captureFile} within 120 s");
            }

            string stderr = stderrTask.Result;
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"tshark exited with {p.ExitCode} on {captureFile}: {stderr.Trim()}");
            }

            var rows = new List<TsharkRow>();
            foreach (string line in stdout.Split('\n'))
            {
                if (line.Length == 0)
                {
                    continue;
                }

                string[] cells = line.Split('\t');
                var values = new Dictionary<string, string[]>(StringComparer.Ordinal);
                for (int i = 0; i < fields.Count; i++)
                {
                    string cell = i < cells.Length ? cells[i] : "";
                    values[fields[i]] = cell.Length == 0 ? [] : cell.Split(Aggregator);
                }

                rows.Add(new TsharkRow(rows.Count + 1, values));
            }

            return new TsharkResult(rows, stderr);
        }
        finally
        {
            Directory.Delete(configDir, recursive: true);
        }
    }

    private static string? FindExecutable()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length == 0)
            {
                continue;
            }

            string candidate = Path.Combine(dir, "tshark");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

internal sealed record TsharkResult(IReadOnlyList<TsharkRow> Rows, string StandardError);

/// <summary>One packet: every requested field with all its occurrences, in tshark's order (outer layer first).</summary>
internal sealed class TsharkRow
{
    private readonly Dictionary<string, string[]> _values;

    public TsharkRow(int number, Dictionary<string, string[]> values)
    {
        Number = number;
        _values = values;
    }

    public int Number { get; }

    /// <summary>The first occurrence of <paramref name="field"/>, or "" when the packet does not have it.</summary>
    public string this[string field] => All(field) is [var first, ..] ? first : "";

    /// <summary>Every occurrence of <paramref name="field"/> (e.g. outer and inner <c>ip.src</c>).</summary>
    public IReadOnlyList<string> All(string field) =>
        _values.TryGetValue(field, out string[]? v) ? v : throw new ArgumentException($"field {field} was not requested", nameof(field));

    /// <summary>
    /// Problems tshark reports: "malformed" when <c>_ws.malformed</c> is present, and every expert message of
    /// severity error or warning (needs <see cref="TsharkRunner.ProblemFields"/> among the requested fields).
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (All("_ws.malformed").Count > 0)
        {
            problems.Add("malformed");
        }

        IReadOnlyList<string> severities = All("_ws.expert.severity");
        IReadOnlyList<string> messages = All("_ws.expert.message");
        for (int i = 0; i < severities.Count; i++)
        {
            // Wireshark's PI_ERROR is 0x00800000, PI_WARN 0x00600000 (printed in decimal).
            if (long.TryParse(severities[i], out long s) && s >= 0x00600000)
            {
                problems.Add(i < messages.Count ? messages[i] : $"severity {s}");
            }
        }

        return problems;
    }

    public override string ToString() =>
        $"#{Number}: " + string.Join("; ", _values.Select(kv => $"{kv.Key}={string.Join(",", kv.Value)}"));
}
