using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UplinkProbe.Decoding;

namespace UplinkProbe.Capture;

/// <summary>
/// Reads classic pcap files (libpcap format; draft-ietf-opsawg-pcap). Decisions where readers differ:
/// <list type="bullet">
/// <item>Version: major 2 with any minor is read (tshark reads 2.5, libpcap rejects it; the record layout is the same).
/// Other majors, e.g. 1.4, are rejected like tshark and libpcap do.</item>
/// <item>Link type: the low 16 bits are the LINKTYPE; bits 26–31 carry the FCS length (kept in
/// <see cref="CaptureInterface.RawLinkType"/> and <see cref="CaptureInterface.FcsLength"/>). A file with any of the
/// reserved bits 16–25 set is rejected, as both libpcap and tshark do.</item>
/// <item>Record lengths: a captured length above the snap length or above the original length is returned as written
/// when the bytes are in the file (tshark shows them; cutting would hide bytes the writer stored) and is counted in
/// <see cref="CaptureReaderStatistics.InconsistentLengthRecords"/>. A captured length above
/// <see cref="CaptureFileOptions.MaxPcapRecordLength"/> stops reading with <see cref="CaptureReader.Error"/>; a last
/// record cut short by the end of the file is counted in <see cref="CaptureReaderStatistics.TruncatedRecords"/> and
/// not returned, and <see cref="CaptureReader.Error"/> says where.</item>
/// <item>Timestamps: a fraction ≥ 10^6 (µs) or ≥ 10^9 (ns) is counted in
/// <see cref="CaptureReaderStatistics.InvalidTimestamps"/> and carried into the seconds, i.e. the timestamp is
/// seconds + fraction × unit as written (tshark prints such a record as "s.1000000000", the same instant).</item>
/// </list>
/// </summary>
public sealed class PcapReader : CaptureReader
{
    internal const int FileHeaderLength = 24;
    internal const int RecordHeaderLength = 16;
    private const uint ReservedLinkTypeBits = 0x03FF_0000;

    private readonly CaptureBuffer _buffer;
    private readonly string _name;
    private readonly int _maxRecord;
    private readonly CaptureInterface _interface;
    private readonly long _fractionToNs;
    private readonly uint _fractionLimit;
    private readonly uint _snapLength;
    private readonly LinkType _linkType;
    private bool _ended;
    private bool _stopped; // _ended or Error set: TryReadNext returns false from now on

    // One part of a file read in parts (CaptureFileParts): the part ends where the next one starts.
    private CaptureFileParts? _parts;
    private CaptureFileParts.Part? _part;
    private long _partEnd = long.MaxValue; // lowered by another thread when it splits this part: read with Volatile

    internal PcapReader(CaptureBuffer buffer, string name, CaptureFileOptions options)
    {
        _buffer = buffer;
        _name = name;
        _maxRecord = options.EffectiveMaxPcapRecordLength;
        if (!buffer.Ensure(FileHeaderLength))
        {
            throw new CaptureFileException(name, buffer.Available, $"pcap file header cut short: {buffer.Available} of {FileHeaderLength} bytes");
        }

        ReadOnlySpan<byte> h = buffer.Span(0, FileHeaderLength);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(h);
        IsBigEndian = magic is not (CaptureFile.PcapMagicMicroseconds or CaptureFile.PcapMagicNanoseconds);
        uint magicNative = IsBigEndian ? BinaryPrimitives.ReverseEndianness(magic) : magic;
        IsNanosecond = magicNative == CaptureFile.PcapMagicNanoseconds;
        VersionMajor = U16(h[4..]);
        VersionMinor = U16(h[6..]);
        if (VersionMajor != 2)
        {
            throw new CaptureFileException(name, 4, $"unsupported pcap version {VersionMajor}.{VersionMinor} (only 2.x is read)");
        }

        uint snap = U32(h[16..]);
        uint rawLinkType = U32(h[20..]);
        if ((rawLinkType & ReservedLinkTypeBits) != 0)
        {
            throw new CaptureFileException(name, 20, $"pcap link type field 0x{rawLinkType:x8} has reserved bits 16-25 set");
        }

        // Bit 26 says bits 28-31 hold the FCS length in 16-bit words.
        int fcs = (rawLinkType & 0x0400_0000) != 0 ? (int)(rawLinkType >> 28) * 2 : -1;
        _interface = new CaptureInterface
        {
            Index = 0,
            Section = 0,
            LocalId = 0,
            LinkType = (LinkType)(ushort)rawLinkType,
            RawLinkType = rawLinkType,
            SnapLength = snap,
            TicksPerSecond = IsNanosecond ? 1_000_000_000UL : 1_000_000UL,
            FcsLength = fcs,
        };
        InterfaceList.Add(_interface);
        _snapLength = snap;
        _linkType = _interface.LinkType;
        _fractionToNs = IsNanosecond ? 1 : 1000;
        _fractionLimit = IsNanosecond ? 1_000_000_000u : 1_000_000u;
        buffer.Consume(FileHeaderLength);
    }

    /// <summary>
    /// A reader for one part of the file <paramref name="first"/> reads: from <paramref name="buffer"/>'s start offset (a
    /// record boundary) to <paramref name="end"/>, with the file header of <paramref name="first"/>.
    /// </summary>
    internal PcapReader(CaptureBuffer buffer, PcapReader first, CaptureFileParts parts, CaptureFileParts.Part part, long end)
    {
        _buffer = buffer;
        _name = first._name;
        _maxRecord = first._maxRecord;
        _interface = first._interface;
        _fractionToNs = first._fractionToNs;
        _fractionLimit = first._fractionLimit;
        _snapLength = first._snapLength;
        _linkType = first._linkType;
        IsBigEndian = first.IsBigEndian;
        IsNanosecond = first.IsNanosecond;
        VersionMajor = first.VersionMajor;
        VersionMinor = first.VersionMinor;
        InterfaceList.Add(_interface);
        _parts = parts;
        _part = part;
        _partEnd = end;
    }

    /// <summary>Makes this reader (the one that read the file header) the first part of <paramref name="parts"/>.</summary>
    internal void BecomeFirstPart(CaptureFileParts parts, CaptureFileParts.Part part, long end)
    {
        _parts = parts;
        _part = part;
        _partEnd = end;
    }

    /// <summary>Where this part ends: the next part's start (set under <see cref="CaptureFileParts.SyncRoot"/>).</summary>
    internal long PartEnd
    {
        get => Volatile.Read(ref _partEnd);
        set => Volatile.Write(ref _partEnd, value);
    }

    /// <summary>This part is done: the memory mapping behind it is given back (<see cref="CaptureBuffer.ReleaseMapping"/>).</summary>
    internal void ReleaseMapping() => _buffer.ReleaseMapping();

    /// <summary>The offset of the next record, as another thread sees it (may be stale or torn: an estimate).</summary>
    internal long PositionEstimate => _buffer.Position;

    public override CaptureFormat Format => CaptureFormat.Pcap;

    public bool IsBigEndian { get; }

    /// <summary>Nanosecond magic (a1b23c4d) rather than microsecond.</summary>
    public bool IsNanosecond { get; }

    public int VersionMajor { get; }

    public int VersionMinor { get; }

    public override ReadOnlySpan<byte> CurrentComment => default;

    /// <summary>File offset of the next unread byte.</summary>
    internal long Position => _buffer.Position;

    internal CaptureBuffer Buffer => _buffer;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override bool TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data)
    {
        // Fast path: the header and the whole record are already in the buffer (all but about one record per buffer).
        CaptureBuffer buffer = _buffer;
        int available = buffer.Available;
        if (available >= RecordHeaderLength && !_stopped && buffer.Position < PartEnd)
        {
            ref byte h = ref buffer.StartRef;
            uint seconds = Unsafe.ReadUnaligned<uint>(ref h);
            uint fraction = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref h, 4));
            uint capLen = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref h, 8));
            uint origLen = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref h, 12));
            if (IsBigEndian)
            {
                seconds = BinaryPrimitives.ReverseEndianness(seconds);
                fraction = BinaryPrimitives.ReverseEndianness(fraction);
                capLen = BinaryPrimitives.ReverseEndianness(capLen);
                origLen = BinaryPrimitives.ReverseEndianness(origLen);
            }

            if (capLen <= (uint)_maxRecord && capLen <= (uint)(available - RecordHeaderLength))
            {
                buffer.PrefetchAhead();
                return Return(out record, out data, ref h, seconds, fraction, capLen, origLen);
            }
        }

        return TryReadNextSlow(out record, out data);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Return(out CaptureRecord record, out ReadOnlySpan<byte> data, ref byte header, uint seconds, uint fraction, uint capLen, uint origLen)
    {
        long offset = _buffer.Position;
        if (fraction >= _fractionLimit)
        {
            Statistics.InvalidTimestamps++;
        }

        bool inconsistent = capLen > origLen || (_snapLength != 0 && capLen > _snapLength);
        if (inconsistent)
        {
            Statistics.InconsistentLengthRecords++;
        }

        data = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref header, RecordHeaderLength), (int)capLen);
        _buffer.Consume(RecordHeaderLength + (int)capLen);
        long number = ++Statistics.Packets;
        record = new CaptureRecord
        {
            Number = number,
            TimestampNs = (seconds * 1_000_000_000L) + (fraction * _fractionToNs),
            HasTimestamp = true,
            LinkType = _linkType,
            OriginalLength = (int)Math.Min(origLen, int.MaxValue),
            CapturedLength = (int)capLen,
            FileOffset = offset,
            CapturedLengthInconsistent = inconsistent,
        };
        return true;
    }

    /// <summary>Everything but a record already whole in the buffer: refills, the end of the file, errors.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryReadNextSlow(out CaptureRecord record, out ReadOnlySpan<byte> data)
    {
        record = default;
        data = default;
        if (_ended || Error is not null || (_parts is not null && AtEndOfPart()))
        {
            _stopped = true;
            return false;
        }

        long offset = _buffer.Position;
        if (!_buffer.Ensure(RecordHeaderLength))
        {
            if (_buffer.Available > 0)
            {
                Statistics.TruncatedRecords++;
                Error = new CaptureFileError(offset, $"last record header cut short: {_buffer.Available} of {RecordHeaderLength} bytes");
            }

            _ended = _stopped = true;
            return false;
        }

        ReadOnlySpan<byte> h = _buffer.Span(0, RecordHeaderLength);
        uint seconds = U32(h);
        uint fraction = U32(h[4..]);
        uint capLen = U32(h[8..]);
        uint origLen = U32(h[12..]);
        if (capLen > (uint)_maxRecord)
        {
            Error = new CaptureFileError(offset, $"record captured length {capLen} exceeds the maximum of {_maxRecord} bytes");
            _stopped = true;
            return false;
        }

        if (!_buffer.Ensure(RecordHeaderLength + (int)capLen))
        {
            long left = _buffer.Remaining;
            Statistics.TruncatedRecords++;
            Error = new CaptureFileError(offset, $"last record cut short: captured length {capLen} but only {Math.Max(0, left - RecordHeaderLength)} bytes left in the file");
            _ended = _stopped = true;
            return false;
        }

        return Return(out record, out data, ref _buffer.StartRef, seconds, fraction, capLen, origLen);
    }

    /// <summary>Seconds a record of a file read in parts may lie from the first record and still be taken for a header (about 194 days).</summary>
    internal const uint PartStartSecondsWindow = 1u << 24;

    /// <summary>
    /// Whether 16 bytes could be a record header of this file, whose first record has <paramref name="firstSeconds"/>, in
    /// a run of headers that tells where a part starts: a fraction in range and other than the captured length, a
    /// captured length that is not zero, within the limits and not above the original length, and seconds within
    /// <see cref="PartStartSecondsWindow"/> of the first record's (files that break these rules are read, just not in parts).
    /// </summary>
    /// <remarks>
    /// The fraction and seconds rules reject the runs of false headers that captures hold everywhere. Read four bytes into each
    /// header (fraction, captured length, original length, the frame's first four bytes), records whose two lengths are
    /// equal pass the other rules and the run stays in step for ever, its fractions equal to its captured lengths
    /// (three bytes in, mostly the same); a true record with the two equal only keeps itself and the 15 records before
    /// it from being a start. A run read from elsewhere, one byte before a header for instance, takes its seconds from
    /// unrelated bytes. Where the seconds cannot tell (a file near 1970), such a run can still start one false header
    /// before the true records; the part before then steps over that start and reads on (slower, same result).
    /// </remarks>
    internal bool IsPlausibleRecordHeader(ReadOnlySpan<byte> h, uint firstSeconds, out int capturedLength)
    {
        uint seconds = U32(h);
        uint fraction = U32(h[4..]);
        uint capLen = U32(h[8..]);
        uint origLen = U32(h[12..]);
        capturedLength = (int)Math.Min(capLen, int.MaxValue);
        return fraction < _fractionLimit && fraction != capLen && capLen != 0 && capLen <= (uint)_maxRecord && capLen <= origLen
            && (_snapLength == 0 || capLen <= _snapLength) && Math.Abs((long)seconds - firstSeconds) <= PartStartSecondsWindow;
    }

    /// <summary>The seconds of a record header (for <see cref="IsPlausibleRecordHeader"/>).</summary>
    internal uint SecondsOf(ReadOnlySpan<byte> h) => U32(h);

    /// <summary>
    /// True when this part is done: it reached the record where the next part starts, or a part before it ran past its
    /// own end (this part's results will not be used). A part that ran past its end goes on to the end of the file.
    /// </summary>
    private bool AtEndOfPart()
    {
        if (_parts!.IsAbandoned(_part!))
        {
            return true;
        }

        long position = _buffer.Position;
        if (position < PartEnd)
        {
            return false;
        }

        // The end may have just been moved by a split: decide under the lock that splits take.
        lock (_parts.SyncRoot)
        {
            if (position == _partEnd)
            {
                _part!.ReachedEnd = true;
                return true;
            }

            if (position > _partEnd)
            {
                // The next part's start was not a record boundary after all: read on; the parts after this one are dropped.
                _parts.RanPastEnd(_part!);
                _partEnd = long.MaxValue;
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

    private ushort U16(ReadOnlySpan<byte> b) => IsBigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);

    private uint U32(ReadOnlySpan<byte> b) => IsBigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
}
