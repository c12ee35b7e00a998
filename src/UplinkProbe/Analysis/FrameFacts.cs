using System.Runtime.CompilerServices;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis;

/// <summary>Facts of the outermost (uplink) frame that several analyzers need.</summary>
internal static class FrameFacts
{
    /// <summary>The link-layer source and destination of the frame as it crossed the NIC (Ethernet, or the SLL/SLL2 address).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryGetLinkAddresses(ReadOnlySpan<byte> data, DecodedPacket decoded, out MacAddress source, out MacAddress destination)
    {
        if (decoded.LayerCount != 0 && decoded.LayerBuffer[0].Kind == LayerKind.Ethernet && EthernetHeader.TryRead(data, out EthernetHeader ethernet, out _))
        {
            destination = ethernet.Destination;
            source = ethernet.Source;
            return true;
        }

        return TryGetCookedAddresses(data, decoded, out source, out destination);
    }

    private static bool TryGetCookedAddresses(ReadOnlySpan<byte> data, DecodedPacket decoded, out MacAddress source, out MacAddress destination)
    {
        source = default;
        destination = default;
        if (decoded.LayerCount == 0)
        {
            return false;
        }

        switch (decoded.Layers[0].Kind)
        {
            case LayerKind.LinuxSll when LinuxSllHeader.TryRead(data, out LinuxSllHeader sll, out _) && sll.AddressLength == 6:
                source = sll.SourceMac;
                destination = MacAddress.Broadcast; // SLL keeps only the source; treat the destination as unknown-but-not-unicast
                return true;
            case LayerKind.LinuxSll2 when LinuxSll2Header.TryRead(data, out LinuxSll2Header sll2, out _) && sll2.AddressLength == 6:
                source = sll2.SourceMac;
                destination = MacAddress.Broadcast;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Index of the first layer of <paramref name="kind"/> outside any tunnel, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int OuterIndexOf(DecodedPacket decoded, LayerKind kind)
    {
        ReadOnlySpan<Layer> layers = decoded.Layers;
        for (int i = 0; i < layers.Length; i++)
        {
            if (layers[i].Depth != 0)
            {
                return -1;
            }

            if (layers[i].Kind == kind)
            {
                return i;
            }
        }

        return -1;
    }
}
