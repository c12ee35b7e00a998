using System.Buffers.Binary;
using UplinkProbe.Capture.Live;

namespace UplinkProbe.Tests.Live;

/// <summary>Frames the live tests send: locally administered MACs, documentation addresses, a sequence number inside.</summary>
internal static class LiveFrames
{
    public static readonly byte[] MacA = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x0a];
    public static readonly byte[] MacB = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x0b];
    public static readonly byte[] Gateway = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x99];

    /// <summary>A broadcast ARP request from 192.0.2.1 asking for 192.0.2.(seq % 250 + 2); the sequence number (big-endian) follows the ARP body.</summary>
    public static byte[] Arp(byte[] source, int seq)
    {
        byte[] f = new byte[14 + 28 + 4];
        f.AsSpan(0, 6).Fill(0xff);
        source.CopyTo(f, 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0806);
        Span<byte> arp = f.AsSpan(14);
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800);
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], 1);
        source.CopyTo(arp[8..]);
        arp[14] = 192; arp[15] = 0; arp[16] = 2; arp[17] = 1;
        arp[24] = 192; arp[25] = 0; arp[26] = 2; arp[27] = (byte)(seq % 250 + 2);
        BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(42), seq);
        return f;
    }

    /// <summary>The sequence number of a frame made by <see cref="Arp"/> or <see cref="Udp"/>.</summary>
    public static int SequenceOf(ReadOnlySpan<byte> frame) =>
        BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == 0x0806
            ? BinaryPrimitives.ReadInt32BigEndian(frame[42..])
            : BinaryPrimitives.ReadInt32BigEndian(frame[^4..]);

    /// <summary>IPv4/UDP 198.51.100.1 → 198.51.100.2, source port 49152, to <paramref name="port"/>, 8 payload bytes ending in the sequence number.</summary>
    public static byte[] Udp(byte[] source, byte[] destination, ushort port, int seq)
    {
        byte[] f = new byte[14 + 20 + 8 + 8];
        destination.CopyTo(f, 0);
        source.CopyTo(f, 6);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0800);
        Span<byte> ip = f.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], 36);
        ip[8] = 64;
        ip[9] = 17;
        ip[12] = 198; ip[13] = 51; ip[14] = 100; ip[15] = 1;
        ip[16] = 198; ip[17] = 51; ip[18] = 100; ip[19] = 2;
        uint sum = 0;
        for (int i = 0; i < 20; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(ip[i..]);
        }

        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)~sum);
        Span<byte> udp = f.AsSpan(34);
        BinaryPrimitives.WriteUInt16BigEndian(udp, 49152);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], 16);
        BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(f.Length - 4), seq);
        return f;
    }

    /// <summary>Opens a handle on <paramref name="device"/> for sending (pcap_inject); call inside the namespace.</summary>
    public static PcapSession OpenSender(string device)
    {
        PcapSession sender = PcapSession.Open(device, new PcapSettings { SnapLength = 128, Promiscuous = false, ImmediateMode = true, BufferSize = 64 * 1024 });
        sender.SetFilter("less 1"); // it only sends: keep its own receive ring empty
        return sender;
    }
}
