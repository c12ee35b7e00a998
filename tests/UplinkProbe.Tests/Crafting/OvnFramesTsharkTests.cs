using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using UplinkProbe.Tests.Differential;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Crafting;

/// <summary>
/// OVN cases the public corpus lacks, built with <see cref="FrameBuilder"/>/<see cref="OvnFrames"/>, written to
/// pcap and read back by tshark: every field tshark reports must be the value that was built, checksums must
/// validate and tshark must report no malformed packet or expert error/warning.
/// </summary>
public sealed class OvnFramesTsharkTests
{
    private static readonly byte[] HostMac = Doc.Mac(0x10);
    private static readonly byte[] RouterMac = Doc.Mac(0x01);
    private static readonly byte[] ChassisAMac = Doc.Mac(0xa1);
    private static readonly byte[] ChassisBMac = Doc.Mac(0xb1);
    private static readonly byte[] ChassisA = Doc.Ip(192, 0, 2, 11);
    private static readonly byte[] ChassisB = Doc.Ip(192, 0, 2, 12);

    private readonly ITestOutputHelper _output;

    public OvnFramesTsharkTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void GratuitousArpRequestsReadBackByTshark()
    {
        if (!TsharkRunner.IsUsable(_output))
        {
            return;
        }

        byte[] ip = Doc.Ip(203, 0, 113, 7);
        var frames = new List<byte[]>();
        foreach ((int vlan, bool pad) in new[] { (-1, false), (-1, true), (100, false), (100, true) })
        {
            var buf = new byte[128];
            int n = OvnFrames.GratuitousArpRequest(buf, HostMac, ip, vlan, pad);
            frames.Add(buf[..n]);
        }

        Assert.Equal([42, 60, 46, 60], frames.Select(f => f.Length));
        var rows = Read(frames, ["frame.len", "eth.dst", "eth.src", "eth.type", "vlan.id", "arp.hw.type", "arp.proto.type",
            "arp.hw.size", "arp.proto.size", "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac",
            "arp.dst.proto_ipv4", "arp.isgratuitous"]);
        for (int i = 0; i < rows.Count; i++)
        {
            TsharkRow r = rows[i];
            Assert.Equal(frames[i].Length.ToString(), r["frame.len"]);
            Assert.Equal("ff:ff:ff:ff:ff:ff", r["eth.dst"]);
            Assert.Equal(Doc.MacText(HostMac), r["eth.src"]);
            bool tagged = i >= 2;
            Assert.Equal(tagged ? "0x8100" : "0x0806", r["eth.type"]);
            Assert.Equal(tagged ? "100" : "", r["vlan.id"]);
            Assert.Equal("1", r["arp.hw.type"]);
            Assert.Equal("0x0800", r["arp.proto.type"]);
            Assert.Equal("6", r["arp.hw.size"]);
            Assert.Equal("4", r["arp.proto.size"]);
            Assert.Equal("1", r["arp.opcode"]);
            Assert.Equal(Doc.MacText(HostMac), r["arp.src.hw_mac"]);
            Assert.Equal("203.0.113.7", r["arp.src.proto_ipv4"]);
            Assert.Equal("00:00:00:00:00:00", r["arp.dst.hw_mac"]);
            Assert.Equal("203.0.113.7", r["arp.dst.proto_ipv4"]);
            Assert.Equal("1", r["arp.isgratuitous"]);
        }
    }

    [Fact]
    public void ReverseArpRequestReadBackByTshark()
    {
        if (!TsharkRunner.IsUsable(_output))
        {
            return;
        }

        var buf = new byte[64];
        var frames = new List<byte[]>
        {
            buf[..OvnFrames.ReverseArpRequest(buf, HostMac)],
            buf[..OvnFrames.ReverseArpRequest(buf, HostMac, vlanId: 42, pad: false)],
        };
        Assert.Equal([60, 46], frames.Select(f => f.Length));
        var rows = Read(frames, ["eth.dst", "eth.type", "vlan.id", "vlan.etype", "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4",
            "arp.dst.hw_mac", "arp.dst.proto_ipv4", "frame.protocols"]);
        Assert.Equal("0x8035", rows[0]["eth.type"]);
        Assert.Equal("42", rows[1]["vlan.id"]);
        Assert.Equal("0x8035", rows[1]["vlan.etype"]);
        foreach (TsharkRow r in rows)
        {
            Assert.Equal("ff:ff:ff:ff:ff:ff", r["eth.dst"]);
            Assert.Equal("3", r["arp.opcode"]);
            Assert.Equal(Doc.MacText(HostMac), r["arp.src.hw_mac"]);
            Assert.Equal(Doc.MacText(HostMac), r["arp.dst.hw_mac"]);
            Assert.Equal("0.0.0.0", r["arp.src.proto_ipv4"]);
            Assert.Equal("0.0.0.0", r["arp.dst.proto_ipv4"]);
            Assert.EndsWith(":arp", r["frame.protocols"]);
        }
    }

    [Fact]
    public void GeneveWithOvnOptionAndInnerFramesReadBackByTshark()
    {
        if (!TsharkRunner.IsUsable(_output))
        {
            return;
        }

        byte[] vmA = Doc.Mac(0x21), vmB = Doc.Mac(0x22);
        byte[] ipA = Doc.Ip(198, 51, 100, 21), ipB = Doc.Ip(198, 51, 100, 22);
        byte[] payload = Enumerable.Range(0, 333).Select(i => (byte)(i * 7)).ToArray();
        var cases = new (uint Vni, ushort Ingress, ushort Egress, string Inner)[]
        {
            (1, 1, 2, "arp"), (0x00abcd, 0x7fff, 0xffff, "tcp"), (0xffffff, 0x1234, 0x8001, "udp"), (7, 0, 0x8000, "icmp"),
        };

        var frames = new List<byte[]>();
        foreach (var c in cases)
        {
            frames.Add(Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(ChassisBMac, ChassisAMac, EtherTypes.Ipv4);
                b.BeginIpv4(ChassisA, ChassisB, IpProtocols.Udp, flags: Ipv4Flags.DontFragment, identification: 0x4242);
                b.BeginUdp((ushort)(49152 + c.Egress % 1000), UdpPorts.Geneve);
                b.Geneve(c.Vni);
                b.OvnGeneveOption(c.Ingress, c.Egress);
                switch (c.Inner)
                {
                    case "arp":
                        b.Ethernet(OvnFrames.BroadcastMac, vmA, EtherTypes.Arp);
                        b.Arp(ArpOperation.Request, vmA, ipA, new byte[6], ipB);
                        break;
                    case "tcp":
                        b.Ethernet(vmB, vmA, EtherTypes.Ipv4);
                        b.BeginIpv4(ipA, ipB, IpProtocols.Tcp, ttl: 63, identification: 99, flags: Ipv4Flags.DontFragment);
                        b.BeginTcp(43210, 443, 0x01020304, 0xa0b0c0d0, TcpFlags.Psh | TcpFlags.Ack, 501,
                            options: [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
                        b.Write(payload);
                        break;
                    case "udp":
                        b.Ethernet(vmB, vmA, EtherTypes.Ipv4);
                        b.BeginIpv4(ipA, ipB, IpProtocols.Udp);
                        b.BeginUdp(5000, 5001);
                        b.Write(payload.AsSpan(0, 101));
                        break;
                    default:
                        b.Ethernet(vmB, vmA, EtherTypes.Ipv4);
                        b.BeginIpv4(ipA, ipB, IpProtocols.Icmpv4);
                        b.BeginIcmpv4Echo(false, 0x1234, 7);
                        b.Write(payload.AsSpan(0, 56));
                        break;
                }
            }, FrameBuilder.EthernetMinimumFrameLength));
        }

        var rows = Read(frames, ["frame.protocols", "ip.src", "ip.dst", "ip.checksum.status", "ip.flags.df", "ip.len", "udp.dstport",
            "udp.length", "udp.checksum.status", "geneve.version", "geneve.flags.oam", "geneve.flags.critical", "geneve.vni",
            "geneve.proto_type", "geneve.option.class", "geneve.option.type", "geneve.option.type.critical", "geneve.option.length",
            "geneve.option.unknown.data", "eth.src", "arp.opcode", "arp.src.proto_ipv4", "arp.dst.proto_ipv4", "tcp.srcport",
            "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.flags", "tcp.window_size_value", "tcp.len", "tcp.checksum.status",
            "icmp.type", "icmp.ident", "icmp.seq", "icmp.checksum.status"]);
        for (int i = 0; i < cases.Length; i++)
        {
            var c = cases[i];
            TsharkRow r = rows[i];
            Assert.Equal(["192.0.2.11", .. c.Inner == "arp" ? Array.Empty<string>() : ["198.51.100.21"]], r.All("ip.src"));
            Assert.All(r.All("ip.checksum.status"), s => Assert.Equal("1", s));
            Assert.Equal("1", r["ip.flags.df"]);
            Assert.Equal((frames[i].Length - 14).ToString(), r["ip.len"]);
            Assert.Equal("6081", r["udp.dstport"]);
            Assert.Equal((frames[i].Length - 34).ToString(), r["udp.length"]);
            Assert.All(r.All("udp.checksum.status"), s => Assert.Equal("1", s));
            Assert.Equal("0", r["geneve.version"]);
            Assert.Equal("0", r["geneve.flags.oam"]);
            Assert.Equal("1", r["geneve.flags.critical"]);
            Assert.Equal($"0x{c.Vni:x6}", r["geneve.vni"]);
            Assert.Equal("0x6558", r["geneve.proto_type"]);
            Assert.Equal("0x0102", r["geneve.option.class"]);
            Assert.Equal("0x80", r["geneve.option.type"]);
            Assert.Equal("1", r["geneve.option.type.critical"]);
            Assert.Equal("8", r["geneve.option.length"]);
            Assert.Equal($"{c.Ingress:x4}{c.Egress:x4}", r["geneve.option.unknown.data"]);
            Assert.StartsWith("eth:ethertype:ip:udp:geneve:eth:ethertype:" + c.Inner switch
            {
                "arp" => "arp",
                "tcp" => "ip:tcp",
                "udp" => "ip:udp",
                _ => "ip:icmp",
            }, r["frame.protocols"]);
            switch (c.Inner)
            {
                case "arp":
                    Assert.Equal("1", r["arp.opcode"]);
                    Assert.Equal("198.51.100.21", r["arp.src.proto_ipv4"]);
                    Assert.Equal("198.51.100.22", r["arp.dst.proto_ipv4"]);
                    break;
                case "tcp":
                    Assert.Equal("43210", r["tcp.srcport"]);
                    Assert.Equal("443", r["tcp.dstport"]);
                    Assert.Equal("16909060", r["tcp.seq_raw"]);
                    Assert.Equal("2695938256", r["tcp.ack_raw"]);
                    Assert.Equal("0x0018", r["tcp.flags"]);
                    Assert.Equal("501", r["tcp.window_size_value"]);
                    Assert.Equal("333", r["tcp.len"]);
                    Assert.Equal("1", r["tcp.checksum.status"]);
                    break;
                case "icmp":
                    Assert.Equal("8", r["icmp.type"]);
                    Assert.Equal("4660", r["icmp.ident"]);
                    Assert.Equal("7", r["icmp.seq"]);
                    Assert.Equal("1", r["icmp.checksum.status"]);
                    break;
            }
        }
    }

    [Fact]
    public void BfdInGeneveVniZeroReadBackByTshark()
    {
        if (!TsharkRunner.IsUsable(_output))
        {
            return;
        }

        var states = new[] { BfdState.Down, BfdState.Init, BfdState.Up, BfdState.AdminDown };
        var frames = new List<byte[]>();
        for (int i = 0; i < states.Length; i++)
        {
            var bfd = new BfdControl
            {
                State = states[i],
                Diagnostic = (BfdDiagnostic)i,
                Flags = i == 1 ? BfdFlags.Poll : i == 2 ? BfdFlags.Final | BfdFlags.ControlPlaneIndependent : BfdFlags.None,
                DetectMultiplier = (byte)(3 + i),
                MyDiscriminator = 0x11223344u + (uint)i,
                YourDiscriminator = i == 0 ? 0 : 0x55667788u,
                DesiredMinTxInterval = 1_000_000,
                RequiredMinRxInterval = 300_000,
            };
            var buf = new byte[256];
            int n = OvnFrames.BfdOverGeneve(buf, ChassisAMac, ChassisBMac, ChassisA, ChassisB, 50000,
                ChassisAMac, OvnFrames.OvsBfdDestinationMac, Doc.Ip(192, 0, 2, 201), Doc.Ip(192, 0, 2, 202), 49152, bfd,
                outerUdpChecksum: i % 2 == 0);
            frames.Add(buf[..n]);
        }

        var rows = Read(frames, ["frame.protocols", "ip.ttl", "ip.dsfield", "ip.checksum.status", "udp.srcport", "udp.dstport",
            "udp.checksum", "udp.checksum.status", "geneve.vni", "geneve.proto_type", "geneve.options", "eth.dst", "bfd.version",
            "bfd.diag", "bfd.sta", "bfd.flags.p", "bfd.flags.f", "bfd.flags.c", "bfd.detect_time_multiplier", "bfd.message_length",
            "bfd.my_discriminator", "bfd.your_discriminator", "bfd.desired_min_tx_interval", "bfd.required_min_rx_interval",
            "bfd.required_min_echo_interval"]);
        for (int i = 0; i < rows.Count; i++)
        {
            TsharkRow r = rows[i];
            Assert.Equal("eth:ethertype:ip:udp:geneve:eth:ethertype:ip:udp:bfd", r["frame.protocols"]);
            Assert.Equal(["64", "255"], r.All("ip.ttl"));
            Assert.Equal(["0x00", "0x18"], r.All("ip.dsfield"));
            Assert.Equal(["1", "1"], r.All("ip.checksum.status"));
            Assert.Equal(["50000", "49152"], r.All("udp.srcport"));
            Assert.Equal(["6081", "3784"], r.All("udp.dstport"));
            // Outer checksum present on even frames and valid; the inner one is 0 ("none"), as OVS sends it.
            Assert.Equal("0x0000", r.All("udp.checksum")[1]);
            // Checksum status: 1 = good, 3 = not present.
            Assert.Equal(i % 2 == 0 ? "1" : "3", r.All("udp.checksum.status")[0]);
            Assert.Equal("0x000000", r["geneve.vni"]);
            Assert.Equal("0x6558", r["geneve.proto_type"]);
            Assert.Equal("", r["geneve.options"]);
            Assert.Equal(["00:00:5e:00:53:b1", "00:23:20:00:00:01"], r.All("eth.dst"));
            Assert.Equal("1", r["bfd.version"]);
            Assert.Equal($"0x{i:x2}", r["bfd.diag"]);
            Assert.Equal($"0x{(int)states[i]:x2}", r["bfd.sta"]);
            Assert.Equal(i == 1 ? "1" : "0", r["bfd.flags.p"]);
            Assert.Equal(i == 2 ? "1" : "0", r["bfd.flags.f"]);
            Assert.Equal(i == 2 ? "1" : "0", r["bfd.flags.c"]);
            Assert.Equal((3 + i).ToString(), r["bfd.detect_time_multiplier"]);
            Assert.Equal("24", r["bfd.message_length"]);
            Assert.Equal($"0x{0x11223344 + i:x8}", r["bfd.my_discriminator"]);
            Assert.Equal(i == 0 ? "0x00000000" : "0x55667788", r["bfd.your_discriminator"]);
            Assert.Equal("1000000", r["bfd.desired_min_tx_interval"]);
            Assert.Equal("300000", r["bfd.required_min_rx_interval"]);
            Assert.Equal("0", r["bfd.required_min_echo_interval"]);
        }
    }

    [Fact]
    public void NeighborDiscoveryWithOptionsReadBackByTshark()
    {
        if (!TsharkRunner.IsUsable(_output))
        {
            return;
        }

        byte[] host = Doc.Ip6(0x10), router = Doc.Ip6(0x1), target = Doc.Ip6(0x99), unspecified = new byte[16];
        byte[] solicitedNode = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0x99];
        byte[] allNodes = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        byte[] allNodesMac = [0x33, 0x33, 0, 0, 0, 1];
        byte[] nonce = [1, 2, 3, 4, 5, 6];
        byte[] dns = [.. Doc.Ip6(0x53), .. Doc.Ip6(0x54)];
        byte[] prefix = Doc.Ip6(0, 0x64);
        var frames = new List<byte[]>
        {
            // NS for DAD: unspecified source, Nonce option only (RFC 4862 5.4.2, RFC 7527).
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet([0x33, 0x33, 0xff, 0, 0, 0x99], HostMac, EtherTypes.Ipv6);
                b.BeginIpv6(unspecified, solicitedNode, IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginNeighborSolicitation(target);
                b.NdpNonce(nonce);
            }),
            // NS for address resolution with SLLA.
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet([0x33, 0x33, 0xff, 0, 0, 0x99], HostMac, EtherTypes.Ipv6);
                b.BeginIpv6(host, solicitedNode, IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginNeighborSolicitation(target);
                b.NdpSourceLinkLayerAddress(HostMac);
            }),
            // Solicited NA with TLLA, R/S/O = 1/1/1.
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(HostMac, RouterMac, EtherTypes.Ipv6);
                b.BeginIpv6(target, host, IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginNeighborAdvertisement(NeighborAdvertisementFlags.Router | NeighborAdvertisementFlags.Solicited | NeighborAdvertisementFlags.Override, target);
                b.NdpTargetLinkLayerAddress(RouterMac);
            }),
            // Unsolicited NA (as OVN sends for its router ports), R/S/O = 0/0/1.
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(allNodesMac, RouterMac, EtherTypes.Ipv6);
                b.BeginIpv6(router, allNodes, IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginNeighborAdvertisement(NeighborAdvertisementFlags.Override, router);
                b.NdpTargetLinkLayerAddress(RouterMac);
            }),
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet([0x33, 0x33, 0, 0, 0, 2], HostMac, EtherTypes.Ipv6);
                b.BeginIpv6(host, [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginRouterSolicitation();
                b.NdpSourceLinkLayerAddress(HostMac);
            }),
            // RA as OVN's ipv6_ra_configs produce it: SLLA, MTU, Prefix Information, RDNSS, DNSSL.
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(allNodesMac, RouterMac, EtherTypes.Ipv6);
                b.BeginIpv6(router, allNodes, IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginRouterAdvertisement(64, RouterAdvertisementFlags.OtherConfiguration | RouterAdvertisementFlags.PreferenceHigh, 1800, 0, 0);
                b.NdpSourceLinkLayerAddress(RouterMac);
                b.NdpMtu(1442);
                b.NdpPrefixInformation(64, PrefixInformationFlags.OnLink | PrefixInformationFlags.Autonomous, 2592000, 604800, prefix);
                b.NdpRecursiveDnsServers(600, dns);
                b.NdpDnsSearchList(600, "example.org", "lab.example.net");
            }),
            // Redirect with TLLA and the start of the redirected packet.
            Frames.Build((ref FrameBuilder b) =>
            {
                byte[] redirected = Frames.Build((ref FrameBuilder inner) =>
                {
                    inner.BeginIpv6(host, Doc.Ip6(0x77, 0x5), IpProtocols.Udp);
                    inner.BeginUdp(12345, 40053);
                    // 40 + 8 + 16 bytes: a multiple of 8, so the option needs no padding.
                    inner.Write("redirected data!"u8);
                });
                b.Ethernet(HostMac, RouterMac, EtherTypes.Ipv6);
                b.BeginIpv6(router, host, IpProtocols.Icmpv6, hopLimit: 255);
                b.BeginRedirect(target, Doc.Ip6(0x77, 0x5));
                b.NdpTargetLinkLayerAddress(Doc.Mac(0x99));
                b.NdpRedirectedHeader(redirected);
            }),
        };

        var rows = Read(frames, ["ipv6.src", "ipv6.plen", "icmpv6.type", "icmpv6.checksum.status", "icmpv6.nd.ns.target_address",
            "icmpv6.nd.na.target_address", "icmpv6.nd.rd.target_address", "icmpv6.rd.na.destination_address",
            "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o", "icmpv6.nd.ra.cur_hop_limit", "icmpv6.nd.ra.flag.o",
            "icmpv6.nd.ra.flag.prf", "icmpv6.nd.ra.router_lifetime", "icmpv6.opt.type", "icmpv6.opt.length",
            "icmpv6.opt.src_linkaddr", "icmpv6.opt.target_linkaddr", "icmpv6.opt.nonce", "icmpv6.opt.mtu",
            "icmpv6.opt.prefix.length", "icmpv6.opt.prefix.flag.l", "icmpv6.opt.prefix.flag.a", "icmpv6.opt.prefix.valid_lifetime",
            "icmpv6.opt.prefix.preferred_lifetime", "icmpv6.opt.prefix", "icmpv6.opt.rdnss.lifetime", "icmpv6.opt.rdnss",
            "icmpv6.opt.dnssl", "udp.dstport"],
            [(7, ["ip6_src", "ip6_dst", "udp_sport", "udp_dport"],
              "the packet inside the Redirected Header option (RFC 4861 4.6.3): tshark dissects it, UplinkProbe does not take it for traffic on the wire")]);
        foreach (TsharkRow r in rows)
        {
            Assert.Equal("1", r["icmpv6.checksum.status"]);
        }

        Assert.Equal("::", rows[0]["ipv6.src"]);
        Assert.Equal("2001:db8::99", rows[0]["icmpv6.nd.ns.target_address"]);
        Assert.Equal(["14"], rows[0].All("icmpv6.opt.type"));
        Assert.Equal("010203040506", rows[0]["icmpv6.opt.nonce"]);
        Assert.Equal("32", rows[0]["ipv6.plen"]);

        Assert.Equal(["1"], rows[1].All("icmpv6.opt.type"));
        Assert.Equal(Doc.MacText(HostMac), rows[1]["icmpv6.opt.src_linkaddr"]);

        Assert.Equal("136", rows[2]["icmpv6.type"]);
        Assert.Equal("2001:db8::99", rows[2]["icmpv6.nd.na.target_address"]);
        Assert.Equal(("1", "1", "1"), (rows[2]["icmpv6.nd.na.flag.r"], rows[2]["icmpv6.nd.na.flag.s"], rows[2]["icmpv6.nd.na.flag.o"]));
        Assert.Equal(Doc.MacText(RouterMac), rows[2]["icmpv6.opt.target_linkaddr"]);
        Assert.Equal(("0", "0", "1"), (rows[3]["icmpv6.nd.na.flag.r"], rows[3]["icmpv6.nd.na.flag.s"], rows[3]["icmpv6.nd.na.flag.o"]));

        Assert.Equal("133", rows[4]["icmpv6.type"]);
        Assert.Equal(Doc.MacText(HostMac), rows[4]["icmpv6.opt.src_linkaddr"]);

        TsharkRow ra = rows[5];
        Assert.Equal("134", ra["icmpv6.type"]);
        Assert.Equal("64", ra["icmpv6.nd.ra.cur_hop_limit"]);
        Assert.Equal("1", ra["icmpv6.nd.ra.flag.o"]);
        Assert.Equal("1", ra["icmpv6.nd.ra.flag.prf"]);
        Assert.Equal("1800", ra["icmpv6.nd.ra.router_lifetime"]);
        Assert.Equal(["1", "5", "3", "25", "31"], ra.All("icmpv6.opt.type"));
        // DNSSL: 8 + "example.org" (13) + "lab.example.net" (17) = 38, padded to 40 = 5 units.
        Assert.Equal(["1", "1", "4", "5", "5"], ra.All("icmpv6.opt.length"));
        Assert.Equal("1442", ra["icmpv6.opt.mtu"]);
        Assert.Equal("64", ra["icmpv6.opt.prefix.length"]);
        Assert.Equal(("1", "1"), (ra["icmpv6.opt.prefix.flag.l"], ra["icmpv6.opt.prefix.flag.a"]));
        Assert.Equal("2592000", ra["icmpv6.opt.prefix.valid_lifetime"]);
        Assert.Equal("604800", ra["icmpv6.opt.prefix.preferred_lifetime"]);
        Assert.Equal("2001:db8:64::", ra["icmpv6.opt.prefix"]);
        Assert.Equal("600", ra["icmpv6.opt.rdnss.lifetime"]);
        Assert.Equal(["2001:db8::53", "2001:db8::54"], ra.All("icmpv6.opt.rdnss"));
        Assert.Equal(["example.org", "lab.example.net"], ra.All("icmpv6.opt.dnssl"));

        TsharkRow rd = rows[6];
        Assert.Equal("137", rd["icmpv6.type"]);
        Assert.Equal("2001:db8::99", rd["icmpv6.nd.rd.target_address"]);
        Assert.Equal(["2", "4"], rd.All("icmpv6.opt.type"));
        Assert.Equal("40053", rd["udp.dstport"]);
        Assert.Equal("9", rd.All("icmpv6.opt.length")[1]);
    }

    [Fact]
    public void OtherHeadersReadBackByTshark()
    {
        if (!TsharkRunner.IsUsable(_output))
        {
            return;
        }

        byte[] a = Doc.Ip(203, 0, 113, 1), c = Doc.Ip(198, 51, 100, 2);
        var frames = new List<byte[]>
        {
            // QinQ: 802.1ad S-tag 300 (PCP 5) over 802.1Q C-tag 20 (DEI) over IPv4/ICMP.
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(RouterMac, HostMac, EtherTypes.QinQ);
                b.VlanTag(300, EtherTypes.Vlan, priority: 5);
                b.VlanTag(20, EtherTypes.Ipv4, dropEligible: true);
                b.BeginIpv4(a, c, IpProtocols.Icmpv4, ttl: 1, options: [0x94, 0x04, 0, 0]);
                b.BeginIcmpv4Echo(true, 1, 2);
            }, FrameBuilder.EthernetMinimumFrameLength),
            // 802.3 + LLC/SNAP carrying ARP (RFC 1042).
            Frames.Build((ref FrameBuilder b) =>
            {
                b.BeginEthernet8023(OvnFrames.BroadcastMac, HostMac);
                b.LlcSnap(0, EtherTypes.Arp);
                b.Arp(ArpOperation.Reply, HostMac, a, RouterMac, c);
            }, FrameBuilder.EthernetMinimumFrameLength),
            // VXLAN VNI 100 with an inner ARP reply.
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(ChassisBMac, ChassisAMac, EtherTypes.Ipv4);
                b.BeginIpv4(ChassisA, ChassisB, IpProtocols.Udp);
                b.BeginUdp(40000, UdpPorts.Vxlan, checksum: false);
                b.Vxlan(100);
                b.Ethernet(RouterMac, HostMac, EtherTypes.Arp);
                b.Arp(ArpOperation.Reply, HostMac, a, RouterMac, c);
            }),
            // IPv6 with hop-by-hop (router alert) and destination options before an echo request.
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(RouterMac, HostMac, EtherTypes.Ipv6);
                b.BeginIpv6(Doc.Ip6(1), Doc.Ip6(2), IpProtocols.HopByHop, trafficClass: 0xb8, flowLabel: 0x12345);
                b.Ipv6HopByHop(IpProtocols.DestinationOptions, [5, 2, 0, 0]);
                b.Ipv6DestinationOptions(IpProtocols.Icmpv6, [0x1e, 3, 1, 2, 3]);
                b.BeginIcmpv6Echo(false, 0xbeef, 1);
                b.Write("ping"u8);
            }),
            // First fragment of an IPv6 UDP datagram (fragment header), UDP checksum over the whole datagram
            // is not checkable by tshark, so it is built without one.
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(RouterMac, HostMac, EtherTypes.Ipv6);
                b.BeginIpv6(Doc.Ip6(1), Doc.Ip6(2), IpProtocols.Fragment);
                b.Ipv6Fragment(IpProtocols.Udp, 0, true, 0xdeadbeef);
                b.Fill(16, 0x42);
            }),
            // IPv4 fragment with offset and MF, TCP SYN in IPv6.
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(RouterMac, HostMac, EtherTypes.Ipv4);
                b.BeginIpv4(a, c, IpProtocols.Udp, ttl: 17, identification: 777, flags: Ipv4Flags.MoreFragments, fragmentOffset: 185);
                b.Fill(24, 0x11);
            }, FrameBuilder.EthernetMinimumFrameLength),
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(RouterMac, HostMac, EtherTypes.Ipv6);
                b.BeginIpv6(Doc.Ip6(1), Doc.Ip6(2), IpProtocols.Tcp);
                b.BeginTcp(51000, 22, 1000, 0, TcpFlags.Syn, options: [2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7]);
            }),
            // UDP over IPv6 with an odd payload length.
            Frames.Build((ref FrameBuilder b) =>
            {
                b.Ethernet(RouterMac, HostMac, EtherTypes.Ipv6);
                b.BeginIpv6(Doc.Ip6(1), Doc.Ip6(2), IpProtocols.Udp);
                b.BeginUdp(40000, 40001);
                b.Write("abc"u8);
            }),
        };

        var rows = Read(frames, ["frame.protocols", "ieee8021ad.id", "ieee8021ad.priority", "vlan.id", "vlan.dei", "ip.opt.type",
            "ip.ttl", "ip.checksum.status", "ip.flags.mf", "ip.frag_offset", "ip.id", "icmp.type", "icmp.checksum.status",
            "llc.dsap", "llc.oui", "llc.type", "eth.len", "arp.opcode", "vxlan.flags", "vxlan.vni", "ipv6.tclass", "ipv6.flow",
            "ipv6.hopopts.nxt", "ipv6.hopopts.len", "ipv6.dstopts.nxt", "ipv6.opt.type", "icmpv6.type", "icmpv6.echo.identifier",
            "icmpv6.checksum.status", "ipv6.fraghdr.nxt", "ipv6.fraghdr.more", "ipv6.fraghdr.ident", "tcp.flags.syn",
            "tcp.options.mss_val", "tcp.checksum.status", "tcp.hdr_len", "udp.length", "udp.checksum.status"],
            [(5, ["udp_sport", "udp_dport"],
              "first IPv6 fragment: tshark waits for reassembly before dissecting UDP; UplinkProbe, like tcpdump, reads the UDP header the first fragment carries")]);
        Assert.Equal("300", rows[0]["ieee8021ad.id"]);
        Assert.Equal("5", rows[0]["ieee8021ad.priority"]);
        Assert.Equal("20", rows[0]["vlan.id"]);
        Assert.Equal("1", rows[0]["vlan.dei"]);
        Assert.Equal("148", rows[0]["ip.opt.type"]);
        Assert.Equal("1", rows[0]["ip.ttl"]);
        Assert.Equal("1", rows[0]["ip.checksum.status"]);
        Assert.Equal("0", rows[0]["icmp.type"]);
        Assert.Equal("1", rows[0]["icmp.checksum.status"]);

        Assert.Equal("0xaa", rows[1]["llc.dsap"]);
        Assert.Equal("0", rows[1]["llc.oui"]);
        Assert.Equal("0x0806", rows[1]["llc.type"]);
        Assert.Equal("36", rows[1]["eth.len"]);
        Assert.Equal("2", rows[1]["arp.opcode"]);

        Assert.Equal("0x0800", rows[2]["vxlan.flags"]);
        Assert.Equal("100", rows[2]["vxlan.vni"]);
        Assert.Equal("2", rows[2]["arp.opcode"]);

        Assert.Equal("0x000000b8", rows[3]["ipv6.tclass"]);
        Assert.Equal("0x012345", rows[3]["ipv6.flow"]);
        Assert.Equal("60", rows[3]["ipv6.hopopts.nxt"]);
        Assert.Equal("0", rows[3]["ipv6.hopopts.len"]);
        Assert.Equal("58", rows[3]["ipv6.dstopts.nxt"]);
        Assert.Equal("128", rows[3]["icmpv6.type"]);
        Assert.Equal("0xbeef", rows[3]["icmpv6.echo.identifier"]);
        Assert.Equal("1", rows[3]["icmpv6.checksum.status"]);

        Assert.Equal("17", rows[4]["ipv6.fraghdr.nxt"]);
        Assert.Equal("1", rows[4]["ipv6.fraghdr.more"]);
        Assert.Equal("0xdeadbeef", rows[4]["ipv6.fraghdr.ident"]);

        Assert.Equal("1", rows[5]["ip.flags.mf"]);
        Assert.Equal("185", rows[5]["ip.frag_offset"]); // tshark 4.0 reports the field in 8-byte units
        Assert.Equal("0x0309", rows[5]["ip.id"]);
        Assert.Equal("1", rows[5]["ip.checksum.status"]);

        Assert.Equal("1", rows[6]["tcp.flags.syn"]);
        Assert.Equal("1460", rows[6]["tcp.options.mss_val"]);
        Assert.Equal("32", rows[6]["tcp.hdr_len"]);
        Assert.Equal("1", rows[6]["tcp.checksum.status"]);

        Assert.Equal("11", rows[7]["udp.length"]);
        Assert.Equal("1", rows[7]["udp.checksum.status"]);
    }

    /// <summary>Writes the frames to pcap, runs tshark with checksum validation and asserts there are no problems.</summary>
    /// <summary>
    /// Writes the frames to pcap and to pcapng, has tshark read both (same rows, no problems), and has UplinkProbe's
    /// decoder read the pcapng and agree with tshark in every oracle.sh column it decodes.
    /// </summary>
    private List<TsharkRow> Read(List<byte[]> frames, string[] fields, [System.Runtime.CompilerServices.CallerMemberName] string caller = "") =>
        Read(frames, fields, [], caller);

    /// <param name="knownDifferences">(packet, columns, reason) where tshark and UplinkProbe read the same bytes differently on purpose.</param>
    private List<TsharkRow> Read(List<byte[]> frames, string[] fields, (int Packet, string[] Columns, string Reason)[] knownDifferences, [System.Runtime.CompilerServices.CallerMemberName] string caller = "")
    {
        string path = Doc.WritePcap(frames);
        string pcapng = Doc.WritePcapNg(frames);
        try
        {
            TsharkResult result = TsharkRunner.ReadFields(path, [.. fields, .. TsharkRunner.ProblemFields], TsharkRunner.ChecksumPreferences);
            Assert.Equal(frames.Count, result.Rows.Count);
            foreach (TsharkRow r in result.Rows)
            {
                _output.WriteLine(r.ToString());
                Assert.True(r.Problems().Count == 0, $"tshark reports problems in frame {r.Number}: {string.Join(" | ", r.Problems())}");
            }

            TsharkResult fromPcapNg = TsharkRunner.ReadFields(pcapng, [.. fields, .. TsharkRunner.ProblemFields], TsharkRunner.ChecksumPreferences);
            Assert.Equal(result.Rows.Select(r => r.ToString()), fromPcapNg.Rows.Select(r => r.ToString()));

            if (OracleComparison.RunOracle(pcapng) is { } oracle)
            {
                (int exit, var ours, string stderr) = OracleComparison.Decode(pcapng);
                Assert.True(exit == 0, stderr);
                List<OracleComparison.Difference>? differences = OracleComparison.Compare(oracle, ours)?
                    .Where(d => !knownDifferences.Any(k => k.Packet == d.No && k.Columns.Contains(d.Column))).ToList();
                Assert.NotNull(differences);
                Assert.True(differences!.Count == 0, "our decoder and tshark disagree: " + string.Join(" | ", differences.Select(d => $"#{d.No} {d.Column}: tshark '{d.Expected}' ours '{d.Actual}'")));
            }

            return [.. result.Rows];
        }
        finally
        {
            // UPLINKPROBE_KEEP_CAPTURES=DIR keeps the capture for a look with Wireshark.
            string? keep = Environment.GetEnvironmentVariable("UPLINKPROBE_KEEP_CAPTURES");
            if (!string.IsNullOrEmpty(keep))
            {
                Directory.CreateDirectory(keep);
                File.Copy(path, Path.Combine(keep, $"{caller}.pcap"), overwrite: true);
            }

            File.Delete(path);
            File.Delete(pcapng);
        }
    }
}
