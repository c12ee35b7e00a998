using System.Globalization;
using System.Text.Json;

namespace UplinkProbe.Tests.Differential;

/// <summary>
/// Turns one packet of `uplinkprobe decode --format json` into the strings tshark would print in an oracle.sh
/// column (lists joined with "," outer first, hex as tshark prints it, empty when absent).
/// </summary>
internal static class OracleProjection
{
    /// <summary>The oracle columns UplinkProbe decodes, in oracle order.</summary>
    public static readonly string[] ComparedColumns =
    [
        "epoch", "if", "dir", "flags", "len", "caplen",
        "sll_pkttype", "sll_hatype", "sll_proto", "sll_ifindex", "sll_src",
        "eth_src", "eth_dst", "eth_type", "svlan", "vlan",
        "arp_htype", "arp_ptype", "arp_hlen", "arp_plen", "arp_op", "arp_sha", "arp_spa", "arp_tha", "arp_tpa", "arp_grat",
        "ip_src", "ip_dst", "ip6_src", "ip6_dst",
        "icmp6_type", "icmp6_code", "nd_target", "rd_dst", "na_r", "na_s", "na_o", "ra_flags", "ra_lifetime",
        "nd_opt_type", "nd_opt_len", "nd_slla", "nd_tlla", "nd_prefix",
        "udp_sport", "udp_dport",
        "gnv_ver", "gnv_oam", "gnv_crit", "gnv_vni", "gnv_proto", "gnv_opt_len", "gnv_opt_class", "gnv_opt_type",
        "vxlan_flags", "vxlan_vni",
    ];

    public static string Project(JsonElement p, string column) => column switch
    {
        "epoch" => Str(p, "ts"),
        "if" => Num(p, "if"),
        "dir" => p.TryGetProperty("epb_flags", out JsonElement f) ? $"0x{f.GetUInt32() & 3:x8}" : string.Empty,
        "flags" => p.TryGetProperty("epb_flags", out JsonElement g) ? $"0x{g.GetUInt32():x8}" : string.Empty,
        "len" => Num(p, "len"),
        "caplen" => Num(p, "caplen"),
        "sll_pkttype" => Num(Obj(p, "sll"), "pkttype"),
        "sll_hatype" => Num(Obj(p, "sll"), "hatype"),
        "sll_proto" => Str(Obj(p, "sll"), "proto"),
        "sll_ifindex" => Num(Obj(p, "sll"), "ifindex"),
        "sll_src" => Str(Obj(p, "sll"), "addr") is { Length: 17 } mac ? mac : string.Empty,
        "eth_src" => Join(p, "eth", "src"),
        "eth_dst" => Join(p, "eth", "dst"),
        "eth_type" => Join(p, "eth", "type"),
        "svlan" => JoinWhere(p, "vlan", "id", e => Str(e, "tpid") is "0x88a8"),
        "vlan" => JoinWhere(p, "vlan", "id", e => Str(e, "tpid") is not "0x88a8"),
        "arp_htype" => Num(Obj(p, "arp"), "htype"),
        "arp_ptype" => Str(Obj(p, "arp"), "ptype"),
        "arp_hlen" => Num(Obj(p, "arp"), "hlen"),
        "arp_plen" => Num(Obj(p, "arp"), "plen"),
        "arp_op" => Num(Obj(p, "arp"), "op"),
        "arp_sha" => Str(Obj(p, "arp"), "sha"),
        "arp_spa" => Str(Obj(p, "arp"), "spa"),
        "arp_tha" => Str(Obj(p, "arp"), "tha"),
        "arp_tpa" => Str(Obj(p, "arp"), "tpa"),
        // tshark's arp.isgratuitous: present (1) for a request or reply whose sender and target IPv4 are equal.
        "arp_grat" => Obj(p, "arp") is { } arp && Num(arp, "op") is "1" or "2" && Str(arp, "spa") is { Length: > 0 } spa && spa == Str(arp, "tpa") ? "1" : string.Empty,
        "ip_src" => Join(p, "ipv4", "src"),
        "ip_dst" => Join(p, "ipv4", "dst"),
        "ip6_src" => Join(p, "ipv6", "src"),
        "ip6_dst" => Join(p, "ipv6", "dst"),
        "icmp6_type" => Num(Obj(p, "icmpv6"), "type"),
        "icmp6_code" => Num(Obj(p, "icmpv6"), "code"),
        "nd_target" => Str(Obj(p, "icmpv6"), "target"),
        "rd_dst" => Str(Obj(p, "icmpv6"), "rd_dst"),
        "na_r" => Num(Obj(p, "icmpv6"), "r"),
        "na_s" => Num(Obj(p, "icmpv6"), "s"),
        "na_o" => Num(Obj(p, "icmpv6"), "o"),
        "ra_flags" => Str(Obj(p, "icmpv6"), "ra_flags"),
        "ra_lifetime" => Num(Obj(p, "icmpv6"), "ra_lifetime"),
        "nd_opt_type" => JoinNested(p, "icmpv6", "options", "type", _ => true),
        "nd_opt_len" => JoinNested(p, "icmpv6", "options", "len", _ => true),
        "nd_slla" => JoinNested(p, "icmpv6", "options", "lladdr", o => Num(o, "type") == "1"),
        "nd_tlla" => JoinNested(p, "icmpv6", "options", "lladdr", o => Num(o, "type") == "2"),
        "nd_prefix" => JoinNested(p, "icmpv6", "options", "prefix", _ => true),
        "udp_sport" => Join(p, "udp", "sport"),
        "udp_dport" => Join(p, "udp", "dport"),
        "gnv_ver" => Join(p, "geneve", "ver"),
        "gnv_oam" => Join(p, "geneve", "oam"),
        "gnv_crit" => Join(p, "geneve", "critical"),
        "gnv_vni" => JoinMapped(p, "geneve", e => $"0x{e.GetProperty("vni").GetUInt32():x6}"),
        "gnv_proto" => Join(p, "geneve", "proto"),
        // tshark prints the header's total option length first, then each option's length (option-header included).
        "gnv_opt_len" => JoinMapped(p, "geneve", e => string.Join(",", new[] { Num(e, "opt_len") }.Concat(Each(e, "options").Select(o => Num(o, "len"))))),
        "gnv_opt_class" => JoinMapped(p, "geneve", e => string.Join(",", Each(e, "options").Select(o => Str(o, "class")))),
        "gnv_opt_type" => JoinMapped(p, "geneve", e => string.Join(",", Each(e, "options").Select(o => Str(o, "type")))),
        "vxlan_flags" => Join(p, "vxlan", "flags"),
        "vxlan_vni" => Join(p, "vxlan", "vni"),
        _ => throw new ArgumentException("not a compared column: " + column, nameof(column)),
    };

    private static JsonElement? Obj(JsonElement p, string name) => p.TryGetProperty(name, out JsonElement e) ? e : null;

    private static string Str(JsonElement? e, string name) =>
        e is { } o && o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out JsonElement v) ? v.GetString() ?? string.Empty : string.Empty;

    private static string Num(JsonElement? e, string name) =>
        e is { } o && o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out JsonElement v) ? v.GetRawText() : string.Empty;

    private static string Scalar(JsonElement v) => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();

    private static IEnumerable<JsonElement> Each(JsonElement? e, string name) =>
        e is { } o && o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out JsonElement a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray()
            : [];

    private static string Join(JsonElement p, string list, string field) => JoinWhere(p, list, field, _ => true);

    private static string JoinWhere(JsonElement p, string list, string field, Func<JsonElement, bool> keep) =>
        string.Join(",", Each(p, list).Where(keep).Where(e => e.TryGetProperty(field, out _)).Select(e => Scalar(e.GetProperty(field))));

    private static string JoinMapped(JsonElement p, string list, Func<JsonElement, string> map) =>
        string.Join(",", Each(p, list).Select(map).Where(s => s.Length > 0));

    private static string JoinNested(JsonElement p, string obj, string list, string field, Func<JsonElement, bool> keep) =>
        string.Join(",", Each(Obj(p, obj), list).Where(keep).Where(e => e.TryGetProperty(field, out _)).Select(e => Scalar(e.GetProperty(field))));

    public static string Invariant(long v) => v.ToString(CultureInfo.InvariantCulture);
}
