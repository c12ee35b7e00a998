using System.Text;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Inventory;

/// <summary>The inventory file (JSON/YAML): hand-written files, save/load round trips, merging, sniffing inputs, the lab manifest.</summary>
public sealed class InventoryFileTests
{
    private const string HandWritten = """
        # hand-written: the node MACs OVN does not know
        version: 1
        nodes:
          - name: hv1
            uplink_macs: [00:00:5e:00:53:11]
            encap_ips: [192.0.2.11]
          - name: hv2
            uplink_macs: ["00:00:5e:00:53:12", "00-00-5E-00-53-22"]
        gateways:
          - network: lr0
            port: lr0-ext
            cr_port: cr-lr0-ext
            mac: 00:16:3e:aa:00:02
            networks: [203.0.113.10/24]
            nat_ips: [203.0.113.10, 203.0.113.21]
            datapath_key: 2
            port_key: 3
            candidates: {hv1: 30, hv2: 20}
            active: hv1
        floating_ips:
          - {ip: 203.0.113.23, mac: 00:16:3e:bb:00:03, logical_port: vm3, node: hv3}
        """;

    [Fact]
    public void HandWrittenYamlLoads()
    {
        CloudInventory inv = InventoryFile.Parse(HandWritten, "site.yaml");
        Assert.Equal(["hv1", "hv2"], inv.Nodes.Select(n => n.Name));
        Assert.Equal([MacAddress.Parse("00:00:5e:00:53:11")], inv.Nodes[0].UplinkMacs);
        Assert.Equal([MacAddress.Parse("00:00:5e:00:53:12"), MacAddress.Parse("00:00:5e:00:53:22")], inv.Nodes[1].UplinkMacs);
        Assert.Equal(new FactSource("inventory", "site.yaml"), inv.Nodes[0].Source);
        Assert.Equal("hv2", inv.FindNodeByMac(MacAddress.Parse("00:00:5e:00:53:22"))!.Name);

        GatewayPortInfo gw = Assert.Single(inv.GatewayPorts);
        Assert.Equal(("lr0", "lr0-ext", "cr-lr0-ext"), (gw.Network, gw.Port, gw.ChassisRedirectPort));
        Assert.Equal(MacAddress.Parse("00:16:3e:aa:00:02"), gw.Mac);
        Assert.Equal((2, 3), (gw.DatapathKey, gw.PortKey));
        Assert.Equal([new GatewayChassisPriority("hv1", 30), new GatewayChassisPriority("hv2", 20)], gw.Candidates);
        Assert.Equal("hv1", gw.ActiveNode);
        Assert.Equal(["203.0.113.10", "203.0.113.21"], gw.NatExternalIps);

        FloatingIpInfo fip = Assert.Single(inv.DistributedFloatingIps);
        Assert.Equal(("203.0.113.23", "vm3", "hv3"), (fip.ExternalIp, fip.LogicalPort, fip.Node));
        Assert.Equal(["inventory site.yaml"], inv.Inputs);
    }

    [Fact]
    public void CandidatesMayBeAListInFallingPriority()
    {
        CloudInventory inv = InventoryFile.Parse("gateways:\n  - port: p\n    candidates: [hv3, hv1]\n", "x.yaml");
        Assert.Equal([new GatewayChassisPriority("hv3", 2), new GatewayChassisPriority("hv1", 1)], inv.GatewayPorts[0].Candidates);
    }

    [Theory]
    [InlineData(InventoryFormat.Json)]
    [InlineData(InventoryFormat.Yaml)]
    public void LabInventoryRoundTrips(InventoryFormat format)
    {
        CloudInventory original = CloudInventory.Merge(
            OvnInventoryReader.ReadDirectory(InventoryTestData.OvnLab),
            LabManifest.Load(InventoryTestData.OvnLabFile("lab.json")));
        using InventoryTestData.TempDir dir = InventoryTestData.NewTempDir();
        string path = dir.File(format == InventoryFormat.Json ? "inv.json" : "inv.yaml");
        InventoryFile.Save(original, path, format);
        Assert.Equal(format == InventoryFormat.Json ? InventoryInputKind.InventoryJson : InventoryInputKind.InventoryYaml, InventoryLoader.Sniff(path));

        CloudInventory loaded = InventoryLoader.Load(path);
        AssertSameFacts(original, loaded);
        Assert.Equal(new FactSource("inventory", $"{path}, recorded from {original.GatewayPorts[0].Source}"), loaded.GatewayPorts[0].Source);

        // Saving what was loaded gives the same facts again.
        string again = dir.File("again." + (format == InventoryFormat.Json ? "json" : "yaml"));
        InventoryFile.Save(loaded, again, format);
        AssertSameFacts(original, InventoryLoader.Load(again));
    }

    [Fact]
    public void EmptyInventoryRoundTrips()
    {
        var empty = new CloudInventory();
        foreach (InventoryFormat f in new[] { InventoryFormat.Json, InventoryFormat.Yaml })
        {
            CloudInventory loaded = InventoryFile.Parse(InventoryFile.ToString(empty, f), "e");
            Assert.True(loaded.IsEmpty);
        }
    }

    private static void AssertSameFacts(CloudInventory a, CloudInventory b)
    {
        Assert.Equal(a.Nodes.Count, b.Nodes.Count);
        for (int i = 0; i < a.Nodes.Count; i++)
        {
            NodeInfo x = a.Nodes[i], y = b.Nodes[i];
            Assert.Equal((x.Name, x.Chassis, x.Hostname), (y.Name, y.Chassis, y.Hostname));
            Assert.Equal(x.UplinkMacs, y.UplinkMacs);
            Assert.Equal(x.EncapIps, y.EncapIps);
        }

        Assert.Equal(a.GatewayPorts.Count, b.GatewayPorts.Count);
        for (int i = 0; i < a.GatewayPorts.Count; i++)
        {
            GatewayPortInfo x = a.GatewayPorts[i], y = b.GatewayPorts[i];
            Assert.Equal((x.Router, x.Network, x.Port, x.ChassisRedirectPort, x.Mac, x.DatapathKey, x.PortKey, x.ActiveNode),
                (y.Router, y.Network, y.Port, y.ChassisRedirectPort, y.Mac, y.DatapathKey, y.PortKey, y.ActiveNode));
            Assert.Equal(x.Networks, y.Networks);
            Assert.Equal(x.NatExternalIps, y.NatExternalIps);
            Assert.Equal(x.Candidates, y.Candidates);
        }

        Assert.Equal(a.DistributedFloatingIps.Count, b.DistributedFloatingIps.Count);
        for (int i = 0; i < a.DistributedFloatingIps.Count; i++)
        {
            FloatingIpInfo x = a.DistributedFloatingIps[i], y = b.DistributedFloatingIps[i];
            Assert.Equal((x.ExternalIp, x.ExternalMac, x.LogicalIp, x.LogicalPort, x.Node, x.Router), (y.ExternalIp, y.ExternalMac, y.LogicalIp, y.LogicalPort, y.Node, y.Router));
        }

        Assert.Equal(a.TunnelKeys, b.TunnelKeys);
        Assert.Equal(a.Warnings, b.Warnings);
    }

    [Fact]
    public void MergingOvnDumpsWithHandWrittenMacsKeepsOvnFactsAndAddsMacs()
    {
        CloudInventory ovn = OvnInventoryReader.ReadDirectory(InventoryTestData.OvnLab);
        CloudInventory site = InventoryFile.Parse("nodes:\n  - {name: hv1, uplink_macs: [00:00:5e:00:53:11]}\n  - {name: hv3, chassis: hv3, uplink_macs: [00:00:5e:00:53:13]}\n", "site.yaml");
        CloudInventory merged = CloudInventory.Merge(ovn, site);

        Assert.Equal(3, merged.Nodes.Count);
        NodeInfo hv1 = merged.FindNode("hv1")!;
        Assert.Equal([MacAddress.Parse("00:00:5e:00:53:11")], hv1.UplinkMacs);
        Assert.Equal(["192.0.2.11"], hv1.EncapIps);
        Assert.Equal("ovn-sbctl Chassis + inventory", hv1.Source.Kind);
        Assert.Same(merged.FindNode("hv3"), merged.FindNodeByMac(MacAddress.Parse("00:00:5e:00:53:13")));
        Assert.Empty(merged.FindNode("hv2")!.UplinkMacs);
        Assert.Equal("hv2", merged.GatewayPorts[0].ActiveNode);
        Assert.Empty(merged.Warnings);
        Assert.Equal(ovn.Inputs.Count + 1, merged.Inputs.Count);
    }

    [Fact]
    public void LaterInventoryWinsSingleFactsAndConflictsAreWarned()
    {
        CloudInventory ovn = OvnInventoryReader.ReadDirectory(InventoryTestData.OvnLab);
        CloudInventory site = InventoryFile.Parse(HandWritten, "site.yaml");
        CloudInventory merged = CloudInventory.Merge(ovn, site);

        GatewayPortInfo gw = Assert.Single(merged.GatewayPorts);
        Assert.Equal("hv1", gw.ActiveNode);                  // the hand-written file came last
        Assert.Equal(["hv1", "hv2"], gw.Candidates.Select(c => c.Node));
        Assert.Equal("lr0", gw.Router);                       // not stated by the file: kept
        Assert.Contains(merged.Warnings, w => w.StartsWith("gateway lr0: active node hv2 (ovn (", StringComparison.Ordinal) && w.Contains("replaced by hv1 (inventory (site.yaml))", StringComparison.Ordinal));
        Assert.Contains(merged.Warnings, w => w.StartsWith("gateway lr0: candidates hv2:40,hv3:10 (", StringComparison.Ordinal));

        // The other order: OVN wins.
        CloudInventory reversed = CloudInventory.Merge(site, ovn);
        Assert.Equal("hv2", reversed.GatewayPorts[0].ActiveNode);
    }

    [Fact]
    public void NodesMatchAcrossChassisAndHostnameNames()
    {
        var a = new CloudInventory();
        a.Nodes.Add(new NodeInfo { Name = "micro2", Chassis = "6c2e0f4a-0000-4000-8000-000000000002", Hostname = "micro2" });
        var gw = new GatewayPortInfo { Port = "p" };
        gw.Candidates.Add(new GatewayChassisPriority("6c2e0f4a-0000-4000-8000-000000000002", 5));
        var b = new CloudInventory();
        b.GatewayPorts.Add(gw);
        var n = new NodeInfo { Name = "6c2e0f4a-0000-4000-8000-000000000002" };
        n.UplinkMacs.Add(MacAddress.Parse("00:00:5e:00:53:42"));
        b.Nodes.Add(n);

        CloudInventory merged = CloudInventory.Merge(a, b);
        NodeInfo node = Assert.Single(merged.Nodes);
        Assert.Equal("micro2", node.Name);
        Assert.Single(node.UplinkMacs);
        Assert.Equal("micro2", merged.GatewayPorts[0].Candidates[0].Node);
    }

    [Theory]
    [InlineData("nodes:\n  - name: hv1\n    uplink_mac: 00:00:5e:00:53:11\n", "x.yaml: line 3: nodes[0]: unknown key 'uplink_mac' (known: name, chassis, hostname, uplink_macs, encap_ips, source)")]
    [InlineData("nodes:\n  - {name: hv1, uplink_macs: [00:00:5e:00:53]}\n", "nodes[0].uplink_macs: '00:00:5e:00:53' is not a MAC address")]
    [InlineData("nodes:\n  - {chassis: hv1}\n", "nodes[0]: 'name' is required")]
    [InlineData("nodes:\n  - {name: a}\n  - {name: a}\n", "nodes[1]: node 'a' appears twice")]
    [InlineData("nodes: {name: a}\n", "nodes: expected a list")]
    [InlineData("gateways:\n  - {port: p, datapath_key: two}\n", "gateways[0].datapath_key: 'two' is not an integer")]
    [InlineData("gateways:\n  - {port: p, port_key: -1}\n", "gateways[0].port_key: a tunnel key cannot be negative")]
    [InlineData("gateways:\n  - {port: p, networks: [203.0.113.10/99]}\n", "gateways[0].networks: '203.0.113.10/99' is not an address/prefix")]
    [InlineData("gateways:\n  - {port: p, candidates: hv1}\n", "gateways[0].candidates: expected a mapping of node: priority")]
    [InlineData("gateways:\n  - {port: p, candidates: {hv1: high}}\n", "gateways[0].candidates.hv1: 'high' is not an integer")]
    [InlineData("floating_ips:\n  - {ip: 203.0.113.300}\n", "floating_ips[0].ip: '203.0.113.300' is not an IP address")]
    [InlineData("version: 2\n", "version: schema version 2 is not supported")]
    [InlineData("nodez: []\n", "the file: unknown key 'nodez'")]
    [InlineData("- a\n", "the file: expected a mapping")]
    [InlineData("nodes: [\n", "x.yaml: invalid YAML at line")]
    [InlineData("a: &x 1\nb: *x\n", "x.yaml: line 1: YAML anchors and aliases are not supported")]
    public void MalformedYamlIsAOneLineErrorWithItsPlace(string text, string expected)
    {
        var ex = Assert.Throws<InventoryException>(() => InventoryFile.Parse(text, "x.yaml"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Theory]
    [InlineData("{\"nodes\": [{\"name\": 1}]", "x.json: invalid JSON")]
    [InlineData("{\"nodes\": [{\"name\": \"a\", \"uplink_macs\": \"zz\"}]}", "x.json: nodes[0].uplink_macs: 'zz' is not a MAC address")]
    [InlineData("{\"gateways\": [{\"mac\": \"00:16:3e:aa:00:02\"}]}", "x.json: gateways[0]: 'port' is required")]
    public void MalformedJsonIsAOneLineError(string text, string expected)
    {
        var ex = Assert.Throws<InventoryException>(() => InventoryFile.Parse(text, "x.json"));
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void LoaderTellsEveryKindOfInput()
    {
        using InventoryTestData.TempDir dir = InventoryTestData.NewTempDir();
        Assert.Equal(InventoryInputKind.OvsdbDumpDirectory, InventoryLoader.Sniff(InventoryTestData.OvnLab));
        Assert.Equal(InventoryInputKind.OvsdbDumpFile, InventoryLoader.Sniff(InventoryTestData.OvnLabFile("sb-Encap.json")));
        Assert.Equal(InventoryInputKind.LabManifest, InventoryLoader.Sniff(InventoryTestData.OvnLabFile("lab.json")));
        Assert.Equal(InventoryInputKind.InventoryYaml, InventoryLoader.Sniff(dir.Write("a.yaml", HandWritten)));
        Assert.Equal(InventoryInputKind.InventoryJson, InventoryLoader.Sniff(dir.Write("b.json", "\uFEFF { \"nodes\": [] }")));

        CloudInventory single = InventoryLoader.Load(InventoryTestData.OvnLabFile("sb-Encap.json"));
        Assert.Equal(["hv1", "hv2", "hv3"], single.Nodes.Select(n => n.Name));

        var ex = Assert.Throws<InventoryException>(() => InventoryLoader.Load(dir.File("missing.yaml")));
        Assert.Equal(dir.File("missing.yaml") + ": no such file or directory", ex.Message);
    }

    [Fact]
    public void LabManifestGivesNodeUplinkMacsAndTheRouter()
    {
        CloudInventory lab = LabManifest.Load(InventoryTestData.OvnLabFile("lab.json"));
        Assert.Equal(["hv1", "hv2", "hv3"], lab.Nodes.Select(n => n.Name));
        Assert.Equal([MacAddress.Parse("00:00:5e:00:53:11")], lab.FindNode("hv1")!.UplinkMacs);
        Assert.Equal([MacAddress.Parse("00:00:5e:00:53:13")], lab.FindNode("hv3")!.UplinkMacs);
        Assert.Equal(["192.0.2.12"], lab.FindNode("hv2")!.EncapIps);
        Assert.Equal("lab manifest", lab.Nodes[0].Source.Kind);

        GatewayPortInfo gw = Assert.Single(lab.GatewayPorts);
        Assert.Equal(("lr0", "lr0-ext", "cr-lr0-ext"), (gw.Router, gw.Port, gw.ChassisRedirectPort));
        Assert.Equal(MacAddress.Parse("00:16:3e:aa:00:02"), gw.Mac);
        Assert.Equal(["203.0.113.21", "203.0.113.10"], gw.NatExternalIps);
        FloatingIpInfo fip = Assert.Single(lab.DistributedFloatingIps);
        Assert.Equal(("203.0.113.23", "vm3", "hv3"), (fip.ExternalIp, fip.LogicalPort, fip.Node));
        Assert.Equal(MacAddress.Parse("00:16:3e:bb:00:03"), fip.ExternalMac);
    }

    [Theory]
    [InlineData("{\"lab\": \"x\"}", "not a lab manifest (no \"nodes\" array)")]
    [InlineData("{\"lab\": \"x\", \"nodes\": [{\"name\": \"hv1\", \"uplink_mac\": \"nope\"}]}", "nodes[0].uplink_mac: 'nope' is not a MAC address")]
    [InlineData("{\"lab\": \"x\", \"nodes\": [{\"name\": 7}]}", "nodes[0].name: expected a string")]
    public void MalformedLabManifestIsAOneLineError(string json, string expected)
    {
        var ex = Assert.Throws<InventoryException>(() => LabManifest.Parse(Encoding.UTF8.GetBytes(json), "lab.json"));
        Assert.Equal("lab.json: " + expected, ex.Message);
    }

    [Fact]
    public void TextSummaryNamesTheFacts()
    {
        string text = InventoryFile.ToString(OvnInventoryReader.ReadDirectory(InventoryTestData.OvnLab), InventoryFormat.Text);
        Assert.Contains("  hv2  uplink MAC ?  encap 192.0.2.12  [ovn-sbctl Chassis (", text, StringComparison.Ordinal);
        Assert.Contains("  lr0: port lr0-ext (cr-lr0-ext)  MAC 00:16:3e:aa:00:02", text, StringComparison.Ordinal);
        Assert.Contains("    candidates hv2 (40), hv3 (10)  active hv2", text, StringComparison.Ordinal);
        Assert.Contains("  203.0.113.23  MAC 00:16:3e:bb:00:03  port vm3  logical IP 198.51.100.13  node hv3", text, StringComparison.Ordinal);
        Assert.Contains("  datapath 2 port 3: cr-lr0-ext", text, StringComparison.Ordinal);
    }
}
