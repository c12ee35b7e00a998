using System.Buffers.Binary;
using System.Text.Json;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Tests.Lab;

/// <summary>
/// One run of tools/ovn-lab/lab.sh: its phases, the southbound record of the cr- port's chassis, and the ground truth
/// of who transmitted the gateway MAC, read from the transmit-only captures (tcpdump -Q out) with the simplest
/// possible logic — independent of the analysis, which works from the SLL2 captures.
/// </summary>
internal sealed class LabRun
{
    private LabRun(string dir)
    {
        Directory = dir;
        using JsonDocument lab = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "lab.json")));
        GatewayMac = MacAddress.Parse(lab.RootElement.GetProperty("router").GetProperty("gateway_port").GetProperty("mac").GetString());
        CrPort = lab.RootElement.GetProperty("router").GetProperty("chassisredirect_port").GetString()!;
        Nodes = lab.RootElement.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("name").GetString()!).ToList();
        foreach (JsonElement node in lab.RootElement.GetProperty("nodes").EnumerateArray())
        {
            EncapIps[node.GetProperty("name").GetString()!] = Ipv4Address.Parse(node.GetProperty("encap_ip").GetString());
        }

        Phases = File.ReadLines(Path.Combine(dir, "phases.jsonl")).Where(l => l.Length > 0).Select(l =>
        {
            using JsonDocument d = JsonDocument.Parse(l);
            JsonElement p = d.RootElement;
            return new Phase(p.GetProperty("label").GetString()!, p.GetProperty("start_ns").GetInt64(), p.GetProperty("end_ns").GetInt64(),
                p.GetProperty("expected_active").GetString()!, p.GetProperty("sb_binding_at_end").GetString());
        }).ToList();
        SbChanges = File.ReadLines(Path.Combine(dir, "pb-chassis.jsonl")).Where(l => l.Length > 0).Select(l =>
        {
            using JsonDocument d = JsonDocument.Parse(l);
            JsonElement p = d.RootElement;
            return (Ns: p.GetProperty("ts_ns").GetInt64(), Port: p.GetProperty("logical_port").GetString()!,
                Chassis: p.GetProperty("chassis").ValueKind == JsonValueKind.String ? p.GetProperty("chassis").GetString() : null);
        }).Where(c => c.Port == CrPort).Select(c => (c.Ns, c.Chassis)).ToList();
        foreach (string node in Nodes)
        {
            TransmittedGatewayFrames[node] = ReadTransmitted(Path.Combine(dir, $"{node}-uplink-out.pcap"));
            SentGeneve[node] = ReadSentGeneve(Path.Combine(dir, $"{node}-tunnel.pcap"), EncapIps[node]);
        }
    }

    /// <summary>One Geneve packet a node sent on its tunnel NIC: when, to which outer address, VNI, OVN egress port key.</summary>
    public readonly record struct GenevePacket(long Ns, Ipv4Address Destination, uint Vni, int? EgressKey);

    public sealed record Phase(string Label, long StartNs, long EndNs, string ExpectedActive, string? SbAtEnd);

    public string Directory { get; }

    public MacAddress GatewayMac { get; }

    public string CrPort { get; }

    public List<string> Nodes { get; }

    public List<Phase> Phases { get; }

    /// <summary>Southbound Port_Binding.chassis of the cr- port over time (null = unbound).</summary>
    public List<(long Ns, string? Chassis)> SbChanges { get; }

    /// <summary>Per node: every frame it transmitted with the gateway MAC as source, and whether it was a GARP.</summary>
    public Dictionary<string, List<(long Ns, bool Garp)>> TransmittedGatewayFrames { get; } = new(StringComparer.Ordinal);

    /// <summary>Per node: its tunnel endpoint address (lab.json).</summary>
    public Dictionary<string, Ipv4Address> EncapIps { get; } = new(StringComparer.Ordinal);

    /// <summary>Per node: every Geneve packet it sent from its encap address, read from its tunnel NIC's capture.</summary>
    public Dictionary<string, List<GenevePacket>> SentGeneve { get; } = new(StringComparer.Ordinal);

    public static LabRun Load(string dir) => new(dir);

    public IEnumerable<string> EmittersBetween(long start, long end) =>
        TransmittedGatewayFrames.Where(p => p.Value.Any(f => f.Ns >= start && f.Ns <= end)).Select(p => p.Key).Order(StringComparer.Ordinal);

    public long? FirstGarp(string node, long after) =>
        TransmittedGatewayFrames[node].Where(f => f.Garp && f.Ns >= after).Select(f => (long?)f.Ns).FirstOrDefault();

    private List<(long, bool)> ReadTransmitted(string path)
    {
        var frames = new List<(long, bool)>();
        var decoder = new PacketDecoder();
        var decoded = new DecodedPacket();
        using CaptureReader reader = CaptureFile.Open(path);
        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            if (data.Length < 14 || MacAddress.Read(data[6..]) != GatewayMac)
            {
                continue;
            }

            decoder.Decode(data, record.LinkType, decoded, record.OriginalLength);
            bool garp = decoded.TryFind(LayerKind.Arp, out Layer arp) && ArpPacket.TryRead(data[arp.Offset..], out ArpPacket a, out _)
                && a.Classify() == ArpKind.GratuitousRequest;
            frames.Add((record.TimestampNs, garp));
        }

        return frames;
    }

    /// <summary>
    /// Geneve sent from <paramref name="encapIp"/>, found with fixed offsets (Ethernet, IPv4, UDP to 6081, Geneve with
    /// OVN's option first, as the lab's OVS sends it) — not with the decoder or the tunnel analyzer the test checks.
    /// </summary>
    private static List<GenevePacket> ReadSentGeneve(string path, Ipv4Address encapIp)
    {
        var sent = new List<GenevePacket>();
        using CaptureReader reader = CaptureFile.Open(path);
        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            if (data.Length < 14 + 20 + 8 + 8 || data[12] != 0x08 || data[13] != 0x00 || data[23] != 17 || Ipv4Address.Read(data[26..]) != encapIp)
            {
                continue;
            }

            int udp = 14 + ((data[14] & 0x0F) * 4);
            if (data.Length < udp + 16 || BinaryPrimitives.ReadUInt16BigEndian(data[(udp + 2)..]) != 6081)
            {
                continue;
            }

            int geneve = udp + 8;
            uint vni = BinaryPrimitives.ReadUInt32BigEndian(data[(geneve + 4)..]) >> 8;
            int optionsLength = (data[geneve] & 0x3F) * 4;
            int? egress = optionsLength >= 8 && data.Length >= geneve + 16 && BinaryPrimitives.ReadUInt16BigEndian(data[(geneve + 8)..]) == 0x0102 && data[geneve + 10] == 0x80
                ? BinaryPrimitives.ReadUInt16BigEndian(data[(geneve + 14)..])
                : null;
            sent.Add(new GenevePacket(record.TimestampNs, Ipv4Address.Read(data[30..]), vni, egress));
        }

        return sent;
    }
}
