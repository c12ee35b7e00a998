using System.Diagnostics;
using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Lab;

[CollectionDefinition(nameof(LiveLabCollection), DisableParallelization = true)]
public sealed class LiveLabCollection;

/// <summary>
/// Runs the real OVN lab (tools/ovn-lab/lab.sh: three chassis with OVS and OVN from Debian's packages in network
/// namespaces of its own, failover scenarios, Geneve dropped for one chassis) and checks the analysis of its fresh
/// captures against the lab's own record. Needs root; CI runs it, elsewhere it is skipped with a message.
/// Runs alone: the lab's BFD timers must not compete with other tests for the two cores.
/// </summary>
[Collection(nameof(LiveLabCollection))]
public sealed class LiveLabTests
{
    private readonly ITestOutputHelper _output;

    public LiveLabTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void AFreshLabRunIsAnalyzedAsTheLabRecordedIt()
    {
        if (Environment.UserName != "root" && !Corpus.InCi)
        {
            _output.WriteLine("not root: the OVN lab needs network namespaces; skipped (CI runs it as root)");
            return;
        }

        string output = Directory.CreateTempSubdirectory("uplinkprobe-lab-").FullName;
        bool passed = false;
        try
        {
            string script = Path.Combine(Corpus.RepositoryRoot, "tools", "ovn-lab", "lab.sh");
            (int exit, string log) = RunProcess("bash", [script, "run", "--out", output, "--quick"], TimeSpan.FromMinutes(8));
            Assert.True(exit == 0, $"lab.sh failed with {exit}:\n{Tail(log, 40)}");

            var run = LabRun.Load(output);
            var analysis = new UplinkAnalysis(InventoryLoader.LoadAll([Path.Combine(output, "cp", "99-end"), Path.Combine(output, "lab.json")]));
            foreach (string node in run.Nodes)
            {
                analysis.AddCapture(Path.Combine(output, $"{node}-uplink-sll2.pcap"), node);
                analysis.AddCapture(Path.Combine(output, $"{node}-tunnel.pcap"), node);
            }

            LabAssertions.Check(run, analysis.Run(), _output);
            passed = true;
        }
        finally
        {
            RunProcess("bash", [Path.Combine(Corpus.RepositoryRoot, "tools", "ovn-lab", "lab.sh"), "cleanup"], TimeSpan.FromMinutes(1));
            if (passed)
            {
                Directory.Delete(output, recursive: true);
            }
            else
            {
                _output.WriteLine($"the lab run is kept in {output} for inspection");
            }
        }
    }

    [Fact]
    public void ASecondLabRunLeavesTheRunningLabAlone()
    {
        if (Environment.UserName != "root" && !Corpus.InCi)
        {
            _output.WriteLine("not root: the OVN lab needs network namespaces; skipped (CI runs it as root)");
            return;
        }

        const string ownerFile = "/tmp/upl-lab.owner";
        string script = Path.Combine(Corpus.RepositoryRoot, "tools", "ovn-lab", "lab.sh");
        Assert.True(!File.Exists(ownerFile) || !Directory.Exists($"/proc/{File.ReadAllText(ownerFile).Trim()}"), "a lab run is going on on this machine");

        // A stand-in for a running lab.sh: its command line names the script.
        var psi = new ProcessStartInfo("bash") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec -a lab.sh sleep 120");
        using Process running = Process.Start(psi)!;
        string output = Directory.CreateTempSubdirectory("uplinkprobe-lab-").FullName;
        try
        {
            File.WriteAllText(ownerFile, $"{running.Id}\n");
            (int exit, string log) = RunProcess("bash", [script, "run", "--out", output, "--scenarios", "steady", "--dur", "steady=1"], TimeSpan.FromMinutes(4));
            Assert.True(exit == 1, $"lab.sh run exited {exit}:\n{Tail(log, 20)}");
            Assert.Contains($"another lab run (pid {running.Id}) owns the upl-* namespaces", log, StringComparison.Ordinal);
            Assert.Equal(running.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(ownerFile).Trim());

            (exit, log) = RunProcess("bash", [script, "cleanup"], TimeSpan.FromMinutes(1));
            Assert.True(exit == 1, $"lab.sh cleanup exited {exit}:\n{Tail(log, 20)}");
            Assert.Contains($"lab run pid {running.Id} is still running", log, StringComparison.Ordinal);
        }
        finally
        {
            running.Kill();
            running.WaitForExit();
            File.Delete(ownerFile);
            Directory.Delete(output, recursive: true);
        }
    }

    internal static (int Exit, string Output) RunProcess(string file, string[] args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var text = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (text) { text.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (text) { text.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            // The script's own trap tears the lab down on SIGTERM; kill only our child.
            process.Kill(entireProcessTree: false);
            process.WaitForExit();
            return (-1, text + $"\n(timed out after {timeout})");
        }

        process.WaitForExit();
        return (process.ExitCode, text.ToString());
    }

    internal static string Tail(string text, int lines) => string.Join("\n", text.Split('\n').TakeLast(lines));
}
