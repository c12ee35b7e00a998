using System.Buffers;
using System.Runtime.ExceptionServices;
using Microsoft.Win32.SafeHandles;

namespace UplinkProbe.Capture;

/// <summary>
/// A background thread that reads a file sequentially into a small ring of pooled chunks while the caller works on
/// the chunk before: reading (a kernel copy out of the page cache) overlaps decoding. Chunks go out and come back in
/// file order; memory is fixed at <c>chunkCount × chunkSize</c> bytes whatever the file size.
/// </summary>
/// <remarks>
/// Each chunk keeps <see cref="HeadRoom"/> bytes free at its front, so the consumer can put the unread tail of the
/// previous chunk (a record that straddles the chunk border) right before the new data without another buffer.
/// The thread stops at the first read returning 0 bytes, at the first exception (handed to the consumer when it asks
/// for the chunk that failed), or when disposed.
/// </remarks>
internal sealed class FileReadAhead : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly byte[][] _chunks;
    private readonly int[] _lengths;
    private readonly object _gate = new();
    private readonly Thread _thread;
    private long _fileOffset;

    // Counters of chunks, guarded by _gate: filled by the thread, taken and released by the consumer (in order).
    private long _filled;
    private long _taken;
    private long _released;
    private long _lastChunk = long.MaxValue; // index of the chunk whose read hit the end of the file
    private ExceptionDispatchInfo? _error;
    private long _errorChunk = long.MaxValue;
    private bool _stop;
    private bool _consumerWaiting;
    private bool _producerWaiting;

    public FileReadAhead(SafeFileHandle handle, long startOffset, int chunkSize, int chunkCount, int headRoom)
    {
        _handle = handle;
        _fileOffset = startOffset;
        HeadRoom = headRoom;
        _chunks = new byte[chunkCount][];
        _lengths = new int[chunkCount];
        for (int i = 0; i < chunkCount; i++)
        {
            _chunks[i] = ArrayPool<byte>.Shared.Rent(chunkSize);
        }

        ChunkLength = _chunks[0].Length;
        _thread = new Thread(Run) { IsBackground = true, Name = "uplinkprobe read-ahead" };
        _thread.Start();
    }

    /// <summary>Free bytes at the front of every chunk; data starts there.</summary>
    public int HeadRoom { get; }

    /// <summary>Length of each chunk array.</summary>
    public int ChunkLength { get; }

    /// <summary>
    /// Waits for the next chunk in file order. False at the end of the file. The chunk holds <paramref name="length"/>
    /// bytes from <see cref="HeadRoom"/> on and belongs to the caller until <see cref="Release"/>.
    /// </summary>
    /// <exception cref="IOException">The read of this chunk failed (thrown as the reader thread caught it).</exception>
    public bool TryTake(out byte[] chunk, out int length)
    {
        long index;
        lock (_gate)
        {
            index = _taken;
            while (_filled <= index && _errorChunk > index && _lastChunk >= index)
            {
                _consumerWaiting = true;
                Monitor.Wait(_gate);
                _consumerWaiting = false;
            }

            if (_errorChunk <= index)
            {
                _error!.Throw();
            }

            if (_filled <= index)
            {
                // Only when _lastChunk < index: the end of the file was reached by an earlier chunk.
                chunk = Array.Empty<byte>();
                length = 0;
                return false;
            }

            _taken = index + 1;
        }

        int slot = (int)(index % _chunks.Length);
        chunk = _chunks[slot];
        length = _lengths[slot];
        return true;
    }

    /// <summary>Gives the oldest taken chunk back to the thread for refilling.</summary>
    public void Release()
    {
        lock (_gate)
        {
            if (_released >= _taken)
            {
                throw new InvalidOperationException("no chunk to release");
            }

            _released++;
            if (_producerWaiting)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    private void Run()
    {
        int count = _chunks.Length;
        for (long index = 0; ; index++)
        {
            lock (_gate)
            {
                while (!_stop && index - _released >= count)
                {
                    _producerWaiting = true;
                    Monitor.Wait(_gate);
                    _producerWaiting = false;
                }

                if (_stop)
                {
                    return;
                }
            }

            byte[] chunk = _chunks[(int)(index % count)];
            int filled = HeadRoom;
            bool end = false;
            ExceptionDispatchInfo? error = null;
            try
            {
                while (filled < chunk.Length)
                {
                    int n = RandomAccess.Read(_handle, chunk.AsSpan(filled), _fileOffset);
                    if (n <= 0)
                    {
                        end = true;
                        break;
                    }

                    filled += n;
                    _fileOffset += n;
                }
            }
            catch (Exception e)
            {
                error = ExceptionDispatchInfo.Capture(e);
            }

            lock (_gate)
            {
                if (error is not null)
                {
                    _error = error;
                    _errorChunk = index;
                }
                else
                {
                    _lengths[(int)(index % count)] = filled - HeadRoom;
                    _filled = index + 1;
                    if (end)
                    {
                        _lastChunk = index;
                    }
                }

                if (_consumerWaiting)
                {
                    Monitor.Pulse(_gate);
                }
            }

            if (error is not null || end)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_stop)
            {
                return;
            }

            _stop = true;
            Monitor.PulseAll(_gate);
        }

        _thread.Join();
        foreach (byte[] chunk in _chunks)
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
