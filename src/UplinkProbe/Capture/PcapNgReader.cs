using System.Buffers.Binary;
using System.Text;
using UplinkProbe.Decoding;
using static UplinkProbe.Capture.PcapNgFormat;

namespace UplinkProbe.Capture;

/// <summary>
/// Reads pcapng files (draft-ietf-opsawg-pcapng). Every SHB starts a section with its own byte order and its own
/// interface numbering; records carry the section, the interface id inside it and a global interface index.
/// Packets come from EPBs, SPBs (interface 0, no timestamp, captured length = min(original length, snap length))
/// and obsolete PBs. NRB, ISB, DSB, custom and unknown blocks are skipped and counted in
/// <see cref="CaptureReaderStatistics.SkippedBlocks"/>.
/// A block whose length is not a multiple of 4, below 12, above <see cref="CaptureFileOptions.MaxBlockLength"/>, or
/// whose trailing length copy differs, stops reading with <see cref="CaptureReader.Error"/> (at open:
/// <see cref="CaptureFileException"/>), as does an SHB of a version other than 1.0 (tshark and libpcap reject those too).
/// </summary>
public sealed class PcapNgReader : CaptureReader
{
    private const int EpbFixed = 20; // interface id, timestamp high/low, captured length, original length
    private const int PbFixed = 20;  // interface id (16), drops count (16), timestamp high/low, captured length, original length
    private const int SpbFixed = 4;  // original length

    private readonly CaptureBuffer _buffer;
    private readonly int _maxBlock;
    private readonly List<CaptureSection> _sections = new();
    private readonly List<int> _sectionInterfaces = new(); // local id -> global index, current section
    private bool _bigEndian;
    private bool _ended;
    private int _commentIndex;
    private int _commentLength;

    internal PcapNgReader(CaptureBuffer buffer, string name, CaptureFileOptions options)
    {
        _buffer = buffer;
        _maxBlock = options.EffectiveMaxBlockLength;
        if (!TryReadSectionHeader(out long errorOffset, out string? error))
        {
            throw new CaptureFileException(name, errorOffset, error!);
        }
    }

    public override CaptureFormat Format => CaptureFormat.PcapNg;

    /// <summary>Sections (SHBs) seen so far.</summary>
    public IReadOnlyList<CaptureSection> Sections => _sections;

    /// <summary>First opt_comment of the last packet returned (UTF-8, no copy); valid until the next call.</summary>
    public override ReadOnlySpan<byte> CurrentComment => _commentLength == 0 ? default : _buffer.AbsoluteSpan(_commentIndex, _commentLength);

    internal long Position => _buffer.Position;

    internal CaptureBuffer Buffer => _buffer;

    public override bool TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data)
    {
        record = default;
        data = default;
        _commentLength = 0;
        while (!_ended && Error is null)
        {
            long offset = _buffer.Position;
            if (!_buffer.Ensure(8))
            {
                if (_buffer.Available > 0)
                {
                    Fail(offset, $"block header cut short by the end of the file: {_buffer.Available} of 8 bytes");
                }

                _ended = true;
                return false;
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(_buffer.Span(0, 4)) == SectionHeaderBlock)
            {
                if (!TryReadSectionHeader(out long errorOffset, out string? error))
                {
                    Fail(errorOffset, error!);
                    return false;
                }

                continue;
            }

            uint type = U32(_buffer.Span(0, 4));
            uint length = U32(_buffer.Span(4, 4));
            if (length < BlockOverhead || length % 4 != 0)
            {
                Fail(offset + 4, $"{BlockName(type)} length {length} is not a multiple of 4 of at least {BlockOverhead}");
                return false;
            }

            if (length > _maxBlock)
            {
                Fail(offset + 4, $"{BlockName(type)} length {length} exceeds the limit of {_maxBlock} bytes");
                return false;
            }

            if (!_buffer.Ensure((int)length))
            {
                if (type is EnhancedPacketBlock or SimplePacketBlock or PacketBlock)
                {
                    Statistics.TruncatedRecords++;
                }

                long left = _buffer.Remaining;
                Fail(offset, $"{BlockName(type)} of {length} bytes cut short by the end of the file ({(left < 0 ? _buffer.Available : left)} bytes left)");
                _ended = true;
                return false;
            }

            ReadOnlySpan<byte> block = _buffer.Span(0, (int)length);
            uint trailer = U32(block[^4..]);
            if (trailer != length)
            {
                Fail(offset + length - 4, $"{BlockName(type)} trailing length {trailer} differs from its length {length}");
                return false;
            }

            ReadOnlySpan<byte> body = block[8..^4];
            bool produced = type switch
            {
                EnhancedPacketBlock => TryEnhancedPacket(offset, body, out record, out data),
                SimplePacketBlock => TrySimplePacket(offset, body, out record, out data),
                PacketBlock => TryObsoletePacket(offset, body, out record, out data),
                InterfaceDescriptionBlock => AddInterface(offset, body, out record, out data),
                _ => Skip(type, out record, out data),
            };
            if (Error is not null)
            {
                return false;
            }

            _buffer.Consume((int)length);
            if (produced)
            {
                return true;
            }
        }

        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _buffer.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Reads an SHB at the buffer position and starts a new section; consumes it on success.</summary>
    private bool TryReadSectionHeader(out long errorOffset, out string? error)
    {
        long offset = _buffer.Position;
        errorOffset = offset;
        error = null;
        if (!_buffer.Ensure(12))
        {
            error = $"SHB cut short by the end of the file: {_buffer.Available} of at least {MinSectionHeaderLength} bytes";
            return false;
        }

        // The byte-order magic decides how the SHB's own length is read.
        uint bom = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.Span(8, 4));
        bool bigEndian;
        if (bom == ByteOrderMagic)
        {
            bigEndian = false;
        }
        else if (BinaryPrimitives.ReverseEndianness(bom) == ByteOrderMagic)
        {
            bigEndian = true;
        }
        else
        {
            errorOffset = offset + 8;
            error = $"SHB byte-order magic 0x{BinaryPrimitives.ReverseEndianness(bom):x8} is neither 1a2b3c4d nor 4d3c2b1a";
            return false;
        }

        uint length = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(_buffer.Span(4, 4)) : BinaryPrimitives.ReadUInt32LittleEndian(_buffer.Span(4, 4));
        if (length < MinSectionHeaderLength || length % 4 != 0 || length > _maxBlock)
        {
            errorOffset = offset + 4;
            error = $"SHB length {length} is not a multiple of 4 between {MinSectionHeaderLength} and {_maxBlock}";
            return false;
        }

        if (!_buffer.Ensure((int)length))
        {
            long left = _buffer.Remaining;
            error = $"SHB of {length} bytes cut short by the end of the file ({(left < 0 ? _buffer.Available : left)} bytes left)";
            return false;
        }

        ReadOnlySpan<byte> block = _buffer.Span(0, (int)length);
        ushort major = bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(block[12..]) : BinaryPrimitives.ReadUInt16LittleEndian(block[12..]);
        ushort minor = bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(block[14..]) : BinaryPrimitives.ReadUInt16LittleEndian(block[14..]);
        if (major != 1 || minor != 0)
        {
            errorOffset = offset + 12;
            error = $"unsupported pcapng version {major}.{minor} (only 1.0 is read)";
            return false;
        }

        uint trailer = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(block[^4..]) : BinaryPrimitives.ReadUInt32LittleEndian(block[^4..]);
        if (trailer != length)
        {
            errorOffset = offset + length - 4;
            error = $"SHB trailing length {trailer} differs from its length {length}";
            return false;
        }

        string? hardware = null, os = null, app = null;
        List<string>? comments = null;
        var options = new PcapNgOptionReader(block[24..^4], bigEndian);
        while (options.TryNext(out ushort code, out ReadOnlySpan<byte> value, out _))
        {
            switch (code)
            {
                case OptComment:
                    (comments ??= new()).Add(Utf8(value));
                    break;
                case ShbHardware:
                    hardware ??= Utf8(value);
                    break;
                case ShbOs:
                    os ??= Utf8(value);
                    break;
                case ShbUserAppl:
                    app ??= Utf8(value);
                    break;
            }
        }

        if (options.Malformed)
        {
            Statistics.MalformedOptions++;
        }

        _bigEndian = bigEndian;
        _sectionInterfaces.Clear();
        _sections.Add(new CaptureSection
        {
            Index = _sections.Count,
            FileOffset = offset,
            IsBigEndian = bigEndian,
            Hardware = hardware,
            OperatingSystem = os,
            UserApplication = app,
            Comments = (IReadOnlyList<string>?)comments ?? Array.Empty<string>(),
        });
        Statistics.Sections++;
        _buffer.Consume((int)length);
        return true;
    }

    private bool AddInterface(long offset, ReadOnlySpan<byte> body, out CaptureRecord record, out ReadOnlySpan<byte> data)
    {
        record = default;
        data = default;
        if (body.Length < 8)
        {
            Fail(offset, $"IDB body of {body.Length} bytes is shorter than 8");
            return false;
        }

        ushort linkType = U16(body);
        uint snap = U32(body[4..]);
        string? name = null, description = null, comment = null, filter = null, os = null, hardware = null;
        ulong ticksPerSecond = 1_000_000;
        long tsOffset = 0;
        int fcs = -1;
        bool malformed = false;
        var options = new PcapNgOptionReader(body[8..], _bigEndian);
        while (options.TryNext(out ushort code, out ReadOnlySpan<byte> value, out _))
        {
            switch (code)
            {
                case OptComment:
                    comment ??= Utf8(value);
                    break;
                case IfName:
                    name ??= Utf8(value);
                    break;
                case IfDescription:
                    description ??= Utf8(value);
                    break;
                case IfFilter when value.Length >= 1:
                    // First byte: filter kind (0 = libpcap filter string); the rest is the filter.
                    filter ??= value[0] == 0 ? Utf8(value[1..]) : $"(filter kind {value[0]}, {value.Length - 1} bytes)";
                    break;
                case IfOs:
                    os ??= Utf8(value);
                    break;
                case IfHardware:
                    hardware ??= Utf8(value);
                    break;
                case IfFcsLen when value.Length >= 1:
                    fcs = value[0];
                    break;
                case IfTsResol when value.Length >= 1:
                    if (TryTicksPerSecond(value[0], out ulong tps))
                    {
                        ticksPerSecond = tps;
                    }
                    else
                    {
                        malformed = true;
                    }

                    break;
                case IfTsOffset when value.Length >= 8:
                    tsOffset = (long)options.ReadU64(value);
                    break;
            }
        }

        if (options.Malformed || malformed)
        {
            Statistics.MalformedOptions++;
        }

        var iface = new CaptureInterface
        {
            Index = InterfaceList.Count,
            Section = _sections.Count - 1,
            LocalId = _sectionInterfaces.Count,
            LinkType = (LinkType)linkType,
            RawLinkType = linkType,
            SnapLength = snap,
            Name = name,
            Description = description,
            Comment = comment,
            Filter = filter,
            OperatingSystem = os,
            Hardware = hardware,
            TicksPerSecond = ticksPerSecond,
            TimestampOffsetSeconds = tsOffset,
            FcsLength = fcs,
            Node = CaptureInterface.ParseNode(description),
        };
        _sectionInterfaces.Add(iface.Index);
        InterfaceList.Add(iface);
        return false;
    }

    /// <summary>if_tsresol: high bit clear = 10^-n s, set = 2^-n s. Resolutions beyond 64-bit tick rates are refused.</summary>
    internal static bool TryTicksPerSecond(byte tsresol, out ulong ticksPerSecond)
    {
        int exponent = tsresol & 0x7F;
        ticksPerSecond = 0;
        if ((tsresol & 0x80) != 0)
        {
            if (exponent > 63)
            {
                return false;
            }

            ticksPerSecond = 1UL << exponent;
            return true;
        }

        if (exponent > 19)
        {
            return false;
        }

        ticksPerSecond = 1;
        for (int i = 0; i < exponent; i++)
        {
            ticksPerSecond *= 10;
        }

        return true;
    }

    /// <summary>ticks × 10^9 / ticksPerSecond + offset × 10^9, in 128-bit arithmetic; false (and saturated) when outside a 64-bit ns count.</summary>
    internal static bool TryToNanoseconds(ulong ticks, ulong ticksPerSecond, long offsetSeconds, out long nanoseconds)
    {
        if (offsetSeconds == 0)
        {
            if (ticksPerSecond == 1_000_000_000 && ticks <= long.MaxValue)
            {
                nanoseconds = (long)ticks;
                return true;
            }

            if (ticksPerSecond == 1_000_000 && ticks <= long.MaxValue / 1000)
            {
                nanoseconds = (long)ticks * 1000;
                return true;
            }
        }

        return TryToNanosecondsWide(ticks, ticksPerSecond, offsetSeconds, out nanoseconds);
    }

    /// <summary>The general case, in a method of its own: ReadyToRun does not precompile a method with 128-bit locals,
    /// and the common cases above run for every packet.</summary>
    private static bool TryToNanosecondsWide(ulong ticks, ulong ticksPerSecond, long offsetSeconds, out long nanoseconds)
    {
        Int128 ns = (Int128)((UInt128)ticks * 1_000_000_000UL / ticksPerSecond) + ((Int128)offsetSeconds * 1_000_000_000L);
        if (ns > long.MaxValue)
        {
            nanoseconds = long.MaxValue;
            return false;
        }

        if (ns < long.MinValue)
        {
            nanoseconds = long.MinValue;
            return false;
        }

        nanoseconds = (long)ns;
        return true;
    }

    private bool TryEnhancedPacket(long offset, ReadOnlySpan<byte> body, out CaptureRecord record, out ReadOnlySpan<byte> data)
    {
        record = default;
        data = default;
        if (body.Length < EpbFixed)
        {
            Fail(offset, $"EPB body of {body.Length} bytes is shorter than {EpbFixed}");
            return false;
        }

        uint localId = U32(body);
        ulong ticks = ((ulong)U32(body[4..]) << 32) | U32(body[8..]);
        return TryPacket(offset, "EPB", hasOptions: true, localId, hasTimestamp: true, ticks, U32(body[12..]), U32(body[16..]), body, EpbFixed, out record, out data);
    }

    private bool TryObsoletePacket(long offset, ReadOnlySpan<byte> body, out CaptureRecord record, out ReadOnlySpan<byte> data)
    {
        record = default;
        data = default;
        if (body.Length < PbFixed)
        {
            Fail(offset, $"PB body of {body.Length} bytes is shorter than {PbFixed}");
            return false;
        }

        ushort drops = U16(body[2..]);
        if (drops != 0xFFFF)
        {
            Statistics.DroppedPackets += drops;
        }

        ulong ticks = ((ulong)U32(body[4..]) << 32) | U32(body[8..]);
        return TryPacket(offset, "PB", hasOptions: true, U16(body), hasTimestamp: true, ticks, U32(body[12..]), U32(body[16..]), body, PbFixed, out record, out data);
    }

    private bool TrySimplePacket(long offset, ReadOnlySpan<byte> body, out CaptureRecord record, out ReadOnlySpan<byte> data)
    {
        record = default;
        data = default;
        if (body.Length < SpbFixed)
        {
            Fail(offset, $"SPB body of {body.Length} bytes is shorter than {SpbFixed}");
            return false;
        }

        if (_sectionInterfaces.Count == 0)
        {
            Fail(offset, "SPB before any IDB in its section");
            return false;
        }

        uint original = U32(body);
        uint snap = InterfaceList[_sectionInterfaces[0]].SnapLength;
        uint captured = snap == 0 ? original : Math.Min(original, snap);
        return TryPacket(offset, "SPB", hasOptions: false, 0, hasTimestamp: false, 0, captured, original, body, SpbFixed, out record, out data);
    }

    private bool TryPacket(long offset, string kind, bool hasOptions, uint localId, bool hasTimestamp, ulong ticks, uint captured, uint original,
        ReadOnlySpan<byte> body, int fixedLength, out CaptureRecord record, out ReadOnlySpan<byte> data)
    {
        record = default;
        data = default;
        if (localId >= (uint)_sectionInterfaces.Count)
        {
            Fail(offset + 8, $"{kind} refers to interface {localId} but its section has {_sectionInterfaces.Count}");
            return false;
        }

        CaptureInterface iface = InterfaceList[_sectionInterfaces[(int)localId]];
        int room = body.Length - fixedLength;
        bool clamped = captured > (uint)room;
        int capLen = clamped ? room : (int)captured;
        if (clamped)
        {
            Statistics.ClampedRecords++;
        }

        bool inconsistent = captured > original || (iface.SnapLength != 0 && captured > iface.SnapLength);
        if (inconsistent)
        {
            Statistics.InconsistentLengthRecords++;
        }

        long ns = 0;
        if (hasTimestamp && !TryToNanoseconds(ticks, iface.TicksPerSecond, iface.TimestampOffsetSeconds, out ns))
        {
            Statistics.InvalidTimestamps++;
        }

        uint flags = 0;
        bool hasFlags = false;
        if (hasOptions)
        {
            int optionsStart = fixedLength + Pad4(capLen);
            if (optionsStart < body.Length)
            {
                var options = new PcapNgOptionReader(body[optionsStart..], _bigEndian);
                while (options.TryNext(out ushort code, out ReadOnlySpan<byte> value, out int valueOffset))
                {
                    if (code == EpbFlags && value.Length == 4 && !hasFlags)
                    {
                        flags = options.ReadU32(value);
                        hasFlags = true;
                    }
                    else if (code == OptComment && _commentLength == 0 && value.Length > 0)
                    {
                        // Block body starts 8 bytes into the block, which starts at the buffer position.
                        _commentIndex = _buffer.StartIndex + 8 + optionsStart + valueOffset;
                        _commentLength = value.Length;
                    }
                }

                if (options.Malformed)
                {
                    Statistics.MalformedOptions++;
                }
            }
        }

        data = body.Slice(fixedLength, capLen);
        Statistics.Packets++;
        record = new CaptureRecord
        {
            Number = Statistics.Packets,
            TimestampNs = ns,
            HasTimestamp = hasTimestamp,
            InterfaceId = (int)localId,
            Section = iface.Section,
            InterfaceIndex = iface.Index,
            LinkType = iface.LinkType,
            // Bits 0-1: 00 not available, 01 inbound, 10 outbound; 11 is undefined and reported as unknown.
            Direction = (flags & 3) == 3 ? PacketDirection.Unknown : (PacketDirection)(flags & 3),
            EpbFlags = flags,
            HasEpbFlags = hasFlags,
            OriginalLength = (int)Math.Min(original, int.MaxValue),
            CapturedLength = capLen,
            FileOffset = offset,
            CaptureLengthClamped = clamped,
            CapturedLengthInconsistent = inconsistent,
        };
        return true;
    }

    private bool Skip(uint type, out CaptureRecord record, out ReadOnlySpan<byte> data)
    {
        record = default;
        data = default;
        Statistics.CountSkipped(type);
        return false;
    }

    private void Fail(long offset, string message)
    {
        Error = new CaptureFileError(offset, message);
        _commentLength = 0;
    }

    private static string Utf8(ReadOnlySpan<byte> value)
    {
        // Some writers include the C string terminator.
        int end = value.Length;
        while (end > 0 && value[end - 1] == 0)
        {
            end--;
        }

        return Encoding.UTF8.GetString(value[..end]);
    }

    private ushort U16(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);

    private uint U32(ReadOnlySpan<byte> b) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
}
