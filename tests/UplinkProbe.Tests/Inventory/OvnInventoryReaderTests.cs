using System.Text;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Inventory;

/// <summary>OVN NB/SB dumps to inventory: the real lab dumps, subsets of them, and the HA_Chassis_Group forms LXD uses.</summary>
public sealed class OvnInventoryReaderTests
{
    private static readonly MacAddress GatewayMac = MacAddress.Parse("00:16:3e:aa:00:02");

    [Fact]
    public void LabDumpsGiveNodesGatewayFloatingIpAndKeys()
    {
        CloudInventory inv = OvnInventoryReader.ReadDirectory(InventoryTestData.OvnLab);

        Assert.Equal(["hv1", "hv2", "hv3"], inv.Nodes.Select(n => n.Name));
        Assert.Equal(["192.0.2.11"], inv.FindNode("hv1")!.EncapIps);
        Assert.Equal(["192.0.2.12"], inv.FindNode("hv2")!.EncapIps);
        Assert.Equal(["192.0.2.13"], inv.FindNode("hv3")!.EncapIps);
        Assert.Equal("hv2", inv.FindNodeByEncapIp("192.0.2.12")!.Name);
        Assert.All(inv.Nodes, n => Assert.Equal(n.Name, n.Chassis));
        Assert.All(inv.Nodes, n => Assert.Empty(n.UplinkMacs));
        Assert.Equal("ovn-sbctl Chassis", inv.Nodes[0].Source.Kind);

        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Same(gw, inv.FindGatewayPort(GatewayMac));
        Assert.Equal("lr0", gw.Router);
        Assert.Equal("lr0", gw.DisplayName);
        Assert.Equal("lr0-ext", gw.Port);
        Assert.Equal("cr-lr0-ext", gw.ChassisRedirectPort);
        Assert.Equal(["203.0.113.10/24"], gw.Networks);
        Assert.Equal(["203.0.113.10", "203.0.113.21"], gw.NatExternalIps.Order(StringComparer.Ordinal));
        Assert.Equal(2, gw.DatapathKey);
        Assert.Equal(3, gw.PortKey);
        // At the end of the lab run hv1 had been removed from the gateway chassis (geneve-drop scenario).
        Assert.Equal([new GatewayChassisPriority("hv2", 40), new GatewayChassisPriority("hv3", 10)], gw.Candidates);
        Assert.Equal("hv2", gw.ActiveNode);
        Assert.Equal("ovn", gw.Source.Kind);
        Assert.Contains("nb-Gateway_Chassis.json", gw.Source.Detail, StringComparison.Ordinal);
        Assert.Contains("sb-Port_Binding.json", gw.Source.Detail, StringComparison.Ordinal);

        FloatingIpInfo fip = Assert.Single(inv.DistributedFloatingIps);
        Assert.Same(fip, inv.FindFloatingIp(MacAddress.Parse("00:16:3e:bb:00:03")));
        Assert.Equal("203.0.113.23", fip.ExternalIp);
        Assert.Equal("198.51.100.13", fip.LogicalIp);
        Assert.Equal("vm3", fip.LogicalPort);
        Assert.Equal("hv3", fip.Node);
        Assert.Equal("lr0", fip.Router);

        Assert.Equal("ls-inst", inv.FindTunnelKeyName(1, null));
        Assert.Equal("lr0", inv.FindTunnelKeyName(2, null));
        Assert.Equal("ls-ext", inv.FindTunnelKeyName(3, null));
        Assert.Equal("cr-lr0-ext", inv.FindTunnelKeyName(2, 3));
        Assert.Equal("lr0-ext", inv.FindTunnelKeyName(2, 2));
        Assert.Equal("vm3", inv.FindTunnelKeyName(1, 3));
        Assert.Equal("ln-ext", inv.FindTunnelKeyName(3, 1));
        Assert.Equal(12, inv.TunnelKeys.Count);

        Assert.Empty(inv.Warnings);
        Assert.Contains("ovn-sbctl list Port_Binding (" + InventoryTestData.OvnLabFile("sb-Port_Binding.json") + ")", inv.Inputs);
        Assert.Equal(10, inv.Inputs.Count);
    }

    [Fact]
    public void SouthboundAloneStillGivesGatewayActiveNodeNatAndFloatingIp()
    {
        CloudInventory inv = OvnInventoryReader.ReadFiles(
            new[] { "sb-Chassis.json", "sb-Encap.json", "sb-Datapath_Binding.json", "sb-Port_Binding.json" }.Select(InventoryTestData.OvnLabFile));

        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Equal("lr0-ext", gw.Port);
        Assert.Equal("lr0", gw.Router);
        Assert.Equal(GatewayMac, gw.Mac);                       // from Port_Binding.mac of the cr port
        Assert.Equal(["203.0.113.10/24"], gw.Networks);
        Assert.Equal("hv2", gw.ActiveNode);
        Assert.Equal((2, 3), (gw.DatapathKey, gw.PortKey));
        Assert.Empty(gw.Candidates);                            // no SB HA_Chassis dump, no NB Gateway_Chassis
        // Without NB NAT the patch port's nat_addresses tell the gateway's and the FIP's addresses.
        Assert.Equal(["203.0.113.10", "203.0.113.21"], gw.NatExternalIps.Order(StringComparer.Ordinal));
        FloatingIpInfo fip = Assert.Single(inv.DistributedFloatingIps);
        Assert.Equal(("203.0.113.23", "vm3", "hv3"), (fip.ExternalIp, fip.LogicalPort, fip.Node));
        Assert.Equal(MacAddress.Parse("00:16:3e:bb:00:03"), fip.ExternalMac);
    }

    [Fact]
    public void NorthboundAloneGivesCandidatesButNoActiveNodeOrKeys()
    {
        CloudInventory inv = OvnInventoryReader.ReadFiles(
            new[] { "nb-Logical_Router.json", "nb-Logical_Router_Port.json", "nb-Gateway_Chassis.json", "nb-NAT.json" }.Select(InventoryTestData.OvnLabFile));

        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Equal(("lr0", "lr0-ext", "cr-lr0-ext"), (gw.Router, gw.Port, gw.ChassisRedirectPort));
        Assert.Equal(GatewayMac, gw.Mac);
        Assert.Equal(["hv2", "hv3"], gw.Candidates.Select(c => c.Node));
        Assert.Null(gw.ActiveNode);
        Assert.Null(gw.DatapathKey);
        Assert.Empty(inv.TunnelKeys);
        // Chassis named by Gateway_Chassis become nodes even without SB Chassis.
        Assert.Equal(["hv2", "hv3"], inv.Nodes.Select(n => n.Name));
        FloatingIpInfo fip = Assert.Single(inv.DistributedFloatingIps);
        Assert.Null(fip.Node);
    }

    [Fact]
    public void PlainTableFileNamesAreTold()
    {
        using InventoryTestData.TempDir dir = InventoryTestData.NewTempDir();
        foreach (string f in Directory.EnumerateFiles(InventoryTestData.OvnLab, "*-*.json").Where(f => !f.EndsWith("HA_Chassis_Group.json", StringComparison.Ordinal)))
        {
            File.Copy(f, dir.File(Path.GetFileName(f)[3..]));
        }

        // HA_Chassis_Group exists in both databases: its columns say which (SB has ref_chassis). Only one file can
        // have that name, so the SB one is kept here.
        File.Copy(InventoryTestData.OvnLabFile("sb-HA_Chassis_Group.json"), dir.File("HA_Chassis_Group.json"));
        CloudInventory inv = OvnInventoryReader.ReadDirectory(dir.Path);
        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Equal("hv2", gw.ActiveNode);
        Assert.Equal(2, gw.Candidates.Count);
        Assert.Contains("ovn-sbctl list HA_Chassis_Group (" + dir.File("HA_Chassis_Group.json") + ")", inv.Inputs);
        Assert.Contains("ovn-nbctl list Gateway_Chassis (" + dir.File("Gateway_Chassis.json") + ")", inv.Inputs);
    }

    // An LXD-style deployment (documentation addresses): the router port points at an NB HA_Chassis_Group whose
    // HA_Chassis rows name chassis and priorities (ovn-nb(5)); the chassis names are UUIDs and the hostnames differ
    // (as with OpenStack), so candidates must come out as hostnames.
    private const string NbRouter = """{"headings":["_uuid","name","ports","nat"],"data":[[["uuid","00000000-0000-0000-0000-0000000000a1"],"lxd-net5-lr",["set",[["uuid","00000000-0000-0000-0000-0000000000b1"]]],["uuid","00000000-0000-0000-0000-0000000000e1"]]]}""";
    private const string NbPort = """{"headings":["_uuid","name","mac","networks","gateway_chassis","ha_chassis_group","options"],"data":[[["uuid","00000000-0000-0000-0000-0000000000b1"],"lxd-net5-lr-lrp-ext","00:16:3e:5d:2a:01",["set",["203.0.113.50/24","2001:db8:ff::50/64"]],["set",[]],["uuid","00000000-0000-0000-0000-0000000000c1"],["map",[]]]]}""";
    private const string NbGroup = """{"headings":["_uuid","name","ha_chassis","external_ids"],"data":[[["uuid","00000000-0000-0000-0000-0000000000c1"],"lxd-net5",["set",[["uuid","00000000-0000-0000-0000-0000000000d1"],["uuid","00000000-0000-0000-0000-0000000000d2"],["uuid","00000000-0000-0000-0000-0000000000d3"]]],["map",[]]]]}""";
    private const string NbHaChassis = """{"headings":["_uuid","chassis_name","priority","external_ids"],"data":[[["uuid","00000000-0000-0000-0000-0000000000d1"],"6c2e0f4a-0000-4000-8000-000000000001",17000,["map",[]]],[["uuid","00000000-0000-0000-0000-0000000000d2"],"6c2e0f4a-0000-4000-8000-000000000002",32767,["map",[]]],[["uuid","00000000-0000-0000-0000-0000000000d3"],"6c2e0f4a-0000-4000-8000-000000000003",9000,["map",[]]]]}""";
    private const string NbNat = """{"headings":["_uuid","type","external_ip","external_mac","logical_ip","logical_port"],"data":[[["uuid","00000000-0000-0000-0000-0000000000e1"],"snat","203.0.113.50",["set",[]],"198.51.100.0/24",["set",[]]]]}""";
    private const string SbChassis = """{"headings":["_uuid","name","hostname","encaps"],"data":[[["uuid","10000000-0000-0000-0000-000000000001"],"6c2e0f4a-0000-4000-8000-000000000001","micro1",["uuid","20000000-0000-0000-0000-000000000001"]],[["uuid","10000000-0000-0000-0000-000000000002"],"6c2e0f4a-0000-4000-8000-000000000002","micro2",["uuid","20000000-0000-0000-0000-000000000002"]],[["uuid","10000000-0000-0000-0000-000000000003"],"6c2e0f4a-0000-4000-8000-000000000003","micro3",["set",[]]]]}""";
    // Encap rows found through Chassis.encaps when chassis_name is not in the dump.
    private const string SbEncap = """{"headings":["_uuid","ip","type"],"data":[[["uuid","20000000-0000-0000-0000-000000000001"],"192.0.2.21","geneve"],[["uuid","20000000-0000-0000-0000-000000000002"],"192.0.2.22","geneve"]]}""";
    private const string SbDatapath = """{"headings":["_uuid","external_ids","tunnel_key"],"data":[[["uuid","30000000-0000-0000-0000-000000000001"],["map",[["logical-router","00000000-0000-0000-0000-0000000000a1"],["name","lxd-net5-lr"]]],7]]}""";
    private const string SbPortBinding = """{"headings":["_uuid","logical_port","type","tunnel_key","datapath","chassis","options","ha_chassis_group","mac"],"data":[[["uuid","40000000-0000-0000-0000-000000000001"],"cr-lxd-net5-lr-lrp-ext","chassisredirect",2,["uuid","30000000-0000-0000-0000-000000000001"],["uuid","10000000-0000-0000-0000-000000000002"],["map",[["distributed-port","lxd-net5-lr-lrp-ext"]]],["uuid","50000000-0000-0000-0000-000000000001"],"00:16:3e:5d:2a:01 203.0.113.50/24 2001:db8:ff::50/64"]]}""";
    private const string SbGroup = """{"headings":["_uuid","name","ha_chassis","ref_chassis"],"data":[[["uuid","50000000-0000-0000-0000-000000000001"],"lxd-net5",["set",[["uuid","60000000-0000-0000-0000-000000000001"],["uuid","60000000-0000-0000-0000-000000000002"]]],["set",[]]]]}""";
    private const string SbHaChassis = """{"headings":["_uuid","chassis","priority"],"data":[[["uuid","60000000-0000-0000-0000-000000000001"],["uuid","10000000-0000-0000-0000-000000000001"],5],[["uuid","60000000-0000-0000-0000-000000000002"],["uuid","10000000-0000-0000-0000-000000000003"],6]]}""";

    private static OvsdbTable T(string json, string name, string db) => OvsdbTable.Parse(Encoding.UTF8.GetBytes(json), name, $"{db}-{name}.json");

    [Fact]
    public void NorthboundHaChassisGroupGivesCandidatesByHostname()
    {
        var reader = new OvnInventoryReader();
        reader.Add(T(NbRouter, "Logical_Router", "nb"), OvnDatabase.Northbound);
        reader.Add(T(NbPort, "Logical_Router_Port", "nb"), OvnDatabase.Northbound);
        reader.Add(T(NbGroup, "HA_Chassis_Group", "nb"));   // told NB by its columns
        reader.Add(T(NbHaChassis, "HA_Chassis", "nb"));
        reader.Add(T(NbNat, "NAT", "nb"));
        reader.Add(T(SbChassis, "Chassis", "sb"));
        reader.Add(T(SbEncap, "Encap", "sb"));
        reader.Add(T(SbDatapath, "Datapath_Binding", "sb"));
        reader.Add(T(SbPortBinding, "Port_Binding", "sb"));
        CloudInventory inv = reader.Build();

        Assert.Equal(["micro1", "micro2", "micro3"], inv.Nodes.Select(n => n.Name));
        Assert.Equal("6c2e0f4a-0000-4000-8000-000000000002", inv.FindNode("micro2")!.Chassis);
        Assert.Same(inv.FindNode("micro2"), inv.FindNode("6c2e0f4a-0000-4000-8000-000000000002"));
        Assert.Equal(["192.0.2.22"], inv.FindNode("micro2")!.EncapIps);
        Assert.Empty(inv.FindNode("micro3")!.EncapIps);

        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Equal(("lxd-net5-lr", "lxd-net5-lr-lrp-ext", "cr-lxd-net5-lr-lrp-ext"), (gw.Router, gw.Port, gw.ChassisRedirectPort));
        Assert.Equal(MacAddress.Parse("00:16:3e:5d:2a:01"), gw.Mac);
        Assert.Equal(["203.0.113.50/24", "2001:db8:ff::50/64"], gw.Networks);
        Assert.Equal(
            [new GatewayChassisPriority("micro2", 32767), new GatewayChassisPriority("micro1", 17000), new GatewayChassisPriority("micro3", 9000)],
            gw.Candidates);
        Assert.Equal("micro2", gw.ActiveNode);
        Assert.Equal((7, 2), (gw.DatapathKey, gw.PortKey));
        Assert.Equal(["203.0.113.50"], gw.NatExternalIps);
        Assert.Empty(inv.Warnings);
    }

    [Fact]
    public void SouthboundHaChassisGroupGivesCandidatesWhenNorthboundIsAbsent()
    {
        var reader = new OvnInventoryReader();
        reader.Add(T(SbChassis, "Chassis", "sb"));
        reader.Add(T(SbDatapath, "Datapath_Binding", "sb"));
        reader.Add(T(SbPortBinding, "Port_Binding", "sb"));
        reader.Add(T(SbGroup, "HA_Chassis_Group", "sb"));   // told SB by ref_chassis
        reader.Add(T(SbHaChassis, "HA_Chassis", "sb"));     // told SB by its chassis column
        CloudInventory inv = reader.Build();

        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Equal([new GatewayChassisPriority("micro3", 6), new GatewayChassisPriority("micro1", 5)], gw.Candidates);
        Assert.Equal("micro2", gw.ActiveNode);
        Assert.Equal("lxd-net5-lr-lrp-ext", gw.Port);
    }

    [Fact]
    public void DanglingReferencesBecomeWarningsNotFailures()
    {
        const string pb = """{"headings":["_uuid","logical_port","type","tunnel_key","datapath","chassis"],"data":[[["uuid","40000000-0000-0000-0000-000000000009"],"cr-x","chassisredirect",1,["set",[]],["uuid","10000000-0000-0000-0000-0000000000ff"]]]}""";
        var reader = new OvnInventoryReader();
        reader.Add(T(SbChassis, "Chassis", "sb"));
        reader.Add(T(pb, "Port_Binding", "sb"));
        reader.Add(T(NbNat.Replace("snat", "dnat"), "NAT", "nb"), OvnDatabase.Northbound);
        CloudInventory inv = reader.Build();
        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Equal("x", gw.Port);
        Assert.Null(gw.ActiveNode);
        Assert.Contains(inv.Warnings, w => w.Contains("cr-x is bound to chassis 10000000-0000-0000-0000-0000000000ff which is not in the Chassis dump", StringComparison.Ordinal));
        // One gateway and no Logical_Router dump: the centralized NAT IP goes to the only gateway there is.
        Assert.Equal(["203.0.113.50"], gw.NatExternalIps);
    }

    [Fact]
    public void AmbiguousOrEmptyInputsAreWarnedAbout()
    {
        using InventoryTestData.TempDir dir = InventoryTestData.NewTempDir();
        dir.Write("HA_Chassis.json", """{"headings":["_uuid","priority"],"data":[]}""");
        dir.Write("sb-Encap.json", "");
        dir.Write("nb-Logical_Switch_Port.json", "ignored: not a table the reader uses");
        var reader = new OvnInventoryReader();
        Assert.Equal(2, reader.AddDirectory(dir.Path));
        CloudInventory inv = reader.Build();
        Assert.True(inv.IsEmpty);
        Assert.Contains(inv.Warnings, w => w.Contains("cannot tell whether HA_Chassis is a northbound or southbound table", StringComparison.Ordinal));
        Assert.Contains(inv.Warnings, w => w.EndsWith("sb-Encap.json: empty (the table was not dumped?); ignored", StringComparison.Ordinal));
    }

    [Fact]
    public void DirectoryWithoutDumpsIsAnError()
    {
        using InventoryTestData.TempDir dir = InventoryTestData.NewTempDir();
        var ex = Assert.Throws<InventoryException>(() => OvnInventoryReader.ReadDirectory(dir.Path));
        Assert.Contains("no OVN table dump in it", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<InventoryException>(() => OvnInventoryReader.ReadDirectory(dir.File("missing")));
        Assert.EndsWith("missing: no such directory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedDumpInDirectoryNamesTheFile()
    {
        using InventoryTestData.TempDir dir = InventoryTestData.NewTempDir();
        File.Copy(InventoryTestData.OvnLabFile("sb-Chassis.json"), dir.File("sb-Chassis.json"));
        dir.Write("sb-Port_Binding.json", """{"headings":["logical_port","tunnel_key"],"data":[["cr-a","seven"]]}""");
        var ex = Assert.Throws<InventoryException>(() => OvnInventoryReader.ReadDirectory(dir.Path));
        Assert.Equal(dir.File("sb-Port_Binding.json") + ": row 1 column 'tunnel_key': expected an integer", ex.Message);
    }

    [Theory]
    [InlineData("00:16:3e:aa:00:02 203.0.113.10 is_chassis_resident(\"cr-lr0-ext\")", "00:16:3e:aa:00:02", "203.0.113.10", "cr-lr0-ext")]
    [InlineData("00:16:3e:bb:00:03 203.0.113.23 2001:db8::23 is_chassis_resident(\"vm3\")", "00:16:3e:bb:00:03", "203.0.113.23,2001:db8::23", "vm3")]
    public void NatAddressesEntriesParse(string entry, string mac, string ips, string resident)
    {
        Assert.True(OvnInventoryReader.TryParseNatAddresses(entry, out string? m, out List<string>? i, out string? r));
        Assert.Equal((mac, ips, resident), (m, string.Join(',', i!), r));
    }

    [Theory]
    [InlineData("router")]
    [InlineData("00:16:3e:aa:00:02 203.0.113.10")]
    [InlineData("zz 203.0.113.10 is_chassis_resident(\"x\")")]
    [InlineData("00:16:3e:aa:00:02 is_chassis_resident(\"x\")")]
    public void NatAddressesEntriesThatAreNotAddressesAreSkipped(string entry)
    {
        Assert.False(OvnInventoryReader.TryParseNatAddresses(entry, out _, out _, out _));
    }
}
