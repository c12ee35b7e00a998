using System.Globalization;

namespace UplinkProbe.Capture.Live;

/// <summary>Where and how a live capture is recorded.</summary>
public sealed record RecordingOptions
{
    /// <summary>The pcapng file; with rotation, files are named <c>STEM-00001.EXT</c>, <c>STEM-00002.EXT</c>, ….</summary>
    public required string Path { get; init; }

    /// <summary>Start a new file once the current one holds at least this many bytes (0: never).</summary>
    public long RotateBytes { get; init; }

    /// <summary>Start a new file once the current one is this old (zero: never).</summary>
    public TimeSpan RotateInterval { get; init; }

    /// <summary>Keep only the newest N files, deleting older ones (0: keep all). Needs rotation.</summary>
    public int RingFiles { get; init; }

    public bool Rotates => RotateBytes > 0 || RotateInterval > TimeSpan.Zero;
}

/// <summary>
/// Records a live capture into pcapng (<see cref="PcapNgWriter"/>), with rotation and a ring of files. Every file is a
/// complete capture on its own: an SHB whose comment says what was captured where and when, one IDB per NIC (if_name,
/// <c>node=NAME</c> in if_description, if_filter, if_os), EPBs with epb_flags direction, and Interface Statistics Blocks
/// (isb_ifrecv = packets that passed the filter, isb_osdrop = dropped by the kernel, isb_ifdrop = dropped by the NIC)
/// when the file is closed. Not thread-safe: call it from the reading thread.
/// </summary>
public sealed class CaptureRecorder : IDisposable
{
    private readonly RecordingOptions _options;
    private readonly IReadOnlyList<CaptureInterface> _interfaces;
    private readonly string _description;
    private readonly Queue<string> _ring = new();
    private readonly List<string> _files = new();
    private PcapNgWriter? _writer;
    private FileStream? _stream;
    private long _fileOpenedTicks;
    private int _sequence;

    /// <param name="options">Path and rotation.</param>
    /// <param name="interfaces">The capture's interfaces, in id order (<see cref="CaptureReader.Interfaces"/>).</param>
    /// <param name="description">What is captured, for the start comment, e.g. "node mc1, interfaces eth1, filter ...".</param>
    public CaptureRecorder(RecordingOptions options, IReadOnlyList<CaptureInterface> interfaces, string description)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(interfaces);
        if (options.RingFiles < 0 || (options.RingFiles > 0 && !options.Rotates))
        {
            throw new ArgumentException("a ring of files needs rotation by size or time", nameof(options));
        }

        _options = options;
        _interfaces = interfaces;
        _description = description;
        OpenNext();
    }

    /// <summary>The file being written.</summary>
    public string CurrentPath => _files[^1];

    /// <summary>Every file written, oldest first (deleted ring files included).</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>Packets written to all files.</summary>
    public long Packets { get; private set; }

    /// <summary>Writes one packet (epb_flags carries its direction), rotating first when the current file is full or old.</summary>
    public void Write(in CaptureRecord record, ReadOnlySpan<byte> data, Func<int, PcapStatistics>? statistics = null)
    {
        if (_options.Rotates && IsDue())
        {
            Rotate(statistics);
        }

        _writer!.WritePacket(record.InterfaceIndex, record.TimestampNs, data, record.Direction, record.OriginalLength, ReadOnlySpan<byte>.Empty);
        Packets++;
    }

    /// <summary>Rotates when the current file has grown old even though no packet arrived.</summary>
    public void Tick(Func<int, PcapStatistics>? statistics)
    {
        if (_options.RotateInterval > TimeSpan.Zero && IsDue())
        {
            Rotate(statistics);
        }
    }

    /// <summary>Writes one ISB per interface with its counters (cumulative since the capture started).</summary>
    public void WriteStatistics(Func<int, PcapStatistics> statistics, string? comment = null)
    {
        long now = NowNs();
        for (int i = 0; i < _interfaces.Count; i++)
        {
            PcapStatistics s = statistics(i);
            _writer!.WriteStatistics(i, now, s.Received, s.InterfaceDropped, s.Dropped, comment);
        }
    }

    /// <summary>Pushes what is written to the file (so a killed process leaves only whole blocks behind).</summary>
    public void Flush() => _writer?.Flush();

    /// <summary>Ends the recording: a comment (new section), final statistics, flushed to disk.</summary>
    public void Finish(string stopComment, Func<int, PcapStatistics>? statistics)
    {
        if (_writer is null)
        {
            return;
        }

        _writer.WriteComment(stopComment);
        if (statistics is not null)
        {
            WriteStatistics(statistics, "final statistics");
        }

        _writer.Flush(toDisk: true);
        _writer.Dispose();
        _writer = null;
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _writer = null;
    }

    private bool IsDue() =>
        (_options.RotateBytes > 0 && _stream!.Position >= _options.RotateBytes)
        || (_options.RotateInterval > TimeSpan.Zero && Environment.TickCount64 - _fileOpenedTicks >= (long)_options.RotateInterval.TotalMilliseconds);

    private void Rotate(Func<int, PcapStatistics>? statistics)
    {
        if (statistics is not null)
        {
            WriteStatistics(statistics, "statistics at file rotation");
        }

        _writer!.Dispose();
        _writer = null;
        OpenNext();
    }

    private void OpenNext()
    {
        _sequence++;
        string path = _options.Rotates ? RotatedName(_options.Path, _sequence) : _options.Path;
        if (_options.RingFiles > 0)
        {
            _ring.Enqueue(path);
            while (_ring.Count > _options.RingFiles)
            {
                File.Delete(_ring.Dequeue());
            }
        }

        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        string started = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        string part = _options.Rotates ? $"; file {_sequence}" : string.Empty;
        _writer = new PcapNgWriter(_stream, $"uplinkprobe capture started {started}: {_description}{part}");
        foreach (CaptureInterface i in _interfaces)
        {
            _writer.AddInterface(i.Name ?? $"if{i.Index}", i.LinkType, i.SnapLength, description: null, node: i.Node, filter: i.Filter,
                operatingSystem: i.OperatingSystem);
        }

        _writer.Flush();
        _fileOpenedTicks = Environment.TickCount64;
        _files.Add(path);
    }

    /// <summary><c>dir/cap.pcapng</c>, 3 → <c>dir/cap-00003.pcapng</c>.</summary>
    public static string RotatedName(string path, int sequence)
    {
        string dir = System.IO.Path.GetDirectoryName(path) ?? string.Empty;
        string stem = System.IO.Path.GetFileNameWithoutExtension(path);
        string ext = System.IO.Path.GetExtension(path);
        return System.IO.Path.Combine(dir, $"{stem}-{sequence.ToString("D5", CultureInfo.InvariantCulture)}{ext}");
    }

    private static long NowNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
}
