using UplinkProbe.Decoding;

namespace UplinkProbe.Crafting;

/// <summary>
/// Whole frames as OVN (and the Open vSwitch below it) put them on an uplink. Each method writes one frame
/// into <c>destination</c> and returns its length; nothing is allocated.
/// </summary>
public static class OvnFrames
{
    /// <summary>Ethernet broadcast address.</summary>
    public static ReadOnlySpan<byte> BroadcastMac => [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    /// <summary>Open vSwitch's default destination MAC for BFD inside a tunnel (bfd:bfd_dst_mac).</summary>
    public static ReadOnlySpan<byte> OvsBfdDestinationMac => [0x00, 0x23, 0x20, 0x00, 0x00, 0x01];

    /// <summary>ARP header (28) after an Ethernet header (14): the unpadded size of an untagged ARP frame.</summary>
    public const int UnpaddedArpFrameLength = 42;

    /// <summary>
    /// The gratuitous ARP <em>request</em> OVN sends for NAT and router addresses and on port binding
    /// (pinctrl "send_garp"): broadcast destination, source <paramref name="mac"/>, ARP request with
    /// SHA = <paramref name="mac"/>, SPA = TPA = <paramref name="ip"/>, THA zero. With
    /// <paramref name="vlanId"/> ≥ 0 an 802.1Q tag is added (a localnet port with a tag).
    /// Unpadded it is 42 bytes (46 tagged), as captured on the sending host; padded, 60 bytes, as on the wire.
    /// </summary>
    public static int GratuitousArpRequest(Span<byte> destination, ReadOnlySpan<byte> mac, ReadOnlySpan<byte> ip, int vlanId = -1, bool pad = true)
    {
        var b = new FrameBuilder(destination);
        EthernetMaybeTagged(ref b, BroadcastMac, mac, EtherTypes.Arp, vlanId);
        b.GratuitousArpRequest(mac, ip);
        return b.Finish(pad ? FrameBuilder.EthernetMinimumFrameLength : 0);
    }

    /// <summary>
    /// An RARP request as Open vSwitch composes it to announce a MAC after migration (OVN's
    /// activation-strategy=rarp): broadcast destination, EtherType 0x8035, opcode 3 (reverse request),
    /// SHA = THA = <paramref name="mac"/>, SPA = TPA = 0.0.0.0.
    /// </summary>
    public static int ReverseArpRequest(Span<byte> destination, ReadOnlySpan<byte> mac, int vlanId = -1, bool pad = true)
    {
        var b = new FrameBuilder(destination);
        EthernetMaybeTagged(ref b, BroadcastMac, mac, EtherTypes.Rarp, vlanId);
        ReadOnlySpan<byte> zeroIp = [0, 0, 0, 0];
        b.Arp(ArpOperation.ReverseRequest, mac, zeroIp, mac, zeroIp);
        return b.Finish(pad ? FrameBuilder.EthernetMinimumFrameLength : 0);
    }

    /// <summary>
    /// A BFD control packet between two chassis as OVS sends it on a Geneve tunnel port (OVN enables BFD
    /// on tunnels for gateway HA): outer Ethernet/IPv4/UDP to port 6081, Geneve VNI 0 with protocol
    /// 0x6558 and no options, inner Ethernet to <paramref name="innerDestinationMac"/> (OVS default
    /// <see cref="OvsBfdDestinationMac"/>), inner IPv4 with TTL 255 and TOS 0x18 (as OVS's bfd.c writes
    /// it), inner UDP to port 3784 without checksum, then the 24-byte BFD control packet.
    /// OVS's defaults for the inner addresses are link-local; pass whatever the test needs.
    /// </summary>
    public static int BfdOverGeneve(
        Span<byte> destination,
        ReadOnlySpan<byte> outerSourceMac,
        ReadOnlySpan<byte> outerDestinationMac,
        ReadOnlySpan<byte> outerSourceIp,
        ReadOnlySpan<byte> outerDestinationIp,
        ushort outerSourcePort,
        ReadOnlySpan<byte> innerSourceMac,
        ReadOnlySpan<byte> innerDestinationMac,
        ReadOnlySpan<byte> innerSourceIp,
        ReadOnlySpan<byte> innerDestinationIp,
        ushort innerSourcePort,
        in BfdControl bfd,
        bool outerUdpChecksum = true)
    {
        var b = new FrameBuilder(destination);
        b.Ethernet(outerDestinationMac, outerSourceMac, EtherTypes.Ipv4);
        b.BeginIpv4(outerSourceIp, outerDestinationIp, IpProtocols.Udp, ttl: 64, flags: Ipv4Flags.DontFragment);
        b.BeginUdp(outerSourcePort, UdpPorts.Geneve, outerUdpChecksum);
        b.Geneve(0, EtherTypes.TransparentEthernetBridging);
        b.Ethernet(innerDestinationMac, innerSourceMac, EtherTypes.Ipv4);
        b.BeginIpv4(innerSourceIp, innerDestinationIp, IpProtocols.Udp, ttl: 255, typeOfService: 0x18);
        b.BeginUdp(innerSourcePort, UdpPorts.BfdControl, checksum: false);
        b.Bfd(bfd);
        return b.Finish(FrameBuilder.EthernetMinimumFrameLength);
    }

    private static void EthernetMaybeTagged(ref FrameBuilder b, ReadOnlySpan<byte> dst, ReadOnlySpan<byte> src, ushort etherType, int vlanId)
    {
        if (vlanId >= 0)
        {
            b.Ethernet(dst, src, EtherTypes.Vlan);
            b.VlanTag((ushort)vlanId, etherType);
        }
        else
        {
            b.Ethernet(dst, src, etherType);
        }
    }
}
