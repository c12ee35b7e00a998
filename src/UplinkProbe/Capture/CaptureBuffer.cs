using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Microsoft.Win32.SafeHandles;

namespace UplinkProbe.Capture;

/// <summary>
/// One reused read buffer over a file handle (read with <see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>)
/// or a stream. The readers look at the bytes from <see cref="Position"/> on; a record that straddles the end of
/// the buffer is handled by moving the unread tail to the front and refilling. The buffer grows (pooled) only for a
/// record bigger than itself, never beyond the cap, and never beyond what the source still holds when its length is known.
/// <para>A large regular file on a multi-core machine is read ahead by a background thread (<see cref="FileReadAhead"/>):
/// the buffer is then the current chunk of its ring, a record straddling two chunks is joined in the next chunk's head
/// room, and only a record longer than the head room is gathered into a separate pooled array.</para>
/// <para>A part of a big file read in parts can instead be read in place from a <see cref="MappedFile"/>: the "buffer" is
/// then a window of the mapping that slides forward without copying, with software prefetch ahead of the reader.</para>
/// </summary>
internal sealed unsafe class CaptureBuffer : IDisposable
{
    private readonly SafeFileHandle? _handle;
    private readonly bool _ownsHandle;
    private readonly Stream? _stream;
    private readonly bool _ownsStream;
    private long _sourceLength; // -1 when unknown (pipes, non-seekable streams); a mapped file's length now
    private readonly int _defaultSize;
    private readonly int _cap;
    private byte[] _buf;
    private int _start;
    private int _end;
    private long _readOffset; // file offset of _buf[_end]
    private bool _eof;

    // Read-ahead mode: _buf is either the chunk taken last (_bufIsChunk) or a pooled gathering array. A chunk taken
    // but not yet moved into _buf waits in _pending[_pendingStart.._pendingEnd).
    private readonly FileReadAhead? _ahead;
    private bool _bufIsChunk;
    private byte[]? _pending;
    private int _pendingStart;
    private int _pendingEnd;
    private bool _aheadDone;

    // Mapped mode: index i of the window is file offset _windowBase + i; the mapping behind _released was given back.
    private readonly MappedFile? _mapped;
    private readonly byte* _mapBase;
    private long _windowBase;
    private long _released;
    private byte* _prefetched;
    private byte* _prefetchLimit;

    private readonly int _mappedWindow;

    /// <summary>How far ahead of the reader the mapping is prefetched: far enough to cover a DRAM miss with a few packets' decoding.</summary>
    /// <remarks>Every line is asked for: the decoder reads the first two or three lines of each record, and which lines those
    /// are is known only once the records before are read. 1–8 KiB measured alike; every other line was 40% slower.</remarks>
    private const int PrefetchDistance = 2048;

    private CaptureBuffer(SafeFileHandle? handle, bool ownsHandle, Stream? stream, bool ownsStream, long sourceLength, long startOffset, CaptureFileOptions options, bool allowReadAhead = true, MappedFile? mapped = null)
    {
        _handle = handle;
        _ownsHandle = ownsHandle;
        _stream = stream;
        _ownsStream = ownsStream;
        _sourceLength = sourceLength;
        _defaultSize = options.EffectiveBufferSize;
        _cap = options.BufferCap;
        _readOffset = startOffset;
        if (mapped is not null)
        {
            _mapped = mapped;
            _mapBase = mapped.Pointer;
            _mappedWindow = options.MappedWindow;
            _buf = System.Array.Empty<byte>();
            _windowBase = startOffset;
            _released = startOffset;
            _prefetched = mapped.Pointer + startOffset;
            _prefetchLimit = mapped.Pointer + mapped.Length;
            return;
        }

        if (handle is not null && allowReadAhead && UseReadAhead(options, sourceLength - startOffset))
        {
            int chunk = _defaultSize;
            _ahead = new FileReadAhead(handle, startOffset, chunk, ReadAheadChunks, Math.Min(chunk / 4, MaxHeadRoom));
            _buf = System.Array.Empty<byte>();
            return;
        }

        int initial = _defaultSize;
        if (sourceLength >= 0 && sourceLength - startOffset < initial)
        {
            // Small file: no need for a whole megabyte (still pooled, still grows if asked).
            initial = (int)Math.Max(4096, sourceLength - startOffset);
        }

        _buf = ArrayPool<byte>.Shared.Rent(initial);
        MaxCapacitySeen = _buf.Length;
    }

    /// <summary>Chunks in the read-ahead ring: one being decoded, the others being filled or waiting.</summary>
    internal const int ReadAheadChunks = 4;

    /// <summary>Head room of a read-ahead chunk: room for the longest classic pcap record and its header.</summary>
    private const int MaxHeadRoom = CaptureFileOptions.DefaultMaxPcapRecordLength + 16;

    /// <summary>Automatic read-ahead: a second core to read on, and a file long enough to pay for the thread.</summary>
    private static bool UseReadAhead(CaptureFileOptions options, long length) => options.ReadAhead switch
    {
        true => true,
        false => false,
        null => Environment.ProcessorCount > 1 && length >= (long)ReadAheadChunks * options.EffectiveBufferSize,
    };

    /// <summary>True when a background thread reads the file (see <see cref="CaptureFileOptions.ReadAhead"/>).</summary>
    public bool IsReadAhead => _ahead is not null;

    public static CaptureBuffer ForFile(SafeFileHandle handle, CaptureFileOptions options)
    {
        long length = -1;
        try
        {
            length = RandomAccess.GetLength(handle);
        }
        catch (IOException)
        {
        }
        catch (NotSupportedException)
        {
        }

        return new CaptureBuffer(handle, true, null, false, length, 0, options);
    }

    /// <summary>
    /// A buffer over a file handle shared with other buffers (not disposed with this one), reading from
    /// <paramref name="startOffset"/> on the caller's thread: one part of a file read in parts (<see cref="CaptureFileParts"/>).
    /// </summary>
    public static CaptureBuffer ForFilePart(SafeFileHandle handle, long length, long startOffset, CaptureFileOptions options, MappedFile? mapped = null) =>
        new(handle, false, null, false, mapped?.Length ?? length, startOffset, options, allowReadAhead: false, mapped);

    public static CaptureBuffer ForStream(Stream stream, bool leaveOpen, CaptureFileOptions options)
    {
        long length = -1;
        long start = 0;
        if (stream.CanSeek)
        {
            start = stream.Position;
            length = stream.Length;
        }

        return new CaptureBuffer(null, false, stream, !leaveOpen, length, start, options);
    }

    /// <summary>File offset of the first unread byte.</summary>
    public long Position => _readOffset - (_end - _start);

    /// <summary>Bytes in the buffer from <see cref="Position"/> on.</summary>
    public int Available => _end - _start;

    /// <summary>Length of the array in use now.</summary>
    public int Capacity => _buf.Length;

    /// <summary>Largest array used so far (for tests: it must stay below <see cref="Cap"/>).</summary>
    public int MaxCapacitySeen { get; private set; }

    public int Cap => _cap;

    /// <summary>Bytes left from <see cref="Position"/> to the end of the source, or -1 when unknown.</summary>
    public long Remaining => _sourceLength < 0 ? (_eof ? Available : -1) : Math.Max(Available, _sourceLength - Position);

    /// <summary>Index in the underlying array of <see cref="Position"/> (for spans that must survive <see cref="Consume"/>).</summary>
    public int StartIndex => _start;

    public ReadOnlySpan<byte> Span(int offset, int length) => AbsoluteSpan(_start + offset, length);

    public ReadOnlySpan<byte> AbsoluteSpan(int index, int length)
    {
        if (_mapped is null)
        {
            return _buf.AsSpan(index, length);
        }

        if ((uint)index > (uint)_end || (uint)length > (uint)(_end - index))
        {
            throw new ArgumentOutOfRangeException(nameof(length));
        }

        return new ReadOnlySpan<byte>(_mapBase + _windowBase + index, length);
    }

    public void Consume(int count) => _start += count;

    /// <summary>
    /// The byte at <see cref="Position"/>, for readers that index from it directly: <see cref="Available"/> bytes from it
    /// are valid until the next <see cref="Ensure"/>.
    /// </summary>
    public ref byte StartRef
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (_mapBase is null)
            {
                return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_buf), _start);
            }

            return ref *(_mapBase + _windowBase + _start);
        }
    }

    /// <summary>
    /// Mapped mode: asks the memory system for the cache lines up to <see cref="PrefetchDistance"/> bytes past
    /// <see cref="Position"/>, so that the packets there arrive while the ones before them are decoded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchAhead()
    {
        if (_mapBase is not null && Sse.IsSupported)
        {
            byte* target = _mapBase + _windowBase + _start + PrefetchDistance;
            if (target > _prefetchLimit)
            {
                target = _prefetchLimit;
            }

            byte* next = _prefetched;
            while (next < target)
            {
                Sse.Prefetch0(next);
                next += 64;
            }

            _prefetched = next;
        }
    }

    /// <summary>Makes <paramref name="count"/> bytes available from <see cref="Position"/>; false when the source ends first (or the count is above the cap).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Ensure(int count) => _end - _start >= count || EnsureMore(count);

    private bool EnsureMore(int count)
    {
        if (_mapped is not null)
        {
            return EnsureMapped(count);
        }

        if (_ahead is not null)
        {
            return EnsureReadAhead(count);
        }

        if (count > _cap || _eof)
        {
            return false;
        }

        // With a known source length, a length field the source cannot satisfy is not worth growing for: just load what
        // is left (up to the buffer size) so Available tells how much there was.
        bool satisfiable = _sourceLength < 0 || _sourceLength - Position >= count;
        if (satisfiable && _sourceLength >= 0 && count > _buf.Length)
        {
            Resize(count);
        }
        else if (_buf.Length > _defaultSize && count <= _defaultSize && Available <= _defaultSize)
        {
            Resize(_defaultSize);
        }

        while (true)
        {
            if (_buf.Length - _start < count)
            {
                Compact();
            }

            Fill(count);
            if (Available >= count)
            {
                return true;
            }

            if (_eof || !satisfiable)
            {
                return false;
            }

            if (Available == _buf.Length)
            {
                // Unknown source length: grow only when the data fills the buffer, doubling, so a hostile length costs
                // at most twice the bytes that really exist.
                Resize((int)Math.Min(count, (long)_buf.Length * 2));
            }
        }
    }

    /// <summary>Mapped mode: the window moves to <see cref="Position"/> and reaches <see cref="CaptureFileOptions.MappedWindow"/> past it.</summary>
    private bool EnsureMapped(int count)
    {
        if (count > _cap)
        {
            return false;
        }

        // A file cut shorter since it was mapped: pages past its new end raise SIGBUS when touched, so the window stops at
        // the end the file has now and the reader reports a cut record, as with read(). (A cut made while a window is
        // being read still reaches the process: see MappedFile.)
        long length = _mapped!.Length;
        if (_handle is not null)
        {
            length = Math.Min(length, RandomAccess.GetLength(_handle));
            _sourceLength = length;
        }

        _windowBase += _start;
        long left = Math.Max(0, length - _windowBase);
        _start = 0;
        _end = (int)Math.Min(left, Math.Max(_mappedWindow, count));
        _readOffset = _windowBase + _end;
        if (_windowBase - _released >= 2 * MappedFile.ReleaseUnit)
        {
            _mapped.Release(_released, _windowBase);
            _released = _windowBase / MappedFile.ReleaseUnit * MappedFile.ReleaseUnit;
        }

        return _end >= count;
    }

    private bool EnsureReadAhead(int count)
    {
        if (count > _cap)
        {
            return false;
        }

        while (Available < count)
        {
            if (_pending is null)
            {
                if (_aheadDone || !_ahead!.TryTake(out byte[] chunk, out int length))
                {
                    _aheadDone = true;
                    return false;
                }

                _pending = chunk;
                _pendingStart = _ahead.HeadRoom;
                _pendingEnd = _ahead.HeadRoom + length;
            }

            int tail = Available;
            if (tail <= _pendingStart)
            {
                // The unread tail (the start of a record cut by the chunk border) goes right in front of the new data.
                byte[] next = _pending;
                Buffer.BlockCopy(_buf, _start, next, _pendingStart - tail, tail);
                DropBuffer();
                _readOffset += _pendingEnd - _pendingStart;
                _buf = next;
                _bufIsChunk = true;
                _start = _pendingStart - tail;
                _end = _pendingEnd;
                _pending = null;
                MaxCapacitySeen = Math.Max(MaxCapacitySeen, next.Length);
                continue;
            }

            // A tail longer than the head room: gather it and the new data into a pooled array sized for the request.
            int pendingLength = _pendingEnd - _pendingStart;
            if (_bufIsChunk || _buf.Length < count)
            {
                long want = Math.Max(count, (long)tail + pendingLength);
                int size = (int)Math.Min((ulong)_cap, BitOperations.RoundUpToPowerOf2((ulong)want));
                byte[] gather = ArrayPool<byte>.Shared.Rent(size);
                Buffer.BlockCopy(_buf, _start, gather, 0, tail);
                DropBuffer();
                _buf = gather;
                _bufIsChunk = false;
                _start = 0;
                _end = tail;
                MaxCapacitySeen = Math.Max(MaxCapacitySeen, gather.Length);
            }
            else if (_start > 0)
            {
                Compact();
            }

            int take = Math.Min(pendingLength, _buf.Length - _end);
            Buffer.BlockCopy(_pending, _pendingStart, _buf, _end, take);
            _end += take;
            _readOffset += take;
            _pendingStart += take;
            if (_pendingStart == _pendingEnd)
            {
                _pending = null;
                _ahead!.Release();
            }
        }

        return true;
    }

    /// <summary>Lets go of the current array: a chunk goes back to the read-ahead thread, a gathering array to the pool.</summary>
    private void DropBuffer()
    {
        if (_bufIsChunk)
        {
            _ahead!.Release();
        }
        else if (_buf.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buf);
        }

        _buf = System.Array.Empty<byte>();
        _bufIsChunk = false;
        _start = _end = 0;
    }

    private void Compact()
    {
        int n = Available;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buf, _start, _buf, 0, n);
            _start = 0;
            _end = n;
        }
    }

    private void Resize(int size)
    {
        byte[] next = ArrayPool<byte>.Shared.Rent(size);
        int n = Available;
        Buffer.BlockCopy(_buf, _start, next, 0, n);
        ArrayPool<byte>.Shared.Return(_buf);
        _buf = next;
        _start = 0;
        _end = n;
        MaxCapacitySeen = Math.Max(MaxCapacitySeen, next.Length);
    }

    /// <summary>Reads until <paramref name="count"/> bytes are available or the source ends; one read may bring more.</summary>
    private void Fill(int count)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }

        while (Available < count && _end < _buf.Length && !_eof)
        {
            int n = _handle is not null
                ? RandomAccess.Read(_handle, _buf.AsSpan(_end), _readOffset)
                : _stream!.Read(_buf, _end, _buf.Length - _end);
            if (n <= 0)
            {
                _eof = true;
                break;
            }

            _end += n;
            _readOffset += n;
        }
    }

    /// <summary>
    /// Mapped mode, once the reader is done: gives back the mapping it still holds, up to the end of the release unit
    /// that holds <see cref="Position"/>. The rest of that unit belongs to the part after (when there is one), which
    /// started there before this one could reach it and does not give back a unit it did not start on a boundary of.
    /// </summary>
    internal void ReleaseMapping()
    {
        if (_mapped is not null)
        {
            long upTo = (Position + MappedFile.ReleaseUnit - 1) / MappedFile.ReleaseUnit * MappedFile.ReleaseUnit;
            _mapped.Release(_released, upTo);
            _released = Math.Max(_released, upTo);
        }
    }

    public void Dispose()
    {
        if (_ahead is not null)
        {
            // The thread stops first; the chunks (current and pending included) go back to the pool with it.
            _ahead.Dispose();
            if (!_bufIsChunk && _buf.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buf);
            }

            _buf = System.Array.Empty<byte>();
            _bufIsChunk = false;
            _pending = null;
            _start = _end = 0;
        }
        else if (_buf.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = System.Array.Empty<byte>();
            _start = _end = 0;
        }

        if (_ownsHandle)
        {
            _handle?.Dispose();
        }

        if (_ownsStream)
        {
            _stream?.Dispose();
        }
    }
}
