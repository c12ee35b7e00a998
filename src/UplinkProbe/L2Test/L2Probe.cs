using System.Buffers.Binary;
using System.Text;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;

namespace UplinkProbe.L2Test;

/// <summary>What a sender puts into one probe frame.</summary>
/// <param name="Kind">What the frame tests.</param>
/// <param name="Sequence">Sequence number within the (kind, VLAN, destination) stream, from 1.</param>
/// <param name="SendTimeNs">Sender's clock, ns since the Unix epoch.</param>
/// <param name="SenderMac">The sender's NIC MAC (written into the signature; the Ethernet source except for the foreign-source kind).</param>
/// <param name="ForeignMac">The Ethernet source of the foreign-source kind.</param>
/// <param name="PeerMac">The destination peer's NIC MAC, for the directed kinds (<see cref="L2ProbeKinds.IsDirected"/>).</param>
/// <param name="VlanId">802.1Q VLAN ID of the tag to add, or -1 for an untagged frame.</param>
public readonly record struct L2ProbeSpec(
    L2ProbeKind Kind, uint Sequence, long SendTimeNs, MacAddress SenderMac, MacAddress ForeignMac, MacAddress PeerMac, int VlanId);

/// <summary>Why a frame that passed the capture filter was not counted as a probe.</summary>
public enum L2ProbeProblem : byte
{
    None = 0,

    /// <summary>Not a probe at all (other EtherType or port, no magic, another version): someone else's traffic.</summary>
    Foreign,

    /// <summary>Carries the magic but is cut short, names an unknown kind, or has a bad node name.</summary>
    Malformed,

    /// <summary>A valid signature inside a frame whose addresses do not fit its kind (e.g. a "broadcast" sent unicast).</summary>
    ShapeMismatch,
}

/// <summary>A probe decoded from a frame; spans point into the frame.</summary>
public readonly ref struct L2ProbeFrame
{
    public L2ProbeKind Kind { get; init; }

    public uint Sequence { get; init; }

    /// <summary>The sender's clock at sending, nanoseconds since the Unix epoch.</summary>
    public long SendTimeNs { get; init; }

    /// <summary>The sender's NIC MAC as written in the signature.</summary>
    public MacAddress SenderMac { get; init; }

    /// <summary>The sender's node name, UTF-8.</summary>
    public ReadOnlySpan<byte> NodeName { get; init; }

    public MacAddress EthernetSource { get; init; }

    public MacAddress EthernetDestination { get; init; }

    /// <summary>The 802.1Q VLAN ID the frame carried, -1 when untagged.</summary>
    public int VlanId { get; init; }
}

/// <summary>
/// The l2test probe: wire format, builder and parser. A probe is a signature carried either straight in an Ethernet
/// frame of EtherType <see cref="EtherType"/> (IEEE 802 Local Experimental EtherType 1) or in a UDP datagram to and
/// from port <see cref="UdpPort"/> inside a real IPv4/IPv6 multicast packet, so that IGMP/MLD snooping and multicast
/// filters treat it like any other multicast traffic.
/// <code>
/// offset size
///  0     4   magic "UPL2"
///  4     1   version (1)
///  5     1   kind (L2ProbeKind)
///  6     2   reserved, zero
///  8     4   sequence number of this (kind, VLAN, destination) stream, from 1
/// 12     8   send time, ns since the Unix epoch (sender's clock), signed
/// 20     6   sender's NIC MAC
/// 26     1   node name length n (1..64)
/// 27     n   node name, UTF-8
/// </code>
/// All integers big-endian. Frames are padded to the Ethernet minimum (60 bytes before the FCS).
/// </summary>
public static class L2Probe
{
    /// <summary>IEEE Std 802 Local Experimental EtherType 1; never assigned to a product, so never someone else's protocol on a production network.</summary>
    public const ushort EtherType = 0x88B5;

    /// <summary>UDP source and destination port of the IP multicast probes: 51381 (0xC8B5), in the dynamic range (RFC 6335 6) that IANA never assigns.</summary>
    public const ushort UdpPort = 51381;

    public const byte Version = 1;

    public const int FixedLength = 27;

    public const int MaxNodeNameLength = 64;

    /// <summary>The largest probe frame: tagged IPv6/UDP with the longest name.</summary>
    public const int MaxFrameLength = 14 + 4 + 40 + 8 + FixedLength + MaxNodeNameLength;

    public static ReadOnlySpan<byte> Magic => "UPL2"u8;

    /// <summary>224.0.0.1, all systems on this subnet (RFC 1112); in the link-local block every snooping switch floods.</summary>
    public static ReadOnlySpan<byte> Ipv4LinkLocalGroup => [224, 0, 0, 1];

    /// <summary>239.100.100.100, MicroCloud's discovery group, administratively scoped (RFC 2365).</summary>
    public static ReadOnlySpan<byte> Ipv4AdminScopedGroup => [239, 100, 100, 100];

    /// <summary>The capture filter (pcap-filter(7)) that keeps probe frames only, tagged or not.</summary>
    public static string CaptureFilter =>
        $"ether proto 0x{EtherType:x4} or udp dst port {UdpPort} or (vlan and (ether proto 0x{EtherType:x4} or udp dst port {UdpPort}))";

    public static Ipv6Address AllNodes => new(0xff02_0000_0000_0000UL, 1UL);

    /// <summary>fe80::/64 with the modified EUI-64 interface identifier of <paramref name="mac"/> (RFC 4291 appendix A).</summary>
    public static Ipv6Address LinkLocalFromMac(MacAddress mac)
    {
        ulong m = mac.Value;
        ulong oui = (m >> 24) ^ 0x02_0000UL; // flip the universal/local bit
        ulong iid = (oui << 40) | (0xfffeUL << 24) | (m & 0xff_ffffUL);
        return new Ipv6Address(0xfe80_0000_0000_0000UL, iid);
    }

    /// <summary>
    /// The solicited-node group (RFC 4291 2.7.1, ff02::1:ff00:0/104) of <paramref name="mac"/>'s EUI-64 link-local
    /// address: the group that node joins for its link-local address when IPv6 is on.
    /// </summary>
    public static Ipv6Address SolicitedNodeGroup(MacAddress mac) =>
        new(0xff02_0000_0000_0000UL, 0x0000_0001_ff00_0000UL | (mac.Value & 0xff_ffffUL));

    /// <summary>The Ethernet address of an IPv4 group: 01:00:5e and the group's low 23 bits (RFC 1112 6.4).</summary>
    public static MacAddress Ipv4MulticastMac(ReadOnlySpan<byte> group) =>
        new(0x01_00_5e_00_00_00UL | (BinaryPrimitives.ReadUInt32BigEndian(group) & 0x7f_ffffUL));

    /// <summary>The Ethernet address of an IPv6 group: 33:33 and the group's low 32 bits (RFC 2464 7).</summary>
    public static MacAddress Ipv6MulticastMac(Ipv6Address group) => new(0x3333_0000_0000UL | (group.Lower & 0xffff_ffffUL));

    /// <summary>
    /// The "foreign" source MAC of a node: locally administered, unicast, derived from the node name (FNV-1a), never the
    /// NIC's own — what an OVN gateway port's MAC looks like to the uplink.
    /// </summary>
    public static MacAddress ForeignMac(string node, MacAddress nic)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(node))
        {
            h = (h ^ b) * 0x100000001b3UL;
        }

        ulong v = (h & 0xffff_ffff_ffffUL & ~0x0100_0000_0000UL) | 0x0200_0000_0000UL;
        if (v == nic.Value)
        {
            v ^= 1;
        }

        return new MacAddress(v);
    }

    /// <summary>True when <paramref name="name"/> fits a probe (1..64 UTF-8 bytes, no control characters).</summary>
    public static bool IsValidNodeName(string name) =>
        name.Length > 0 && Encoding.UTF8.GetByteCount(name) <= MaxNodeNameLength && !name.Any(char.IsControl);

    /// <summary>Builds the frame of <paramref name="spec"/> into <paramref name="buffer"/> (at least <see cref="MaxFrameLength"/> bytes) and returns its length.</summary>
    public static int Build(Span<byte> buffer, in L2ProbeSpec spec, ReadOnlySpan<byte> nodeName)
    {
        if (nodeName.Length is 0 or > MaxNodeNameLength)
        {
            throw new ArgumentException("the node name must be 1..64 UTF-8 bytes", nameof(nodeName));
        }

        Span<byte> sender = stackalloc byte[6];
        Span<byte> source = stackalloc byte[6];
        Span<byte> destination = stackalloc byte[6];
        spec.SenderMac.TryWriteBytes(sender);
        (spec.Kind == L2ProbeKind.ForeignSource ? spec.ForeignMac : spec.SenderMac).TryWriteBytes(source);

        Span<byte> srcIp6 = stackalloc byte[16];
        Span<byte> dstIp6 = stackalloc byte[16];
        LinkLocalFromMac(spec.SenderMac).TryWriteBytes(srcIp6);
        ushort etherType;
        ReadOnlySpan<byte> group4 = default;
        switch (spec.Kind)
        {
            case L2ProbeKind.Broadcast:
                MacAddress.Broadcast.TryWriteBytes(destination);
                etherType = EtherType;
                break;
            case L2ProbeKind.ForeignSource or L2ProbeKind.Unicast:
                spec.PeerMac.TryWriteBytes(destination);
                etherType = EtherType;
                break;
            case L2ProbeKind.Ipv4LinkLocal or L2ProbeKind.Ipv4AdminScoped:
                group4 = spec.Kind == L2ProbeKind.Ipv4LinkLocal ? Ipv4LinkLocalGroup : Ipv4AdminScopedGroup;
                Ipv4MulticastMac(group4).TryWriteBytes(destination);
                etherType = EtherTypes.Ipv4;
                break;
            case L2ProbeKind.Ipv6AllNodes or L2ProbeKind.Ipv6SolicitedNode:
                Ipv6Address group6 = spec.Kind == L2ProbeKind.Ipv6AllNodes ? AllNodes : SolicitedNodeGroup(spec.PeerMac);
                group6.TryWriteBytes(dstIp6);
                Ipv6MulticastMac(group6).TryWriteBytes(destination);
                etherType = EtherTypes.Ipv6;
                break;
            default:
                throw new ArgumentException($"unknown probe kind {spec.Kind}", nameof(spec));
        }

        var b = new FrameBuilder(buffer);
        if (spec.VlanId >= 0)
        {
            b.Ethernet(destination, source, EtherTypes.Vlan);
            b.VlanTag((ushort)spec.VlanId, etherType);
        }
        else
        {
            b.Ethernet(destination, source, etherType);
        }

        if (etherType == EtherTypes.Ipv4)
        {
            // Source 0.0.0.0: the uplink has no address and the probe must not claim one (RFC 1122 3.2.1.3 allows it as a source).
            b.BeginIpv4([0, 0, 0, 0], group4, IpProtocols.Udp, ttl: 1);
            b.BeginUdp(UdpPort, UdpPort);
        }
        else if (etherType == EtherTypes.Ipv6)
        {
            b.BeginIpv6(srcIp6, dstIp6, IpProtocols.Udp, hopLimit: 1);
            b.BeginUdp(UdpPort, UdpPort);
        }

        Span<byte> p = b.Append(FixedLength + nodeName.Length);
        Magic.CopyTo(p);
        p[4] = Version;
        p[5] = (byte)spec.Kind;
        p[6] = 0;
        p[7] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(p[8..], spec.Sequence);
        BinaryPrimitives.WriteInt64BigEndian(p[12..], spec.SendTimeNs);
        sender.CopyTo(p[20..]);
        p[26] = (byte)nodeName.Length;
        nodeName.CopyTo(p[27..]);
        return b.Finish(FrameBuilder.EthernetMinimumFrameLength);
    }

    /// <summary>
    /// Parses <paramref name="frame"/> (Ethernet, at most one 802.1Q tag). Returns <see cref="L2ProbeProblem.None"/> with
    /// the probe, or why it is not one. Never throws on packet bytes.
    /// </summary>
    public static L2ProbeProblem TryDecode(ReadOnlySpan<byte> frame, out L2ProbeFrame probe)
    {
        probe = default;
        if (!EthernetHeader.TryRead(frame, out EthernetHeader ethernet, out _))
        {
            return L2ProbeProblem.Foreign;
        }

        MacAddress dst = ethernet.Destination;
        MacAddress src = ethernet.Source;
        ushort type = ethernet.TypeOrLength;
        int offset = EthernetHeader.Length;
        int vlan = -1;
        if (type == EtherTypes.Vlan)
        {
            if (frame.Length < 18)
            {
                return L2ProbeProblem.Foreign;
            }

            vlan = BinaryPrimitives.ReadUInt16BigEndian(frame[14..]) & 0x0fff;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame[16..]);
            offset = 18;
        }

        ReadOnlySpan<byte> l3 = frame[offset..];
        ReadOnlySpan<byte> payload;
        uint dst4 = 0;
        Ipv6Address dst6 = default;
        if (type == EtherType)
        {
            payload = l3;
        }
        else if (type == EtherTypes.Ipv4)
        {
            // RFC 791 3.1: version/IHL, total length, no fragments; then UDP to our port.
            if (l3.Length < 20 || (l3[0] >> 4) != 4 || l3[9] != IpProtocols.Udp)
            {
                return L2ProbeProblem.Foreign;
            }

            int ihl = (l3[0] & 0x0f) * 4;
            int total = BinaryPrimitives.ReadUInt16BigEndian(l3[2..]);
            if (ihl < 20 || total < ihl + 8 || total > l3.Length || (BinaryPrimitives.ReadUInt16BigEndian(l3[6..]) & 0x3fff) != 0)
            {
                return L2ProbeProblem.Foreign;
            }

            dst4 = BinaryPrimitives.ReadUInt32BigEndian(l3[16..]);
            if (!TryUdpPayload(l3[ihl..total], out payload))
            {
                return L2ProbeProblem.Foreign;
            }
        }
        else if (type == EtherTypes.Ipv6)
        {
            // RFC 8200 3: UDP straight after the fixed header (probes carry no extension headers).
            if (l3.Length < 48 || (l3[0] >> 4) != 6 || l3[6] != IpProtocols.Udp)
            {
                return L2ProbeProblem.Foreign;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(l3[4..]);
            if (40 + length > l3.Length)
            {
                return L2ProbeProblem.Foreign;
            }

            dst6 = Ipv6Address.Read(l3[24..]);
            if (!TryUdpPayload(l3.Slice(40, length), out payload))
            {
                return L2ProbeProblem.Foreign;
            }
        }
        else
        {
            return L2ProbeProblem.Foreign;
        }

        if (payload.Length < 5 || !payload[..4].SequenceEqual(Magic) || payload[4] != Version)
        {
            return L2ProbeProblem.Foreign; // someone else's frame, or another version's probe
        }

        if (payload.Length < FixedLength || !L2ProbeKinds.IsDefined(payload[5]))
        {
            return L2ProbeProblem.Malformed;
        }

        int nameLength = payload[26];
        if (nameLength is 0 or > MaxNodeNameLength || payload.Length < FixedLength + nameLength)
        {
            return L2ProbeProblem.Malformed;
        }

        ReadOnlySpan<byte> name = payload.Slice(FixedLength, nameLength);
        if (!System.Text.Unicode.Utf8.IsValid(name) || name.ContainsAnyInRange((byte)0, (byte)0x1f))
        {
            return L2ProbeProblem.Malformed;
        }

        var kind = (L2ProbeKind)payload[5];
        var sender = MacAddress.Read(payload[20..]);
        bool shapeOk = kind switch
        {
            L2ProbeKind.Broadcast => type == EtherType && dst.IsBroadcast,
            L2ProbeKind.Unicast => type == EtherType && !dst.IsMulticast && src == sender,
            L2ProbeKind.ForeignSource => type == EtherType && !dst.IsMulticast && src != sender,
            L2ProbeKind.Ipv4LinkLocal => type == EtherTypes.Ipv4 && dst4 == BinaryPrimitives.ReadUInt32BigEndian(Ipv4LinkLocalGroup)
                && dst == Ipv4MulticastMac(Ipv4LinkLocalGroup),
            L2ProbeKind.Ipv4AdminScoped => type == EtherTypes.Ipv4 && dst4 == BinaryPrimitives.ReadUInt32BigEndian(Ipv4AdminScopedGroup)
                && dst == Ipv4MulticastMac(Ipv4AdminScopedGroup),
            L2ProbeKind.Ipv6AllNodes => type == EtherTypes.Ipv6 && dst6 == AllNodes && dst == Ipv6MulticastMac(AllNodes),
            L2ProbeKind.Ipv6SolicitedNode => type == EtherTypes.Ipv6 && dst6.IsSolicitedNodeMulticast && dst == Ipv6MulticastMac(dst6),
            _ => false,
        };
        if (!shapeOk)
        {
            return L2ProbeProblem.ShapeMismatch;
        }

        probe = new L2ProbeFrame
        {
            Kind = kind,
            Sequence = BinaryPrimitives.ReadUInt32BigEndian(payload[8..]),
            SendTimeNs = BinaryPrimitives.ReadInt64BigEndian(payload[12..]),
            SenderMac = sender,
            NodeName = name,
            EthernetSource = src,
            EthernetDestination = dst,
            VlanId = vlan,
        };
        return L2ProbeProblem.None;
    }

    /// <summary>Whether a decoded directed probe was meant for the node whose NIC MAC is <paramref name="own"/>.</summary>
    public static bool IsAddressedTo(in L2ProbeFrame probe, MacAddress own) => probe.Kind switch
    {
        L2ProbeKind.Unicast or L2ProbeKind.ForeignSource => probe.EthernetDestination == own,
        L2ProbeKind.Ipv6SolicitedNode => probe.EthernetDestination == Ipv6MulticastMac(SolicitedNodeGroup(own)),
        _ => true,
    };

    private static bool TryUdpPayload(ReadOnlySpan<byte> udp, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        if (udp.Length < 8 || BinaryPrimitives.ReadUInt16BigEndian(udp[2..]) != UdpPort)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(udp[4..]);
        if (length < 8 || length > udp.Length)
        {
            return false;
        }

        payload = udp[8..length];
        return true;
    }
}
