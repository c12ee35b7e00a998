namespace UplinkProbe.Decoding;

/// <summary>
/// Where one decoded layer sits in the packet. The typed view (e.g. <see cref="LayerKind.Arp"/> → an ARP reader)
/// is re-created from these offsets over the packet span: nothing is copied.
/// </summary>
public readonly record struct Layer(LayerKind Kind, int Offset, int Length, byte Depth)
{
    /// <summary>Offset + header length: where the next layer starts.</summary>
    public int End => Offset + Length;
}
