using UplinkProbe.Capture;

namespace UplinkProbe.Decoding;

/// <summary>Receives every packet of a capture source after decoding. The span is valid only during the call.</summary>
public interface IPacketHandler
{
    void OnPacket(in CaptureRecord record, ReadOnlySpan<byte> data, DecodedPacket decoded);
}

/// <summary>
/// The one loop that feeds a capture source through the decoder into a handler. Generic over the handler so that a
/// struct handler is called without virtual dispatch; nothing is allocated per packet.
/// </summary>
public static class PacketPipeline
{
    /// <summary>Reads to the end of <paramref name="reader"/> (or its first unrecoverable error); returns the packet count.</summary>
    public static long Run<THandler>(CaptureReader reader, PacketDecoder decoder, DecodedPacket decoded, ref THandler handler)
        where THandler : IPacketHandler
    {
        long count = 0;
        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            decoder.Decode(data, record.LinkType, decoded, record.OriginalLength);
            handler.OnPacket(record, data, decoded);
            count++;
        }

        return count;
    }
}
