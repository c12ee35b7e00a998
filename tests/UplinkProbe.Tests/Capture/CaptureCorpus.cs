using UplinkProbe.Capture;

namespace UplinkProbe.Tests.Capture;

/// <summary>
/// Finds the shared corpus: walk up from the test binaries to the repository root (the folder holding
/// UplinkProbe.sln), then ../shared/corpus. Missing corpus: a failure in CI (CI=true), else a skip with a message.
/// </summary>
internal static class CaptureCorpus
{
    private static readonly Lazy<string?> Root = new(Find);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The corpus folder, or null (with <paramref name="message"/>) when it is absent outside CI. Throws in CI.</summary>
    public static string? Locate(out string message)
    {
        message = string.Empty;
        if (Root.Value is string root)
        {
            return root;
        }

        message = "corpus not found: expected ../shared/corpus next to the repository root (the folder with UplinkProbe.sln)";
        if (IsCi)
        {
            throw new InvalidOperationException(message + " (CI=true: the corpus is required)");
        }

        return null;
    }

    /// <summary>Every pcap/pcapng file of the corpus, as paths relative to the corpus folder ('/' separators), sorted.</summary>
    public static IReadOnlyList<string> CaptureFiles(string corpus) =>
        Directory.EnumerateFiles(corpus, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".pcap", StringComparison.Ordinal) || f.EndsWith(".pcapng", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(corpus, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "UplinkProbe.sln")))
            {
                string corpus = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus"));
                return Directory.Exists(corpus) ? corpus : null;
            }
        }

        return null;
    }
}

/// <summary>One record line of an *.oracle.tsv (columns 1-8 only).</summary>
internal sealed record OracleRow(int No, string Epoch, string If, string Dir, string Flags, string Len, string CapLen, string Protocols)
{
    /// <summary>tshark 4.0 lists pcapng custom blocks as records with protocols "data" and no interface.</summary>
    public bool IsCustomBlock => Protocols == "data" && If.Length == 0;
}

internal sealed record OracleFile(IReadOnlyList<OracleRow> Rows, bool TsharkFailed, IReadOnlyList<string> Stderr)
{
    public static OracleFile Load(string path)
    {
        var rows = new List<OracleRow>();
        var stderr = new List<string>();
        bool failed = false;
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith("# tshark-exit:", StringComparison.Ordinal))
            {
                failed = true;
            }
            else if (line.StartsWith("# tshark-stderr:", StringComparison.Ordinal))
            {
                stderr.Add(line);
            }

            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            string[] c = line.Split('\t');
            rows.Add(new OracleRow(int.Parse(c[0]), c[1], c[2], c[3], c[4], c[5], c[6], c[7]));
        }

        return new OracleFile(rows, failed, stderr);
    }
}

/// <summary>Helpers to run a reader over bytes and collect what it returns.</summary>
internal static class CaptureTestIo
{
    public static CaptureReader Open(byte[] bytes, CaptureFileOptions? options = null) => CaptureFile.Open(bytes, options);

    public static List<(CaptureRecord Record, byte[] Data, string? Comment)> ReadAll(CaptureReader reader)
    {
        var list = new List<(CaptureRecord, byte[], string?)>();
        while (reader.TryReadNext(out CaptureRecord r, out ReadOnlySpan<byte> d))
        {
            ReadOnlySpan<byte> c = reader.CurrentComment;
            list.Add((r, d.ToArray(), c.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(c)));
        }

        return list;
    }

    public static long Position(CaptureReader reader) => reader switch
    {
        PcapReader p => p.Position,
        PcapNgReader n => n.Position,
        _ => throw new ArgumentException("not a file reader", nameof(reader)),
    };

    internal static CaptureBuffer Buffer(CaptureReader reader) => reader switch
    {
        PcapReader p => p.Buffer,
        PcapNgReader n => n.Buffer,
        _ => throw new ArgumentException("not a file reader", nameof(reader)),
    };
}
