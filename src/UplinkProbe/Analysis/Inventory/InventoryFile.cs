using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using UplinkProbe.Reporting;
using UplinkProbe.Decoding;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace UplinkProbe.Analysis.Inventory;

/// <summary>The formats an inventory can be written in.</summary>
public enum InventoryFormat
{
    Json,
    Yaml,

    /// <summary>A human-readable summary; not loadable.</summary>
    Text,
}

/// <summary>
/// The inventory file (schema: docs/inventory.md): YAML or JSON with <c>nodes</c>, <c>gateways</c>,
/// <c>floating_ips</c> and <c>tunnel_keys</c>. Hand-written or saved by <c>uplinkprobe inventory</c>.
/// Unknown keys are errors (a typo must not silently drop a fact).
/// </summary>
public static class InventoryFile
{
    public const int SchemaVersion = 1;

    private static readonly string[] TopKeys = ["version", "inputs", "warnings", "nodes", "gateways", "floating_ips", "tunnel_keys"];
    private static readonly string[] NodeKeys = ["name", "chassis", "hostname", "uplink_macs", "encap_ips", "source"];
    private static readonly string[] GatewayKeys = ["network", "router", "port", "cr_port", "mac", "networks", "nat_ips", "datapath_key", "port_key", "candidates", "active", "source"];
    private static readonly string[] FipKeys = ["ip", "mac", "logical_ip", "logical_port", "node", "router", "source"];
    private static readonly string[] KeyKeys = ["datapath", "port", "name"];

    /// <summary>Loads a YAML or JSON inventory file (told apart by the first character: '{' is JSON).</summary>
    public static CloudInventory Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InventoryException($"{path}: {InventoryText.Describe(ex)}", ex);
        }

        return Parse(text, path);
    }

    /// <summary>Parses inventory text; <paramref name="source"/> names it in fact sources and errors.</summary>
    public static CloudInventory Parse(string text, string source)
    {
        Node root = text.TrimStart().StartsWith('{') ? FromJson(text, source) : FromYaml(text, source);
        return new Mapper(source).Map(root);
    }

    public static void Save(CloudInventory inventory, string path, InventoryFormat format = InventoryFormat.Json)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        Write(inventory, stream, format);
    }

    public static void Write(CloudInventory inventory, Stream stream, InventoryFormat format)
    {
        switch (format)
        {
            case InventoryFormat.Json:
                WriteJson(inventory, stream);
                break;
            case InventoryFormat.Yaml:
                using (var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 12, leaveOpen: true))
                {
                    WriteYaml(inventory, w);
                }

                break;
            default:
                using (var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 12, leaveOpen: true))
                {
                    WriteText(inventory, w);
                }

                break;
        }
    }

    public static string ToString(CloudInventory inventory, InventoryFormat format)
    {
        using var ms = new MemoryStream();
        Write(inventory, ms, format);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    // ---- writing ----

    private static void WriteJson(CloudInventory inv, Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteNumber("version", SchemaVersion);
        w.WriteStringArray("inputs", inv.Inputs);
        if (inv.Warnings.Count > 0)
        {
            w.WriteStringArray("warnings", inv.Warnings);
        }

        w.WriteStartArray("nodes");
        foreach (NodeInfo n in inv.Nodes)
        {
            w.WriteStartObject();
            w.WriteString("name", n.Name);
            w.WriteOptionalString("chassis", n.Chassis);
            w.WriteOptionalString("hostname", n.Hostname);
            w.WriteStringArray("uplink_macs", n.UplinkMacs.Select(m => m.ToString()));
            w.WriteStringArray("encap_ips", n.EncapIps);
            w.WriteString("source", n.Source.ToString());
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("gateways");
        foreach (GatewayPortInfo g in inv.GatewayPorts)
        {
            w.WriteStartObject();
            w.WriteOptionalString("network", g.Network);
            w.WriteOptionalString("router", g.Router);
            w.WriteString("port", g.Port);
            w.WriteOptionalString("cr_port", g.ChassisRedirectPort);
            w.WriteOptionalString("mac", g.Mac.IsZero ? null : g.Mac.ToString());
            w.WriteStringArray("networks", g.Networks);
            w.WriteStringArray("nat_ips", g.NatExternalIps);
            if (g.DatapathKey is int dk)
            {
                w.WriteNumber("datapath_key", dk);
            }

            if (g.PortKey is int pk)
            {
                w.WriteNumber("port_key", pk);
            }

            w.WriteStartObject("candidates");
            foreach (GatewayChassisPriority c in g.Candidates)
            {
                w.WriteNumber(c.Node, c.Priority);
            }

            w.WriteEndObject();
            w.WriteOptionalString("active", g.ActiveNode);
            w.WriteString("source", g.Source.ToString());
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("floating_ips");
        foreach (FloatingIpInfo f in inv.DistributedFloatingIps)
        {
            w.WriteStartObject();
            w.WriteString("ip", f.ExternalIp);
            w.WriteOptionalString("mac", f.ExternalMac.IsZero ? null : f.ExternalMac.ToString());
            w.WriteOptionalString("logical_ip", f.LogicalIp);
            w.WriteOptionalString("logical_port", f.LogicalPort);
            w.WriteOptionalString("node", f.Node);
            w.WriteOptionalString("router", f.Router);
            w.WriteString("source", f.Source.ToString());
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("tunnel_keys");
        foreach (TunnelKeyInfo k in inv.TunnelKeys)
        {
            w.WriteStartObject();
            w.WriteNumber("datapath", k.DatapathKey);
            if (k.PortKey is int p)
            {
                w.WriteNumber("port", p);
            }

            w.WriteString("name", k.Name);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        stream.WriteByte((byte)'\n');
    }


    private static void WriteYaml(CloudInventory inv, TextWriter writer)
    {
        static YamlScalarNode S(string s) => new(s) { Style = ScalarStyle.DoubleQuoted };
        static YamlScalarNode N(int i) => new(i.ToString(CultureInfo.InvariantCulture)) { Style = ScalarStyle.Plain };
        static YamlSequenceNode Seq(IEnumerable<string> items)
        {
            var seq = new YamlSequenceNode(items.Select(i => (YamlNode)S(i))) { Style = SequenceStyle.Flow };
            return seq;
        }

        static void Opt(YamlMappingNode m, string key, string? value)
        {
            if (value is not null)
            {
                m.Add(key, S(value));
            }
        }

        var root = new YamlMappingNode { { "version", N(SchemaVersion) }, { "inputs", Block(inv.Inputs.Select(S)) } };
        if (inv.Warnings.Count > 0)
        {
            root.Add("warnings", Block(inv.Warnings.Select(S)));
        }

        var nodes = new YamlSequenceNode();
        foreach (NodeInfo n in inv.Nodes)
        {
            var m = new YamlMappingNode { { "name", S(n.Name) } };
            Opt(m, "chassis", n.Chassis);
            Opt(m, "hostname", n.Hostname);
            m.Add("uplink_macs", Seq(n.UplinkMacs.Select(x => x.ToString())));
            m.Add("encap_ips", Seq(n.EncapIps));
            m.Add("source", S(n.Source.ToString()));
            nodes.Add(m);
        }

        root.Add("nodes", nodes);
        var gateways = new YamlSequenceNode();
        foreach (GatewayPortInfo g in inv.GatewayPorts)
        {
            var m = new YamlMappingNode();
            Opt(m, "network", g.Network);
            Opt(m, "router", g.Router);
            m.Add("port", S(g.Port));
            Opt(m, "cr_port", g.ChassisRedirectPort);
            Opt(m, "mac", g.Mac.IsZero ? null : g.Mac.ToString());
            m.Add("networks", Seq(g.Networks));
            m.Add("nat_ips", Seq(g.NatExternalIps));
            if (g.DatapathKey is int dk)
            {
                m.Add("datapath_key", N(dk));
            }

            if (g.PortKey is int pk)
            {
                m.Add("port_key", N(pk));
            }

            var candidates = new YamlMappingNode { Style = MappingStyle.Flow };
            foreach (GatewayChassisPriority c in g.Candidates)
            {
                candidates.Add(S(c.Node), N(c.Priority));
            }

            m.Add("candidates", candidates);
            Opt(m, "active", g.ActiveNode);
            m.Add("source", S(g.Source.ToString()));
            gateways.Add(m);
        }

        root.Add("gateways", gateways);
        var fips = new YamlSequenceNode();
        foreach (FloatingIpInfo f in inv.DistributedFloatingIps)
        {
            var m = new YamlMappingNode { { "ip", S(f.ExternalIp) } };
            Opt(m, "mac", f.ExternalMac.IsZero ? null : f.ExternalMac.ToString());
            Opt(m, "logical_ip", f.LogicalIp);
            Opt(m, "logical_port", f.LogicalPort);
            Opt(m, "node", f.Node);
            Opt(m, "router", f.Router);
            m.Add("source", S(f.Source.ToString()));
            fips.Add(m);
        }

        root.Add("floating_ips", fips);
        var keys = new YamlSequenceNode();
        foreach (TunnelKeyInfo k in inv.TunnelKeys)
        {
            var m = new YamlMappingNode { Style = MappingStyle.Flow };
            m.Add("datapath", N(k.DatapathKey));
            if (k.PortKey is int p)
            {
                m.Add("port", N(p));
            }

            m.Add("name", S(k.Name));
            keys.Add(m);
        }

        root.Add("tunnel_keys", keys);
        writer.WriteLine("# uplinkprobe inventory (schema: docs/inventory.md)");
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
    }

    private static YamlSequenceNode Block(IEnumerable<YamlScalarNode> items) => new(items.Cast<YamlNode>());

    private static void WriteText(CloudInventory inv, TextWriter w)
    {
        w.WriteLine($"Nodes ({inv.Nodes.Count}):");
        foreach (NodeInfo n in inv.Nodes)
        {
            string chassis = n.Chassis is { } c && c != n.Name ? $" chassis {c}" : string.Empty;
            string macs = n.UplinkMacs.Count > 0 ? string.Join(',', n.UplinkMacs) : "?";
            string encaps = n.EncapIps.Count > 0 ? string.Join(',', n.EncapIps) : "?";
            w.WriteLine($"  {n.Name}{chassis}  uplink MAC {macs}  encap {encaps}  [{n.Source}]");
        }

        w.WriteLine($"Gateway ports ({inv.GatewayPorts.Count}):");
        foreach (GatewayPortInfo g in inv.GatewayPorts)
        {
            w.WriteLine($"  {g.DisplayName}: port {g.Port}{(g.ChassisRedirectPort is { } cr ? $" ({cr})" : string.Empty)}  MAC {(g.Mac.IsZero ? "?" : g.Mac.ToString())}  [{g.Source}]");
            w.WriteLine($"    networks {Join(g.Networks)}  NAT {Join(g.NatExternalIps)}  tunnel keys datapath {g.DatapathKey?.ToString(CultureInfo.InvariantCulture) ?? "?"} port {g.PortKey?.ToString(CultureInfo.InvariantCulture) ?? "?"}");
            string candidates = g.Candidates.Count > 0 ? string.Join(", ", g.Candidates.Select(c => $"{c.Node} ({c.Priority})")) : "?";
            w.WriteLine($"    candidates {candidates}  active {g.ActiveNode ?? "?"}");
        }

        w.WriteLine($"Distributed floating IPs ({inv.DistributedFloatingIps.Count}):");
        foreach (FloatingIpInfo f in inv.DistributedFloatingIps)
        {
            w.WriteLine($"  {f.ExternalIp}  MAC {(f.ExternalMac.IsZero ? "?" : f.ExternalMac.ToString())}  port {f.LogicalPort ?? "?"}  logical IP {f.LogicalIp ?? "?"}  node {f.Node ?? "?"}  [{f.Source}]");
        }

        w.WriteLine($"Tunnel keys ({inv.TunnelKeys.Count}):");
        foreach (TunnelKeyInfo k in inv.TunnelKeys)
        {
            w.WriteLine(k.PortKey is int p ? $"  datapath {k.DatapathKey} port {p}: {k.Name}" : $"  datapath {k.DatapathKey}: {k.Name}");
        }

        foreach (string warning in inv.Warnings)
        {
            w.WriteLine($"warning: {warning}");
        }
    }

    private static string Join(List<string> list) => list.Count > 0 ? string.Join(',', list) : "-";

    // ---- reading: JSON and YAML become one small tree, then one mapper ----

    private abstract record Node(string Where);

    private sealed record MapNode(string Where, List<KeyValuePair<string, Node>> Items) : Node(Where);

    private sealed record ListNode(string Where, List<Node> Items) : Node(Where);

    /// <summary>A scalar; Text is null for JSON null / YAML ~. Quoted tells a YAML "string" from a plain scalar.</summary>
    private sealed record ScalarNode(string Where, string? Text, bool IsNumber) : Node(Where);

    private static Node FromJson(string text, string source)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 32, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return Convert(doc.RootElement, "line ?");
        }
        catch (JsonException ex)
        {
            throw new InventoryException($"{source}: invalid JSON ({InventoryText.JsonReason(ex)})", ex);
        }

        static Node Convert(JsonElement e, string where) => e.ValueKind switch
        {
            JsonValueKind.Object => new MapNode(where, e.EnumerateObject().Select(p => new KeyValuePair<string, Node>(p.Name, Convert(p.Value, where))).ToList()),
            JsonValueKind.Array => new ListNode(where, e.EnumerateArray().Select(i => Convert(i, where)).ToList()),
            JsonValueKind.String => new ScalarNode(where, e.GetString(), false),
            JsonValueKind.Number => new ScalarNode(where, e.GetRawText(), true),
            JsonValueKind.True => new ScalarNode(where, "true", false),
            JsonValueKind.False => new ScalarNode(where, "false", false),
            _ => new ScalarNode(where, null, false),
        };
    }

    private static Node FromYaml(string text, string source)
    {
        YamlStream stream = InventoryText.LoadYaml(text, source);
        if (stream.Documents.Count == 0)
        {
            throw new InventoryException($"{source}: empty inventory file");
        }

        return Convert(stream.Documents[0].RootNode);

        Node Convert(YamlNode n)
        {
            string where = $"line {n.Start.Line}";
            if (!n.Anchor.IsEmpty)
            {
                // An alias is the same node again: walking a tree of them can take exponential time.
                throw new InventoryException($"{source}: {where}: YAML anchors and aliases are not supported");
            }

            return n switch
            {
                YamlMappingNode m => new MapNode(where, m.Children.Select(kv => new KeyValuePair<string, Node>(
                    kv.Key is YamlScalarNode k ? k.Value ?? string.Empty : throw new InventoryException($"{source}: {where}: a mapping key is not a scalar"),
                    Convert(kv.Value))).ToList()),
                YamlSequenceNode s => new ListNode(where, s.Children.Select(Convert).ToList()),
                YamlScalarNode s when s.Style == ScalarStyle.Plain && s.Value is "~" or "null" or "" => new ScalarNode(where, null, false),
                YamlScalarNode s => new ScalarNode(where, s.Value, s.Style == ScalarStyle.Plain),
                _ => throw new InventoryException($"{source}: {where}: unsupported YAML node"),
            };
        }
    }

    private sealed class Mapper(string source)
    {
        private readonly FactSource _default = new("inventory", source);

        public CloudInventory Map(Node root)
        {
            MapNode top = AsMap(root, "the file");
            Check(top, TopKeys, "the file");
            var inv = new CloudInventory();
            inv.Inputs.Add($"inventory {source}");
            if (Get(top, "version") is { } v && Int(v, "version") is int version && version != SchemaVersion)
            {
                throw Error(v, "version", $"schema version {version} is not supported (this uplinkprobe reads version {SchemaVersion})");
            }

            if (Get(top, "warnings") is { } warnings)
            {
                inv.Warnings.AddRange(Strings(warnings, "warnings"));
            }

            foreach ((Node item, int i) in Items(top, "nodes"))
            {
                string path = $"nodes[{i}]";
                MapNode m = AsMap(item, path);
                Check(m, NodeKeys, path);
                var node = new NodeInfo { Name = Required(m, "name", path), Chassis = Str(m, "chassis", path), Hostname = Str(m, "hostname", path), Source = Src(m, path) };
                node.UplinkMacs.AddRange(Macs(m, "uplink_macs", path));
                node.EncapIps.AddRange(Ips(m, "encap_ips", path));
                if (inv.Nodes.Exists(n => n.Name == node.Name))
                {
                    throw Error(item, path, $"node '{node.Name}' appears twice");
                }

                inv.Nodes.Add(node);
            }

            foreach ((Node item, int i) in Items(top, "gateways"))
            {
                string path = $"gateways[{i}]";
                MapNode m = AsMap(item, path);
                Check(m, GatewayKeys, path);
                var gw = new GatewayPortInfo
                {
                    Network = Str(m, "network", path),
                    Router = Str(m, "router", path),
                    Port = Required(m, "port", path),
                    ChassisRedirectPort = Str(m, "cr_port", path),
                    Mac = Mac(m, "mac", path) ?? default,
                    DatapathKey = Key(m, "datapath_key", path),
                    PortKey = Key(m, "port_key", path),
                    ActiveNode = Str(m, "active", path),
                    Source = Src(m, path),
                };
                gw.Networks.AddRange(Cidrs(m, "networks", path));
                gw.NatExternalIps.AddRange(Ips(m, "nat_ips", path));
                if (Get(m, "candidates") is { } cands)
                {
                    gw.Candidates.AddRange(Candidates(cands, path + ".candidates"));
                }

                inv.GatewayPorts.Add(gw);
            }

            foreach ((Node item, int i) in Items(top, "floating_ips"))
            {
                string path = $"floating_ips[{i}]";
                MapNode m = AsMap(item, path);
                Check(m, FipKeys, path);
                string ip = Required(m, "ip", path);
                CheckIp(Get(m, "ip")!, $"{path}.ip", ip);
                inv.DistributedFloatingIps.Add(new FloatingIpInfo
                {
                    ExternalIp = ip,
                    ExternalMac = Mac(m, "mac", path) ?? default,
                    LogicalIp = Str(m, "logical_ip", path),
                    LogicalPort = Str(m, "logical_port", path),
                    Node = Str(m, "node", path),
                    Router = Str(m, "router", path),
                    Source = Src(m, path),
                });
            }

            foreach ((Node item, int i) in Items(top, "tunnel_keys"))
            {
                string path = $"tunnel_keys[{i}]";
                MapNode m = AsMap(item, path);
                Check(m, KeyKeys, path);
                int dp = Key(m, "datapath", path) ?? throw Error(item, path, "'datapath' is required");
                inv.TunnelKeys.Add(new TunnelKeyInfo(dp, Key(m, "port", path), Required(m, "name", path)));
            }

            InventoryMerger.Normalize(inv);
            return inv;
        }

        private InventoryException Error(Node at, string path, string message) =>
            new($"{source}: {(at.Where.StartsWith("line ?", StringComparison.Ordinal) ? string.Empty : at.Where + ": ")}{path}: {message}");

        private MapNode AsMap(Node n, string path) => n as MapNode ?? throw Error(n, path, "expected a mapping");

        private static Node? Get(MapNode m, string key)
        {
            foreach (KeyValuePair<string, Node> kv in m.Items)
            {
                if (kv.Key == key)
                {
                    return kv.Value is ScalarNode { Text: null } ? null : kv.Value;
                }
            }

            return null;
        }

        private void Check(MapNode m, string[] allowed, string path)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, Node> kv in m.Items)
            {
                if (Array.IndexOf(allowed, kv.Key) < 0)
                {
                    throw Error(kv.Value, path, $"unknown key '{InventoryText.Clip(kv.Key)}' (known: {string.Join(", ", allowed)})");
                }

                if (!seen.Add(kv.Key))
                {
                    throw Error(kv.Value, path, $"key '{kv.Key}' appears twice");
                }
            }
        }

        private IEnumerable<(Node Item, int Index)> Items(MapNode top, string key)
        {
            if (Get(top, key) is not { } n)
            {
                return [];
            }

            return n is ListNode l ? l.Items.Select((x, i) => (x, i)) : throw Error(n, key, "expected a list");
        }

        private string? Str(MapNode m, string key, string path)
        {
            if (Get(m, key) is not { } n)
            {
                return null;
            }

            return n is ScalarNode { Text: { } t } ? t : throw Error(n, $"{path}.{key}", "expected a single value");
        }

        private string Required(MapNode m, string key, string path) =>
            Str(m, key, path) is { Length: > 0 } s ? s : throw Error(m, path, $"'{key}' is required");

        private int? Int(Node n, string path) =>
            n is ScalarNode { Text: { } t } && int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v
                : throw Error(n, path, $"'{InventoryText.Clip((n as ScalarNode)?.Text ?? "(not a value)")}' is not an integer");

        private int? Key(MapNode m, string key, string path)
        {
            if (Get(m, key) is not { } n)
            {
                return null;
            }

            int? v = Int(n, $"{path}.{key}");
            return v is >= 0 ? v : throw Error(n, $"{path}.{key}", "a tunnel key cannot be negative");
        }

        private MacAddress? Mac(MapNode m, string key, string path)
        {
            if (Get(m, key) is not { } n)
            {
                return null;
            }

            string text = Str(m, key, path)!;
            return MacAddress.TryParse(text, out MacAddress mac) ? mac : throw Error(n, $"{path}.{key}", $"'{InventoryText.Clip(text)}' is not a MAC address");
        }

        private List<string> Strings(Node n, string path)
        {
            if (n is ScalarNode { Text: { } single })
            {
                return [single];
            }

            if (n is not ListNode l)
            {
                throw Error(n, path, "expected a list");
            }

            var list = new List<string>();
            foreach (Node item in l.Items)
            {
                list.Add(item is ScalarNode { Text: { } t } ? t : throw Error(item, path, "expected a list of values"));
            }

            return list;
        }

        private List<MacAddress> Macs(MapNode m, string key, string path)
        {
            var list = new List<MacAddress>();
            if (Get(m, key) is not { } n)
            {
                return list;
            }

            foreach (string s in Strings(n, $"{path}.{key}"))
            {
                list.Add(MacAddress.TryParse(s, out MacAddress mac) ? mac : throw Error(n, $"{path}.{key}", $"'{InventoryText.Clip(s)}' is not a MAC address"));
            }

            return list;
        }

        private List<string> Ips(MapNode m, string key, string path)
        {
            if (Get(m, key) is not { } n)
            {
                return [];
            }

            List<string> list = Strings(n, $"{path}.{key}");
            foreach (string s in list)
            {
                CheckIp(n, $"{path}.{key}", s);
            }

            return list;
        }

        private List<string> Cidrs(MapNode m, string key, string path)
        {
            if (Get(m, key) is not { } n)
            {
                return [];
            }

            List<string> list = Strings(n, $"{path}.{key}");
            foreach (string s in list)
            {
                if (!IPNetwork.TryParse(s, out _) && !IsHostCidr(s))
                {
                    throw Error(n, $"{path}.{key}", $"'{InventoryText.Clip(s)}' is not an address/prefix (e.g. 203.0.113.10/24)");
                }
            }

            return list;
        }

        /// <summary>Router port networks carry the host address ("203.0.113.10/24"), which IPNetwork rejects.</summary>
        private static bool IsHostCidr(string s)
        {
            int slash = s.IndexOf('/');
            return slash > 0 && IPAddress.TryParse(s.AsSpan(0, slash), out IPAddress? a)
                && int.TryParse(s.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int p)
                && p <= (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }

        private void CheckIp(Node n, string path, string s)
        {
            if (!IPAddress.TryParse(s, out _))
            {
                throw Error(n, path, $"'{InventoryText.Clip(s)}' is not an IP address");
            }
        }

        private List<GatewayChassisPriority> Candidates(Node n, string path)
        {
            var list = new List<GatewayChassisPriority>();
            if (n is MapNode m)
            {
                foreach (KeyValuePair<string, Node> kv in m.Items)
                {
                    list.Add(new GatewayChassisPriority(kv.Key, Int(kv.Value, $"{path}.{kv.Key}") ?? 0));
                }

                return list;
            }

            if (n is ListNode l)
            {
                // Also accepted: a list of node names in falling priority.
                int priority = l.Items.Count;
                foreach (Node item in l.Items)
                {
                    list.Add(new GatewayChassisPriority(item is ScalarNode { Text: { } t } ? t : throw Error(item, path, "expected node names"), priority--));
                }

                return list;
            }

            throw Error(n, path, "expected a mapping of node: priority");
        }

        private FactSource Src(MapNode m, string path) =>
            Str(m, "source", path) is { } recorded ? new FactSource("inventory", $"{source}, recorded from {recorded}") : _default;
    }
}
