using System.Globalization;
using System.Text.Json;
using UplinkProbe.Decoding;

namespace UplinkProbe.L2Test;

/// <summary>A node file that cannot be used; the message is one line.</summary>
public sealed class L2TestFormatException(string message) : Exception(message);

/// <summary>Writes and reads one node's l2test JSON (schema in docs/l2test.md).</summary>
public static class L2NodeJson
{
    public const string Format = "uplinkprobe-l2test-node";
    public const int Version = 1;

    public static void Write(Stream stream, L2NodeResult r)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", Format);
        w.WriteNumber("version", Version);
        w.WriteString("node", r.Node);
        w.WriteString("interface", r.Interface);
        w.WriteString("nic_mac", r.NicMac.ToString());
        w.WriteString("foreign_mac", r.ForeignMac.ToString());
        WriteVlan(w, "vlan", r.VlanId);
        w.WriteString("ethertype", $"0x{L2Probe.EtherType:x4}");
        w.WriteNumber("udp_port", L2Probe.UdpPort);
        WriteTime(w, "start", r.StartNs);
        WriteTime(w, "end", r.EndNs);
        WriteTime(w, "send_start", r.SendStartNs);
        WriteTime(w, "send_end", r.SendEndNs);
        w.WriteString("stop_reason", r.StopReason);

        w.WriteStartObject("sent_totals");
        foreach (IGrouping<string, L2SentStream> g in r.Sent.GroupBy(s => L2ProbeKinds.StreamName(s.Kind, s.VlanId)))
        {
            w.WriteNumber(g.Key, g.Sum(s => s.Count));
        }

        w.WriteEndObject();

        w.WriteStartArray("sent");
        foreach (L2SentStream s in r.Sent)
        {
            w.WriteStartObject();
            w.WriteString("kind", L2ProbeKinds.Name(s.Kind));
            WriteVlan(w, "vlan", s.VlanId);
            if (s.To is null)
            {
                w.WriteNull("to");
                w.WriteNull("to_mac");
            }
            else
            {
                w.WriteString("to", s.To);
                w.WriteString("to_mac", s.ToMac.ToString());
            }

            w.WriteNumber("count", s.Count);
            w.WriteStartArray("send_offsets_ms"); // probe i (sequence i+1) was sent at start + offset
            foreach (long t in s.TimesNs)
            {
                w.WriteNumberValue(Math.Round((t - r.StartNs) / 1e6, 3));
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("received");
        foreach (L2ReceivedStream x in r.Received)
        {
            w.WriteStartObject();
            w.WriteString("from", x.From);
            w.WriteString("from_mac", x.FromMac.ToString());
            w.WriteString("kind", L2ProbeKinds.Name(x.Kind));
            WriteVlan(w, "vlan", x.VlanId);
            w.WriteString("eth_source", x.EthernetSource.ToString());
            w.WriteNumber("count", x.Count);
            w.WriteNumber("first_seq", x.FirstSequence);
            w.WriteNumber("last_seq", x.LastSequence);
            w.WriteNumber("out_of_order", x.OutOfOrder);
            WriteTime(w, "first", x.FirstNs);
            WriteTime(w, "last", x.LastNs);
            w.WriteStartObject("delay_ms");
            w.WriteNumber("min", Math.Round(x.DelayMinNs / 1e6, 3));
            w.WriteNumber("avg", Math.Round(x.DelayAverageNs / 1e6, 3));
            w.WriteNumber("max", Math.Round(x.DelayMaxNs / 1e6, 3));
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("peers");
        foreach (L2Peer p in r.Peers)
        {
            w.WriteStartObject();
            w.WriteString("node", p.Node);
            w.WriteString("nic_mac", p.NicMac.ToString());
            WriteTime(w, "first_seen", p.FirstSeenNs);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        WriteIgnored(w, r.Ignored);

        w.WriteStartArray("warnings");
        foreach (string s in r.Warnings)
        {
            w.WriteStringValue(s);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        stream.WriteByte((byte)'\n');
    }

    /// <summary>Reads a node file; <see cref="L2TestFormatException"/> (one line, naming the file) when it is not one.</summary>
    public static L2NodeResult Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new L2TestFormatException($"{path}: {ex.Message.ReplaceLineEndings(" ")}");
        }

        try
        {
            return Parse(bytes);
        }
        catch (Exception ex) when (ex is JsonException or L2TestFormatException or InvalidOperationException or FormatException or KeyNotFoundException or OverflowException)
        {
            throw new L2TestFormatException($"{path}: not an l2test node file: {ex.Message.ReplaceLineEndings(" ")}");
        }
    }

    public static L2NodeResult Parse(ReadOnlySpan<byte> json)
    {
        using JsonDocument doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        JsonElement root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out JsonElement f) || f.ValueKind != JsonValueKind.String || f.GetString() != Format)
        {
            throw new L2TestFormatException($"\"format\" is not \"{Format}\"");
        }

        int version = root.GetProperty("version").GetInt32();
        if (version != Version)
        {
            throw new L2TestFormatException($"version {version} is not supported (this uplinkprobe reads version {Version})");
        }

        string node = root.GetProperty("node").GetString() ?? throw new L2TestFormatException("\"node\" is null");
        if (!L2Probe.IsValidNodeName(node))
        {
            throw new L2TestFormatException($"bad node name '{node}'");
        }

        var r = new L2NodeResult
        {
            Node = node,
            Interface = root.GetProperty("interface").GetString() ?? string.Empty,
            NicMac = Mac(root.GetProperty("nic_mac")),
            ForeignMac = Mac(root.GetProperty("foreign_mac")),
            VlanId = Vlan(root.GetProperty("vlan")),
            StartNs = root.GetProperty("start_ns").GetInt64(),
            EndNs = root.GetProperty("end_ns").GetInt64(),
            SendStartNs = root.GetProperty("send_start_ns").GetInt64(),
            SendEndNs = root.GetProperty("send_end_ns").GetInt64(),
            StopReason = root.TryGetProperty("stop_reason", out JsonElement sr) ? sr.GetString() ?? string.Empty : string.Empty,
        };
        if (r.EndNs < r.StartNs)
        {
            throw new L2TestFormatException("end is before start");
        }

        foreach (JsonElement s in root.GetProperty("sent").EnumerateArray())
        {
            JsonElement to = s.GetProperty("to");
            var stream = new L2SentStream
            {
                Kind = Kind(s.GetProperty("kind")),
                VlanId = Vlan(s.GetProperty("vlan")),
                To = to.ValueKind == JsonValueKind.Null ? null : to.GetString(),
                ToMac = to.ValueKind == JsonValueKind.Null ? default : Mac(s.GetProperty("to_mac")),
            };
            foreach (JsonElement t in s.GetProperty("send_offsets_ms").EnumerateArray())
            {
                stream.TimesNs.Add(r.StartNs + (long)Math.Round(t.GetDouble() * 1e6));
            }

            r.Sent.Add(stream);
        }

        foreach (JsonElement x in root.GetProperty("received").EnumerateArray())
        {
            JsonElement delay = x.GetProperty("delay_ms");
            long count = x.GetProperty("count").GetInt64();
            if (count < 0)
            {
                throw new L2TestFormatException("negative count");
            }

            r.Received.Add(new L2ReceivedStream
            {
                From = x.GetProperty("from").GetString() ?? throw new L2TestFormatException("\"from\" is null"),
                FromMac = Mac(x.GetProperty("from_mac")),
                Kind = Kind(x.GetProperty("kind")),
                VlanId = Vlan(x.GetProperty("vlan")),
                EthernetSource = Mac(x.GetProperty("eth_source")),
                Count = count,
                FirstSequence = x.GetProperty("first_seq").GetUInt32(),
                LastSequence = x.GetProperty("last_seq").GetUInt32(),
                OutOfOrder = x.GetProperty("out_of_order").GetInt64(),
                FirstNs = x.GetProperty("first_ns").GetInt64(),
                LastNs = x.GetProperty("last_ns").GetInt64(),
                DelayMinNs = (long)(delay.GetProperty("min").GetDouble() * 1e6),
                DelayMaxNs = (long)(delay.GetProperty("max").GetDouble() * 1e6),
                DelaySumNs = delay.GetProperty("avg").GetDouble() * 1e6 * count,
            });
        }

        if (root.TryGetProperty("peers", out JsonElement peers))
        {
            foreach (JsonElement p in peers.EnumerateArray())
            {
                r.Peers.Add(new L2Peer(p.GetProperty("node").GetString() ?? string.Empty, Mac(p.GetProperty("nic_mac")), p.GetProperty("first_seen_ns").GetInt64()));
            }
        }

        if (root.TryGetProperty("ignored", out JsonElement ig))
        {
            r.Ignored.Foreign = ig.GetProperty("foreign").GetInt64();
            r.Ignored.Malformed = ig.GetProperty("malformed").GetInt64();
            r.Ignored.ShapeMismatch = ig.GetProperty("shape_mismatch").GetInt64();
            r.Ignored.NotForUs = ig.GetProperty("not_for_us").GetInt64();
            r.Ignored.Own = ig.GetProperty("own").GetInt64();
            r.Ignored.KernelDropped = ig.GetProperty("kernel_dropped").GetInt64();
        }

        if (root.TryGetProperty("warnings", out JsonElement warnings))
        {
            foreach (JsonElement s in warnings.EnumerateArray())
            {
                r.Warnings.Add(s.GetString() ?? string.Empty);
            }
        }

        return r;
    }

    /// <summary>The "ignored" object: frames a node did not count, by reason (the node file and the combined report share it).</summary>
    internal static void WriteIgnored(Utf8JsonWriter w, L2IgnoredCounts ignored)
    {
        w.WriteStartObject("ignored");
        w.WriteNumber("foreign", ignored.Foreign);
        w.WriteNumber("malformed", ignored.Malformed);
        w.WriteNumber("shape_mismatch", ignored.ShapeMismatch);
        w.WriteNumber("not_for_us", ignored.NotForUs);
        w.WriteNumber("own", ignored.Own);
        w.WriteNumber("kernel_dropped", ignored.KernelDropped);
        w.WriteEndObject();
    }

    private static void WriteVlan(Utf8JsonWriter w, string name, int vlan)
    {
        if (vlan >= 0)
        {
            w.WriteNumber(name, vlan);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    /// <summary>Writes NAME (RFC 3339, UTC) and NAME_ns (ns since the Unix epoch).</summary>
    private static void WriteTime(Utf8JsonWriter w, string name, long ns)
    {
        w.WriteString(name, DateTime.UnixEpoch.AddTicks(ns / 100).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
        w.WriteNumber(name + "_ns", ns);
    }

    private static MacAddress Mac(JsonElement e) =>
        MacAddress.TryParse(e.GetString(), out MacAddress m) ? m : throw new L2TestFormatException($"bad MAC address '{e.GetString()}'");

    private static int Vlan(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Null)
        {
            return -1;
        }

        int v = e.GetInt32();
        return v is >= 0 and <= 4094 ? v : throw new L2TestFormatException($"bad VLAN ID {v}");
    }

    private static L2ProbeKind Kind(JsonElement e) =>
        L2ProbeKinds.TryParse(e.GetString() ?? string.Empty, out L2ProbeKind k) ? k : throw new L2TestFormatException($"unknown kind '{e.GetString()}'");
}
