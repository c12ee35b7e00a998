namespace UplinkProbe.Decoding;

/// <summary>
/// Walks a packet from its link-layer header inwards, each layer naming the next, and records the chain in a
/// reused <see cref="DecodedPacket"/>. Never throws on packet bytes and never allocates per packet.
/// </summary>
public sealed class PacketDecoder
{
    private readonly PacketDecoderOptions _options;

    public PacketDecoder(PacketDecoderOptions? options = null)
    {
        _options = options ?? PacketDecoderOptions.Default;
    }

    public PacketDecoderOptions Options => _options;

    public void Decode(ReadOnlySpan<byte> packet, LinkType linkType, DecodedPacket result)
    {
        result.Reset(linkType, packet.Length);
        // Implemented in the decoder work item.
        result.SetProblem(DecodeProblem.UnsupportedLinkType, LayerKind.None, 0);
    }
}
