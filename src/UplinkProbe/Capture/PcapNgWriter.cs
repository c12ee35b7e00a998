using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using UplinkProbe.Decoding;
using static UplinkProbe.Capture.PcapNgFormat;

namespace UplinkProbe.Capture;

/// <summary>
/// Writes pcapng (draft-ietf-opsawg-pcapng), little-endian, nanosecond timestamps (if_tsresol 9). Every block is
/// assembled in one reused buffer and handed to the stream in a single write, so after <see cref="Flush"/> the file
/// holds only whole blocks and is a complete, valid capture. Writing a packet allocates nothing. Not thread-safe.
/// <para>
/// The SHB carries shb_userappl "uplinkprobe" and an optional comment. <see cref="WriteComment"/> adds a comment later
/// in the capture by starting a new section whose SHB carries it (the place tshark and capinfos show comments that
/// belong to no packet; an ISB comment is not shown by tshark 4.0); the interfaces are described again in the same
/// order, so interface ids do not change.
/// </para>
/// </summary>
public sealed class PcapNgWriter : IDisposable
{
    private const int InitialScratch = 64 * 1024;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly string _userApplication;
    private readonly List<InterfaceSpec> _interfaces = new();
    private byte[] _scratch = ArrayPool<byte>.Shared.Rent(InitialScratch);
    private int _length;
    private bool _disposed;

    /// <param name="stream">Where the capture goes; written sequentially.</param>
    /// <param name="comment">opt_comment of the first SHB (capinfos shows it as "Capture comment").</param>
    /// <param name="ownsStream">Dispose the stream with the writer.</param>
    /// <param name="userApplication">shb_userappl.</param>
    public PcapNgWriter(Stream stream, string? comment = null, bool ownsStream = true, string userApplication = "uplinkprobe")
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _ownsStream = ownsStream;
        _userApplication = userApplication;
        WriteSectionHeader(comment);
    }

    /// <summary>Creates (or replaces) <paramref name="path"/>.</summary>
    public static PcapNgWriter Create(string path, string? comment = null) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20), comment);

    public int InterfaceCount => _interfaces.Count;

    /// <summary>
    /// Describes an interface (IDB) and returns its id for <see cref="WritePacket(int, long, ReadOnlySpan{byte}, PacketDirection, int, ReadOnlySpan{byte})"/>.
    /// With <paramref name="node"/>, the if_description is written as <c>node=NODE</c> or <c>node=NODE; DESCRIPTION</c>
    /// (read back as <see cref="CaptureInterface.Node"/>). A <paramref name="snapLength"/> of 0 means unlimited; packets are
    /// cut to it. <paramref name="filter"/> is the capture filter in libpcap syntax (if_filter, kind 0).
    /// </summary>
    public int AddInterface(string name, LinkType linkType, uint snapLength = 0, string? description = null, string? node = null,
        string? filter = null, string? operatingSystem = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ThrowIfDisposed();
        if (node is not null && !CaptureInterface.IsValidNodeName(node))
        {
            throw new ArgumentException("a node name must be non-empty and contain no ';' or white space", nameof(node));
        }

        string? fullDescription = node is null ? description
            : description is null ? CaptureInterface.NodePrefix + node
            : $"{CaptureInterface.NodePrefix}{node}; {description}";
        var spec = new InterfaceSpec(name, linkType, snapLength, fullDescription, filter, operatingSystem);
        CheckOptionLength(name, nameof(name));
        CheckOptionLength(fullDescription, nameof(description));
        CheckOptionLength(filter is null ? null : filter + " ", nameof(filter));
        CheckOptionLength(operatingSystem, nameof(operatingSystem));
        _interfaces.Add(spec);
        WriteInterface(spec);
        return _interfaces.Count - 1;
    }

    /// <summary>
    /// Writes one EPB. <paramref name="originalLength"/> defaults to the data length; the data is cut to the interface's
    /// snap length. <paramref name="direction"/> goes into epb_flags (omitted when unknown); <paramref name="commentUtf8"/>
    /// is the opt_comment in UTF-8 (none when empty).
    /// </summary>
    public void WritePacket(int interfaceId, long timestampNs, ReadOnlySpan<byte> data, PacketDirection direction = PacketDirection.Unknown,
        int originalLength = -1, ReadOnlySpan<byte> commentUtf8 = default)
    {
        InterfaceSpec spec = GetInterface(interfaceId);
        ArgumentOutOfRangeException.ThrowIfNegative(timestampNs);
        if (commentUtf8.Length > ushort.MaxValue)
        {
            throw new ArgumentException("a comment is at most 65535 bytes", nameof(commentUtf8));
        }

        int captured = spec.SnapLength == 0 ? data.Length : (int)Math.Min((uint)data.Length, spec.SnapLength);
        int total = BlockOverhead + 20 + Pad4(captured)
            + (direction != PacketDirection.Unknown ? 8 : 0)
            + (commentUtf8.IsEmpty ? 0 : 4 + Pad4(commentUtf8.Length))
            + (direction != PacketDirection.Unknown || !commentUtf8.IsEmpty ? 4 : 0);
        Begin(EnhancedPacketBlock, total);
        PutU32((uint)interfaceId);
        PutU32((uint)((ulong)timestampNs >> 32));
        PutU32((uint)timestampNs);
        PutU32((uint)captured);
        PutU32((uint)(originalLength < 0 ? data.Length : originalLength));
        PutPadded(data[..captured]);
        bool options = false;
        if (direction != PacketDirection.Unknown)
        {
            Span<byte> flags = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(flags, (uint)direction & 3);
            PutOption(EpbFlags, flags);
            options = true;
        }

        if (!commentUtf8.IsEmpty)
        {
            PutOption(OptComment, commentUtf8);
            options = true;
        }

        if (options)
        {
            PutU32(0); // opt_endofopt
        }

        End(total);
    }

    /// <summary>Like the UTF-8 overload, encoding <paramref name="comment"/> without allocating.</summary>
    public void WritePacket(int interfaceId, long timestampNs, ReadOnlySpan<byte> data, PacketDirection direction, int originalLength, string? comment)
    {
        if (string.IsNullOrEmpty(comment))
        {
            WritePacket(interfaceId, timestampNs, data, direction, originalLength, ReadOnlySpan<byte>.Empty);
            return;
        }

        int n = Encoding.UTF8.GetByteCount(comment);
        if (n > ushort.MaxValue)
        {
            throw new ArgumentException("a comment is at most 65535 bytes", nameof(comment));
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(n);
        try
        {
            int written = Encoding.UTF8.GetBytes(comment, rented);
            WritePacket(interfaceId, timestampNs, data, direction, originalLength, rented.AsSpan(0, written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Writes an ISB: packets received (isb_ifrecv), dropped by the interface (isb_ifdrop) and by the OS (isb_osdrop), and a comment.</summary>
    public void WriteStatistics(int interfaceId, long timestampNs, ulong? received = null, ulong? interfaceDrops = null, ulong? osDrops = null,
        string? comment = null)
    {
        GetInterface(interfaceId);
        ArgumentOutOfRangeException.ThrowIfNegative(timestampNs);
        CheckOptionLength(comment, nameof(comment));
        int commentBytes = comment is null ? 0 : Encoding.UTF8.GetByteCount(comment);
        int optionBytes = (received.HasValue ? 12 : 0) + (interfaceDrops.HasValue ? 12 : 0) + (osDrops.HasValue ? 12 : 0)
            + (comment is null ? 0 : 4 + Pad4(commentBytes));
        int total = BlockOverhead + 12 + optionBytes + (optionBytes > 0 ? 4 : 0);
        Begin(InterfaceStatisticsBlock, total);
        PutU32((uint)interfaceId);
        PutU32((uint)((ulong)timestampNs >> 32));
        PutU32((uint)timestampNs);
        Span<byte> v = stackalloc byte[8];
        if (received is ulong r)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(v, r);
            PutOption(IsbIfRecv, v);
        }

        if (interfaceDrops is ulong d)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(v, d);
            PutOption(IsbIfDrop, v);
        }

        if (osDrops is ulong o)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(v, o);
            PutOption(IsbOsDrop, v);
        }

        if (comment is not null)
        {
            PutStringOption(OptComment, comment);
        }

        if (optionBytes > 0)
        {
            PutU32(0);
        }

        End(total);
    }

    /// <summary>
    /// Writes a comment that belongs to no packet: a new section starts whose SHB carries it (capinfos lists it as a
    /// "Capture comment"), and every interface is described again in the same order so ids stay valid.
    /// </summary>
    public void WriteComment(string comment)
    {
        ArgumentNullException.ThrowIfNull(comment);
        ThrowIfDisposed();
        WriteSectionHeader(comment);
        foreach (InterfaceSpec spec in _interfaces)
        {
            WriteInterface(spec);
        }
    }

    /// <summary>Pushes everything written so far to the stream's target; with <paramref name="toDisk"/>, also to the disk (fsync).</summary>
    public void Flush(bool toDisk = false)
    {
        ThrowIfDisposed();
        if (toDisk && _stream is FileStream fs)
        {
            fs.Flush(flushToDisk: true);
        }
        else
        {
            _stream.Flush();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _stream.Flush();
        }
        finally
        {
            if (_ownsStream)
            {
                _stream.Dispose();
            }

            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = Array.Empty<byte>();
        }
    }

    private void WriteSectionHeader(string? comment)
    {
        CheckOptionLength(comment, nameof(comment));
        CheckOptionLength(_userApplication, "userApplication");
        int total = MinSectionHeaderLength + StringOptionLength(comment) + StringOptionLength(_userApplication) + 4;
        Begin(SectionHeaderBlock, total);
        PutU32(ByteOrderMagic);
        PutU16(1);
        PutU16(0);
        PutU64(ulong.MaxValue); // section length not known in advance (-1)
        if (comment is not null)
        {
            PutStringOption(OptComment, comment);
        }

        PutStringOption(ShbUserAppl, _userApplication);
        PutU32(0);
        End(total);
    }

    private void WriteInterface(InterfaceSpec spec)
    {
        int total = BlockOverhead + 8 + StringOptionLength(spec.Name) + StringOptionLength(spec.Description)
            + 8 /* if_tsresol */ + (spec.Filter is null ? 0 : 4 + Pad4(Encoding.UTF8.GetByteCount(spec.Filter) + 1))
            + StringOptionLength(spec.OperatingSystem) + 4;
        Begin(InterfaceDescriptionBlock, total);
        PutU16((ushort)spec.LinkType);
        PutU16(0);
        PutU32(spec.SnapLength);
        PutStringOption(IfName, spec.Name);
        if (spec.Description is not null)
        {
            PutStringOption(IfDescription, spec.Description);
        }

        ReadOnlySpan<byte> nanoseconds = [9];
        PutOption(IfTsResol, nanoseconds);
        if (spec.Filter is not null)
        {
            int n = Encoding.UTF8.GetByteCount(spec.Filter);
            PutU16(IfFilter);
            PutU16((ushort)(n + 1));
            _scratch[_length++] = 0; // filter kind 0: libpcap filter string
            _length += Encoding.UTF8.GetBytes(spec.Filter, _scratch.AsSpan(_length));
            PadTo4(n + 1);
        }

        if (spec.OperatingSystem is not null)
        {
            PutStringOption(IfOs, spec.OperatingSystem);
        }

        PutU32(0);
        End(total);
    }

    private InterfaceSpec GetInterface(int interfaceId)
    {
        ThrowIfDisposed();
        if ((uint)interfaceId >= (uint)_interfaces.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(interfaceId), interfaceId, $"{_interfaces.Count} interface(s) were added");
        }

        return _interfaces[interfaceId];
    }

    private void Begin(uint type, int total)
    {
        if (_scratch.Length < total)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = ArrayPool<byte>.Shared.Rent(total);
        }

        _length = 0;
        PutU32(type);
        PutU32((uint)total);
    }

    private void End(int total)
    {
        PutU32((uint)total);
        if (_length != total)
        {
            throw new InvalidOperationException($"pcapng block assembled to {_length} bytes, expected {total}");
        }

        _stream.Write(_scratch, 0, _length);
    }

    private static int StringOptionLength(string? value) => value is null ? 0 : 4 + Pad4(Encoding.UTF8.GetByteCount(value));

    private static void CheckOptionLength(string? value, string parameter)
    {
        if (value is not null && Encoding.UTF8.GetByteCount(value) > ushort.MaxValue)
        {
            throw new ArgumentException("a pcapng option value is at most 65535 bytes", parameter);
        }
    }

    private void PutStringOption(ushort code, string value)
    {
        int n = Encoding.UTF8.GetByteCount(value);
        PutU16(code);
        PutU16((ushort)n);
        _length += Encoding.UTF8.GetBytes(value, _scratch.AsSpan(_length));
        PadTo4(n);
    }

    private void PutOption(ushort code, ReadOnlySpan<byte> value)
    {
        PutU16(code);
        PutU16((ushort)value.Length);
        PutPadded(value);
    }

    private void PutPadded(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_scratch.AsSpan(_length));
        _length += value.Length;
        PadTo4(value.Length);
    }

    private void PadTo4(int written)
    {
        int pad = Pad4(written) - written;
        _scratch.AsSpan(_length, pad).Clear();
        _length += pad;
    }

    private void PutU16(ushort v)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_scratch.AsSpan(_length), v);
        _length += 2;
    }

    private void PutU32(uint v)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_scratch.AsSpan(_length), v);
        _length += 4;
    }

    private void PutU64(ulong v)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_scratch.AsSpan(_length), v);
        _length += 8;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private sealed record InterfaceSpec(string Name, LinkType LinkType, uint SnapLength, string? Description, string? Filter, string? OperatingSystem);
}
