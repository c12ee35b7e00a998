using System.Runtime.CompilerServices;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Reporting;

/// <summary>Facts about a packet that combine capture metadata with decoded headers.</summary>
public static class PacketFacts
{
    /// <summary>
    /// Direction from the capture (pcapng epb_flags, live capture) or, failing that, from a Linux cooked header:
    /// SLL/SLL2 packet type 4 means the capturing host sent the frame; 0–3 mean it received it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static PacketDirection DirectionOf(in CaptureRecord record, ReadOnlySpan<byte> packet, DecodedPacket decoded)
    {
        if (record.Direction != PacketDirection.Unknown)
        {
            return record.Direction;
        }

        if (decoded.LayerCount == 0 || decoded.LayerBuffer[0].Kind is not (LayerKind.LinuxSll or LayerKind.LinuxSll2))
        {
            return PacketDirection.Unknown;
        }

        return CookedDirectionOf(packet, decoded.LayerBuffer[0]);
    }

    private static PacketDirection CookedDirectionOf(ReadOnlySpan<byte> packet, Layer first)
    {
        if (first.Kind == LayerKind.LinuxSll && LinuxSllHeader.TryRead(packet, out LinuxSllHeader sll, out _))
        {
            return sll.IsOutgoing ? PacketDirection.Outbound : PacketDirection.Inbound;
        }

        if (first.Kind == LayerKind.LinuxSll2 && LinuxSll2Header.TryRead(packet, out LinuxSll2Header sll2, out _))
        {
            return sll2.IsOutgoing ? PacketDirection.Outbound : PacketDirection.Inbound;
        }

        return PacketDirection.Unknown;
    }
}
