using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;

namespace UplinkProbe.Analysis;

/// <summary>
/// Offline analysis of one capture per node (or any set of captures): reads each into one <see cref="AnalysisSession"/>
/// (which decodes every packet once and hands it to the analyzers), then builds the report. <c>watch</c> feeds the same
/// session from a live capture.
/// </summary>
public sealed class UplinkAnalysis
{
    private readonly List<(string Path, string? Node, bool TransmitOnly)> _inputs = new();
    private readonly CloudInventory _inventory;
    private readonly AnalysisOptions _options;
    private readonly CaptureFileOptions? _fileOptions;

    /// <param name="inventory">What is known about the cloud; null: learn from packets alone.</param>
    /// <param name="options">Thresholds of the analysis.</param>
    /// <param name="fileOptions">How capture files are read (buffer sizes, read-ahead); the defaults suit every file.</param>
    public UplinkAnalysis(CloudInventory? inventory = null, AnalysisOptions? options = null, CaptureFileOptions? fileOptions = null)
    {
        _inventory = inventory ?? new CloudInventory();
        _options = options ?? new AnalysisOptions();
        _fileOptions = fileOptions;
    }

    /// <summary>
    /// Threads that read, decode and analyze one big classic pcap file in parts (<see cref="CaptureFileParts"/>), each into
    /// its own <see cref="AnalysisSession.CreatePart"/> appended in file order: the report is the one a single thread gives.
    /// Default: one per core; 1: one thread.
    /// </summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Adds a capture; <paramref name="node"/> null means: take it from the pcapng interface, else from the file name.</summary>
    public void AddCapture(string path, string? node = null, bool transmitOnly = false) => _inputs.Add((path, node, transmitOnly));

    public AnalysisReport Run()
    {
        var session = new AnalysisSession(_inventory, _options);
        foreach ((string path, string? node, bool tx) in _inputs)
        {
            // One source per node in the file: a merged pcapng can hold several nodes, one interface each.
            CaptureSource fileSource = session.AddSource(path, node ?? Path.GetFileNameWithoutExtension(path), node is null ? "file name" : "--node", tx);
            if (Threads > 1 && CaptureFileParts.TryOpen(path, Threads, out CaptureFileParts? parts, _fileOptions))
            {
                // Classic pcap: one interface, so every packet is the file's source. A part made while the file is read (a
                // split) copies only the sources' names, set before reading, from the session that reads the first part.
                using (parts)
                {
                    fileSource.Format = CaptureFormat.Pcap;
                    IReadOnlyList<PartResult<AnalysisSession>> results = parts.Read(i => i == 0 ? session : session.CreatePart(), (reader, part) =>
                    {
                        CaptureSource source = part.Sources[fileSource.Index];
                        part.Read(reader, _ => source);
                    });
                    for (int i = 1; i < results.Count; i++)
                    {
                        session.Append(results[i].State, results[i].FrameOffset);
                    }

                    if (parts.First.Error is { } partsError)
                    {
                        fileSource.ReadError = $"reading stopped {partsError}";
                    }
                }

                continue;
            }

            CaptureReader reader;
            try
            {
                reader = CaptureFile.Open(path, _fileOptions);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                fileSource.ReadError = ex.Message.ReplaceLineEndings(" ");
                continue;
            }

            using (reader)
            {
                fileSource.Format = reader.Format;
                var sources = new InterfaceSources(fileSource);
                session.Read(reader, i => node is null
                    ? SourceForInterface(reader, i, sources, (n, from) => session.AddSource(path, n, from, tx))
                    : fileSource);
                if (reader.Error is { } error)
                {
                    fileSource.ReadError = $"reading stopped {error}";
                }
            }
        }

        return session.BuildReport();
    }

    /// <summary>The source for packets of one interface: its own node when the interface names one, else the file's.</summary>
    private static CaptureSource SourceForInterface(CaptureReader reader, int interfaceIndex, InterfaceSources sources, Func<string, string, CaptureSource> create)
    {
        if (sources.ByInterface.TryGetValue(interfaceIndex, out CaptureSource? known))
        {
            return known;
        }

        CaptureSource fileSource = sources.FileSource;
        string? interfaceNode = interfaceIndex < reader.Interfaces.Count ? reader.Interfaces[interfaceIndex].Node : null;
        CaptureSource source;
        if (string.IsNullOrEmpty(interfaceNode))
        {
            source = fileSource;
        }
        else if (fileSource.Packets == 0 && fileSource.NodeFrom == "file name" && !sources.FileSourceUsed)
        {
            // The first interface that names a node takes over the file's default source.
            fileSource.Node = interfaceNode;
            fileSource.NodeFrom = "pcapng interface";
            source = fileSource;
        }
        else
        {
            source = sources.ByNode.GetValueOrDefault(interfaceNode) ?? create(interfaceNode, "pcapng interface");
        }

        sources.ByInterface[interfaceIndex] = source;
        sources.FileSourceUsed |= source == fileSource;
        sources.ByNode.TryAdd(source.Node, source);
        return source;
    }

    /// <summary>The sources of one file's interfaces so far, by interface and by node (a file can name thousands).</summary>
    private sealed class InterfaceSources(CaptureSource fileSource)
    {
        public CaptureSource FileSource { get; } = fileSource;

        public bool FileSourceUsed { get; set; }

        public Dictionary<int, CaptureSource> ByInterface { get; } = new();

        public Dictionary<string, CaptureSource> ByNode { get; } = new(StringComparer.Ordinal);
    }
}
