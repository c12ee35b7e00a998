namespace UplinkProbe.Decoding;

/// <summary>Which UDP ports carry which tunnel or liveness protocol.</summary>
public sealed class PacketDecoderOptions
{
    /// <summary>Geneve (RFC 8926 section 3.3).</summary>
    public ushort GenevePort { get; init; } = UdpPorts.Geneve;

    /// <summary>VXLAN: IANA's 4789 and the Linux kernel's historic 8472. 4790 is VXLAN-GPE, a different header.</summary>
    public ushort[] VxlanPorts { get; init; } = [UdpPorts.Vxlan, UdpPorts.VxlanLinux];

    /// <summary>BFD single-hop (RFC 5881) and multihop (RFC 5883) control ports.</summary>
    public ushort[] BfdPorts { get; init; } = [UdpPorts.BfdControl, UdpPorts.BfdMultihop];

    /// <summary>How deep tunnels are followed (Geneve in VXLAN in Geneve ...).</summary>
    public int MaxTunnelDepth { get; init; } = 4;

    public static PacketDecoderOptions Default { get; } = new();
}
