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
/// plausible record headers follows (<see cref="ChainLength"/> of them, each starting where the last one ended; see
/// <see cref="PcapReader.IsPlausibleRecordHeader"/> for the runs of false headers every capture holds). That is a
/// guess — a record's bytes can look like headers — so it is checked: the reader of the part before must land
/// exactly on that offset. If it steps over it, it reads on to the end of the file and the parts after it are dropped;
/// if it stops before it (the end of the file, or a damaged record that stops reading), so do their results. Either
/// way the outcome is what one reader would have produced, only slower.</para>
/// <para>The parts are kept balanced while they are read: a thread whose part is done splits the part with the most
/// bytes left at about the middle of what is left (found as above) and reads the second half, while the part's own
/// reader stops where the new one starts (<see cref="Splits"/>). Parts end within a few milliseconds of one another
/// instead of tens to hundreds (the speed of a core on a shared machine varies), and stay few and contiguous, so
/// merging their results costs no more than before. A split is checked like any part start: should the reader
/// already be past it, or the start be inside a record, that reader reads on and the parts after it are dropped.</para>
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
    private readonly PcapReader _first;
    private readonly long _length;
    private readonly long _minPartBytes;
    private readonly uint _firstSeconds;
    private readonly CaptureFileOptions _options;
    private readonly object _lock = new();

    // Every part in file order (guarded by _lock; parts are added by splits while the file is read).
    private readonly List<Part> _parts = [];

    // Parts that start at or after this offset are not used (a part before them ran past its end or failed).
    private long _abandonFrom = long.MaxValue;
    private bool _read;

    private CaptureFileParts(SafeFileHandle handle, MappedFile? mapped, PcapReader first, uint firstSeconds, long[] starts, long length, CaptureFileOptions options, long minPartBytes)
    {
        _firstSeconds = firstSeconds;
        _handle = handle;
        _mapped = mapped;
        _first = first;
        _length = length;
        _options = options;
        _minPartBytes = minPartBytes;
        InitialCount = starts.Length;
        var part0 = new Part(0, first);
        first.BecomeFirstPart(this, part0, starts.Length > 1 ? starts[1] : long.MaxValue);
        _parts.Add(part0);
        for (int i = 1; i < starts.Length; i++)
        {
            long end = i + 1 < starts.Length ? starts[i + 1] : long.MaxValue;
            var part = new Part(starts[i], null);
            part.Reader = new PcapReader(CaptureBuffer.ForFilePart(handle, length, starts[i], options, mapped), first, this, part, end);
            _parts.Add(part);
        }
    }

    /// <summary>One part: where it starts, its reader, and what reading it gave.</summary>
    internal sealed class Part(long start, PcapReader? reader)
    {
        public long Start { get; } = start;

        public PcapReader Reader { get; set; } = reader!;

        public object? State { get; set; }

        public ExceptionDispatchInfo? Error { get; set; }

        /// <summary>Its reader landed exactly where the next part starts.</summary>
        public bool ReachedEnd { get; set; }

        /// <summary>Its reader stepped over the next part's start and reads on to the end of the file.</summary>
        public bool RanPast { get; set; }

        /// <summary>Its thread is done with it (no split may take from it any more).</summary>
        public bool Finished { get; set; }
    }

    /// <summary>Number of parts: at least 2, and more after <see cref="Read{TState}"/> when parts were split.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _parts.Count;
            }
        }
    }

    /// <summary>Parts the file was cut into before reading: one per thread that reads it.</summary>
    public int InitialCount { get; }

    /// <summary>Parts made while reading by splitting a part that had the most left to read.</summary>
    public int Splits { get; private set; }

    /// <summary>True when the parts read the file in place from a memory mapping (<see cref="CaptureFileOptions.MemoryMap"/>).</summary>
    public bool IsMapped => _mapped is not null;

    /// <summary>Address of the mapping (0 when not mapped), for tests that look it up in /proc/self/smaps.</summary>
    internal unsafe nint MappingAddress => _mapped is null ? 0 : (nint)_mapped.Pointer;

    /// <summary>File offset where each part starts (after <see cref="Read{TState}"/>: including the splits).</summary>
    public IReadOnlyList<long> Starts
    {
        get
        {
            lock (_lock)
            {
                return _parts.Select(p => p.Start).ToArray();
            }
        }
    }

    /// <summary>
    /// The reader of the first part. After <see cref="Read{TState}"/> it holds the file's interfaces, the statistics of
    /// every part whose results count, and the error where reading stopped (if any): use it as the reader of the whole file.
    /// </summary>
    public CaptureReader First => _first;

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
            // Part starts are told by their seconds, near the first record's (none without a first record).
            Span<byte> firstRecord = stackalloc byte[PcapReader.RecordHeaderLength];
            bool hasFirstRecord = RandomAccess.Read(handle, firstRecord, PcapReader.FileHeaderLength) == firstRecord.Length;
            uint firstSeconds = hasFirstRecord ? first.SecondsOf(firstRecord) : 0;
            var starts = new List<long> { 0 };
            for (int i = 1; hasFirstRecord && i < count; i++)
            {
                long cut = length / count * i;
                if (cut > starts[^1] && FindRecordStart(handle, mapped, length, cut, first, firstSeconds) is long start && start > starts[^1])
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

            parts = new CaptureFileParts(handle, mapped, first, firstSeconds, starts.ToArray(), length, partOptions, minPartBytes);
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
    /// Reads every part on its own thread (the first on the caller's), splitting the part with the most left to read
    /// whenever a thread is done with its own: <paramref name="create"/> makes a part's state (called with 0 for the
    /// first part, then 1, 2, … in the order parts are made, from the thread that will read the part),
    /// <paramref name="readPart"/> reads the part's reader to its end into it. Returns the states whose results count,
    /// in file order, with the number of packets before each. An exception of a part that counts (an I/O error) is
    /// thrown here, after every thread has stopped. Can be called once.
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
        Part[] initial;
        lock (_lock)
        {
            initial = [.. _parts];
        }

        for (int i = 0; i < initial.Length; i++)
        {
            initial[i].State = create(i);
        }

        int made = initial.Length;
        var threads = new Thread[initial.Length];
        for (int i = 1; i < initial.Length; i++)
        {
            Part part = initial[i];
            threads[i] = new Thread(() => ReadParts(part, create, readPart, ref made)) { IsBackground = true, Name = $"uplinkprobe part {i}" };
            threads[i].Start();
        }

        ReadParts(initial[0], create, readPart, ref made);
        for (int i = 1; i < initial.Length; i++)
        {
            threads[i].Join();
        }

        // The parts that count: up to the first one that did not end exactly where the next one starts.
        var results = new List<PartResult<TState>>();
        long offset = 0;
        lock (_lock)
        {
            for (int i = 0; i < _parts.Count && (i == 0 || _parts[i - 1].ReachedEnd); i++)
            {
                Part part = _parts[i];
                part.Error?.Throw();
                results.Add(new PartResult<TState>((TState)part.State!, offset));
                offset += part.Reader.Statistics.Packets;
                if (i > 0)
                {
                    _first.Statistics.Add(part.Reader.Statistics);
                }
            }

            _first.SetError(_parts[results.Count - 1].Reader.Error);
        }

        return results;
    }

    /// <summary>One thread's work: its part, then second halves split off the parts with the most left, until none is worth it.</summary>
    private void ReadParts<TState>(Part part, Func<int, TState> create, Action<CaptureReader, TState> readPart, ref int made)
    {
        for (Part? next = part; next is not null; next = TrySplit(create, ref made))
        {
            try
            {
                readPart(next.Reader, (TState)next.State!);
            }
            catch (Exception e)
            {
                next.Error = ExceptionDispatchInfo.Capture(e);
                Abandon(next.Start + 1);
            }
            finally
            {
                next.Reader.ReleaseMapping();
                lock (_lock)
                {
                    next.Finished = true;
                }
            }
        }
    }

    /// <summary>
    /// Splits the running part with the most bytes left (at least twice the smallest part) at a record start near the
    /// middle of what it has left: that part's reader now stops there, and the returned new part reads on from there to
    /// where the split part was to end. Null when no part is worth splitting.
    /// </summary>
    private Part? TrySplit<TState>(Func<int, TState> create, ref int made)
    {
        for (int attempt = 0; attempt < 4; attempt++)
        {
            Part? victim = null;
            long position = 0, end = 0, left = 0;
            lock (_lock)
            {
                foreach (Part p in _parts)
                {
                    if (p.Finished || p.RanPast || IsAbandoned(p))
                    {
                        continue;
                    }

                    // Read from another thread, the reader's position is an estimate; a split is checked anyway.
                    long at = p.Reader.PositionEstimate;
                    long stop = Math.Min(p.Reader.PartEnd, _length);
                    if (at >= p.Start && at < stop && stop - at > left)
                    {
                        (victim, position, end, left) = (p, at, p.Reader.PartEnd, stop - at);
                    }
                }
            }

            if (victim is null || left < 2 * _minPartBytes)
            {
                return null;
            }

            long cut = position + (left / 2);
            if (FindRecordStart(_handle, _mapped, _length, cut, _first, _firstSeconds) is not long start || start >= Math.Min(end, _length))
            {
                return null;
            }

            var part = new Part(start, null);
            lock (_lock)
            {
                // Unchanged since it was chosen: else choose again.
                if (victim.Finished || victim.RanPast || IsAbandoned(victim) || victim.Reader.PartEnd != end)
                {
                    continue;
                }

                // The reader does not take the lock, so its end is moved first and its position read after: a reader
                // that was behind the new start then stops there. Checked the other way round, a pause of this thread
                // between the check and the move (a busy host) let the reader pass the start, and the parts after it
                // were dropped. Not still well behind the new start: put the end back and choose again.
                victim.Reader.PartEnd = start;
                Interlocked.MemoryBarrier();
                if (start - victim.Reader.PositionEstimate < _minPartBytes / 2)
                {
                    victim.Reader.PartEnd = end;
                    continue;
                }

                SplitDecided?.Invoke();
                part.Reader = new PcapReader(CaptureBuffer.ForFilePart(_handle, _length, start, _options, _mapped), _first, this, part, end);
                _parts.Insert(_parts.IndexOf(victim) + 1, part);
                Splits++;
            }

            part.State = create(Interlocked.Increment(ref made) - 1);
            return part;
        }

        return null;
    }

    internal object SyncRoot => _lock;

    /// <summary>Tests: called under the lock once a split is decided, before the new part is made (a pause here must not
    /// let the split reader pass the new start).</summary>
    internal Action? SplitDecided { get; set; }

    internal bool IsAbandoned(Part part) => part.Start >= Volatile.Read(ref _abandonFrom);

    /// <summary>Part <paramref name="part"/> read past the start of the next one (called under <see cref="SyncRoot"/>): the parts after it are not used.</summary>
    internal void RanPastEnd(Part part)
    {
        part.RanPast = true;
        Abandon(part.Start + 1);
    }

    private void Abandon(long fromOffset)
    {
        long current;
        do
        {
            current = Volatile.Read(ref _abandonFrom);
            if (fromOffset >= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _abandonFrom, fromOffset, current) != current);
    }

    /// <summary>
    /// The first offset at or after <paramref name="cut"/> from which <see cref="ChainLength"/> plausible record headers
    /// (<see cref="PcapReader.IsPlausibleRecordHeader"/>, for a file whose first record has <paramref name="firstSeconds"/>)
    /// follow one another (or fewer that end exactly at the end of the file); null when the search window has none.
    /// With a mapping the window is looked at in place (up to the file's length now: see <see cref="MappedFile"/>), else
    /// read into a pooled buffer.
    /// </summary>
    internal static unsafe long? FindRecordStart(SafeFileHandle handle, MappedFile? mapped, long length, long cut, PcapReader header, uint firstSeconds)
    {
        if (mapped is not null)
        {
            long now = Math.Min(Math.Min(length, mapped.Length), RandomAccess.GetLength(handle));
            if (cut >= now)
            {
                return null;
            }

            int inPlace = (int)Math.Min(SearchWindow, now - cut);
            return FindChainStart(new ReadOnlySpan<byte>(mapped.Pointer + cut, inPlace), cut + inPlace == now, header, firstSeconds) is int at ? cut + at : null;
        }

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

            return FindChainStart(window.AsSpan(0, filled), cut + filled == length, header, firstSeconds) is int at ? cut + at : null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(window);
        }
    }

    private static int? FindChainStart(ReadOnlySpan<byte> bytes, bool bytesReachEnd, PcapReader header, uint firstSeconds)
    {
        for (int p = 0; p + PcapReader.RecordHeaderLength <= bytes.Length; p++)
        {
            if (IsChainStart(bytes, p, bytesReachEnd, header, firstSeconds))
            {
                return p;
            }
        }

        return null;
    }

    private static bool IsChainStart(ReadOnlySpan<byte> bytes, int p, bool bytesReachEnd, PcapReader header, uint firstSeconds)
    {
        for (int n = 0; n < ChainLength; n++)
        {
            if (p == bytes.Length && bytesReachEnd && n > 0)
            {
                return true;
            }

            if (p + PcapReader.RecordHeaderLength > bytes.Length || !header.IsPlausibleRecordHeader(bytes.Slice(p, PcapReader.RecordHeaderLength), firstSeconds, out int capturedLength))
            {
                return false;
            }

            p += PcapReader.RecordHeaderLength + capturedLength;
        }

        return true;
    }

    public void Dispose()
    {
        foreach (Part part in _parts)
        {
            part.Reader.Dispose();
        }

        _mapped?.Dispose();
        _handle.Dispose();
    }
}

/// <summary>The state one part of a file was read into, and the number of packets in the file before that part.</summary>
public readonly record struct PartResult<TState>(TState State, long FrameOffset);
