using System.Diagnostics;
using UplinkProbe.Tests.Live;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Cli;

/// <summary>
/// The CLI as it ships (<c>dotnet publish -r linux-x64</c>: self-contained, the framework trimmed, one ReadyToRun
/// composite image) against the CLI the tests build: the publish must succeed without a warning (the build treats them
/// as errors, and a trim warning is how new reflection would show up), and every command below must print the same bytes
/// and exit with the same code from both. The tests run the built CLI everywhere else; this is what ties the published
/// one to them.
/// </summary>
/// <remarks>Runs alone (its own collection, not parallel): the publish keeps both cores busy for a minute, which the live
/// tests' timeouts should not have to absorb.</remarks>
[Collection(nameof(ShippedBuildCollection))]
public sealed class ShippedBuildTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(1);

    private readonly string _dir = Directory.CreateTempSubdirectory("uplinkprobe-shipped-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ThePublishedCliPrintsWhatTheBuiltOnePrints()
    {
        string root = Corpus.RepositoryRoot;
        string published = Publish(root);
        string lab = Path.Combine(root, "captures", "ovn-lab");
        string yamlInventory = Path.Combine(_dir, "inventory.yaml");
        (int written, _, string writeError) = RunBuilt(["inventory", "--from-dir", Path.Combine(lab, "cp", "09-geneve-isolate"), "-o", yamlInventory], root);
        Assert.True(written == 0, writeError);

        List<string[]> commands =
        [
            ["--help"],
            ["analyze", Path.Combine(lab, "ovn-lab.pcapng"), "--inventory", Path.Combine(lab, "inventory.json")],
            ["analyze", Path.Combine(lab, "ovn-lab.pcapng"), "--inventory", Path.Combine(lab, "inventory.json"), "--format", "json"],
            ["analyze", Path.Combine(lab, "ovn-lab.pcapng"), "--inventory", yamlInventory, "--format", "markdown"],
            ["analyze", "--node", "hv1=" + Path.Combine(lab, "hv1-uplink-out.pcap"), "--node", "hv2=" + Path.Combine(lab, "hv2-uplink-out.pcap"),
                Path.Combine(lab, "hv3-uplink-sll2.pcap"), "--format", "json"],
            ["inventory", "--from-dir", Path.Combine(lab, "cp", "09-geneve-isolate"), "-F", "yaml"],
            ["inventory", "--from", Path.Combine(lab, "lab.json"), "-F", "text"],
            ["decode", Path.Combine(lab, "ovn-lab.pcapng"), "--format", "json"],
            ["decode", Path.Combine(lab, "hv1-tunnel.pcap")],
            ["stats", Path.Combine(lab, "ovn-lab.pcapng"), "--format", "json"],
            ["analyze", Path.Combine(lab, "lab.json")],                  // not a capture: exit 1
            ["stats", "--no-such-flag", Path.Combine(lab, "hv1-tunnel.pcap")], // usage error: exit 2
            ["capture", "-i", "uplinkprobe-no-such-nic", "-c", "1"],    // libpcap loaded, the interface refused: exit 1
        ];
        foreach (string verb in new[] { "decode", "stats", "analyze", "inventory", "merge", "capture", "watch", "l2test" })
        {
            commands.Add([verb, "--help"]);
        }

        foreach (string[] args in commands)
        {
            (int builtExit, string builtOut, string builtErr) = RunBuilt(args, root);
            (int shippedExit, string shippedOut, string shippedErr) = Run(Command(published, args), root, CommandTimeout);
            string what = string.Join(' ', args);
            Assert.True(builtOut == shippedOut, $"{what}: stdout differs\n--- built\n{Head(builtOut)}\n--- published\n{Head(shippedOut)}");
            Assert.True(builtErr == shippedErr, $"{what}: stderr differs\n--- built\n{Head(builtErr)}\n--- published\n{Head(shippedErr)}");
            Assert.True(builtExit == shippedExit, $"{what}: exit {builtExit} built, {shippedExit} published");
            output.WriteLine($"{what}: exit {builtExit}, {builtOut.Length} bytes of output");
        }
    }

    /// <summary>Publishes a copy of the sources (its own bin and obj, away from the build the tests run from); returns the executable.</summary>
    private string Publish(string root)
    {
        string copy = Path.Combine(_dir, "repo");
        CopySources(Path.Combine(root, "src"), Path.Combine(copy, "src"));
        File.Copy(Path.Combine(root, "Directory.Build.props"), Path.Combine(copy, "Directory.Build.props"));
        string outDir = Path.Combine(_dir, "published");
        ProcessStartInfo publish = Command(CliProcess.DotnetHost, ["publish", Path.Combine(copy, "src", "UplinkProbe.Cli"), "-c", "Release", "-r", "linux-x64",
            "-o", outDir, "--disable-build-servers", "-nodeReuse:false", "-nologo"]);
        publish.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        (int exit, string stdout, string stderr) = Run(publish, copy, PublishTimeout);
        string warnings = string.Join('\n', stdout.Split('\n').Where(l => l.Contains("warning", StringComparison.OrdinalIgnoreCase) && !l.Contains(" 0 Warning", StringComparison.Ordinal)));
        Assert.True(exit == 0, $"dotnet publish failed ({exit}):\n{Head(stdout)}\n{Head(stderr)}");
        Assert.True(warnings.Length == 0, $"dotnet publish warned:\n{warnings}");
        string exe = Path.Combine(outDir, "uplinkprobe");
        Assert.True(File.Exists(exe), $"no {exe}");
        Assert.True(File.Exists(Path.Combine(outDir, "uplinkprobe.r2r.dll")), "no composite ReadyToRun image in the published output");
        return exe;
    }

    private static void CopySources(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (string dir in Directory.EnumerateDirectories(from))
        {
            if (Path.GetFileName(dir) is not ("bin" or "obj"))
            {
                CopySources(dir, Path.Combine(to, Path.GetFileName(dir)));
            }
        }
    }

    /// <summary>The CLI the tests build, as every other CLI test runs it (<see cref="CliProcess.AddDotnetCli"/>).</summary>
    private static (int Exit, string Stdout, string Stderr) RunBuilt(IEnumerable<string> args, string workingDirectory)
    {
        var psi = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        CliProcess.AddDotnetCli(psi, args, CliEnvironment);
        return Run(psi, workingDirectory, CommandTimeout);
    }

    private static ProcessStartInfo Command(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        foreach ((string key, string value) in CliEnvironment)
        {
            psi.Environment[key] = value;
        }

        return psi;
    }

    /// <summary>The same for both builds: no report warm-up thread (it only takes CPU here) and the CLI's own defaults.</summary>
    private static Dictionary<string, string> CliEnvironment => new() { ["UPLINKPROBE_NO_WARMUP"] = "1", ["DOTNET_NOLOGO"] = "1" };

    private static (int Exit, string Stdout, string Stderr) Run(ProcessStartInfo psi, string workingDirectory, TimeSpan timeout)
    {
        psi.WorkingDirectory = workingDirectory;
        using var process = new CliProcess(psi);
        int exit = process.WaitForExit(timeout);
        return (exit, process.Stdout, process.Stderr);
    }

    private static string Head(string text) => text.Length <= 4000 ? text : text[..4000] + "\n…";
}

[CollectionDefinition(nameof(ShippedBuildCollection), DisableParallelization = true)]
public sealed class ShippedBuildCollection;
