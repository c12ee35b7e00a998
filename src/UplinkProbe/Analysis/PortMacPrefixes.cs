namespace UplinkProbe.Analysis;

/// <summary>The first three bytes of the MACs clouds give OVN ports: a sign, not a proof, that a MAC is one.</summary>
internal static class PortMacPrefixes
{
    /// <summary>00:16:3e: LXD and MicroCloud (router ports included).</summary>
    public const ulong Lxd = 0x00163e;

    /// <summary>fa:16:3e: OpenStack.</summary>
    public const ulong OpenStack = 0xfa163e;

    /// <summary>The prefix of a MAC held in the low 48 bits of <paramref name="mac"/>.</summary>
    public static ulong Of(ulong mac) => (mac >> 24) & 0xFF_FFFF;

    public static bool IsPortPrefix(ulong mac) => Of(mac) is Lxd or OpenStack;
}
