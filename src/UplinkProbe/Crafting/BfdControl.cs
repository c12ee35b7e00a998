using UplinkProbe.Decoding;

namespace UplinkProbe.Crafting;

/// <summary>The P/F/C/A/D/M bits of a BFD control packet, in their wire positions (RFC 5880 4.1).</summary>
[Flags]
public enum BfdFlags : byte
{
    None = 0,
    Multipoint = 0x01,
    Demand = 0x02,
    AuthenticationPresent = 0x04,
    ControlPlaneIndependent = 0x08,
    Final = 0x10,
    Poll = 0x20,
}

/// <summary>
/// A BFD control packet without authentication (RFC 5880 4.1): 24 bytes. Intervals are in microseconds.
/// </summary>
public readonly record struct BfdControl
{
    public const int Length = BfdControlPacket.MinLength;

    public byte Version { get; init; } = 1;

    public BfdDiagnostic Diagnostic { get; init; }

    public BfdState State { get; init; }

    public BfdFlags Flags { get; init; }

    public byte DetectMultiplier { get; init; } = 3;

    public uint MyDiscriminator { get; init; }

    public uint YourDiscriminator { get; init; }

    public uint DesiredMinTxInterval { get; init; } = 1_000_000;

    public uint RequiredMinRxInterval { get; init; } = 1_000_000;

    public uint RequiredMinEchoRxInterval { get; init; }

    public BfdControl()
    {
    }
}
