using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Inventory;

/// <summary>
/// Parsers for `lxc network info` and `lxc network show`. The sample texts are built from LXD's source: the
/// labels and their order from lxc/network.go (cmdNetworkInfo.run: "Name", "MAC address", "MTU", "State", "Type",
/// "IP addresses:" with "  family\taddress/prefix (scope)", "Network usage:", "OVN:" with "Chassis", "Logical
/// router", "Logical switch", "IPv4 uplink address", "IPv6 uplink address"); the values from
/// lxd/network/driver_ovn.go State() (scope "link", type "broadcast", state "up", MTU bridge.mtu) and naming
/// (lxd-net&lt;ID&gt;-lr, -lrp-ext); `show` is api.Network marshalled as YAML. Documentation addresses only.
/// </summary>
public sealed class LxdNetworkTests
{
    // LXD 5.21-style output for an OVN network.
    internal const string OvnInfo = "Name: ovn-prod\n" +
        "MAC address: 00:16:3e:5d:2a:01\n" +
        "MTU: 1442\n" +
        "State: up\n" +
        "Type: broadcast\n" +
        "\n" +
        "IP addresses:\n" +
        "  inet\t198.51.100.1/24 (link)\n" +
        "  inet6\t2001:db8:aa::1/64 (link)\n" +
        "\n" +
        "Network usage:\n" +
        "  Bytes received: 0B\n" +
        "  Bytes sent: 0B\n" +
        "  Packets received: 0\n" +
        "  Packets sent: 0\n" +
        "\n" +
        "OVN:\n" +
        "  Chassis: micro2\n" +
        "  Logical router: lxd-net5-lr\n" +
        "  Logical switch: lxd-net5-ls-int\n" +
        "  IPv4 uplink address: 203.0.113.50\n" +
        "  IPv6 uplink address: 2001:db8:ff::50\n";

    // LXD 5.0-style output: the OVN section has only the chassis.
    internal const string OldOvnInfo = "Name: ovn-prod\r\nMAC address: 00:16:3e:5d:2a:01\r\nMTU: 1442\r\nState: up\r\nType: broadcast\r\n\r\n" +
        "IP addresses:\r\n  inet\t198.51.100.1/24 (link)\r\n\r\nOVN:\r\n  Chassis: micro1\r\n";

    // `lxc network info UPLINK --target micro1` for the physical uplink: the parent NIC's state on that member.
    internal const string UplinkInfo = "Name: UPLINK\nMAC address: 00:00:5e:00:53:31\nMTU: 1500\nState: up\nType: broadcast\n\n" +
        "IP addresses:\n\nNetwork usage:\n  Bytes received: 12.50MB\n  Bytes sent: 3.10MB\n  Packets received: 10021\n  Packets sent: 5012\n";

    internal const string OvnShow = """
        config:
          bridge.mtu: "1442"
          ipv4.address: 198.51.100.1/24
          ipv4.nat: "true"
          ipv6.address: 2001:db8:aa::1/64
          ipv6.nat: "true"
          network: UPLINK
          volatile.network.ipv4.address: 203.0.113.50
          volatile.network.ipv6.address: 2001:db8:ff::50
        description: ""
        name: ovn-prod
        type: ovn
        used_by:
        - /1.0/instances/c1
        - /1.0/profiles/default
        managed: true
        status: Created
        locations:
        - micro1
        - micro2
        - micro3
        project: default
        """;

    [Fact]
    public void OvnNetworkInfoParses()
    {
        LxdNetworkInfo info = LxdNetworkInfo.Parse(OvnInfo, "lxc network info ovn-prod");
        Assert.Equal("ovn-prod", info.Name);
        Assert.Equal(MacAddress.Parse("00:16:3e:5d:2a:01"), info.Mac);
        Assert.Equal(1442, info.Mtu);
        Assert.Equal(("up", "broadcast"), (info.State, info.Type));
        Assert.Equal(["198.51.100.1/24", "2001:db8:aa::1/64"], info.Addresses);
        Assert.True(info.IsOvn);
        Assert.Equal("micro2", info.OvnChassis);
        Assert.Equal("lxd-net5-lr", info.OvnLogicalRouter);
        Assert.Equal("lxd-net5-ls-int", info.OvnLogicalSwitch);
        Assert.Equal("203.0.113.50", info.UplinkIPv4);
        Assert.Equal("2001:db8:ff::50", info.UplinkIPv6);
    }

    [Fact]
    public void OlderOvnNetworkInfoWithCrLfParses()
    {
        LxdNetworkInfo info = LxdNetworkInfo.Parse(OldOvnInfo, "x");
        Assert.True(info.IsOvn);
        Assert.Equal("micro1", info.OvnChassis);
        Assert.Null(info.OvnLogicalRouter);
        Assert.Null(info.UplinkIPv4);
        Assert.Equal(["198.51.100.1/24"], info.Addresses);
    }

    [Fact]
    public void PhysicalUplinkInfoHasNoOvnSection()
    {
        LxdNetworkInfo info = LxdNetworkInfo.Parse(UplinkInfo, "x");
        Assert.False(info.IsOvn);
        Assert.Equal(MacAddress.Parse("00:00:5e:00:53:31"), info.Mac);
        Assert.Empty(info.Addresses);
        Assert.Null(info.OvnChassis);
    }

    [Theory]
    [InlineData("", "not 'lxc network info' output (no 'Name:' line")]
    [InlineData("Nom: ovn-prod\nAdresse MAC: 00:16:3e:5d:2a:01\n", "run lxc with LC_ALL=C")]
    [InlineData("Name: x\nMAC address: 00:16:3e:5d:2a\n", "line 2: '00:16:3e:5d:2a' is not a MAC address")]
    [InlineData("Name: x\n\nOVN:\n  IPv4 uplink address: 203.0.113.500\n", "line 4: '203.0.113.500' is not an IP address")]
    public void BadInfoTextIsAOneLineError(string text, string expected)
    {
        var ex = Assert.Throws<InventoryException>(() => LxdNetworkInfo.Parse(text, "lxc network info x"));
        Assert.StartsWith("lxc network info x: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NetworkShowParses()
    {
        LxdNetworkConfig cfg = LxdNetworkConfig.Parse(OvnShow, "lxc network show ovn-prod");
        Assert.Equal(("ovn-prod", "ovn", "Created", "default"), (cfg.Name, cfg.Type, cfg.Status, cfg.Project));
        Assert.True(cfg.Managed);
        Assert.Equal("UPLINK", cfg.UplinkNetwork);
        Assert.Equal("203.0.113.50", cfg.VolatileUplinkIPv4);
        Assert.Equal("2001:db8:ff::50", cfg.VolatileUplinkIPv6);
        Assert.True(cfg.Ipv4Nat);
        Assert.True(cfg.Ipv6Nat);
        Assert.Null(cfg.BridgeHwaddr);     // only set when the user set it
        Assert.Null(cfg.Ipv4NatAddress);
        Assert.Equal("1442", cfg.Config["bridge.mtu"]);
        Assert.Equal(["micro1", "micro2", "micro3"], cfg.Locations);
        Assert.Equal(["/1.0/instances/c1", "/1.0/profiles/default"], cfg.UsedBy);
    }

    [Fact]
    public void BridgeHwaddrAndNatAddressAreRead()
    {
        string text = OvnShow.Replace("  bridge.mtu: \"1442\"", "  bridge.hwaddr: 00:16:3e:77:00:01\n  ipv4.nat.address: 203.0.113.60", StringComparison.Ordinal);
        LxdNetworkConfig cfg = LxdNetworkConfig.Parse(text, "x");
        Assert.Equal(MacAddress.Parse("00:16:3e:77:00:01"), cfg.BridgeHwaddr);
        Assert.Equal("203.0.113.60", cfg.Ipv4NatAddress);
    }

    [Theory]
    [InlineData("config: [unclosed\n", "invalid YAML at line")]
    [InlineData("- a\n- b\n", "not 'lxc network show' output (expected a YAML mapping)")]
    [InlineData("config: {}\ntype: ovn\n", "not 'lxc network show' output (no 'name:')")]
    [InlineData("name: x\nconfig: [a, b]\n", "'config' is not a mapping")]
    public void BadShowTextIsAOneLineError(string text, string expected)
    {
        var ex = Assert.Throws<InventoryException>(() => LxdNetworkConfig.Parse(text, "lxc network show x"));
        Assert.StartsWith("lxc network show x: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void InventoryFromLxdHasGatewayActiveNodeAndMemberUplinkMacs()
    {
        LxdNetworkInfo info = LxdNetworkInfo.Parse(OvnInfo, "i");
        LxdNetworkConfig cfg = LxdNetworkConfig.Parse(OvnShow, "s");
        LxdNetworkInfo uplink1 = LxdNetworkInfo.Parse(UplinkInfo, "u1");
        LxdNetworkInfo uplink2 = LxdNetworkInfo.Parse(UplinkInfo.Replace("53:31", "53:32", StringComparison.Ordinal), "u2");
        CloudInventory inv = LxdInventory.Build("ovn-prod", info, cfg, [("micro1", uplink1), ("micro2", uplink2)]);

        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Equal(("ovn-prod", "lxd-net5-lr", "lxd-net5-lr-lrp-ext", "cr-lxd-net5-lr-lrp-ext"), (gw.Network, gw.Router, gw.Port, gw.ChassisRedirectPort));
        Assert.Equal("ovn-prod", gw.DisplayName);
        Assert.Equal(MacAddress.Parse("00:16:3e:5d:2a:01"), gw.Mac);
        Assert.Equal("micro2", gw.ActiveNode);
        Assert.Equal(["203.0.113.50/32", "2001:db8:ff::50/128"], gw.Networks);
        Assert.Equal(["203.0.113.50", "2001:db8:ff::50"], gw.NatExternalIps);
        Assert.Empty(gw.Candidates);       // LXD's CLI does not show HA chassis priorities
        Assert.Null(gw.DatapathKey);
        Assert.Equal("lxd", gw.Source.Kind);

        Assert.Equal(["micro1", "micro2", "micro3"], inv.Nodes.Select(n => n.Name));
        Assert.Equal([MacAddress.Parse("00:00:5e:00:53:31")], inv.FindNode("micro1")!.UplinkMacs);
        Assert.Equal([MacAddress.Parse("00:00:5e:00:53:32")], inv.FindNode("micro2")!.UplinkMacs);
        Assert.Empty(inv.FindNode("micro3")!.UplinkMacs);
        Assert.Contains("lxc network info UPLINK --target micro1", inv.Inputs);
        Assert.Empty(inv.Warnings);
    }

    [Fact]
    public void OlderLxdGivesASyntheticPortNameThatMergesIntoOvnFacts()
    {
        CloudInventory lxd = LxdInventory.Build("ovn-prod", LxdNetworkInfo.Parse(OldOvnInfo, "i"), null);
        GatewayPortInfo gw = Assert.Single(lxd.GatewayPorts);
        Assert.Equal("lxd-network:ovn-prod", gw.Port);
        Assert.Null(gw.ChassisRedirectPort);
        Assert.Equal("micro1", gw.ActiveNode);

        // The OVN side knows the real port; matched by MAC, the synthetic name gives way and the network name stays.
        var ovn = new CloudInventory();
        var real = new GatewayPortInfo { Port = "lxd-net5-lr-lrp-ext", Router = "lxd-net5-lr", Mac = MacAddress.Parse("00:16:3e:5d:2a:01"), Source = new FactSource("ovn") };
        real.Candidates.Add(new GatewayChassisPriority("micro1", 20));
        ovn.GatewayPorts.Add(real);
        CloudInventory merged = CloudInventory.Merge(lxd, ovn);
        GatewayPortInfo m = Assert.Single(merged.GatewayPorts);
        Assert.Equal(("lxd-net5-lr-lrp-ext", "ovn-prod", "micro1"), (m.Port, m.Network, m.ActiveNode));
        Assert.Equal("lxd + ovn", m.Source.Kind);
    }

    [Fact]
    public void NonOvnNetworkIsWarnedAbout()
    {
        CloudInventory inv = LxdInventory.Build("UPLINK", LxdNetworkInfo.Parse(UplinkInfo, "i"), null);
        Assert.Contains(inv.Warnings, w => w.Contains("no 'OVN:' section", StringComparison.Ordinal));
    }
}
