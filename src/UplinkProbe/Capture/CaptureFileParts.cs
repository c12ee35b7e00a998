using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using Microsoft.Win32.SafeHandles;

namespace UplinkProbe.Capture;

/// <summary>
/// A classic pcap file cut into contiguous parts, each read by its own <see cref="CaptureReader"/> on its own thread,
/// so that reading and decoding run on every core. On Linux the parts read the file in place from one shared memory
/// mapping (<see cref="MappedFile"/>, prefetched ahead of each reader); otherwise each copies its part into its own
/// small buffer with positional reads, so the data is still in that core's cache when it is decoded. The results are
/// exactly those of reading the file from start to end on one thread.
/// </summary>
/// <remarks>
/// <para>Where a part starts is found by looking near an even cut of the file for an offset from which a run of
/// plausible record headers follows (<see cref="ChainLength"/> of them, each starting where the last one ended). That
/// is a guess — a record's bytes can look like headers — so it is checked: the reader of the part before must land
/// exactly on that offset. If it steps over it, it reads on to the end of the file and the parts after it are dropped;
/// if it stops before it (the end of the file, or a damaged record that stops reading), so do their results. Either
/// way the outcome is what one reader would have produced, only slower.</para>
/// <para>Record numbers (<see cref="CaptureRecord.Number"/>) restart at 1 in every part: add
/// <see cref="PartResult{TState}.FrameOffset"/> to get the number in the file.</para>
/// </remarks>
public sealed class CaptureFileParts : IDisposable
{
    /// <summary>Smallest part worth a thread of its own.</summary>
    public const long MinPartBytes = 8L << 20;

    /// <summary>Buffer of each part: small enough that a part's data stays in its core's cache between read and decode.</summary>
    public const int PartBufferSize = 256 << 10;

    /// <summary>Record headers that must follow one another from a candidate start before it is taken.</summary>
    internal const int ChainLength = 16;

    /// <summary>Bytes searched for a part's start after the even cut.</summary>
    private const int SearchWindow = 2 << 20;

    private readonly SafeFileHandle _handle;
    private readonly MappedFile? _mapped;
    private readonly PcapReader[] _readers;
    private readonly long[] _starts;
    private readonly bool[] _reachedEnd;
    private volatile int _abandonFrom = int.MaxValue;
    private bool _read;

    private CaptureFileParts(SafeFileHandle handle, MappedFile? mapped, PcapReader first, long[] starts, long length, CaptureFileOptions options)
    {
        _handle = handle;
        _mapped = mapped;
        _starts = starts;
        _readers = new PcapReader[starts.Length];
        _reachedEnd = new bool[starts.Length];
        first.BecomeFirstPart(this, starts.Length > 1 ? starts[1] : long.MaxValue);
        _readers[0] = first;
        for (int i = 1; i < starts.Length; i++)
        {
            long end = i + 1 < starts.Length ? starts[i + 1] : long.MaxValue;
            _readers[i] = new PcapReader(CaptureBuffer.ForFilePart(handle, length, starts[i], options, mapped), first, this, i, end);
        }
    }

    /// <summary>Number of parts (at least 2).</summary>
    public int Count => _readers.Length;

    /// <summary>True when the parts read the file in place from a memory mapping (<see cref="CaptureFileOptions.MemoryMap"/>).</summary>
    public bool IsMapped => _mapped is not null;

    /// <summary>Address of the mapping (0 when not mapped), for tests that look it up in /proc/self/smaps.</summary>
    internal unsafe nint MappingAddress => _mapped is null ? 0 : (nint)_mapped.Pointer;

    /// <summary>File offset where each part starts.</summary>
    public IReadOnlyList<long> Starts => _starts;

    /// <summary>
    /// The reader of the first part. After <see cref="Read{TState}"/> it holds the file's interfaces, the statistics of
    /// every part whose results count, and the error where reading stopped (if any): use it as the reader of the whole file.
    /// </summary>
    public CaptureReader First => _readers[0];

    /// <summary>
    /// Opens <paramref name="path"/> in up to <paramref name="maxParts"/> parts. False — open the file with
    /// <see cref="CaptureFile.Open(string, CaptureFileOptions?)"/> instead, which also reports why a file cannot be read —
    /// when the file is not classic pcap, is too small for two parts of <see cref="MinPartBytes"/>, cannot be opened, or no
    /// part start can be found.
    /// </summary>
    public static bool TryOpen(string path, int maxParts, [NotNullWhen(true)] out CaptureFileParts? parts, CaptureFileOptions? options = null) =>
        TryOpen(path, maxParts, out parts, options, MinPartBytes);

    /// <summary><see cref="TryOpen(string, int, out CaptureFileParts?, CaptureFileOptions?)"/> with another smallest part (tests).</summary>
    internal static bool TryOpen(string path, int maxParts, [NotNullWhen(true)] out CaptureFileParts? parts, CaptureFileOptions? options, long minPartBytes)
    {
        parts = null;
        options ??= CaptureFileOptions.Default;
        if (maxParts < 2)
        {
            return false;
        }

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        PcapReader? first = null;
        MappedFile? mapped = null;
        try
        {
            long length = RandomAccess.GetLength(handle);
            int count = (int)Math.Min(maxParts, length / Math.Max(1, minPartBytes));
            if (count < 2)
            {
                handle.Dispose();
                return false;
            }

            var partOptions = new CaptureFileOptions
            {
                BufferSize = PartBufferSize,
                MaxBlockLength = options.MaxBlockLength,
                MaxPcapRecordLength = options.MaxPcapRecordLength,
                ReadAhead = false,
                MemoryMap = options.MemoryMap,
                MappedWindow = options.MappedWindow,
            };
            if (options.MemoryMap != false)
            {
                _ = MappedFile.TryMap(handle, length, out mapped);
            }

            // The format is told by CaptureFile.Open, as for any file; only classic pcap is read in parts.
            CaptureReader opened = CaptureFile.Open(CaptureBuffer.ForFilePart(handle, length, 0, partOptions, mapped), path, partOptions);
            if (opened is not PcapReader pcap)
            {
                opened.Dispose();
                mapped?.Dispose();
                handle.Dispose();
                return false;
            }

            first = pcap;
            var starts = new List<long> { 0 };
            for (int i = 1; i < count; i++)
            {
                long cut = length / count * i;
                if (cut > starts[^1] && FindRecordStart(handle, length, cut, first) is long start && start > starts[^1])
                {
                    starts.Add(start);
                }
            }

            if (starts.Count < 2)
            {
                first.Dispose();
                mapped?.Dispose();
                handle.Dispose();
                return false;
            }

            parts = new CaptureFileParts(handle, mapped, first, starts.ToArray(), length, partOptions);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            first?.Dispose();
            mapped?.Dispose();
            handle.Dispose();
            return false;
        }
    }

    /// <summary>
    /// Reads every part on its own thread (the first on the caller's): <paramref name="create"/> makes a part's state,
    /// <paramref name="readPart"/> reads the part's reader to its end into it. Returns the states whose results count, in
    /// file order, with the number of packets before each. An exception of a part that counts (an I/O error) is thrown
    /// here, after every thread has stopped. Can be called once.
    /// </summary>
    public IReadOnlyList<PartResult<TState>> Read<TState>(Func<int, TState> create, Action<CaptureReader, TState> readPart)
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(readPart);
        if (_read)
        {
            throw new InvalidOperationException("the parts were read already");
        }

        _read = true;
        var states = new TState[Count];
        var errors = new ExceptionDispatchInfo?[Count];
        var threads = new Thread[Count];
        for (int i = 0; i < Count; i++)
        {
            states[i] = create(i);
        }

        for (int i = 1; i < Count; i++)
        {
            int part = i;
            threads[i] = new Thread(() => ReadPart(part, states, errors, readPart)) { IsBackground = true, Name = $"uplinkprobe part {part}" };
            threads[i].Start();
        }

        ReadPart(0, states, errors, readPart);
        for (int i = 1; i < Count; i++)
        {
            threads[i].Join();
        }

        // The parts that count: up to the first one that did not end exactly where the next one starts.
        int valid = 1;
        while (valid < Count && _reachedEnd[valid - 1])
        {
            valid++;
        }

        var results = new List<PartResult<TState>>(valid);
        long offset = 0;
        for (int i = 0; i < valid; i++)
        {
            errors[i]?.Throw();
            results.Add(new PartResult<TState>(states[i], offset));
            offset += _readers[i].Statistics.Packets;
            if (i > 0)
            {
                _readers[0].Statistics.Add(_readers[i].Statistics);
            }
        }

        _readers[0].SetError(_readers[valid - 1].Error);
        return results;
    }

    private void ReadPart<TState>(int part, TState[] states, ExceptionDispatchInfo?[] errors, Action<CaptureReader, TState> readPart)
    {
        try
        {
            readPart(_readers[part], states[part]);
        }
        catch (Exception e)
        {
            errors[part] = ExceptionDispatchInfo.Capture(e);
            Abandon(part + 1);
        }
    }

    internal bool IsAbandoned(int part) => part >= _abandonFrom;

    internal void ReachedEnd(int part) => _reachedEnd[part] = true;

    /// <summary>Part <paramref name="part"/> read past the start of the next one: the parts after it are not used.</summary>
    internal void RanPastEnd(int part) => Abandon(part + 1);

    private void Abandon(int fromPart)
    {
        int current;
        do
        {
            current = _abandonFrom;
            if (fromPart >= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _abandonFrom, fromPart, current) != current);
    }

    /// <summary>
    /// The first offset at or after <paramref name="cut"/> from which <see cref="ChainLength"/> plausible record headers
    /// follow one another (or fewer that end exactly at the end of the file); null when the search window has none.
    /// </summary>
    internal static long? FindRecordStart(SafeFileHandle handle, long length, long cut, PcapReader header)
    {
        int windowLength = (int)Math.Min(SearchWindow, length - cut);
        byte[] window = ArrayPool<byte>.Shared.Rent(windowLength);
        try
        {
            int filled = 0;
            while (filled < windowLength)
            {
                int n = RandomAccess.Read(handle, window.AsSpan(filled, windowLength - filled), cut + filled);
                if (n <= 0)
                {
                    break;
                }

                filled += n;
            }

            bool windowReachesEnd = cut + filled == length;
            ReadOnlySpan<byte> bytes = window.AsSpan(0, filled);
            for (int p = 0; p + PcapReader.RecordHeaderLength <= bytes.Length; p++)
            {
                if (IsChainStart(bytes, p, windowReachesEnd, header))
                {
                    return cut + p;
                }
            }

            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(window);
        }
    }

    private static bool IsChainStart(ReadOnlySpan<byte> bytes, int p, bool bytesReachEnd, PcapReader header)
    {
        for (int n = 0; n < ChainLength; n++)
        {
            if (p == bytes.Length && bytesReachEnd && n > 0)
            {
                return true;
            }

            if (p + PcapReader.RecordHeaderLength > bytes.Length || !header.IsPlausibleRecordHeader(bytes.Slice(p, PcapReader.RecordHeaderLength), out int capturedLength))
            {
                return false;
            }

            p += PcapReader.RecordHeaderLength + capturedLength;
        }

        return true;
    }

    public void Dispose()
    {
        foreach (PcapReader reader in _readers)
        {
            reader.Dispose();
        }

        _mapped?.Dispose();
        _handle.Dispose();
    }
}

/// <summary>The state one part of a file was read into, and the number of packets in the file before that part.</summary>
public readonly record struct PartResult<TState>(TState State, long FrameOffset);
