using System.Text;
using System.Text.Json;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Cli;
using Xunit;

namespace UplinkProbe.Tests.Inventory;

/// <summary>`uplinkprobe inventory` run in-process.</summary>
public sealed class InventoryCommandTests : IDisposable
{
    private readonly InventoryTestData.TempDir _dir = InventoryTestData.NewTempDir();

    public void Dispose() => _dir.Dispose();

    private static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new MemoryStream();
        using var stderr = new StringWriter();
        int exit = CliApplication.Run(args, stdout, stderr);
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()), stderr.ToString());
    }

    [Fact]
    public void HelpNamesTheInputsAndExitsZero()
    {
        (int exit, string stdout, _) = Run("inventory", "--help");
        Assert.Equal(ExitCodes.Ok, exit);
        foreach (string option in new[] { "--from-dir", "--from", "--ovn", "--lxd", "--output", "--format" })
        {
            Assert.Contains(option, stdout, StringComparison.Ordinal);
        }

        Assert.Contains("inventory", Run("--help").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void DumpDirectoryBecomesJsonOnStdout()
    {
        (int exit, string stdout, string stderr) = Run("inventory", "--from-dir", InventoryTestData.OvnLab);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal(string.Empty, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal(["hv1", "hv2", "hv3"], root.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()));
        JsonElement gw = root.GetProperty("gateways")[0];
        Assert.Equal("lr0-ext", gw.GetProperty("port").GetString());
        Assert.Equal("cr-lr0-ext", gw.GetProperty("cr_port").GetString());
        Assert.Equal("00:16:3e:aa:00:02", gw.GetProperty("mac").GetString());
        Assert.Equal(2, gw.GetProperty("datapath_key").GetInt32());
        Assert.Equal(3, gw.GetProperty("port_key").GetInt32());
        Assert.Equal(40, gw.GetProperty("candidates").GetProperty("hv2").GetInt32());
        Assert.Equal(10, gw.GetProperty("candidates").GetProperty("hv3").GetInt32());
        Assert.Equal("hv2", gw.GetProperty("active").GetString());
        JsonElement fip = root.GetProperty("floating_ips")[0];
        Assert.Equal(("203.0.113.23", "00:16:3e:bb:00:03", "vm3", "hv3"),
            (fip.GetProperty("ip").GetString(), fip.GetProperty("mac").GetString(), fip.GetProperty("logical_port").GetString(), fip.GetProperty("node").GetString()));
    }

    [Fact]
    public void YamlFileWithLabMacsLoadsBack()
    {
        string output = _dir.File("lab.yaml");
        (int exit, string stdout, string stderr) = Run("inventory", "--from-dir", InventoryTestData.OvnLab, "--from", InventoryTestData.OvnLabFile("lab.json"), "-o", output);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal($"uplinkprobe: inventory written to {output}: 3 nodes, 1 gateway ports, 1 distributed floating IPs{Environment.NewLine}", stderr);
        Assert.StartsWith("# uplinkprobe inventory", File.ReadAllText(output), StringComparison.Ordinal);

        CloudInventory inv = InventoryLoader.Load(output);
        Assert.Equal("00:00:5e:00:53:12", inv.FindNode("hv2")!.UplinkMacs.Single().ToString());
        Assert.Equal("hv2", inv.GatewayPorts.Single().ActiveNode);
    }

    [Fact]
    public void TextFormatIsASummary()
    {
        (int exit, string stdout, _) = Run("inventory", "--from-dir", InventoryTestData.OvnLab, "--format", "text");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.StartsWith("Nodes (3):", stdout, StringComparison.Ordinal);
        Assert.Contains("candidates hv2 (40), hv3 (10)  active hv2", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ConflictsArePrintedAsWarnings()
    {
        string site = _dir.Write("site.yaml", "gateways:\n  - {port: lr0-ext, active: hv3}\n");
        (int exit, string stdout, string stderr) = Run("inventory", "--from-dir", InventoryTestData.OvnLab, "--from", site, "--format", "text");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("active hv3", stdout, StringComparison.Ordinal);
        Assert.StartsWith("uplinkprobe: warning: gateway lr0: active node hv2 (", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("inventory")]
    [InlineData("inventory", "--format", "xml", "--from-dir", "x")]
    [InlineData("inventory", "--bogus")]
    [InlineData("inventory", "--from-dir")]
    public void UsageErrorsExitTwo(params string[] args)
    {
        (int exit, string stdout, string stderr) = Run(args);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains("Try 'uplinkprobe inventory --help'.", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnreadableInputsExitOneWithOneLine()
    {
        (int exit, string stdout, string stderr) = Run("inventory", "--from-dir", _dir.File("missing"));
        Assert.Equal((ExitCodes.Failure, string.Empty), (exit, stdout));
        Assert.Equal($"uplinkprobe: {_dir.File("missing")}: no such directory{Environment.NewLine}", stderr);

        string bad = _dir.Write("bad.yaml", "nodes:\n  - {name: hv1, uplink_macs: [zz]}\n");
        (exit, stdout, stderr) = Run("inventory", "--from", bad);
        Assert.Equal((ExitCodes.Failure, string.Empty), (exit, stdout));
        Assert.Equal($"uplinkprobe: {bad}: line 2: nodes[0].uplink_macs: 'zz' is not a MAC address{Environment.NewLine}", stderr);

        string dumps = Directory.CreateDirectory(_dir.File("dumps")).FullName;
        File.WriteAllText(Path.Combine(dumps, "sb-Chassis.json"), "{\"headings\":[\"name\"],\"data\":[[\"a\",\"b\"]]}");
        (exit, _, stderr) = Run("inventory", "--from-dir", dumps);
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Equal($"uplinkprobe: {Path.Combine(dumps, "sb-Chassis.json")}: row 1 has 2 cells, the headings name 1 columns{Environment.NewLine}", stderr);

        (exit, _, stderr) = Run("inventory", "--from-dir", InventoryTestData.OvnLab, "-o", _dir.File("no/such/dir/x.json"));
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Equal($"uplinkprobe: {_dir.File("no/such/dir/x.json")}: cannot write: no such directory{Environment.NewLine}", stderr);
    }

    [Fact]
    public void LxdWithoutLxcOnPathIsOneLine()
    {
        string? path = Environment.GetEnvironmentVariable("PATH");
        if (path?.Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, "lxc"))) == true)
        {
            return; // A machine with LXD: this test is about the error when there is none.
        }

        (int exit, string stdout, string stderr) = Run("inventory", "--lxd", "ovn-prod");
        Assert.Equal((ExitCodes.Failure, string.Empty), (exit, stdout));
        Assert.Equal($"uplinkprobe: lxc is not on PATH{Environment.NewLine}", stderr);
    }

    [Fact]
    public void AnalyzeAcceptsEveryInventoryKind()
    {
        string capture = Path.Combine(UplinkProbe.Tests.Support.Corpus.RepositoryRoot, "captures", "ovn-lab", "hv2-uplink-out.pcap");
        string yaml = _dir.File("lab.yaml");
        Assert.Equal(ExitCodes.Ok, Run("inventory", "--from-dir", InventoryTestData.OvnLab, "-o", yaml).Exit);
        foreach (string inventory in new[] { InventoryTestData.OvnLab, yaml, InventoryTestData.OvnLabFile("lab.json") })
        {
            (int exit, string stdout, string stderr) = Run("analyze", "--inventory", inventory, capture);
            Assert.True(exit == ExitCodes.Ok, stderr);
            Assert.Contains("cr-lr0-ext", stdout, StringComparison.Ordinal);
        }

        string bad = _dir.Write("bad.yaml", "gateways:\n  - {port: p, mac: nope}\n");
        (int code, string output, string error) = Run("analyze", "--inventory", bad, capture);
        Assert.Equal((ExitCodes.Failure, string.Empty), (code, output));
        Assert.Equal($"uplinkprobe: {bad}: line 2: gateways[0].mac: 'nope' is not a MAC address{Environment.NewLine}", error);
    }
}
