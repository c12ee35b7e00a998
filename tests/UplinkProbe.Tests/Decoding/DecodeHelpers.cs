using UplinkProbe.Decoding;

namespace UplinkProbe.Tests.Decoding;

internal static class DecodeHelpers
{
    private static readonly PacketDecoder Decoder = new();

    public static DecodedPacket Decode(byte[] packet, LinkType link = LinkType.Ethernet, PacketDecoder? decoder = null)
    {
        var result = new DecodedPacket();
        (decoder ?? Decoder).Decode(packet, link, result);
        return result;
    }

    /// <summary>"Ethernet Ipv4 Udp ..." — the layer chain's kinds.</summary>
    public static string Chain(DecodedPacket p) => string.Join(" ", p.Layers.ToArray().Select(l => l.Kind.ToString()));

    /// <summary>"Kind@offset+length/depth" for every layer.</summary>
    public static string Detail(DecodedPacket p) =>
        string.Join(" ", p.Layers.ToArray().Select(l => $"{l.Kind}@{l.Offset}+{l.Length}/{l.Depth}"));

    public static ReadOnlySpan<byte> Slice(byte[] packet, Layer layer) => packet.AsSpan(layer.Offset);

    public static Layer Find(DecodedPacket p, LayerKind kind, int nth = 0)
    {
        int index = -1;
        for (int i = 0; i <= nth; i++)
        {
            index = p.IndexOf(kind, index + 1);
            if (index < 0)
            {
                throw new InvalidOperationException($"no {kind} #{nth} in {Detail(p)}");
            }
        }

        return p.Layers[index];
    }
}
