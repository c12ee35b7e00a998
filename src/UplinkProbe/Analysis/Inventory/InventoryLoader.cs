using System.Text.Json;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis.Inventory;

/// <summary>What kind of inventory input a path holds.</summary>
public enum InventoryInputKind
{
    /// <summary>A directory of OVN dumps (nb-*.json / sb-*.json / Table.json).</summary>
    OvsdbDumpDirectory,

    /// <summary>One OVN table dump ({"headings":..., "data":...}).</summary>
    OvsdbDumpFile,

    /// <summary>The OVN lab's manifest (tools/ovn-lab lab.json).</summary>
    LabManifest,

    /// <summary>An inventory file, JSON.</summary>
    InventoryJson,

    /// <summary>An inventory file, YAML.</summary>
    InventoryYaml,
}

/// <summary>
/// Loads any inventory input, telling its kind from its content: <c>uplinkprobe analyze --inventory X</c> accepts
/// an inventory file (JSON or YAML), a directory of OVN dumps, a single OVN table dump or the lab manifest.
/// </summary>
public static class InventoryLoader
{
    public static CloudInventory Load(string path) => Sniff(path) switch
    {
        InventoryInputKind.OvsdbDumpDirectory => OvnInventoryReader.ReadDirectory(path),
        InventoryInputKind.OvsdbDumpFile => OvnInventoryReader.ReadFiles([path]),
        InventoryInputKind.LabManifest => LabManifest.Load(path),
        _ => InventoryFile.Load(path),
    };

    /// <summary>Loads several inputs and merges them in order (later ones win for single facts; see docs/inventory.md).</summary>
    public static CloudInventory LoadAll(IEnumerable<string> paths) => CloudInventory.Merge(paths.Select(Load).ToList());

    public static InventoryInputKind Sniff(string path)
    {
        if (Directory.Exists(path))
        {
            return InventoryInputKind.OvsdbDumpDirectory;
        }

        if (!File.Exists(path))
        {
            throw new InventoryException($"{path}: no such file or directory");
        }

        byte[] head;
        try
        {
            using var stream = File.OpenRead(path);
            head = new byte[Math.Min(stream.Length, 1 << 20)];
            stream.ReadExactly(head);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InventoryException($"{path}: {InventoryText.Describe(ex)}", ex);
        }

        int i = 0;
        if (head.Length >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
        {
            i = 3;
        }

        while (i < head.Length && head[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            i++;
        }

        if (i >= head.Length || head[i] != (byte)'{')
        {
            return InventoryInputKind.InventoryYaml;
        }

        // A JSON object: look at its top-level keys.
        try
        {
            var reader = new Utf8JsonReader(head.AsSpan(i), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            bool headings = false, data = false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    if (reader.ValueTextEquals("headings"u8))
                    {
                        headings = true;
                    }
                    else if (reader.ValueTextEquals("data"u8))
                    {
                        data = true;
                    }
                    else if (reader.ValueTextEquals("lab"u8))
                    {
                        return InventoryInputKind.LabManifest;
                    }
                    else if (reader.ValueTextEquals("gateways"u8) || reader.ValueTextEquals("floating_ips"u8) || reader.ValueTextEquals("version"u8))
                    {
                        return InventoryInputKind.InventoryJson;
                    }

                    reader.Read();
                    reader.TrySkip();
                }

                if (headings && data)
                {
                    return InventoryInputKind.OvsdbDumpFile;
                }
            }
        }
        catch (JsonException)
        {
            // Let the inventory parser report the JSON error with its position.
        }

        return InventoryInputKind.InventoryJson;
    }
}

/// <summary>
/// The OVN lab's manifest (lab.json written by tools/ovn-lab/lab.sh): node names, uplink MACs and encap IPs,
/// the router's gateway port and its NAT rules. Node uplink MACs are not in OVN's databases; for the lab this
/// file is where they come from.
/// </summary>
public static class LabManifest
{
    public static CloudInventory Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InventoryException($"{path}: {InventoryText.Describe(ex)}", ex);
        }

        return Parse(bytes, path);
    }

    public static CloudInventory Parse(ReadOnlySpan<byte> utf8Json, string source)
    {
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            throw new InventoryException($"{source}: not valid UTF-8 text");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8Json.ToArray());
        }
        catch (JsonException ex)
        {
            throw new InventoryException($"{source}: invalid JSON ({InventoryText.JsonReason(ex)})", ex);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("nodes", out JsonElement nodes) || nodes.ValueKind != JsonValueKind.Array)
            {
                throw new InventoryException($"{source}: not a lab manifest (no \"nodes\" array)");
            }

            var fact = new FactSource("lab manifest", source);
            var inv = new CloudInventory();
            inv.Inputs.Add($"lab manifest {source}");
            int index = 0;
            foreach (JsonElement n in nodes.EnumerateArray())
            {
                string where = $"nodes[{index++}]";
                string name = Text(n, "name", source, where) ?? throw new InventoryException($"{source}: {where}: no \"name\"");
                var node = new NodeInfo { Name = name, Chassis = name, Hostname = name, Source = fact };
                if (Text(n, "uplink_mac", source, where) is { } mac)
                {
                    node.UplinkMacs.Add(ParseMac(mac, source, where + ".uplink_mac"));
                }

                if (Text(n, "encap_ip", source, where) is { } ip)
                {
                    node.EncapIps.Add(ip);
                }

                inv.Nodes.Add(node);
            }

            GatewayPortInfo? gw = null;
            if (root.TryGetProperty("router", out JsonElement router) && router.ValueKind == JsonValueKind.Object
                && router.TryGetProperty("gateway_port", out JsonElement gp) && gp.ValueKind == JsonValueKind.Object)
            {
                string routerName = Text(router, "name", source, "router") ?? "router";
                gw = new GatewayPortInfo
                {
                    Router = routerName,
                    Network = routerName,
                    Port = Text(gp, "name", source, "router.gateway_port") ?? throw new InventoryException($"{source}: router.gateway_port: no \"name\""),
                    ChassisRedirectPort = Text(router, "chassisredirect_port", source, "router"),
                    Source = fact,
                };
                if (Text(gp, "mac", source, "router.gateway_port") is { } mac)
                {
                    gw.Mac = ParseMac(mac, source, "router.gateway_port.mac");
                }

                // The lab writes networks as a list; older manifests as one space-separated string.
                if (gp.TryGetProperty("networks", out JsonElement networks) && networks.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement n in networks.EnumerateArray())
                    {
                        gw.Networks.Add(n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new InventoryException($"{source}: router.gateway_port.networks: expected strings"));
                    }
                }
                else if (Text(gp, "networks", source, "router.gateway_port") is { } nets)
                {
                    gw.Networks.AddRange(nets.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                }

                inv.GatewayPorts.Add(gw);
            }

            if (root.TryGetProperty("nat", out JsonElement nat) && nat.ValueKind == JsonValueKind.Array)
            {
                index = 0;
                foreach (JsonElement r in nat.EnumerateArray())
                {
                    string where = $"nat[{index++}]";
                    string? ip = Text(r, "external_ip", source, where);
                    if (ip is null)
                    {
                        continue;
                    }

                    bool distributed = r.TryGetProperty("distributed", out JsonElement d) && d.ValueKind == JsonValueKind.True;
                    if (distributed && Text(r, "external_mac", source, where) is { } mac)
                    {
                        string? port = Text(r, "logical_port", source, where);
                        string? logicalIp = Text(r, "logical_ip", source, where);
                        // The lab places instance vmN on node hvN: the node whose instance has this logical IP.
                        string? node = null;
                        foreach (JsonElement n in nodes.EnumerateArray())
                        {
                            if (n.TryGetProperty("instance", out JsonElement inst) && inst.ValueKind == JsonValueKind.Object
                                && ((port is not null && Text(inst, "name", source, "instance") == port) || (logicalIp is not null && Text(inst, "ip", source, "instance") == logicalIp)))
                            {
                                node = Text(n, "name", source, "nodes");
                            }
                        }

                        inv.DistributedFloatingIps.Add(new FloatingIpInfo
                        {
                            ExternalIp = ip, ExternalMac = ParseMac(mac, source, where + ".external_mac"), LogicalIp = logicalIp,
                            LogicalPort = port, Node = node, Router = gw?.Router, Source = fact,
                        });
                    }
                    else if (gw is not null && !gw.NatExternalIps.Contains(ip))
                    {
                        gw.NatExternalIps.Add(ip);
                    }
                }
            }

            return inv;
        }
    }

    private static string? Text(JsonElement e, string key, string source, string where)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out JsonElement v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new InventoryException($"{source}: {where}.{key}: expected a string");
    }

    private static MacAddress ParseMac(string text, string source, string where) =>
        MacAddress.TryParse(text, out MacAddress mac) ? mac : throw new InventoryException($"{source}: {where}: '{InventoryText.Clip(text)}' is not a MAC address");
}
