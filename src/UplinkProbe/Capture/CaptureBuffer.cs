using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace UplinkProbe.Capture;

/// <summary>
/// One reused read buffer over a file handle (read with <see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>)
/// or a stream. The readers look at the bytes from <see cref="Position"/> on; a record that straddles the end of
/// the buffer is handled by moving the unread tail to the front and refilling. The buffer grows (pooled) only for a
/// record bigger than itself, never beyond the cap, and never beyond what the source still holds when its length is known.
/// </summary>
internal sealed class CaptureBuffer : IDisposable
{
    private readonly SafeFileHandle? _handle;
    private readonly bool _ownsHandle;
    private readonly Stream? _stream;
    private readonly bool _ownsStream;
    private readonly long _sourceLength; // -1 when unknown (pipes, non-seekable streams)
    private readonly int _defaultSize;
    private readonly int _cap;
    private byte[] _buf;
    private int _start;
    private int _end;
    private long _readOffset; // file offset of _buf[_end]
    private bool _eof;

    private CaptureBuffer(SafeFileHandle? handle, bool ownsHandle, Stream? stream, bool ownsStream, long sourceLength, long startOffset, CaptureFileOptions options)
    {
        _handle = handle;
        _ownsHandle = ownsHandle;
        _stream = stream;
        _ownsStream = ownsStream;
        _sourceLength = sourceLength;
        _defaultSize = options.EffectiveBufferSize;
        _cap = options.BufferCap;
        _readOffset = startOffset;
        int initial = _defaultSize;
        if (sourceLength >= 0 && sourceLength - startOffset < initial)
        {
            // Small file: no need for a whole megabyte (still pooled, still grows if asked).
            initial = (int)Math.Max(4096, sourceLength - startOffset);
        }

        _buf = ArrayPool<byte>.Shared.Rent(initial);
        MaxCapacitySeen = _buf.Length;
    }

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

    public ReadOnlySpan<byte> Span(int offset, int length) => _buf.AsSpan(_start + offset, length);

    public ReadOnlySpan<byte> AbsoluteSpan(int index, int length) => _buf.AsSpan(index, length);

    public void Consume(int count) => _start += count;

    /// <summary>Makes <paramref name="count"/> bytes available from <see cref="Position"/>; false when the source ends first (or the count is above the cap).</summary>
    public bool Ensure(int count)
    {
        if (Available >= count)
        {
            return true;
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

    public void Dispose()
    {
        if (_buf.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = Array.Empty<byte>();
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
