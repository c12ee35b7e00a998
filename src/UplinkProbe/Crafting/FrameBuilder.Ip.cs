using System.Buffers.Binary;
using UplinkProbe.Decoding;

namespace UplinkProbe.Crafting;

public ref partial struct FrameBuilder
{
    // ---------------------------------------------------------------- IPv4 / IPv6

    /// <summary>
    /// Opens an IPv4 header (RFC 791 3.1). Total length and header checksum are patched when it is closed.
    /// <paramref name="options"/> are written as given and padded with End-of-Option-List bytes to a multiple
    /// of 4 (at most 40 bytes). <paramref name="fragmentOffset"/> is in 8-byte units (13 bits).
    /// </summary>
    public void BeginIpv4(
        scoped ReadOnlySpan<byte> source,
        scoped ReadOnlySpan<byte> destination,
        byte protocol,
        byte ttl = 64,
        ushort identification = 0,
        Ipv4Flags flags = Ipv4Flags.None,
        ushort fragmentOffset = 0,
        byte typeOfService = 0,
        scoped ReadOnlySpan<byte> options = default)
    {
        int optionsLength = (options.Length + 3) & ~3;
        if (optionsLength > 40 || fragmentOffset > 0x1fff)
        {
            throw new ArgumentException("IPv4 options are at most 40 bytes and the fragment offset has 13 bits");
        }

        int offset = _length;
        Span<byte> h = Reserve(20 + optionsLength);
        h[0] = (byte)(0x40 | ((20 + optionsLength) / 4));
        h[1] = typeOfService;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], identification);
        BinaryPrimitives.WriteUInt16BigEndian(h[6..], (ushort)(((int)flags << 13) | fragmentOffset));
        h[8] = ttl;
        h[9] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(h[10..], 0);
        Ipv4(source).CopyTo(h[12..]);
        Ipv4(destination).CopyTo(h[16..]);
        options.CopyTo(h[20..]);
        h[(20 + options.Length)..].Clear();
        _networkOffset = offset;
        Push(HeaderKind.Ipv4, offset);
    }

    /// <summary>
    /// Opens an IPv6 header (RFC 8200 3). The payload length is patched when it is closed.
    /// <paramref name="nextHeader"/> names the first extension header or the upper-layer protocol.
    /// </summary>
    public void BeginIpv6(
        scoped ReadOnlySpan<byte> source,
        scoped ReadOnlySpan<byte> destination,
        byte nextHeader,
        byte hopLimit = 64,
        byte trafficClass = 0,
        uint flowLabel = 0)
    {
        if (flowLabel > 0xfffff)
        {
            throw new ArgumentOutOfRangeException(nameof(flowLabel), "the flow label has 20 bits");
        }

        int offset = _length;
        Span<byte> h = Reserve(40);
        BinaryPrimitives.WriteUInt32BigEndian(h, (6u << 28) | ((uint)trafficClass << 20) | flowLabel);
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], 0);
        h[6] = nextHeader;
        h[7] = hopLimit;
        Ipv6(source).CopyTo(h[8..]);
        Ipv6(destination).CopyTo(h[24..]);
        _networkOffset = offset;
        Push(HeaderKind.Ipv6, offset);
    }

    /// <summary>Hop-by-Hop Options header (RFC 8200 4.3); <paramref name="options"/> are TLVs, padded with Pad1/PadN.</summary>
    public void Ipv6HopByHop(byte nextHeader, scoped ReadOnlySpan<byte> options) => Ipv6OptionsHeader(nextHeader, options);

    /// <summary>Destination Options header (RFC 8200 4.6); <paramref name="options"/> are TLVs, padded with Pad1/PadN.</summary>
    public void Ipv6DestinationOptions(byte nextHeader, scoped ReadOnlySpan<byte> options) => Ipv6OptionsHeader(nextHeader, options);

    /// <summary>Fragment header (RFC 8200 4.5); <paramref name="fragmentOffset"/> is in 8-byte units (13 bits).</summary>
    public void Ipv6Fragment(byte nextHeader, ushort fragmentOffset, bool moreFragments, uint identification)
    {
        if (fragmentOffset > 0x1fff)
        {
            throw new ArgumentOutOfRangeException(nameof(fragmentOffset), "the fragment offset has 13 bits");
        }

        Span<byte> h = Reserve(8);
        h[0] = nextHeader;
        h[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)((fragmentOffset << 3) | (moreFragments ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], identification);
    }

    private void Ipv6OptionsHeader(byte nextHeader, scoped ReadOnlySpan<byte> options)
    {
        // Hdr Ext Len counts 8-octet units after the first 8 (RFC 8200 4.3); pad with Pad1 or PadN (4.2).
        int total = (2 + options.Length + 7) & ~7;
        if (total > 2048)
        {
            throw new ArgumentException("IPv6 options header longer than 2048 bytes", nameof(options));
        }

        Span<byte> h = Reserve(total);
        h[0] = nextHeader;
        h[1] = (byte)(total / 8 - 1);
        options.CopyTo(h[2..]);
        Span<byte> pad = h[(2 + options.Length)..];
        pad.Clear();
        if (pad.Length >= 2)
        {
            pad[0] = 1;
            pad[1] = (byte)(pad.Length - 2);
        }
    }

    // ---------------------------------------------------------------- UDP / TCP

    /// <summary>
    /// Opens a UDP header (RFC 768). Length and checksum are patched when it is closed. With
    /// <paramref name="checksum"/> false the checksum stays 0 ("none", allowed for IPv4 and, for tunnels,
    /// IPv6 per RFC 6935).
    /// </summary>
    public void BeginUdp(ushort sourcePort, ushort destinationPort, bool checksum = true)
    {
        RequireNetwork("UDP");
        int offset = _length;
        Span<byte> h = Reserve(8);
        BinaryPrimitives.WriteUInt16BigEndian(h, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], 0);
        Push(HeaderKind.Udp, offset, checksum);
    }

    /// <summary>
    /// Opens a TCP header (RFC 9293 3.1); the checksum is patched when it is closed. <paramref name="options"/>
    /// are padded with End-of-Option-List bytes to a multiple of 4 (at most 40 bytes).
    /// </summary>
    public void BeginTcp(
        ushort sourcePort,
        ushort destinationPort,
        uint sequenceNumber,
        uint acknowledgmentNumber,
        TcpFlags flags,
        ushort window = 65535,
        scoped ReadOnlySpan<byte> options = default,
        ushort urgentPointer = 0)
    {
        RequireNetwork("TCP");
        int optionsLength = (options.Length + 3) & ~3;
        if (optionsLength > 40)
        {
            throw new ArgumentException("TCP options are at most 40 bytes", nameof(options));
        }

        int offset = _length;
        Span<byte> h = Reserve(20 + optionsLength);
        BinaryPrimitives.WriteUInt16BigEndian(h, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(h[8..], acknowledgmentNumber);
        BinaryPrimitives.WriteUInt16BigEndian(h[12..], (ushort)((((20 + optionsLength) / 4) << 12) | ((int)flags & 0x1ff)));
        BinaryPrimitives.WriteUInt16BigEndian(h[14..], window);
        BinaryPrimitives.WriteUInt16BigEndian(h[16..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(h[18..], urgentPointer);
        options.CopyTo(h[20..]);
        h[(20 + options.Length)..].Clear();
        Push(HeaderKind.Tcp, offset, true);
    }

    // ---------------------------------------------------------------- ICMPv4

    /// <summary>Opens an ICMP message (RFC 792): type, code, checksum (patched when closed), 4 bytes rest-of-header.</summary>
    public void BeginIcmpv4(byte type, byte code, uint restOfHeader = 0)
    {
        int offset = _length;
        Span<byte> h = Reserve(8);
        h[0] = type;
        h[1] = code;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], restOfHeader);
        Push(HeaderKind.Icmpv4, offset);
    }

    /// <summary>ICMP echo request (type 8) or reply (type 0); append the data, then close.</summary>
    public void BeginIcmpv4Echo(bool reply, ushort identifier, ushort sequenceNumber) =>
        BeginIcmpv4(reply ? (byte)0 : (byte)8, 0, ((uint)identifier << 16) | sequenceNumber);

    // ---------------------------------------------------------------- ICMPv6 and Neighbor Discovery

    /// <summary>Opens an ICMPv6 message (RFC 4443 2.1): type, code, checksum over the IPv6 pseudo-header (patched when closed).</summary>
    public void BeginIcmpv6(byte type, byte code)
    {
        RequireNetwork("ICMPv6");
        int offset = _length;
        Span<byte> h = Reserve(4);
        h[0] = type;
        h[1] = code;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], 0);
        Push(HeaderKind.Icmpv6, offset);
    }

    public void BeginIcmpv6Echo(bool reply, ushort identifier, ushort sequenceNumber)
    {
        BeginIcmpv6(reply ? Icmpv6Header.EchoReply : Icmpv6Header.EchoRequest, 0);
        WriteUInt16(identifier);
        WriteUInt16(sequenceNumber);
    }

    /// <summary>Router Solicitation (RFC 4861 4.1); options follow.</summary>
    public void BeginRouterSolicitation()
    {
        BeginIcmpv6(Icmpv6Header.RouterSolicitation, 0);
        WriteZeros(4);
    }

    /// <summary>Router Advertisement (RFC 4861 4.2); times in seconds (lifetime) and milliseconds (timers). Options follow.</summary>
    public void BeginRouterAdvertisement(byte currentHopLimit, RouterAdvertisementFlags flags, ushort routerLifetime, uint reachableTime, uint retransmitTimer)
    {
        BeginIcmpv6(Icmpv6Header.RouterAdvertisement, 0);
        WriteByte(currentHopLimit);
        WriteByte((byte)flags);
        WriteUInt16(routerLifetime);
        WriteUInt32(reachableTime);
        WriteUInt32(retransmitTimer);
    }

    /// <summary>Neighbor Solicitation (RFC 4861 4.3); options follow.</summary>
    public void BeginNeighborSolicitation(scoped ReadOnlySpan<byte> target)
    {
        BeginIcmpv6(Icmpv6Header.NeighborSolicitation, 0);
        WriteZeros(4);
        Write(Ipv6(target));
    }

    /// <summary>Neighbor Advertisement (RFC 4861 4.4) with R/S/O flags; options follow.</summary>
    public void BeginNeighborAdvertisement(NeighborAdvertisementFlags flags, scoped ReadOnlySpan<byte> target)
    {
        BeginIcmpv6(Icmpv6Header.NeighborAdvertisement, 0);
        WriteByte((byte)flags);
        WriteZeros(3);
        Write(Ipv6(target));
    }

    /// <summary>Redirect (RFC 4861 4.5): the better first hop (target) and the destination; options follow.</summary>
    public void BeginRedirect(scoped ReadOnlySpan<byte> target, scoped ReadOnlySpan<byte> destination)
    {
        BeginIcmpv6(Icmpv6Header.Redirect, 0);
        WriteZeros(4);
        Write(Ipv6(target));
        Write(Ipv6(destination));
    }

    /// <summary>
    /// A Neighbor Discovery option (RFC 4861 4.6): type, length in 8-byte units, <paramref name="body"/>,
    /// zero-padded to a multiple of 8 bytes.
    /// </summary>
    public void NdpOption(byte type, scoped ReadOnlySpan<byte> body)
    {
        int total = (2 + body.Length + 7) & ~7;
        if (total > 255 * 8)
        {
            throw new ArgumentException("Neighbor Discovery option longer than 2040 bytes", nameof(body));
        }

        Span<byte> o = Reserve(total);
        o[0] = type;
        o[1] = (byte)(total / 8);
        body.CopyTo(o[2..]);
        o[(2 + body.Length)..].Clear();
    }

    public void NdpSourceLinkLayerAddress(scoped ReadOnlySpan<byte> mac) => NdpOption(NdpOptionTypes.SourceLinkLayerAddress, Mac(mac));

    public void NdpTargetLinkLayerAddress(scoped ReadOnlySpan<byte> mac) => NdpOption(NdpOptionTypes.TargetLinkLayerAddress, Mac(mac));

    /// <summary>Prefix Information (RFC 4861 4.6.2); lifetimes in seconds, 0xffffffff = infinity.</summary>
    public void NdpPrefixInformation(byte prefixLength, PrefixInformationFlags flags, uint validLifetime, uint preferredLifetime, scoped ReadOnlySpan<byte> prefix)
    {
        Span<byte> o = Reserve(32);
        o[0] = NdpOptionTypes.PrefixInformation;
        o[1] = 4;
        o[2] = prefixLength;
        o[3] = (byte)flags;
        BinaryPrimitives.WriteUInt32BigEndian(o[4..], validLifetime);
        BinaryPrimitives.WriteUInt32BigEndian(o[8..], preferredLifetime);
        BinaryPrimitives.WriteUInt32BigEndian(o[12..], 0);
        Ipv6(prefix).CopyTo(o[16..]);
    }

    /// <summary>
    /// Redirected Header (RFC 4861 4.6.3): 6 reserved bytes, then as much of the redirected IP packet as given.
    /// Senders truncate the packet so the option is a multiple of 8 bytes; a length that is not is padded
    /// with zeros, which Wireshark reports as undecoded data.
    /// </summary>
    public void NdpRedirectedHeader(scoped ReadOnlySpan<byte> ipPacket)
    {
        int total = (8 + ipPacket.Length + 7) & ~7;
        if (total > 255 * 8)
        {
            throw new ArgumentException("Redirected Header option longer than 2040 bytes; truncate the packet", nameof(ipPacket));
        }

        Span<byte> o = Reserve(total);
        o[0] = NdpOptionTypes.RedirectedHeader;
        o[1] = (byte)(total / 8);
        o[2..8].Clear();
        ipPacket.CopyTo(o[8..]);
        o[(8 + ipPacket.Length)..].Clear();
    }

    /// <summary>MTU option (RFC 4861 4.6.4).</summary>
    public void NdpMtu(uint mtu)
    {
        Span<byte> o = Reserve(8);
        o[0] = NdpOptionTypes.Mtu;
        o[1] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(o[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(o[4..], mtu);
    }

    /// <summary>Nonce option (RFC 3971 5.3.2): the nonce fills the option, so 2 + length must be a multiple of 8 (6 bytes is usual).</summary>
    public void NdpNonce(scoped ReadOnlySpan<byte> nonce)
    {
        if (nonce.Length < 6 || (nonce.Length + 2) % 8 != 0)
        {
            throw new ArgumentException("a Nonce option's nonce is 6, 14, 22, ... bytes", nameof(nonce));
        }

        NdpOption(NdpOptionTypes.Nonce, nonce);
    }

    /// <summary>Recursive DNS Server option (RFC 8106 5.1); <paramref name="addresses"/> is 16 bytes per server.</summary>
    public void NdpRecursiveDnsServers(uint lifetime, scoped ReadOnlySpan<byte> addresses)
    {
        if (addresses.Length == 0 || addresses.Length % 16 != 0)
        {
            throw new ArgumentException("RDNSS needs one or more 16-byte addresses", nameof(addresses));
        }

        Span<byte> o = Reserve(8 + addresses.Length);
        o[0] = NdpOptionTypes.RecursiveDnsServer;
        o[1] = (byte)(1 + addresses.Length / 8);
        BinaryPrimitives.WriteUInt16BigEndian(o[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(o[4..], lifetime);
        addresses.CopyTo(o[8..]);
    }

    /// <summary>
    /// DNS Search List option (RFC 8106 5.2): each domain (ASCII, dot-separated) as DNS labels ending in a
    /// zero label, the whole zero-padded to a multiple of 8.
    /// </summary>
    public void NdpDnsSearchList(uint lifetime, params ReadOnlySpan<string> domains)
    {
        int start = _length;
        Span<byte> h = Reserve(8);
        h[0] = NdpOptionTypes.DnsSearchList;
        h[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], lifetime);
        foreach (string domain in domains)
        {
            WriteDnsName(domain);
        }

        int total = (_length - start + 7) & ~7;
        PadTo(start + total);
        if (total > 255 * 8)
        {
            throw new ArgumentException("DNSSL option longer than 2040 bytes", nameof(domains));
        }

        _buffer[start + 1] = (byte)(total / 8);
    }

    private void WriteDnsName(ReadOnlySpan<char> name)
    {
        name = name.TrimEnd('.');
        while (!name.IsEmpty)
        {
            int dot = name.IndexOf('.');
            ReadOnlySpan<char> label = dot < 0 ? name : name[..dot];
            if (label.IsEmpty || label.Length > 63)
            {
                throw new ArgumentException("a DNS label has 1 to 63 characters", nameof(name));
            }

            Span<byte> l = Reserve(1 + label.Length);
            l[0] = (byte)label.Length;
            for (int i = 0; i < label.Length; i++)
            {
                if (label[i] > 0x7f)
                {
                    throw new ArgumentException("DNS names must be ASCII (use the A-label form)", nameof(name));
                }

                l[1 + i] = (byte)label[i];
            }

            name = dot < 0 ? default : name[(dot + 1)..];
        }

        WriteByte(0);
    }
}
