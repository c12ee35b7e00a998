using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis;

/// <summary>
/// Which keys a full analyzer table keeps first (see the capped <see cref="OrderedTable{TKey, TValue, THasher}"/>):
/// what the inventory names (nodes' tunnel endpoints and uplink MACs, gateway ports, floating IPs), then MACs with
/// the prefixes LXD and OpenStack give OVN ports (so that a gateway learned from packets survives a MAC flood), then
/// the rest by value. Fixed when the session is made: parts of one analysis share it, so they keep the same keys.
/// </summary>
internal sealed class KeepPriorities
{
    private readonly HashSet<IpKey> _encapIps = new();
    private readonly HashSet<IpKey> _ips = new();
    private readonly HashSet<ulong> _macs = new();

    public KeepPriorities(CloudInventory inventory)
    {
        foreach (NodeInfo node in inventory.Nodes)
        {
            foreach (string ip in node.EncapIps)
            {
                AddIp(_encapIps, ip);
            }

            foreach (MacAddress mac in node.UplinkMacs)
            {
                _macs.Add(mac.Value);
            }
        }

        foreach (GatewayPortInfo port in inventory.GatewayPorts)
        {
            _macs.Add(port.Mac.Value);
            foreach (string ip in port.Networks.Concat(port.NatExternalIps))
            {
                AddIp(_ips, ip);
            }
        }

        foreach (FloatingIpInfo fip in inventory.DistributedFloatingIps)
        {
            _macs.Add(fip.ExternalMac.Value);
            AddIp(_ips, fip.ExternalIp);
        }
    }

    /// <summary>0 for a tunnel endpoint of the inventory, 1 otherwise.</summary>
    public int RankOfEncapIp(in IpKey ip) => _encapIps.Contains(ip) ? 0 : 1;

    /// <summary>0 for an address of the inventory's gateway ports and floating IPs, 1 otherwise.</summary>
    public int RankOfIp(in IpKey ip) => _ips.Contains(ip) ? 0 : 1;

    /// <summary>0 for a MAC of the inventory, 1 for LXD's 00:16:3e and OpenStack's fa:16:3e prefixes, 2 otherwise.</summary>
    public int RankOfMac(ulong mac) => _macs.Contains(mac) ? 0 : PortMacPrefixes.IsPortPrefix(mac) ? 1 : 2;

    private static void AddIp(HashSet<IpKey> set, string text)
    {
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        ReadOnlySpan<char> address = slash < 0 ? text : text.AsSpan(0, slash);
        if (Ipv4Address.TryParse(address, out Ipv4Address v4))
        {
            set.Add(IpKey.Of(v4));
        }
        else if (Ipv6Address.TryParse(address, out Ipv6Address v6))
        {
            set.Add(IpKey.Of(v6));
        }
    }
}
