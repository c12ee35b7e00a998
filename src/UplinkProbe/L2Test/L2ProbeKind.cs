namespace UplinkProbe.L2Test;

/// <summary>What one probe frame tests; the value is carried in the probe signature.</summary>
public enum L2ProbeKind : byte
{
    /// <summary>Ethernet broadcast (ff:ff:ff:ff:ff:ff), EtherType <see cref="L2Probe.EtherType"/>.</summary>
    Broadcast = 1,

    /// <summary>IPv4 UDP to 224.0.0.1 (all systems, the link-local block 224.0.0.0/24; RFC 5771 4).</summary>
    Ipv4LinkLocal = 2,

    /// <summary>IPv4 UDP to 239.100.100.100 (administratively scoped, RFC 2365; MicroCloud's discovery group).</summary>
    Ipv4AdminScoped = 3,

    /// <summary>IPv6 UDP to ff02::1 (all nodes).</summary>
    Ipv6AllNodes = 4,

    /// <summary>IPv6 UDP to the peer's solicited-node group ff02::1:ffXX:XXXX (RFC 4291 2.7.1), one per learned peer.</summary>
    Ipv6SolicitedNode = 5,

    /// <summary>Unicast to a learned peer's NIC MAC from a locally administered MAC that is not the sender's NIC's.</summary>
    ForeignSource = 6,

    /// <summary>Unicast to a learned peer's NIC MAC from the sender's NIC MAC.</summary>
    Unicast = 7,
}

/// <summary>Names, wire shape and policy of each <see cref="L2ProbeKind"/>.</summary>
public static class L2ProbeKinds
{
    /// <summary>Every kind, in report order.</summary>
    public static readonly L2ProbeKind[] All =
    [
        L2ProbeKind.Broadcast, L2ProbeKind.Ipv4LinkLocal, L2ProbeKind.Ipv4AdminScoped, L2ProbeKind.Ipv6AllNodes,
        L2ProbeKind.Ipv6SolicitedNode, L2ProbeKind.ForeignSource, L2ProbeKind.Unicast,
    ];

    public static bool IsDefined(byte value) => value is >= 1 and <= 7;

    /// <summary>The name used in JSON and on the command line, e.g. <c>ipv4-admin-scoped</c>.</summary>
    public static string Name(L2ProbeKind kind) => kind switch
    {
        L2ProbeKind.Broadcast => "broadcast",
        L2ProbeKind.Ipv4LinkLocal => "ipv4-link-local",
        L2ProbeKind.Ipv4AdminScoped => "ipv4-admin-scoped",
        L2ProbeKind.Ipv6AllNodes => "ipv6-all-nodes",
        L2ProbeKind.Ipv6SolicitedNode => "ipv6-solicited-node",
        L2ProbeKind.ForeignSource => "foreign-source",
        L2ProbeKind.Unicast => "unicast",
        _ => "unknown",
    };

    public static bool TryParse(string name, out L2ProbeKind kind)
    {
        foreach (L2ProbeKind k in All)
        {
            if (Name(k) == name)
            {
                kind = k;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>How the report titles the kind, e.g. <c>IPv4 multicast 239.100.100.100</c>.</summary>
    public static string Title(L2ProbeKind kind) => kind switch
    {
        L2ProbeKind.Broadcast => "broadcast",
        L2ProbeKind.Ipv4LinkLocal => "IPv4 multicast 224.0.0.1 (link-local)",
        L2ProbeKind.Ipv4AdminScoped => "IPv4 multicast 239.100.100.100 (admin-scoped)",
        L2ProbeKind.Ipv6AllNodes => "IPv6 multicast ff02::1 (all nodes)",
        L2ProbeKind.Ipv6SolicitedNode => "IPv6 multicast solicited-node",
        L2ProbeKind.ForeignSource => "foreign source MAC",
        L2ProbeKind.Unicast => "unicast",
        _ => "unknown",
    };

    /// <summary>
    /// True for the kinds MicroCloud's uplink needs: broadcast, the IPv4 and IPv6 multicast kinds and frames from a
    /// non-NIC source MAC (what an OVN gateway sends). Plain unicast and every 802.1Q-tagged variant are informational.
    /// </summary>
    public static bool IsRequired(L2ProbeKind kind, bool tagged) => !tagged && kind != L2ProbeKind.Unicast;

    /// <summary>True for the kinds sent once per learned peer (to its MAC or its solicited-node group) rather than once per round.</summary>
    public static bool IsDirected(L2ProbeKind kind) =>
        kind is L2ProbeKind.Ipv6SolicitedNode or L2ProbeKind.ForeignSource or L2ProbeKind.Unicast;

    public static bool IsMulticast(L2ProbeKind kind) =>
        kind is L2ProbeKind.Ipv4LinkLocal or L2ProbeKind.Ipv4AdminScoped or L2ProbeKind.Ipv6AllNodes or L2ProbeKind.Ipv6SolicitedNode;

    /// <summary>The stream name used in JSON: the kind's name, with <c>@vlanID</c> for the tagged variant.</summary>
    public static string StreamName(L2ProbeKind kind, int vlanId) => vlanId >= 0 ? $"{Name(kind)}@vlan{vlanId}" : Name(kind);

    public static bool TryParseStream(string text, out L2ProbeKind kind, out int vlanId)
    {
        vlanId = -1;
        int at = text.IndexOf("@vlan", StringComparison.Ordinal);
        if (at >= 0)
        {
            if (!int.TryParse(text.AsSpan(at + 5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out vlanId)
                || vlanId > 4094)
            {
                kind = default;
                return false;
            }

            text = text[..at];
        }

        return TryParse(text, out kind);
    }
}
