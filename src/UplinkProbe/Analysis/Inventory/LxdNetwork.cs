using System.Globalization;
using System.Net;
using UplinkProbe.Decoding;
using YamlDotNet.RepresentationModel;

namespace UplinkProbe.Analysis.Inventory;

/// <summary>
/// The text of <c>lxc network info NETWORK</c> (LXD's lxc/network.go, cmdNetworkInfo). For an OVN network LXD
/// fills it from lxd/network/driver_ovn.go State(): "MAC address" is <c>bridge.hwaddr</c> when set, otherwise the
/// MAC of the router's external port (lxd-netN-lr-lrp-ext) read from the OVN northbound DB; the "OVN:" section's
/// "Chassis" is the hostname of the chassis currently active for that port; newer LXD adds "Logical router",
/// "Logical switch", "IPv4 uplink address" and "IPv6 uplink address". For a physical network (an OVN uplink) the
/// MAC is that of the parent interface on the member asked (<c>--target MEMBER</c>).
/// The labels are translated by LXD: run lxc with LC_ALL=C (the collector does).
/// </summary>
public sealed class LxdNetworkInfo
{
    public required string Name { get; init; }

    public MacAddress? Mac { get; init; }

    public int? Mtu { get; init; }

    public string? State { get; init; }

    public string? Type { get; init; }

    /// <summary>"IP addresses:" entries as CIDR text (the OVN network's own internal gateway addresses).</summary>
    public IReadOnlyList<string> Addresses { get; init; } = [];

    /// <summary>True when the output had an "OVN:" section (the network is an OVN network).</summary>
    public bool IsOvn { get; init; }

    /// <summary>Hostname of the chassis hosting the router's external port, as LXD reports it.</summary>
    public string? OvnChassis { get; init; }

    public string? OvnLogicalRouter { get; init; }

    public string? OvnLogicalSwitch { get; init; }

    public string? UplinkIPv4 { get; init; }

    public string? UplinkIPv6 { get; init; }

    /// <summary>Parses the text; throws <see cref="InventoryException"/> (one line, naming <paramref name="source"/>) when it is not that output.</summary>
    public static LxdNetworkInfo Parse(string text, string source)
    {
        string? name = null, state = null, type = null, chassis = null, router = null, lswitch = null, v4 = null, v6 = null;
        MacAddress? mac = null;
        int? mtu = null;
        bool ovn = false;
        var addresses = new List<string>();
        string section = string.Empty;
        int lineNumber = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }

            bool indented = line[0] is ' ' or '\t';
            string trimmed = line.Trim();
            if (!indented && trimmed.EndsWith(':'))
            {
                section = trimmed[..^1];
                ovn |= section == "OVN";
                continue;
            }

            if (!indented)
            {
                section = string.Empty;
            }

            if (section == "IP addresses")
            {
                // "  inet\t10.0.0.1/24 (link)": family, address/prefix, scope.
                string[] parts = trimmed.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2)
                {
                    addresses.Add(parts[1]);
                }

                continue;
            }

            int colon = trimmed.IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            string key = trimmed[..colon];
            string value = trimmed[(colon + 2)..].Trim();
            switch (section, key)
            {
                case ("", "Name"):
                    name = value;
                    break;
                case ("", "MAC address"):
                    if (!MacAddress.TryParse(value, out MacAddress m))
                    {
                        throw new InventoryException($"{source}: line {lineNumber}: '{InventoryText.Clip(value)}' is not a MAC address");
                    }

                    mac = m;
                    break;
                case ("", "MTU"):
                    mtu = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int mtuValue) ? mtuValue : null;
                    break;
                case ("", "State"):
                    state = value;
                    break;
                case ("", "Type"):
                    type = value;
                    break;
                case ("OVN", "Chassis"):
                    chassis = value;
                    break;
                case ("OVN", "Logical router"):
                    router = value;
                    break;
                case ("OVN", "Logical switch"):
                    lswitch = value;
                    break;
                case ("OVN", "IPv4 uplink address"):
                    v4 = CheckIp(value, source, lineNumber);
                    break;
                case ("OVN", "IPv6 uplink address"):
                    v6 = CheckIp(value, source, lineNumber);
                    break;
            }
        }

        if (name is null)
        {
            throw new InventoryException($"{source}: not 'lxc network info' output (no 'Name:' line; run lxc with LC_ALL=C)");
        }

        return new LxdNetworkInfo
        {
            Name = name, Mac = mac, Mtu = mtu, State = state, Type = type, Addresses = addresses, IsOvn = ovn,
            OvnChassis = chassis, OvnLogicalRouter = router, OvnLogicalSwitch = lswitch, UplinkIPv4 = v4, UplinkIPv6 = v6,
        };
    }

    private static string CheckIp(string value, string source, int line)
    {
        string address = value.Split('/')[0];
        return IPAddress.TryParse(address, out _) ? address
            : throw new InventoryException($"{source}: line {line}: '{InventoryText.Clip(value)}' is not an IP address");
    }
}

/// <summary>
/// The YAML of <c>lxc network show NETWORK</c> (LXD's api.Network marshalled: name, type, managed, status,
/// config, used_by, locations, project). For an OVN network the config keys that matter here are
/// <c>network</c> (the uplink network), <c>bridge.hwaddr</c> (the router MAC, only when set by the user),
/// <c>ipv4.nat</c>/<c>ipv6.nat</c>, <c>ipv4.nat.address</c>/<c>ipv6.nat.address</c> and the
/// <c>volatile.network.ipv4.address</c>/<c>volatile.network.ipv6.address</c> router addresses on the uplink
/// (lxd/network/driver_ovn.go).
/// </summary>
public sealed class LxdNetworkConfig
{
    public required string Name { get; init; }

    public string? Type { get; init; }

    public string? Description { get; init; }

    public bool? Managed { get; init; }

    public string? Status { get; init; }

    public string? Project { get; init; }

    public IReadOnlyDictionary<string, string> Config { get; init; } = new Dictionary<string, string>();

    /// <summary>Cluster members the network is defined on.</summary>
    public IReadOnlyList<string> Locations { get; init; } = [];

    public IReadOnlyList<string> UsedBy { get; init; } = [];

    /// <summary>The uplink network (config <c>network</c>).</summary>
    public string? UplinkNetwork => Config.GetValueOrDefault("network") is { Length: > 0 } v ? v : null;

    public MacAddress? BridgeHwaddr => Config.GetValueOrDefault("bridge.hwaddr") is { } v && MacAddress.TryParse(v, out MacAddress m) ? m : null;

    public string? VolatileUplinkIPv4 => NonEmpty("volatile.network.ipv4.address");

    public string? VolatileUplinkIPv6 => NonEmpty("volatile.network.ipv6.address");

    public bool Ipv4Nat => string.Equals(Config.GetValueOrDefault("ipv4.nat"), "true", StringComparison.OrdinalIgnoreCase);

    public bool Ipv6Nat => string.Equals(Config.GetValueOrDefault("ipv6.nat"), "true", StringComparison.OrdinalIgnoreCase);

    public string? Ipv4NatAddress => NonEmpty("ipv4.nat.address");

    public string? Ipv6NatAddress => NonEmpty("ipv6.nat.address");

    private string? NonEmpty(string key) => Config.GetValueOrDefault(key) is { Length: > 0 } v ? v : null;

    /// <summary>Parses the YAML; throws <see cref="InventoryException"/> (one line) when it is not that output.</summary>
    public static LxdNetworkConfig Parse(string text, string source)
    {
        YamlStream stream = InventoryText.LoadYaml(text, source);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new InventoryException($"{source}: not 'lxc network show' output (expected a YAML mapping)");
        }

        string? Scalar(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? n) && n is YamlScalarNode s ? s.Value : null;

        List<string> Sequence(string key)
        {
            var list = new List<string>();
            if (root.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? n) && n is YamlSequenceNode seq)
            {
                foreach (YamlNode item in seq)
                {
                    if (item is YamlScalarNode { Value: { } v })
                    {
                        list.Add(v);
                    }
                }
            }

            return list;
        }

        string? name = Scalar("name");
        if (string.IsNullOrEmpty(name))
        {
            throw new InventoryException($"{source}: not 'lxc network show' output (no 'name:')");
        }

        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.Children.TryGetValue(new YamlScalarNode("config"), out YamlNode? cfg))
        {
            if (cfg is not YamlMappingNode cfgMap)
            {
                if (cfg is not YamlScalarNode { Value: null or "" or "{}" })
                {
                    throw new InventoryException($"{source}: 'config' is not a mapping");
                }
            }
            else
            {
                foreach ((YamlNode k, YamlNode v) in cfgMap.Children)
                {
                    if (k is YamlScalarNode { Value: { } key } && v is YamlScalarNode value)
                    {
                        config[key] = value.Value ?? string.Empty;
                    }
                }
            }
        }

        return new LxdNetworkConfig
        {
            Name = name,
            Type = Scalar("type"),
            Description = Scalar("description"),
            Managed = Scalar("managed") is { } managed ? string.Equals(managed, "true", StringComparison.OrdinalIgnoreCase) : null,
            Status = Scalar("status"),
            Project = Scalar("project"),
            Config = config,
            Locations = Sequence("locations"),
            UsedBy = Sequence("used_by"),
        };
    }
}

/// <summary>
/// Turns what the lxc CLI tells about one OVN network into inventory facts. What LXD can tell: the router's
/// external MAC, the active chassis hostname, the router's uplink addresses and SNAT addresses, the router name
/// (newer LXD), the cluster members, and each member's uplink NIC MAC (<c>lxc network info UPLINK --target M</c>).
/// What it cannot: the candidate chassis and their priorities (OVN NB HA_Chassis_Group), tunnel keys, encap IPs,
/// distributed floating IPs, and the uplink prefix length (addresses are recorded with a host prefix).
/// </summary>
public static class LxdInventory
{
    /// <summary>Port name used when LXD did not say the logical router's name (older LXD): "lxd-network:NAME".</summary>
    public const string SyntheticPortPrefix = "lxd-network:";

    public static CloudInventory Build(string network, LxdNetworkInfo? info, LxdNetworkConfig? config,
        IEnumerable<(string Member, LxdNetworkInfo Uplink)>? uplinkPerMember = null)
    {
        var inv = new CloudInventory();
        var sources = new List<string>();
        if (info is not null)
        {
            sources.Add($"lxc network info {network}");
            inv.Inputs.Add($"lxc network info {network}");
            if (!info.IsOvn)
            {
                inv.Warnings.Add($"lxc network info {network}: no 'OVN:' section: {network} is a {info.Type ?? "non-OVN"} network, not an OVN network");
            }
        }

        if (config is not null)
        {
            sources.Add($"lxc network show {network}");
            inv.Inputs.Add($"lxc network show {network}");
            if (config.Type is { } t && t != "ovn")
            {
                inv.Warnings.Add($"lxc network show {network}: type is '{t}', not 'ovn'");
            }
        }

        var source = new FactSource("lxd", string.Join("; ", sources));
        string? router = info?.OvnLogicalRouter;
        // LXD names the router lxd-net<ID>-lr and its uplink port <router>-lrp-ext (driver_ovn.go getRouterExtPortName).
        string port = router is not null ? router + "-lrp-ext" : SyntheticPortPrefix + network;
        var gw = new GatewayPortInfo
        {
            Network = network,
            Router = router,
            Port = port,
            ChassisRedirectPort = router is not null ? "cr-" + port : null,
            Mac = info?.Mac ?? config?.BridgeHwaddr ?? default,
            ActiveNode = info?.OvnChassis is { Length: > 0 } c ? c : null,
            Source = source,
        };

        string? v4 = info?.UplinkIPv4 ?? config?.VolatileUplinkIPv4;
        string? v6 = info?.UplinkIPv6 ?? config?.VolatileUplinkIPv6;
        if (v4 is not null)
        {
            gw.Networks.Add(v4 + "/32");
        }

        if (v6 is not null)
        {
            gw.Networks.Add(v6 + "/128");
        }

        if (config is not null)
        {
            if (config.Ipv4Nat && (config.Ipv4NatAddress ?? v4) is { } nat4)
            {
                gw.NatExternalIps.Add(nat4);
            }

            if (config.Ipv6Nat && (config.Ipv6NatAddress ?? v6) is { } nat6)
            {
                gw.NatExternalIps.Add(nat6);
            }

            foreach (string member in config.Locations)
            {
                inv.Nodes.Add(new NodeInfo { Name = member, Hostname = member, Source = new FactSource("lxd", $"lxc network show {network} (locations)") });
            }
        }

        if (gw.Mac.IsZero && gw.ActiveNode is null && router is null && v4 is null && v6 is null)
        {
            inv.Warnings.Add($"lxd {network}: neither a MAC, an active chassis nor an uplink address is known; no gateway recorded");
        }
        else
        {
            inv.GatewayPorts.Add(gw);
        }

        foreach ((string member, LxdNetworkInfo uplink) in uplinkPerMember ?? [])
        {
            string detail = $"lxc network info {uplink.Name} --target {member}";
            inv.Inputs.Add(detail);
            NodeInfo? node = inv.Nodes.Find(n => n.Name == member);
            if (node is null)
            {
                node = new NodeInfo { Name = member, Hostname = member, Source = new FactSource("lxd", detail) };
                inv.Nodes.Add(node);
            }
            else
            {
                node.Source = InventoryMerger.Combine(node.Source, new FactSource("lxd", detail));
            }

            if (uplink.Mac is MacAddress m && !node.UplinkMacs.Contains(m))
            {
                node.UplinkMacs.Add(m);
            }
        }

        return inv;
    }
}
