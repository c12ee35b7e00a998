using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;

namespace UplinkProbe.Tests.Analysis;

/// <summary>
/// Builds per-node pcapng captures of an OVN uplink from real frames (FrameBuilder), with the direction of every
/// frame recorded, then runs the analysis over them. Times are seconds after a fixed start.
/// </summary>
internal sealed class Scenario : IDisposable
{
    public const long T0 = 1_790_000_000_000_000_000;

    public static readonly byte[] GatewayMac = [0x00, 0x16, 0x3e, 0xaa, 0x00, 0x02];
    public static readonly byte[] FipMac = [0x00, 0x16, 0x3e, 0xbb, 0x00, 0x03];
    public static readonly byte[] RouterMac = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01];
    public static readonly byte[] GatewayIp = [203, 0, 113, 10];
    public static readonly byte[] FipIp = [203, 0, 113, 23];
    public static readonly byte[] UpstreamIp = [203, 0, 113, 1];

    private readonly string _dir = Directory.CreateTempSubdirectory("uplinkprobe-scenario-").FullName;
    private readonly Dictionary<string, List<(long Ns, byte[] Frame, PacketDirection Direction)>> _frames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _withDirection = new(StringComparer.Ordinal);

    public CloudInventory Inventory { get; } = new();

    public static byte[] NodeMac(int n) => [0x00, 0x00, 0x5e, 0x00, 0x53, (byte)(0x10 + n)];

    public static byte[] EncapIp(int n) => [192, 0, 2, (byte)(10 + n)];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Declares a node whose capture records direction (pcapng epb_flags) or not.</summary>
    public Scenario Node(string name, bool withDirection = true)
    {
        _frames.TryAdd(name, new());
        _withDirection[name] = withDirection;
        return this;
    }

    /// <summary>A frame the node sent; every other declared node hears it too when it is broadcast.</summary>
    public Scenario Sent(string node, double seconds, ReadOnlySpan<byte> frame)
    {
        long ns = T0 + (long)Math.Round(seconds * 1e9);
        byte[] bytes = frame.ToArray();
        _frames[node].Add((ns, bytes, PacketDirection.Outbound));
        if (bytes[0] == 0xff)
        {
            foreach (string other in _frames.Keys.Where(k => k != node))
            {
                _frames[other].Add((ns, bytes, PacketDirection.Inbound));
            }
        }

        return this;
    }

    public Scenario Received(string node, double seconds, ReadOnlySpan<byte> frame)
    {
        _frames[node].Add((T0 + (long)Math.Round(seconds * 1e9), frame.ToArray(), PacketDirection.Inbound));
        return this;
    }

    /// <summary>OVN's GARP schedule after a claim at <paramref name="claim"/>: +1, +3, +7, +15, +31 s (the first <paramref name="count"/>).</summary>
    public Scenario GarpBurst(string node, double claim, byte[] mac, byte[] ip, int count = 5)
    {
        double[] offsets = [1, 3, 7, 15, 31];
        foreach (double offset in offsets.Take(count))
        {
            Sent(node, claim + offset, Garp(mac, ip));
        }

        return this;
    }

    /// <summary>Data frames with the gateway MAC toward the upstream router, every <paramref name="every"/> seconds.</summary>
    public Scenario Traffic(string node, double from, double to, byte[] mac, double every = 0.2)
    {
        int count = (int)Math.Round((to - from) / every);
        for (int i = 0; i <= count; i++)
        {
            Sent(node, from + (i * every), Ping(mac, RouterMac, GatewayIp, UpstreamIp));
        }

        return this;
    }

    public AnalysisReport Analyze(AnalysisOptions? options = null)
    {
        var analysis = new UplinkAnalysis(Inventory, options);
        foreach ((string node, List<(long Ns, byte[] Frame, PacketDirection Direction)> frames) in _frames)
        {
            string path = Path.Combine(_dir, node + ".pcapng");
            using (var w = PcapNgWriter.Create(path))
            {
                int id = w.AddInterface("up0", LinkType.Ethernet, node: node);
                foreach ((long ns, byte[] frame, PacketDirection direction) in frames.OrderBy(f => f.Ns))
                {
                    w.WritePacket(id, ns, frame, _withDirection[node] ? direction : PacketDirection.Unknown);
                }
            }

            analysis.AddCapture(path);
        }

        return analysis.Run();
    }

    public static byte[] Garp(byte[] mac, byte[] ip)
    {
        var buffer = new byte[64];
        int n = OvnFrames.GratuitousArpRequest(buffer, mac, ip);
        return buffer[..n];
    }

    public static byte[] Ping(byte[] srcMac, byte[] dstMac, byte[] srcIp, byte[] dstIp)
    {
        var buffer = new byte[128];
        var b = new FrameBuilder(buffer);
        b.Ethernet(dstMac, srcMac, EtherTypes.Ipv4);
        b.BeginIpv4(srcIp, dstIp, IpProtocols.Icmpv4);
        b.BeginIcmpv4Echo(false, 1, 1);
        b.Write(new byte[32]);
        return buffer[..b.Finish(60)];
    }

    /// <summary>Geneve from chassis <paramref name="from"/> to <paramref name="to"/> toward the gateway (OVN option egress key).</summary>
    public static byte[] Geneve(int from, int to, uint vni, ushort ingressKey, ushort egressKey, int innerPayload = 32)
    {
        var buffer = new byte[1600];
        var b = new FrameBuilder(buffer);
        b.Ethernet(NodeMac(to + 10), NodeMac(from + 10), EtherTypes.Ipv4);
        b.BeginIpv4(EncapIp(from), EncapIp(to), IpProtocols.Udp, flags: Ipv4Flags.DontFragment);
        b.BeginUdp(49152, UdpPorts.Geneve);
        b.Geneve(vni);
        b.OvnGeneveOption(ingressKey, egressKey);
        b.Ethernet(GatewayMac, [0x00, 0x16, 0x3e, 0x00, 0x00, (byte)from], EtherTypes.Ipv4);
        b.BeginIpv4([198, 51, 100, (byte)(10 + from)], UpstreamIp, IpProtocols.Icmpv4);
        b.BeginIcmpv4Echo(false, 1, 1);
        b.Write(new byte[innerPayload]);
        return buffer[..b.Finish(60)];
    }

    public static byte[] Bfd(int from, int to, BfdState state, BfdDiagnostic diag = BfdDiagnostic.None)
    {
        var buffer = new byte[200];
        int n = OvnFrames.BfdOverGeneve(buffer, NodeMac(from + 10), NodeMac(to + 10), EncapIp(from), EncapIp(to), 49153,
            NodeMac(from + 20), OvnFrames.OvsBfdDestinationMac, [169, 254, 1, 0], [169, 254, 1, 1], 49154,
            new BfdControl { State = state, Diagnostic = diag, MyDiscriminator = (uint)from, YourDiscriminator = (uint)to });
        return buffer[..n];
    }

    /// <summary>An inventory like OVN's: three nodes, the router gateway port with its tunnel keys, a distributed FIP on hv3.</summary>
    public Scenario WithOvnInventory(string? activeNode = null)
    {
        for (int n = 1; n <= 3; n++)
        {
            var node = new NodeInfo { Name = $"hv{n}", Chassis = $"hv{n}", Source = new FactSource("test") };
            node.EncapIps.Add(new Ipv4Address(EncapIp(n)[0], EncapIp(n)[1], EncapIp(n)[2], EncapIp(n)[3]).ToString());
            node.UplinkMacs.Add(MacAddress.Read(NodeMac(n)));
            Inventory.Nodes.Add(node);
        }

        var port = new GatewayPortInfo
        {
            Router = "lr0", Port = "lr0-ext", ChassisRedirectPort = "cr-lr0-ext", Mac = MacAddress.Read(GatewayMac),
            DatapathKey = 2, PortKey = 3, ActiveNode = activeNode, Source = new FactSource("test"),
        };
        port.Networks.Add("203.0.113.10/24");
        port.Candidates.AddRange([new("hv1", 30), new("hv2", 20), new("hv3", 10)]);
        Inventory.GatewayPorts.Add(port);
        Inventory.DistributedFloatingIps.Add(new FloatingIpInfo
        {
            ExternalIp = "203.0.113.23", ExternalMac = MacAddress.Read(FipMac), LogicalPort = "vm3", Node = "hv3", Source = new FactSource("test"),
        });
        Inventory.TunnelKeys.Add(new TunnelKeyInfo(2, null, "lr0"));
        Inventory.TunnelKeys.Add(new TunnelKeyInfo(2, 3, "cr-lr0-ext"));
        return this;
    }
}
