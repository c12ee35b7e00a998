using UplinkProbe.Decoding;

namespace UplinkProbe.Capture.Live;

/// <summary>
/// The kernel filter live capture uses unless the user gives one: what the uplink analysis needs and nothing else, so a
/// busy uplink does not flood the ring with tenant traffic.
/// </summary>
public static class DefaultCaptureFilter
{
    /// <summary>ARP, RARP, ICMPv6 (NDP, MLD), Geneve (udp 6081), VXLAN (udp 4789 and Linux's old 8472), BFD (udp 3784 single hop, 4784 multihop).</summary>
    public const string Protocols =
        "arp or rarp or icmp6 or udp port 6081 or udp port 4789 or udp port 8472 or udp port 3784 or udp port 4784";

    /// <summary>
    /// The filter expression, optionally also keeping every frame from or to <paramref name="gatewayMacs"/> (the hook for
    /// the MACs an inventory names as OVN gateway ports). Frames whose 802.1Q tag is still in the packet data (not
    /// offloaded into metadata, or a second tag) are matched through libpcap's <c>vlan</c> primitive.
    /// </summary>
    public static string Build(IEnumerable<MacAddress>? gatewayMacs = null)
    {
        string macs = gatewayMacs is null
            ? string.Empty
            : string.Concat(gatewayMacs.Distinct().Select(m => $" or ether host {m}"));
        return $"{Protocols}{macs} or (vlan and ({Protocols}))";
    }
}
