using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using UplinkProbe.Decoding;

namespace UplinkProbe.Crafting;

/// <summary>
/// Builds a frame front to back into a caller-supplied buffer, without allocating.
/// <para>
/// Headers are appended in wire order. Fixed-size headers (Ethernet, VLAN tags, LLC/SNAP, ARP, IPv6
/// extension headers, Geneve, VXLAN, BFD) are complete when written. Headers whose length or checksum
/// depends on what follows are <em>opened</em> by a <c>Begin…</c> method (IPv4, IPv6, UDP, TCP, ICMPv4,
/// ICMPv6 and the NDP messages, 802.3 length fields) and sit on a small stack; <see cref="End"/> closes the
/// innermost one and <see cref="Finish"/> closes all of them, innermost first, back-patching lengths and
/// checksums over everything written after the header. Closing inner headers first is what makes a
/// tunnel's outer UDP checksum cover the finished inner packet.
/// </para>
/// <para>
/// Transport checksums use the pseudo-header of the IP header most recently begun before the transport
/// header (the outer one for a tunnel's UDP, the inner one inside the tunnel). Next-header/EtherType
/// fields are given explicitly, so any combination — including wrong ones, for negative tests — can be
/// built. <see cref="Written"/> is writable for deliberate corruption after <see cref="Finish"/>.
/// </para>
/// <para>
/// The buffer may be reused between frames: every byte of the frame is written, nothing relies on a
/// zeroed buffer. Misuse (buffer too small, an address of the wrong length, <see cref="End"/> with nothing
/// open) throws <see cref="InvalidOperationException"/> or <see cref="ArgumentException"/>; these are
/// programming errors, not packet data.
/// </para>
/// </summary>
/// <example>
/// <code>
/// Span&lt;byte&gt; buf = stackalloc byte[1518];
/// var b = new FrameBuilder(buf);
/// b.Ethernet(dstMac, srcMac, EtherTypes.Ipv4);
/// b.BeginIpv4(srcIp, dstIp, IpProtocols.Udp, ttl: 64);
/// b.BeginUdp(40000, 53);
/// b.Write(payload);
/// int length = b.Finish(FrameBuilder.EthernetMinimumFrameLength);
/// </code>
/// </example>
public ref partial struct FrameBuilder
{
    /// <summary>Smallest Ethernet frame without the FCS (64 bytes on the wire minus 4).</summary>
    public const int EthernetMinimumFrameLength = 60;

    /// <summary>How many headers can be open at once (enough for several nested tunnels).</summary>
    public const int MaxOpenHeaders = 16;

    private readonly Span<byte> _buffer;
    private int _length;
    private int _openCount;
    private OpenHeaderStack _open;
    private int _networkOffset;
    private int _geneveOffset;

    public FrameBuilder(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
        _openCount = 0;
        _networkOffset = -1;
        _geneveOffset = -1;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _length;

    public readonly int Capacity => _buffer.Length;

    /// <summary>Headers opened and not yet closed.</summary>
    public readonly int OpenHeaderCount => _openCount;

    /// <summary>The frame so far. Writable, so tests can corrupt a field after <see cref="Finish"/>.</summary>
    public readonly Span<byte> Written => _buffer[.._length];

    // ---------------------------------------------------------------- raw bytes

    /// <summary>Appends <paramref name="count"/> zero bytes and returns them for the caller to fill.</summary>
    public Span<byte> Append(int count)
    {
        Span<byte> s = Reserve(count);
        s.Clear();
        return s;
    }

    public void Write(scoped ReadOnlySpan<byte> data) => data.CopyTo(Reserve(data.Length));

    public void WriteByte(byte value) => Reserve(1)[0] = value;

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Reserve(2), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), value);

    public void WriteZeros(int count) => Reserve(count).Clear();

    public void Fill(int count, byte value) => Reserve(count).Fill(value);

    /// <summary>Appends zero bytes until the frame is <paramref name="length"/> bytes long (no-op when longer).</summary>
    public void PadTo(int length)
    {
        if (_length < length)
        {
            WriteZeros(length - _length);
        }
    }

    // ---------------------------------------------------------------- closing

    /// <summary>Closes the innermost open header, patching its length and checksum.</summary>
    public void End()
    {
        if (_openCount == 0)
        {
            throw new InvalidOperationException("FrameBuilder.End: no header is open");
        }

        OpenHeader h = _open[--_openCount];
        Span<byte> b = _buffer;
        int total = _length - h.Offset;
        switch (h.Kind)
        {
            case HeaderKind.LengthField:
                // 802.3 length: the bytes after the field (LLC and payload), before any padding.
                PatchUInt16(h.Offset, CheckedUInt16(total - 2, "802.3 length"));
                break;
            case HeaderKind.Ipv4:
            {
                int ihl = (b[h.Offset] & 0x0f) * 4;
                PatchUInt16(h.Offset + 2, CheckedUInt16(total, "IPv4 total length"));
                PatchUInt16(h.Offset + 10, 0);
                PatchUInt16(h.Offset + 10, InternetChecksum.Compute(b.Slice(h.Offset, ihl)));
                break;
            }

            case HeaderKind.Ipv6:
                PatchUInt16(h.Offset + 4, CheckedUInt16(total - 40, "IPv6 payload length"));
                break;
            case HeaderKind.Udp:
                PatchUInt16(h.Offset + 4, CheckedUInt16(total, "UDP length"));
                PatchUInt16(h.Offset + 6, 0);
                if (h.Checksum)
                {
                    ushort c = TransportChecksum(h, total, IpProtocols.Udp);
                    // RFC 768: a computed zero is sent as all ones; zero means "no checksum".
                    PatchUInt16(h.Offset + 6, c == 0 ? (ushort)0xffff : c);
                }

                break;
            case HeaderKind.Tcp:
                PatchUInt16(h.Offset + 16, 0);
                PatchUInt16(h.Offset + 16, TransportChecksum(h, total, IpProtocols.Tcp));
                break;
            case HeaderKind.Icmpv4:
                PatchUInt16(h.Offset + 2, 0);
                PatchUInt16(h.Offset + 2, InternetChecksum.Compute(b.Slice(h.Offset, total)));
                break;
            case HeaderKind.Icmpv6:
                PatchUInt16(h.Offset + 2, 0);
                PatchUInt16(h.Offset + 2, TransportChecksum(h, total, IpProtocols.Icmpv6));
                break;
        }
    }

    /// <summary>
    /// Closes every open header (innermost first), pads with zeros to <paramref name="minimumLength"/>
    /// (e.g. <see cref="EthernetMinimumFrameLength"/>; padding is not counted in any length field) and
    /// returns the frame length.
    /// </summary>
    public int Finish(int minimumLength = 0)
    {
        while (_openCount > 0)
        {
            End();
        }

        PadTo(minimumLength);
        return _length;
    }

    // ---------------------------------------------------------------- link layer

    /// <summary>Ethernet II header: destination, source, EtherType (use <see cref="EtherTypes.Vlan"/> before a tag).</summary>
    public void Ethernet(scoped ReadOnlySpan<byte> destination, scoped ReadOnlySpan<byte> source, ushort etherType)
    {
        Span<byte> h = Reserve(14);
        Mac(destination).CopyTo(h);
        Mac(source).CopyTo(h[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(h[12..], etherType);
    }

    /// <summary>IEEE 802.3 header whose type field is a length, patched when closed. Follow with <see cref="Llc"/>.</summary>
    public void BeginEthernet8023(scoped ReadOnlySpan<byte> destination, scoped ReadOnlySpan<byte> source)
    {
        Span<byte> h = Reserve(12);
        Mac(destination).CopyTo(h);
        Mac(source).CopyTo(h[6..]);
        BeginLengthField();
    }

    /// <summary>
    /// The rest of an 802.1Q/802.1ad tag after its TPID: TCI (PCP, DEI, VID) and the next EtherType. The TPID
    /// is the preceding EtherType field, so stacked tags are
    /// <c>Ethernet(…, EtherTypes.QinQ); VlanTag(outer, Vlan); VlanTag(inner, Ipv4)</c>.
    /// </summary>
    public void VlanTag(ushort vlanId, ushort etherType, byte priority = 0, bool dropEligible = false)
    {
        Span<byte> h = Reserve(4);
        BinaryPrimitives.WriteUInt16BigEndian(h, Tci(vlanId, priority, dropEligible));
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], etherType);
    }

    /// <summary>A VLAN tag followed by an 802.3 length field (patched when closed), for tagged LLC frames.</summary>
    public void BeginVlanTag8023(ushort vlanId, byte priority = 0, bool dropEligible = false)
    {
        BinaryPrimitives.WriteUInt16BigEndian(Reserve(2), Tci(vlanId, priority, dropEligible));
        BeginLengthField();
    }

    /// <summary>A 2-byte length of everything that follows it, patched when closed.</summary>
    public void BeginLengthField()
    {
        Push(HeaderKind.LengthField, _length);
        WriteUInt16(0);
    }

    /// <summary>802.2 LLC header (DSAP, SSAP, 1-byte control; 0x03 = UI).</summary>
    public void Llc(byte dsap, byte ssap, byte control = 0x03)
    {
        Span<byte> h = Reserve(3);
        h[0] = dsap;
        h[1] = ssap;
        h[2] = control;
    }

    /// <summary>LLC AA-AA-03 followed by the SNAP header: 3-byte OUI and EtherType (RFC 1042 when OUI is 0).</summary>
    public void LlcSnap(uint oui, ushort etherType)
    {
        Llc(0xaa, 0xaa, 0x03);
        Span<byte> h = Reserve(5);
        h[0] = (byte)(oui >> 16);
        h[1] = (byte)(oui >> 8);
        h[2] = (byte)oui;
        BinaryPrimitives.WriteUInt16BigEndian(h[3..], etherType);
    }

    // ---------------------------------------------------------------- ARP / RARP

    /// <summary>
    /// An Ethernet/IPv4 ARP or RARP message (RFC 826, RFC 903): hardware type 1, protocol 0x0800, sizes 6/4.
    /// The opcode is written as given, so any value can be built. RARP uses EtherType 0x8035.
    /// </summary>
    public void Arp(ArpOperation operation, scoped ReadOnlySpan<byte> senderMac, scoped ReadOnlySpan<byte> senderIp, scoped ReadOnlySpan<byte> targetMac, scoped ReadOnlySpan<byte> targetIp) =>
        Arp(1, EtherTypes.Ipv4, (ushort)operation, Mac(senderMac), Ipv4(senderIp), Mac(targetMac), Ipv4(targetIp));

    /// <summary>An ARP message of any hardware/protocol type; the size fields are the address lengths given.</summary>
    public void Arp(ushort hardwareType, ushort protocolType, ushort operation, scoped ReadOnlySpan<byte> senderHardware, scoped ReadOnlySpan<byte> senderProtocol, scoped ReadOnlySpan<byte> targetHardware, scoped ReadOnlySpan<byte> targetProtocol)
    {
        if (senderHardware.Length != targetHardware.Length || senderProtocol.Length != targetProtocol.Length
            || senderHardware.Length > 255 || senderProtocol.Length > 255)
        {
            throw new ArgumentException("ARP sender and target addresses must have the same lengths (at most 255)");
        }

        Span<byte> h = Reserve(8);
        BinaryPrimitives.WriteUInt16BigEndian(h, hardwareType);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], protocolType);
        h[4] = (byte)senderHardware.Length;
        h[5] = (byte)senderProtocol.Length;
        BinaryPrimitives.WriteUInt16BigEndian(h[6..], operation);
        Write(senderHardware);
        Write(senderProtocol);
        Write(targetHardware);
        Write(targetProtocol);
    }

    /// <summary>
    /// The gratuitous ARP <em>request</em> OVN sends to announce an address: SHA = <paramref name="mac"/>,
    /// SPA = TPA = <paramref name="ip"/>, THA zero (RFC 5227 section 3 "ARP Announcement").
    /// </summary>
    public void GratuitousArpRequest(scoped ReadOnlySpan<byte> mac, scoped ReadOnlySpan<byte> ip)
    {
        Span<byte> zeroMac = stackalloc byte[6];
        zeroMac.Clear();
        Arp(ArpOperation.Request, mac, ip, zeroMac, ip);
    }

    // ---------------------------------------------------------------- helpers

    private Span<byte> Reserve(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _length))
        {
            ThrowTooSmall(count);
        }

        Span<byte> s = _buffer.Slice(_length, count);
        _length += count;
        return s;
    }

    private readonly void PatchUInt16(int offset, ushort value) =>
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[offset..], value);

    private void Push(HeaderKind kind, int offset, bool checksum = false)
    {
        if (_openCount == MaxOpenHeaders)
        {
            throw new InvalidOperationException($"FrameBuilder: more than {MaxOpenHeaders} open headers");
        }

        _open[_openCount++] = new OpenHeader(kind, offset, _networkOffset, checksum);
    }

    private readonly ushort TransportChecksum(OpenHeader h, int upperLength, byte protocol)
    {
        ReadOnlySpan<byte> b = _buffer;
        int ip = h.NetworkOffset;
        ulong sum = (b[ip] >> 4) == 4
            ? InternetChecksum.PseudoHeaderIpv4(b.Slice(ip + 12, 4), b.Slice(ip + 16, 4), protocol, upperLength)
            : InternetChecksum.PseudoHeaderIpv6(b.Slice(ip + 8, 16), b.Slice(ip + 24, 16), protocol, upperLength);
        return InternetChecksum.Finish(InternetChecksum.Add(sum, b.Slice(h.Offset, upperLength)));
    }

    private readonly int RequireNetwork(string header)
    {
        if (_networkOffset < 0)
        {
            throw new InvalidOperationException($"FrameBuilder: {header} needs an IPv4 or IPv6 header before it for its checksum");
        }

        return _networkOffset;
    }

    private static ushort Tci(ushort vlanId, byte priority, bool dropEligible)
    {
        if (vlanId > 0x0fff || priority > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(vlanId), "VLAN id has 12 bits and priority 3");
        }

        return (ushort)((priority << 13) | (dropEligible ? 0x1000 : 0) | vlanId);
    }

    private static ushort CheckedUInt16(int value, string field)
    {
        if ((uint)value > ushort.MaxValue)
        {
            throw new InvalidOperationException($"FrameBuilder: {field} {value} does not fit in 16 bits");
        }

        return (ushort)value;
    }

    internal static ReadOnlySpan<byte> Mac(ReadOnlySpan<byte> mac) =>
        mac.Length == 6 ? mac : throw new ArgumentException("a MAC address has 6 bytes", nameof(mac));

    internal static ReadOnlySpan<byte> Ipv4(ReadOnlySpan<byte> address) =>
        address.Length == 4 ? address : throw new ArgumentException("an IPv4 address has 4 bytes", nameof(address));

    internal static ReadOnlySpan<byte> Ipv6(ReadOnlySpan<byte> address) =>
        address.Length == 16 ? address : throw new ArgumentException("an IPv6 address has 16 bytes", nameof(address));

    private readonly void ThrowTooSmall(int count) =>
        throw new InvalidOperationException($"FrameBuilder: buffer of {_buffer.Length} bytes is too small ({_length} written, {count} more needed)");

    private enum HeaderKind : byte
    {
        LengthField,
        Ipv4,
        Ipv6,
        Udp,
        Tcp,
        Icmpv4,
        Icmpv6,
    }

    private readonly record struct OpenHeader(HeaderKind Kind, int Offset, int NetworkOffset, bool Checksum);

    [InlineArray(MaxOpenHeaders)]
    private struct OpenHeaderStack
    {
        private OpenHeader _element;
    }
}
