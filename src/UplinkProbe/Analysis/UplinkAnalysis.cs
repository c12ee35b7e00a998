using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;

namespace UplinkProbe.Analysis;

/// <summary>
/// Offline analysis of one capture per node (or any set of captures): reads each, decodes every packet once and
/// hands it to the analyzers, then lets them build the report. The same analyzers serve live capture.
/// </summary>
public sealed class UplinkAnalysis
{
    private readonly List<(string Path, string? Node, bool TransmitOnly)> _inputs = new();
    private readonly CloudInventory _inventory;
    private readonly AnalysisOptions _options;

    public UplinkAnalysis(CloudInventory? inventory = null, AnalysisOptions? options = null)
    {
        _inventory = inventory ?? new CloudInventory();
        _options = options ?? new AnalysisOptions();
    }

    /// <summary>Adds a capture; <paramref name="node"/> null means: take it from the pcapng interface, else from the file name.</summary>
    public void AddCapture(string path, string? node = null, bool transmitOnly = false) => _inputs.Add((path, node, transmitOnly));

    public AnalysisReport Run()
    {
        var sources = new List<CaptureSource>();
        var context = new AnalysisContext(_inventory, sources, _options);
        var announcements = new AnnouncementAnalyzer(_options);
        var emitters = new GatewayEmitterAnalyzer(sources, _options);
        var tunnels = new TunnelAnalyzer(_options);
        UplinkAnalyzer[] analyzers = [announcements, emitters, tunnels, new L2EvidenceAnalyzer()];
        var decoder = new PacketDecoder();
        var decoded = new DecodedPacket();

        foreach ((string path, string? node, bool tx) in _inputs)
        {
            CaptureSource NewSource(string nodeName, string from)
            {
                var created = new CaptureSource { Path = path, Node = nodeName, NodeFrom = from, TransmitOnly = tx, Index = sources.Count };
                sources.Add(created);
                return created;
            }

            // One source per node in the file: a merged pcapng can hold several nodes, one interface each.
            CaptureSource fileSource = NewSource(node ?? Path.GetFileNameWithoutExtension(path), node is null ? "file name" : "--node");
            CaptureReader reader;
            try
            {
                reader = CaptureFile.Open(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                fileSource.ReadError = ex.Message.ReplaceLineEndings(" ");
                continue;
            }

            using (reader)
            {
                fileSource.Format = reader.Format;
                var byInterface = new Dictionary<int, CaptureSource>();
                CaptureSource source = fileSource;
                int lastInterface = -1;
                while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
                {
                    if (node is null && record.InterfaceIndex != lastInterface)
                    {
                        lastInterface = record.InterfaceIndex;
                        source = SourceForInterface(reader, record.InterfaceIndex, fileSource, byInterface, NewSource);
                    }

                    decoder.Decode(data, record.LinkType, decoded, record.OriginalLength);
                    PacketDirection direction = source.TransmitOnly ? PacketDirection.Outbound : PacketFacts.DirectionOf(record, data, decoded);
                    source.Count(record, direction, decoded);
                    var packet = new UplinkPacket(source, record, data, decoded, direction);
                    foreach (UplinkAnalyzer analyzer in analyzers)
                    {
                        analyzer.OnPacket(packet);
                    }
                }

                if (reader.Error is { } error)
                {
                    fileSource.ReadError = $"reading stopped {error}";
                }
            }
        }

        var report = new AnalysisReport(_inventory, sources);
        foreach (UplinkAnalyzer analyzer in analyzers)
        {
            analyzer.Complete(context, report);
        }

        AddSourceNotes(sources, report);
        report.Findings.Sort((a, b) => (b.Severity, a.AtNs ?? 0).CompareTo((a.Severity, b.AtNs ?? 0)));
        return report;
    }

    /// <summary>The source for packets of one interface: its own node when the interface names one, else the file's.</summary>
    private static CaptureSource SourceForInterface(CaptureReader reader, int interfaceIndex, CaptureSource fileSource,
        Dictionary<int, CaptureSource> byInterface, Func<string, string, CaptureSource> create)
    {
        if (byInterface.TryGetValue(interfaceIndex, out CaptureSource? known))
        {
            return known;
        }

        string? interfaceNode = interfaceIndex < reader.Interfaces.Count ? reader.Interfaces[interfaceIndex].Node : null;
        CaptureSource source;
        if (string.IsNullOrEmpty(interfaceNode))
        {
            source = fileSource;
        }
        else if (fileSource.Packets == 0 && fileSource.NodeFrom == "file name" && !byInterface.Values.Contains(fileSource))
        {
            // The first interface that names a node takes over the file's default source.
            fileSource.Node = interfaceNode;
            fileSource.NodeFrom = "pcapng interface";
            source = fileSource;
        }
        else
        {
            source = byInterface.Values.FirstOrDefault(x => x.Node == interfaceNode) ?? create(interfaceNode, "pcapng interface");
        }

        byInterface[interfaceIndex] = source;
        return source;
    }

    private static void AddSourceNotes(List<CaptureSource> sources, AnalysisReport report)
    {
        foreach (CaptureSource source in sources)
        {
            if (source.ReadError is { } error)
            {
                report.Notes.Add($"{source.Path}: {error}");
            }
        }
    }
}
