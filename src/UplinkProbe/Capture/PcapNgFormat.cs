using System.Buffers.Binary;

namespace UplinkProbe.Capture;

/// <summary>Block types and option codes of pcapng (draft-ietf-opsawg-pcapng), shared by the reader and the writer.</summary>
internal static class PcapNgFormat
{
    public const uint SectionHeaderBlock = 0x0A0D0D0A;
    public const uint InterfaceDescriptionBlock = 1;
    public const uint PacketBlock = 2; // obsolete, still written by old tools
    public const uint SimplePacketBlock = 3;
    public const uint NameResolutionBlock = 4;
    public const uint InterfaceStatisticsBlock = 5;
    public const uint EnhancedPacketBlock = 6;
    public const uint DecryptionSecretsBlock = 0x0000000A;
    public const uint CustomBlock = 0x00000BAD;
    public const uint CustomBlockNoCopy = 0x40000BAD;

    public const uint ByteOrderMagic = 0x1A2B3C4D;

    /// <summary>Block type + block total length + trailing block total length.</summary>
    public const int BlockOverhead = 12;

    /// <summary>Overhead + byte-order magic + version + section length.</summary>
    public const int MinSectionHeaderLength = 28;

    public const ushort OptEndOfOpt = 0;
    public const ushort OptComment = 1;

    public const ushort ShbHardware = 2;
    public const ushort ShbOs = 3;
    public const ushort ShbUserAppl = 4;

    public const ushort IfName = 2;
    public const ushort IfDescription = 3;
    public const ushort IfTsResol = 9;
    public const ushort IfFilter = 11;
    public const ushort IfOs = 12;
    public const ushort IfFcsLen = 13;
    public const ushort IfTsOffset = 14;
    public const ushort IfHardware = 15;

    public const ushort EpbFlags = 2;

    public const ushort IsbStartTime = 2;
    public const ushort IsbEndTime = 3;
    public const ushort IsbIfRecv = 4;
    public const ushort IsbIfDrop = 5;
    public const ushort IsbOsDrop = 7;

    public static int Pad4(int length) => (length + 3) & ~3;

    public static string BlockName(uint type) => type switch
    {
        SectionHeaderBlock => "SHB",
        InterfaceDescriptionBlock => "IDB",
        PacketBlock => "PB",
        SimplePacketBlock => "SPB",
        NameResolutionBlock => "NRB",
        InterfaceStatisticsBlock => "ISB",
        EnhancedPacketBlock => "EPB",
        DecryptionSecretsBlock => "DSB",
        CustomBlock => "CB",
        CustomBlockNoCopy => "DCB",
        _ => $"block type 0x{type:x8}",
    };
}

/// <summary>
/// Walks a pcapng option list: code (16 bits), length (16 bits), value padded to 32 bits; opt_endofopt (0) ends it.
/// An option whose length runs past the list sets <see cref="Malformed"/> and ends the walk.
/// </summary>
internal ref struct PcapNgOptionReader
{
    private readonly ReadOnlySpan<byte> _options;
    private readonly bool _bigEndian;
    private int _pos;

    public PcapNgOptionReader(ReadOnlySpan<byte> options, bool bigEndian)
    {
        _options = options;
        _bigEndian = bigEndian;
        _pos = 0;
        Malformed = false;
    }

    public bool Malformed { get; private set; }

    /// <summary>Reads the next option; <paramref name="valueOffset"/> is the value's offset in the option list.</summary>
    public bool TryNext(out ushort code, out ReadOnlySpan<byte> value, out int valueOffset)
    {
        code = 0;
        value = default;
        valueOffset = 0;
        ReadOnlySpan<byte> rest = _options[_pos..];
        if (rest.Length < 4)
        {
            // Block lengths are multiples of 4, so 1-3 stray bytes mean the list is broken.
            Malformed |= rest.Length != 0;
            return false;
        }

        code = _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(rest) : BinaryPrimitives.ReadUInt16LittleEndian(rest);
        int length = _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(rest[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(rest[2..]);
        if (code == PcapNgFormat.OptEndOfOpt)
        {
            return false;
        }

        if (4 + length > rest.Length)
        {
            Malformed = true;
            return false;
        }

        valueOffset = _pos + 4;
        value = rest.Slice(4, length);
        _pos = Math.Min(_options.Length, _pos + 4 + PcapNgFormat.Pad4(length));
        return true;
    }

    public uint ReadU32(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);

    public ulong ReadU64(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b);
}
