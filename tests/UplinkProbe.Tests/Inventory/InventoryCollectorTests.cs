using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Inventory;

/// <summary>
/// The collector runs real processes: small shell scripts standing in for ovn-nbctl/ovn-sbctl/lxc that print the
/// committed lab dumps and the LXD sample texts, found on a search path given to the collector.
/// </summary>
public sealed class InventoryCollectorTests : IDisposable
{
    private readonly InventoryTestData.TempDir _bin = InventoryTestData.NewTempDir();

    public void Dispose() => _bin.Dispose();

    private void Script(string name, string body)
    {
        string path = _bin.Write(name, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    // Prints DIR/<prefix>-<Table>.json for "--format=json list <Table>", like ovn-nbctl; unknown tables fail like it.
    private void OvnTool(string name, string prefix, string extra = "") => Script(name,
        $"{extra}\n[ \"$1\" = \"--format=json\" ] && [ \"$2\" = list ] || {{ echo \"{name}: bad arguments $*\" >&2; exit 2; }}\n" +
        $"f=\"{InventoryTestData.OvnLab}/{prefix}-$3.json\"\n" +
        $"if [ -f \"$f\" ]; then cat \"$f\"; else echo \"{name}: unknown table \\\"$3\\\"\" >&2; exit 1; fi");

    [Fact]
    public void OvnCollectionRunsEveryTableAndMatchesTheDumpDirectory()
    {
        OvnTool("ovn-nbctl", "nb");
        OvnTool("ovn-sbctl", "sb");
        var collector = new InventoryCollector(_bin.Path);
        Assert.Equal((_bin.File("ovn-nbctl"), _bin.File("ovn-sbctl")), collector.FindOvnTools());

        CloudInventory inv = collector.CollectOvn();
        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Equal(("lr0-ext", "hv2", 2, 3), (gw.Port, gw.ActiveNode, gw.DatapathKey, gw.PortKey));
        Assert.Equal(["hv2", "hv3"], gw.Candidates.Select(c => c.Node));
        Assert.Equal("hv3", Assert.Single(inv.DistributedFloatingIps).Node);
        Assert.Contains("ovn-sbctl list Port_Binding (ovn-sbctl --format=json list Port_Binding)", inv.Inputs);
        // The lab has no HA_Chassis dumps: like an OVN without those tables, they are skipped with a note.
        Assert.Contains(inv.Warnings, w => w == "ovn-nbctl --format=json list HA_Chassis: no such table in this OVN version; skipped");

        CloudInventory fromDir = OvnInventoryReader.ReadDirectory(InventoryTestData.OvnLab);
        Assert.Equal(fromDir.TunnelKeys, inv.TunnelKeys);
        Assert.Equal(fromDir.Nodes.Select(n => (n.Name, string.Join(',', n.EncapIps))), inv.Nodes.Select(n => (n.Name, string.Join(',', n.EncapIps))));
    }

    [Fact]
    public void MicroOvnToolsAreFoundWhenPlainOnesAreAbsent()
    {
        OvnTool("microovn.ovn-nbctl", "nb");
        OvnTool("microovn.ovn-sbctl", "sb");
        var collector = new InventoryCollector(_bin.Path);
        Assert.Equal(_bin.File("microovn.ovn-nbctl"), collector.FindOvnTools()!.Value.Nbctl);
        Assert.Equal("hv2", collector.CollectOvn().GatewayPorts[0].ActiveNode);
    }

    [Fact]
    public void DatabaseConnectionFailureIsOneLine()
    {
        Script("ovn-nbctl", "echo 'ovn-nbctl: unix:/var/run/ovn/ovnnb_db.sock: database connection failed (No such file or directory)' >&2\nexit 1");
        Script("ovn-sbctl", "exit 0");
        var ex = Assert.Throws<InventoryException>(() => new InventoryCollector(_bin.Path).CollectOvn());
        Assert.Equal("ovn-nbctl --format=json list Logical_Router: exit 1: ovn-nbctl: unix:/var/run/ovn/ovnnb_db.sock: database connection failed (No such file or directory)", ex.Message);
    }

    [Fact]
    public void MissingToolsAreOneLine()
    {
        var collector = new InventoryCollector(_bin.Path);
        Assert.Null(collector.FindOvnTools());
        Assert.Equal("neither ovn-nbctl/ovn-sbctl nor microovn.ovn-nbctl/microovn.ovn-sbctl is on PATH", Assert.Throws<InventoryException>(collector.CollectOvn).Message);
        Assert.Equal("lxc is not on PATH", Assert.Throws<InventoryException>(() => collector.CollectLxd("ovn-prod")).Message);

        // A file that is not executable does not count.
        _bin.Write("lxc", "#!/bin/sh\n");
        Assert.Null(collector.FindLxc());
    }

    [Fact]
    public void HangingToolIsStoppedWithOneLine()
    {
        Script("ovn-nbctl", "exec sleep 30");
        Script("ovn-sbctl", "exit 0");
        var ex = Assert.Throws<InventoryException>(() => new InventoryCollector(_bin.Path, TimeSpan.FromMilliseconds(300)).CollectOvn());
        Assert.Equal("ovn-nbctl --format=json list Logical_Router: no answer within 0.3 s", ex.Message);
    }

    [Fact]
    public void LxdCollectionAsksInfoShowAndEachMembersUplink()
    {
        string samples = _bin.Path;
        File.WriteAllText(Path.Combine(samples, "info.txt"), LxdNetworkTests.OvnInfo);
        File.WriteAllText(Path.Combine(samples, "show.yaml"), LxdNetworkTests.OvnShow);
        File.WriteAllText(Path.Combine(samples, "uplink-micro1.txt"), LxdNetworkTests.UplinkInfo);
        File.WriteAllText(Path.Combine(samples, "uplink-micro2.txt"), LxdNetworkTests.UplinkInfo.Replace("53:31", "53:32", StringComparison.Ordinal));
        // LC_ALL must be C so the labels are untranslated; micro3's uplink cannot be asked (a warning, not a failure).
        Script("lxc", $$"""
            [ "$LC_ALL" = C ] || { echo "LC_ALL not C" >&2; exit 3; }
            case "$*" in
              "network info ovn-prod") cat "{{samples}}/info.txt" ;;
              "network show ovn-prod") cat "{{samples}}/show.yaml" ;;
              "network info UPLINK --target micro1") cat "{{samples}}/uplink-micro1.txt" ;;
              "network info UPLINK --target micro2") cat "{{samples}}/uplink-micro2.txt" ;;
              *) echo "Error: Member not found" >&2; exit 1 ;;
            esac
            """);
        CloudInventory inv = new InventoryCollector(_bin.Path).CollectLxd("ovn-prod");

        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Equal(("lxd-net5-lr-lrp-ext", "micro2"), (gw.Port, gw.ActiveNode));
        Assert.Equal([MacAddress.Parse("00:00:5e:00:53:32")], inv.FindNode("micro2")!.UplinkMacs);
        Assert.Equal(["lxc network info UPLINK --target micro3: exit 1: Error: Member not found"], inv.Warnings);

        Assert.Equal("lxc network info nope: exit 1: Error: Member not found",
            Assert.Throws<InventoryException>(() => new InventoryCollector(_bin.Path).CollectLxd("nope")).Message);
    }
}
