using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis.Inventory;

/// <summary>
/// What the probe knows about the cloud before looking at packets: nodes, router gateway ports and distributed
/// floating IPs. Every fact records where it came from (<see cref="FactSource"/>) so a report can say so.
/// Built from OVN NB/SB dumps, LXD's `lxc network` output, a hand-written YAML/JSON file, or packets alone.
/// </summary>
public sealed class CloudInventory
{
    public List<NodeInfo> Nodes { get; } = new();

    public List<GatewayPortInfo> GatewayPorts { get; } = new();

    public List<FloatingIpInfo> DistributedFloatingIps { get; } = new();

    /// <summary>OVN tunnel keys: datapath keys (the Geneve VNI) and port keys within a datapath, with their names.</summary>
    public List<TunnelKeyInfo> TunnelKeys { get; } = new();

    /// <summary>Where the inventory came from, one line per input (e.g. "ovn-sbctl list Port_Binding (sb-Port_Binding.json)").</summary>
    public List<string> Inputs { get; } = new();

    /// <summary>Things the readers noticed but could not resolve (a dangling reference, two sources disagreeing), one line each.</summary>
    public List<string> Warnings { get; } = new();

    /// <summary>True when the inventory holds no node, gateway port or floating IP.</summary>
    public bool IsEmpty => Nodes.Count == 0 && GatewayPorts.Count == 0 && DistributedFloatingIps.Count == 0 && TunnelKeys.Count == 0;

    /// <summary>A gateway port by logical router port name or chassis-redirect port name.</summary>
    public GatewayPortInfo? FindGatewayPortByName(string name) => GatewayPorts.Find(g => string.Equals(g.Port, name, StringComparison.Ordinal)
        || string.Equals(g.ChassisRedirectPort, name, StringComparison.Ordinal));

    public FloatingIpInfo? FindFloatingIpByAddress(string ip) => DistributedFloatingIps.Find(f => string.Equals(f.ExternalIp, ip, StringComparison.OrdinalIgnoreCase));

    /// <summary>The name of a datapath or port tunnel key, when known.</summary>
    public string? FindTunnelKeyName(int datapathKey, int? portKey) =>
        TunnelKeys.Find(k => k.DatapathKey == datapathKey && k.PortKey == portKey)?.Name;

    /// <summary>
    /// Merges inventories: later ones win for single facts they state (a MAC, a key, the active node), lists are
    /// united, candidate sets are replaced whole. See docs/inventory.md "Merging".
    /// </summary>
    public static CloudInventory Merge(params IEnumerable<CloudInventory> inventories) => InventoryMerger.Merge(inventories);

    public NodeInfo? FindNode(string name) => Nodes.Find(n => string.Equals(n.Name, name, StringComparison.Ordinal)
        || string.Equals(n.Chassis, name, StringComparison.Ordinal) || string.Equals(n.Hostname, name, StringComparison.Ordinal));

    public NodeInfo? FindNodeByEncapIp(string ip) => Nodes.Find(n => n.EncapIps.Contains(ip));

    public NodeInfo? FindNodeByMac(MacAddress mac) => Nodes.Find(n => n.UplinkMacs.Contains(mac));

    public GatewayPortInfo? FindGatewayPort(MacAddress mac) => GatewayPorts.Find(g => g.Mac == mac);

    public FloatingIpInfo? FindFloatingIp(MacAddress mac) => DistributedFloatingIps.Find(f => f.ExternalMac == mac);
}

/// <summary>Where a fact came from, e.g. "ovn-sbctl Chassis", "inventory.yaml", "packets: GARP burst".</summary>
public sealed record FactSource(string Kind, string? Detail = null)
{
    public override string ToString() => Detail is null ? Kind : $"{Kind} ({Detail})";
}

/// <summary>A physical host: an OVN chassis with an uplink NIC.</summary>
public sealed class NodeInfo
{
    /// <summary>The name reports use (the hostname, or the chassis name when no hostname is known).</summary>
    public required string Name { get; set; }

    /// <summary>OVN chassis name (the system-id), when known.</summary>
    public string? Chassis { get; set; }

    public string? Hostname { get; set; }

    /// <summary>MAC addresses of the node's uplink NIC(s).</summary>
    public List<MacAddress> UplinkMacs { get; } = new();

    /// <summary>Tunnel endpoint IPs (SB Encap.ip), as text (IPv4 or IPv6).</summary>
    public List<string> EncapIps { get; } = new();

    public FactSource Source { get; set; } = new("unknown");
}

/// <summary>A logical router port with gateway chassis: the one MAC that only the active chassis may emit.</summary>
public sealed class GatewayPortInfo
{
    /// <summary>Logical router name (e.g. "lr0", or LXD's "lxd-net5-lr").</summary>
    public string? Router { get; set; }

    /// <summary>The network a person knows it by (LXD network name; defaults to the router).</summary>
    public string? Network { get; set; }

    /// <summary>Logical router port name (e.g. "lr0-ext").</summary>
    public required string Port { get; set; }

    /// <summary>The chassis-redirect port (e.g. "cr-lr0-ext").</summary>
    public string? ChassisRedirectPort { get; set; }

    public MacAddress Mac { get; set; }

    /// <summary>The port's networks (CIDR text, e.g. "203.0.113.10/24").</summary>
    public List<string> Networks { get; } = new();

    /// <summary>External IPs of centralized NAT (SNAT and dnat_and_snat without logical_port) on this router.</summary>
    public List<string> NatExternalIps { get; } = new();

    /// <summary>The router's datapath tunnel key (the Geneve VNI of its traffic).</summary>
    public int? DatapathKey { get; set; }

    /// <summary>Tunnel key of the chassis-redirect port within the router datapath (Geneve option egress key toward the gateway).</summary>
    public int? PortKey { get; set; }

    /// <summary>Candidate gateway chassis and their priorities (Gateway_Chassis or HA_Chassis_Group).</summary>
    public List<GatewayChassisPriority> Candidates { get; } = new();

    /// <summary>The node the southbound DB says is active (Port_Binding.chassis of the cr- port), when the inventory had it.</summary>
    public string? ActiveNode { get; set; }

    public FactSource Source { get; set; } = new("unknown");

    public string DisplayName => Network ?? Router ?? Port;
}

public sealed record GatewayChassisPriority(string Node, int Priority);

/// <summary>A distributed floating IP: emitted by the chassis of its instance with its own MAC, not by the gateway.</summary>
public sealed class FloatingIpInfo
{
    public required string ExternalIp { get; set; }

    public MacAddress ExternalMac { get; set; }

    public string? LogicalIp { get; set; }

    public string? LogicalPort { get; set; }

    /// <summary>The node hosting the logical port (SB Port_Binding.chassis), when known.</summary>
    public string? Node { get; set; }

    public string? Router { get; set; }

    public FactSource Source { get; set; } = new("unknown");
}

/// <summary>A named OVN tunnel key: a datapath (PortKey null) or a port within a datapath.</summary>
public sealed record TunnelKeyInfo(int DatapathKey, int? PortKey, string Name);
