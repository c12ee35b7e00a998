using UplinkProbe.Crafting;
using UplinkProbe.Decoding;

namespace UplinkProbe.Tests.Analysis;

/// <summary>
/// Frames of floods that would make unbounded analyzer state grow without end: a new key in every frame. Addresses
/// are from the documentation ranges (198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32); MACs are random unicast.
/// </summary>
internal static class FloodFrames
{
    /// <summary>Geneve from 198.51.100.x to 203.0.113.y on a random VNI with a random OVN egress key.</summary>
    public static byte[] GeneveFlow(Random random, ushort? egressKey = null)
    {
        byte[] frame = Scenario.Geneve(1, 2, (uint)random.Next(1 << 24), 1, egressKey ?? (ushort)random.Next(1 << 16));
        frame[29] = (byte)random.Next(256); // outer IPv4 source, last octet (Ethernet 14 + IPv4 offset 12)
        frame[26] = 198;
        frame[27] = 51;
        frame[28] = 100;
        frame[30] = 203;
        frame[31] = 0;
        frame[32] = 113;
        frame[33] = (byte)random.Next(256);
        return frame;
    }

    /// <summary>A unicast frame from a random source MAC.</summary>
    public static byte[] FromRandomMac(Random random) =>
        Scenario.Ping(RandomMac(random), Scenario.RouterMac, [198, 51, 100, (byte)random.Next(256)], Scenario.UpstreamIp);

    /// <summary>A gratuitous ARP request for 203.0.113.x from a random MAC.</summary>
    public static byte[] RandomGarp(Random random) => Scenario.Garp(RandomMac(random), [203, 0, 113, (byte)random.Next(256)]);

    /// <summary>An unsolicited Neighbor Advertisement for a random 2001:db8:: address from a random MAC.</summary>
    public static byte[] RandomNeighborAdvertisement(Random random)
    {
        byte[] mac = RandomMac(random);
        var target = new byte[16];
        random.NextBytes(target);
        target[0] = 0x20;
        target[1] = 0x01;
        target[2] = 0x0d;
        target[3] = 0xb8;
        var buffer = new byte[128];
        var b = new FrameBuilder(buffer);
        b.Ethernet([0x33, 0x33, 0, 0, 0, 1], mac, EtherTypes.Ipv6);
        b.BeginIpv6(target, [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], IpProtocols.Icmpv6, hopLimit: 255);
        b.BeginNeighborAdvertisement(NeighborAdvertisementFlags.Override, target);
        b.NdpTargetLinkLayerAddress(mac);
        return buffer[..b.Finish(60)];
    }

    public static byte[] RandomMac(Random random)
    {
        var mac = new byte[6];
        random.NextBytes(mac);
        mac[0] &= 0xfe;
        return mac;
    }
}
