using Xunit.Abstractions;

namespace UplinkProbe.Tests.Support;

/// <summary>
/// Finds the shared corpus of real captures (../shared/corpus beside the repository). In CI its absence is a
/// failure; elsewhere corpus tests say why they did nothing.
/// </summary>
internal static class Corpus
{
    private static readonly Lazy<string?> RootLazy = new(Locate);

    public static string? Root => RootLazy.Value;

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "UplinkProbe.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("cannot find the repository root (UplinkProbe.sln) above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Returns the corpus root, or null after writing why to the test output (throws in CI).</summary>
    public static string? RequireRoot(ITestOutputHelper output)
    {
        if (Root is { } root)
        {
            return root;
        }

        string message = $"shared corpus not found at {Path.Combine(RepositoryRoot, "..", "shared", "corpus")}";
        if (InCi)
        {
            throw new InvalidOperationException(message + " (required in CI)");
        }

        output.WriteLine(message + "; corpus test did nothing");
        return null;
    }

    /// <summary>Every capture file in the corpus that has an oracle beside it, as paths relative to the corpus root, sorted.</summary>
    public static IReadOnlyList<string> CaptureFiles()
    {
        if (Root is not { } root)
        {
            return [];
        }

        return Directory.EnumerateFiles(root, "*.oracle.tsv", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(root, p[..^".oracle.tsv".Length]))
            .Where(p => File.Exists(Path.Combine(root, p)))
            .OrderBy(p => p, StringComparer.Ordinal)
            .ToList();
    }

    private static string? Locate()
    {
        string candidate = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "corpus"));
        return Directory.Exists(candidate) ? candidate : null;
    }
}
