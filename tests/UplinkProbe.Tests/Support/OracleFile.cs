namespace UplinkProbe.Tests.Support;

/// <summary>
/// One <c>*.oracle.tsv</c> written by ../shared/corpus/oracle.sh: tshark 4.0.17's decode, one row per record,
/// 60 named tab-separated columns (documented in oracle.sh), plus tshark's stderr and exit code when it failed.
/// </summary>
internal sealed class OracleFile
{
    private OracleFile(string path, string[] columns, List<string[]> rows, List<string> stderr, int? exitCode)
    {
        Path = path;
        Columns = columns;
        Rows = rows;
        Stderr = stderr;
        ExitCode = exitCode;
        for (int i = 0; i < columns.Length; i++)
        {
            ColumnIndex[columns[i]] = i;
        }
    }

    public string Path { get; }

    public string[] Columns { get; }

    public Dictionary<string, int> ColumnIndex { get; } = new(StringComparer.Ordinal);

    public List<string[]> Rows { get; }

    public List<string> Stderr { get; }

    /// <summary>tshark's exit code when it wrote errors or failed; null when it read the file cleanly.</summary>
    public int? ExitCode { get; }

    /// <summary>True when tshark could not open the file at all (no rows and a failure).</summary>
    public bool TsharkRejected => Rows.Count == 0 && ExitCode is not null and not 0;

    public string Get(string[] row, string column) => row[ColumnIndex[column]];

    public static OracleFile Load(string path) => Parse(File.ReadAllLines(path), path);

    public static OracleFile Parse(string[] lines, string path)
    {
        if (lines.Length < 2 || !lines[0].StartsWith("# oracle.sh v1", StringComparison.Ordinal) || !lines[1].StartsWith('#'))
        {
            throw new InvalidDataException($"{path}: not an oracle.sh v1 file");
        }

        string[] columns = lines[1][1..].Split('\t');
        var rows = new List<string[]>();
        var stderr = new List<string>();
        int? exit = null;
        foreach (string line in lines.AsSpan(2))
        {
            if (line.StartsWith("# tshark-stderr: ", StringComparison.Ordinal))
            {
                stderr.Add(line["# tshark-stderr: ".Length..]);
            }
            else if (line.StartsWith("# tshark-exit: ", StringComparison.Ordinal))
            {
                exit = int.Parse(line["# tshark-exit: ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.Length > 0 && line[0] != '#')
            {
                string[] fields = line.Split('\t');
                if (fields.Length != columns.Length)
                {
                    throw new InvalidDataException($"{path}: row with {fields.Length} fields, header has {columns.Length}");
                }

                rows.Add(fields);
            }
        }

        return new OracleFile(path, columns, rows, stderr, exit);
    }
}
