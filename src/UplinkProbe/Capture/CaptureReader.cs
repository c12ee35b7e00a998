namespace UplinkProbe.Capture;

/// <summary>
/// A source of captured packets. Records are produced one at a time; the span handed with a record points
/// into the reader's reused buffer and is valid only until the next call.
/// </summary>
public abstract class CaptureReader : IDisposable
{
    private protected readonly List<CaptureInterface> InterfaceList = new();

    public abstract CaptureFormat Format { get; }

    /// <summary>Interfaces seen so far (pcapng IDBs of every section; a single one for classic pcap).</summary>
    public IReadOnlyList<CaptureInterface> Interfaces => InterfaceList;

    public CaptureReaderStatistics Statistics { get; } = new();

    /// <summary>Set when reading stopped before the end of the source because the data could not be parsed.</summary>
    public CaptureFileError? Error { get; private protected set; }

    internal void SetError(CaptureFileError? error) => Error = error;

    /// <summary>opt_comment of the last record returned (UTF-8), empty when it had none.</summary>
    public abstract ReadOnlySpan<byte> CurrentComment { get; }

    /// <summary>Reads the next packet record. False at the end of the source or when <see cref="Error"/> was set.</summary>
    public abstract bool TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

public enum CaptureFormat
{
    Pcap,
    PcapNg,
    Live,
}

/// <summary>Something in the source that stopped reading, with the byte offset where it was found.</summary>
public sealed record CaptureFileError(long Offset, string Message)
{
    public override string ToString() => $"at offset {Offset}: {Message}";
}

/// <summary>The file cannot be read at all (not a capture, unsupported version, unreadable header).</summary>
public sealed class CaptureFileException : IOException
{
    public CaptureFileException(string path, long offset, string message)
        : base($"{path}: at offset {offset}: {message}")
    {
        Path = path;
        Offset = offset;
    }

    public CaptureFileException(string path, string message, Exception inner)
        : base($"{path}: {message}", inner)
    {
        Path = path;
    }

    public string Path { get; }

    public long Offset { get; }
}
