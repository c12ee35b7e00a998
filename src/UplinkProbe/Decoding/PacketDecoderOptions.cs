namespace UplinkProbe.Decoding;

/// <summary>Which UDP ports carry which tunnel or liveness protocol.</summary>
public sealed class PacketDecoderOptions
{
    /// <summary>Geneve (RFC 8926 section 3.3).</summary>
    public ushort GenevePort { get; init; } = 6081;

    /// <summary>VXLAN: IANA's 4789 and the Linux kernel's historic 8472. 4790 is VXLAN-GPE, a different header.</summary>
    public ushort[] VxlanPorts { get; init; } = [4789, 8472];

    /// <summary>BFD single-hop (RFC 5881) and multihop (RFC 5883) control ports.</summary>
    public ushort[] BfdPorts { get; init; } = [3784, 4784];

    /// <summary>How deep tunnels are followed (Geneve in VXLAN in Geneve ...).</summary>
    public int MaxTunnelDepth { get; init; } = 4;

    public static PacketDecoderOptions Default { get; } = new();
}
