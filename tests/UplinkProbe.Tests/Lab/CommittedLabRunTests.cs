using System.Text;
using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Cli;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Lab;

/// <summary>
/// The committed run of the real OVN lab (captures/ovn-lab): the analysis agrees with the lab's record and the
/// transmit-only ground truth, and `uplinkprobe analyze` prints exactly the expected report beside it.
/// Set UPLINKPROBE_UPDATE_GOLDEN=1 to rewrite the expected report after an intended change (and review the diff).
/// </summary>
public sealed class CommittedLabRunTests
{
    private readonly ITestOutputHelper _output;

    public CommittedLabRunTests(ITestOutputHelper output) => _output = output;

    private static string Dir => Path.Combine(Corpus.RepositoryRoot, "captures", "ovn-lab");

    [Fact]
    public void AnalysisOfTheSll2CapturesAgreesWithTheLabRecord()
    {
        var run = LabRun.Load(Dir);
        var analysis = new UplinkAnalysis(InventoryLoader.LoadAll([Path.Combine(Dir, "cp", "99-end"), Path.Combine(Dir, "lab.json")]));
        foreach (string node in run.Nodes)
        {
            analysis.AddCapture(Path.Combine(Dir, $"{node}-uplink-sll2.pcap"), node);
            analysis.AddCapture(Path.Combine(Dir, $"{node}-tunnel.pcap"), node);
        }

        LabAssertions.Check(run, analysis.Run(), _output);
    }

    [Fact]
    public void TheMergedCaptureGivesTheSameAnswer()
    {
        var run = LabRun.Load(Dir);
        var analysis = new UplinkAnalysis(InventoryLoader.Load(Path.Combine(Dir, "inventory.json")));
        analysis.AddCapture(Path.Combine(Dir, "ovn-lab.pcapng"));
        AnalysisReport report = analysis.Run();
        Assert.Equal(run.Nodes, report.ListedSources.Select(s => s.Node).Order(StringComparer.Ordinal));
        LabAssertions.Check(run, report, _output);
    }

    [Theory]
    [InlineData("text", "expected-report.txt")]
    [InlineData("json", "expected-report.json")]
    public void AnalyzePrintsTheExpectedReport(string format, string expectedFile)
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int exit = CliApplication.Run(["analyze", Path.Combine(Dir, "ovn-lab.pcapng"), "--inventory", Path.Combine(Dir, "inventory.json"), "--format", format], stdout, stderr);
        Assert.Equal(ExitCodes.Ok, exit);
        string actual = Encoding.UTF8.GetString(stdout.ToArray()).Replace(Dir + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal);
        string expectedPath = Path.Combine(Dir, expectedFile);
        if (Environment.GetEnvironmentVariable("UPLINKPROBE_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(expectedPath, actual);
        }

        Assert.Equal(File.ReadAllText(expectedPath), actual);
    }
}
