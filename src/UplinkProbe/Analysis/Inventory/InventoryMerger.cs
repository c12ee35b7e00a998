namespace UplinkProbe.Analysis.Inventory;

/// <summary>
/// Merges inventories in order. Precedence (docs/inventory.md "Merging"): a later inventory wins for every single
/// fact it states (chassis, hostname, MAC, tunnel keys, active node, ...) and a warning names both values when they
/// differ; lists (uplink MACs, encap IPs, networks, NAT IPs) are united; a candidate set is one fact and is
/// replaced whole. Nodes match by name, chassis or hostname (any of them), or a shared encap IP or uplink MAC;
/// gateway ports by port name, chassis-redirect port name or MAC; floating IPs by external IP.
/// </summary>
internal static class InventoryMerger
{
    public static CloudInventory Merge(IEnumerable<CloudInventory> inventories)
    {
        var result = new CloudInventory();
        foreach (CloudInventory inv in inventories)
        {
            result.Inputs.AddRange(inv.Inputs);
            result.Warnings.AddRange(inv.Warnings);
            foreach (NodeInfo n in inv.Nodes)
            {
                MergeNode(result, n);
            }

            foreach (GatewayPortInfo g in inv.GatewayPorts)
            {
                MergeGateway(result, g);
            }

            foreach (FloatingIpInfo f in inv.DistributedFloatingIps)
            {
                MergeFloatingIp(result, f);
            }

            foreach (TunnelKeyInfo k in inv.TunnelKeys)
            {
                int i = result.TunnelKeys.FindIndex(x => x.DatapathKey == k.DatapathKey && x.PortKey == k.PortKey);
                if (i < 0)
                {
                    result.TunnelKeys.Add(k);
                }
                else
                {
                    result.TunnelKeys[i] = k;
                }
            }
        }

        Normalize(result);
        return result;
    }

    /// <summary>Points candidate, active and floating-IP node references at node names, dedupes and sorts.</summary>
    internal static void Normalize(CloudInventory inv)
    {
        foreach (GatewayPortInfo g in inv.GatewayPorts)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var candidates = new List<GatewayChassisPriority>();
            foreach (GatewayChassisPriority c in g.Candidates)
            {
                string name = inv.FindNode(c.Node)?.Name ?? c.Node;
                if (seen.Add(name))
                {
                    candidates.Add(c with { Node = name });
                }
            }

            candidates.Sort(static (a, b) => b.Priority != a.Priority ? b.Priority.CompareTo(a.Priority) : string.CompareOrdinal(a.Node, b.Node));
            g.Candidates.Clear();
            g.Candidates.AddRange(candidates);
            if (g.ActiveNode is { } active)
            {
                g.ActiveNode = inv.FindNode(active)?.Name ?? active;
            }
        }

        foreach (FloatingIpInfo f in inv.DistributedFloatingIps)
        {
            if (f.Node is { } n)
            {
                f.Node = inv.FindNode(n)?.Name ?? n;
            }
        }

        inv.Nodes.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        inv.TunnelKeys.Sort(static (a, b) => a.DatapathKey != b.DatapathKey ? a.DatapathKey.CompareTo(b.DatapathKey)
            : (a.PortKey ?? -1).CompareTo(b.PortKey ?? -1));
    }

    private static void MergeNode(CloudInventory into, NodeInfo n)
    {
        NodeInfo? existing = into.Nodes.Find(e => SameNode(e, n));
        if (existing is null)
        {
            var copy = new NodeInfo { Name = n.Name, Chassis = n.Chassis, Hostname = n.Hostname, Source = n.Source };
            copy.UplinkMacs.AddRange(n.UplinkMacs);
            copy.EncapIps.AddRange(n.EncapIps);
            into.Nodes.Add(copy);
            return;
        }

        string what = $"node {existing.Name}";
        existing.Chassis = Pick(into, what, "chassis", existing.Chassis, n.Chassis, existing.Source, n.Source);
        existing.Hostname = Pick(into, what, "hostname", existing.Hostname, n.Hostname, existing.Source, n.Source);
        Union(existing.UplinkMacs, n.UplinkMacs);
        Union(existing.EncapIps, n.EncapIps);
        existing.Source = Combine(existing.Source, n.Source);
    }

    private static bool SameNode(NodeInfo a, NodeInfo b)
    {
        string?[] ka = [a.Name, a.Chassis, a.Hostname];
        string?[] kb = [b.Name, b.Chassis, b.Hostname];
        foreach (string? x in ka)
        {
            if (x is not null && Array.IndexOf(kb, x) >= 0)
            {
                return true;
            }
        }

        return a.EncapIps.Exists(b.EncapIps.Contains) || a.UplinkMacs.Exists(b.UplinkMacs.Contains);
    }

    private static void MergeGateway(CloudInventory into, GatewayPortInfo g)
    {
        GatewayPortInfo? existing = into.GatewayPorts.Find(e => e.Port == g.Port
            || (g.ChassisRedirectPort is not null && e.ChassisRedirectPort == g.ChassisRedirectPort)
            || (!g.Mac.IsZero && e.Mac == g.Mac));
        if (existing is null)
        {
            var copy = new GatewayPortInfo
            {
                Router = g.Router, Network = g.Network, Port = g.Port, ChassisRedirectPort = g.ChassisRedirectPort, Mac = g.Mac,
                DatapathKey = g.DatapathKey, PortKey = g.PortKey, ActiveNode = g.ActiveNode, Source = g.Source,
            };
            copy.Networks.AddRange(g.Networks);
            copy.NatExternalIps.AddRange(g.NatExternalIps);
            copy.Candidates.AddRange(g.Candidates);
            into.GatewayPorts.Add(copy);
            return;
        }

        string what = $"gateway {existing.DisplayName}";
        if (existing.Port != g.Port && existing.Port.StartsWith(LxdInventory.SyntheticPortPrefix, StringComparison.Ordinal))
        {
            existing.Port = g.Port;
        }

        existing.Router = Pick(into, what, "router", existing.Router, g.Router, existing.Source, g.Source);
        existing.Network = g.Network is not null && g.Network != g.Router ? g.Network : existing.Network ?? g.Network;
        existing.ChassisRedirectPort = Pick(into, what, "chassis-redirect port", existing.ChassisRedirectPort, g.ChassisRedirectPort, existing.Source, g.Source);
        if (!g.Mac.IsZero)
        {
            if (!existing.Mac.IsZero && existing.Mac != g.Mac)
            {
                into.Warnings.Add($"{what}: MAC {existing.Mac} ({existing.Source}) replaced by {g.Mac} ({g.Source})");
            }

            existing.Mac = g.Mac;
        }

        existing.DatapathKey = PickKey(into, what, "datapath key", existing.DatapathKey, g.DatapathKey, existing.Source, g.Source);
        existing.PortKey = PickKey(into, what, "port key", existing.PortKey, g.PortKey, existing.Source, g.Source);
        existing.ActiveNode = Pick(into, what, "active node", existing.ActiveNode, g.ActiveNode, existing.Source, g.Source);
        Union(existing.Networks, g.Networks);
        Union(existing.NatExternalIps, g.NatExternalIps);
        if (g.Candidates.Count > 0)
        {
            if (existing.Candidates.Count > 0 && !existing.Candidates.SequenceEqual(g.Candidates))
            {
                into.Warnings.Add($"{what}: candidates {Describe(existing.Candidates)} ({existing.Source}) replaced by {Describe(g.Candidates)} ({g.Source})");
            }

            existing.Candidates.Clear();
            existing.Candidates.AddRange(g.Candidates);
        }

        existing.Source = Combine(existing.Source, g.Source);
    }

    private static void MergeFloatingIp(CloudInventory into, FloatingIpInfo f)
    {
        FloatingIpInfo? existing = into.FindFloatingIpByAddress(f.ExternalIp);
        if (existing is null)
        {
            into.DistributedFloatingIps.Add(new FloatingIpInfo
            {
                ExternalIp = f.ExternalIp, ExternalMac = f.ExternalMac, LogicalIp = f.LogicalIp, LogicalPort = f.LogicalPort,
                Node = f.Node, Router = f.Router, Source = f.Source,
            });
            return;
        }

        string what = $"floating IP {existing.ExternalIp}";
        if (!f.ExternalMac.IsZero)
        {
            if (!existing.ExternalMac.IsZero && existing.ExternalMac != f.ExternalMac)
            {
                into.Warnings.Add($"{what}: MAC {existing.ExternalMac} ({existing.Source}) replaced by {f.ExternalMac} ({f.Source})");
            }

            existing.ExternalMac = f.ExternalMac;
        }

        existing.LogicalIp = Pick(into, what, "logical IP", existing.LogicalIp, f.LogicalIp, existing.Source, f.Source);
        existing.LogicalPort = Pick(into, what, "logical port", existing.LogicalPort, f.LogicalPort, existing.Source, f.Source);
        existing.Node = Pick(into, what, "node", existing.Node, f.Node, existing.Source, f.Source);
        existing.Router = Pick(into, what, "router", existing.Router, f.Router, existing.Source, f.Source);
        existing.Source = Combine(existing.Source, f.Source);
    }

    private static string? Pick(CloudInventory into, string what, string field, string? old, string? @new, FactSource oldSource, FactSource newSource)
    {
        if (@new is null)
        {
            return old;
        }

        if (old is not null && !string.Equals(old, @new, StringComparison.Ordinal))
        {
            into.Warnings.Add($"{what}: {field} {old} ({oldSource}) replaced by {@new} ({newSource})");
        }

        return @new;
    }

    private static int? PickKey(CloudInventory into, string what, string field, int? old, int? @new, FactSource oldSource, FactSource newSource)
    {
        if (@new is null)
        {
            return old;
        }

        if (old is not null && old != @new)
        {
            into.Warnings.Add($"{what}: {field} {old} ({oldSource}) replaced by {@new} ({newSource})");
        }

        return @new;
    }

    private static void Union<T>(List<T> into, List<T> from)
    {
        foreach (T x in from)
        {
            if (!into.Contains(x))
            {
                into.Add(x);
            }
        }
    }

    private static void Union(List<string> into, List<string> from)
    {
        foreach (string x in from)
        {
            if (!into.Contains(x, StringComparer.OrdinalIgnoreCase))
            {
                into.Add(x);
            }
        }
    }

    internal static FactSource Combine(FactSource a, FactSource b)
    {
        if (a == b || b.Kind == "unknown")
        {
            return a;
        }

        if (a.Kind == "unknown")
        {
            return b;
        }

        string kind = a.Kind == b.Kind ? a.Kind : $"{a.Kind} + {b.Kind}";
        string? detail = (a.Detail, b.Detail) switch
        {
            (null, null) => null,
            (string x, null) => x,
            (null, string y) => y,
            (string x, string y) when x == y => x,
            (string x, string y) => $"{x}; {y}",
        };
        return new FactSource(kind, detail);
    }

    private static string Describe(List<GatewayChassisPriority> candidates) =>
        string.Join(',', candidates.Select(c => $"{c.Node}:{c.Priority}"));
}
