using System.Buffers.Binary;

namespace UplinkProbe.Decoding;

/// <summary>BFD session state (RFC 5880 section 4.1, "Sta").</summary>
public enum BfdState : byte
{
    AdminDown = 0,
    Down = 1,
    Init = 2,
    Up = 3,
}

/// <summary>BFD diagnostic code (RFC 5880 section 4.1, "Diag"; 9 from RFC 6428).</summary>
public enum BfdDiagnostic : byte
{
    None = 0,
    ControlDetectionTimeExpired = 1,
    EchoFunctionFailed = 2,
    NeighborSignaledSessionDown = 3,
    ForwardingPlaneReset = 4,
    PathDown = 5,
    ConcatenatedPathDown = 6,
    AdministrativelyDown = 7,
    ReverseConcatenatedPathDown = 8,
    MisConnectivityDefect = 9,
}

/// <summary>
/// BFD control packet (RFC 5880 section 4.1): version 1, 24 mandatory bytes, optional authentication section
/// when the A bit is set. Carried in UDP 3784 (single hop, RFC 5881) or 4784 (multihop, RFC 5883); OVN runs it
/// inside Geneve with VNI 0 between gateway chassis.
/// </summary>
public readonly ref struct BfdControlPacket
{
    public const int MinLength = 24;
    public const byte SupportedVersion = 1;

    private readonly ReadOnlySpan<byte> _data;

    private BfdControlPacket(ReadOnlySpan<byte> data) => _data = data;

    /// <summary>
    /// Checks the version (1), the length field (≥ 24, ≥ 26 with authentication, RFC 5880 6.8.6) and that the
    /// message announced by the length field was captured.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out BfdControlPacket view, out DecodeProblem problem)
    {
        view = default;
        if (data.IsEmpty)
        {
            problem = DecodeProblem.TruncatedBfd;
            return false;
        }

        if ((data[0] >> 5) != SupportedVersion)
        {
            problem = DecodeProblem.BfdBadVersion;
            return false;
        }

        if (data.Length < 4)
        {
            problem = DecodeProblem.TruncatedBfd;
            return false;
        }

        int length = data[3];
        bool authenticated = (data[1] & 0x04) != 0;
        if (length < MinLength || (authenticated && length < MinLength + 2))
        {
            problem = DecodeProblem.BfdBadLength;
            return false;
        }

        if (length > data.Length)
        {
            problem = DecodeProblem.TruncatedBfd;
            return false;
        }

        view = new BfdControlPacket(data);
        problem = DecodeProblem.None;
        return true;
    }

    public byte Version => (byte)(_data[0] >> 5);

    public BfdDiagnostic Diagnostic => (BfdDiagnostic)(_data[0] & 0x1F);

    public BfdState State => (BfdState)(_data[1] >> 6);

    /// <summary>P: poll.</summary>
    public bool Poll => (_data[1] & 0x20) != 0;

    /// <summary>F: final.</summary>
    public bool Final => (_data[1] & 0x10) != 0;

    /// <summary>C: control plane independent.</summary>
    public bool ControlPlaneIndependent => (_data[1] & 0x08) != 0;

    /// <summary>A: authentication present.</summary>
    public bool AuthenticationPresent => (_data[1] & 0x04) != 0;

    /// <summary>D: demand mode.</summary>
    public bool Demand => (_data[1] & 0x02) != 0;

    /// <summary>M: multipoint (must be 0).</summary>
    public bool Multipoint => (_data[1] & 0x01) != 0;

    public byte DetectMultiplier => _data[2];

    /// <summary>The length field: the whole control packet in bytes.</summary>
    public byte Length => _data[3];

    public int MessageLength => _data[3];

    public int HeaderLength => _data[3];

    public uint MyDiscriminator => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(4));

    public uint YourDiscriminator => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(8));

    /// <summary>Microseconds.</summary>
    public uint DesiredMinTxInterval => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(12));

    /// <summary>Microseconds.</summary>
    public uint RequiredMinRxInterval => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(16));

    /// <summary>Microseconds; 0 = the sender does not support echo.</summary>
    public uint RequiredMinEchoRxInterval => BinaryPrimitives.ReadUInt32BigEndian(_data.Slice(20));

    /// <summary>The authentication section (empty unless the A bit is set).</summary>
    public ReadOnlySpan<byte> Authentication => _data.Slice(MinLength, _data[3] - MinLength);

    /// <summary>Bytes after the control packet inside the UDP payload (should be none).</summary>
    public ReadOnlySpan<byte> Payload => _data.Slice(_data[3]);
}
