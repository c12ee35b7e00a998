using UplinkProbe.Decoding;

namespace UplinkProbe.Crafting;

/// <summary>
/// OVN's Geneve option, which carries the logical ingress and egress port keys between chassis.
/// <para>
/// Class 0x0102, type 0x80 (critical), 4 bytes of data: ovn-org/ovn controller/physical.h defines
/// OVN_GENEVE_CLASS 0x0102, OVN_GENEVE_TYPE 0x80 and OVN_GENEVE_LEN 4. The layout of the 32-bit value
/// comes from put_encapsulation() in ovn-org/ovn controller/physical.c: it loads the 16-bit logical
/// output port into bits 0..31 of the option (so bits 16..31 start as zero) and then moves the 15-bit
/// MFF_LOG_INPORT into bits 16..30. On the wire (big-endian) that is: 1 reserved zero bit, the 15-bit
/// logical ingress port key, the 16-bit logical egress port key (also ovn-architecture(7),
/// "Tunnel Encapsulations").
/// </para>
/// <para>Class, type and length are <see cref="OvnGeneveMetadata"/>'s constants; decode a value with
/// <c>new OvnGeneveMetadata(value)</c>.</para>
/// </summary>
public static class OvnGeneveOption
{
    /// <summary>Largest logical ingress port key: the field has 15 bits.</summary>
    public const ushort MaxIngressPortKey = 0x7fff;

    /// <summary>The 32-bit option value; throws when the ingress key does not fit in 15 bits.</summary>
    public static uint Encode(ushort ingressPortKey, ushort egressPortKey)
    {
        if (ingressPortKey > MaxIngressPortKey)
        {
            throw new ArgumentOutOfRangeException(nameof(ingressPortKey), ingressPortKey, "OVN's logical ingress port key has 15 bits");
        }

        return ((uint)ingressPortKey << 16) | egressPortKey;
    }
}
