using UplinkProbe.Cli;
using Xunit;

namespace UplinkProbe.Tests.L2Test;

/// <summary>What a failed l2test run leaves at its --out path (the interface check fails before any capture, so no root is needed).</summary>
public sealed class L2TestCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("uplinkprobe-l2cmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AFailedRunRemovesTheResultFileItCreated()
    {
        string path = Path.Combine(_dir, "hv1.json");
        (int exit, string stderr) = RunFailing(path);

        Assert.Equal(1, exit);
        Assert.Contains("no interface 'no-such-nic0'", stderr);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void AFailedRunLeavesAFileThatExistedBefore()
    {
        // Stands for /dev/null and other paths that are not the run's to delete.
        string path = Path.Combine(_dir, "existing.json");
        File.WriteAllText(path, "{}");
        (int exit, _) = RunFailing(path);

        Assert.Equal(1, exit);
        Assert.True(File.Exists(path));
    }

    private static (int Exit, string Stderr) RunFailing(string path)
    {
        using var stdout = new MemoryStream();
        var stderr = new StringWriter();
        int exit = CliApplication.Run(["l2test", "-i", "no-such-nic0", "--node", "hv1", "--out", path], stdout, stderr);
        return (exit, stderr.ToString());
    }
}
