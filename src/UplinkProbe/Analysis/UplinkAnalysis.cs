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
        var pending = new List<(CaptureSource Source, CaptureReader? Reader)>();
        foreach ((string path, string? node, bool tx) in _inputs)
        {
            CaptureReader? reader = null;
            string? error = null;
            string nodeName = node ?? Path.GetFileNameWithoutExtension(path);
            string nodeFrom = node is null ? "file name" : "--node";
            try
            {
                reader = CaptureFile.Open(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error = ex.Message.ReplaceLineEndings(" ");
            }

            var source = new CaptureSource { Path = path, Node = nodeName, NodeFrom = nodeFrom, TransmitOnly = tx, Index = sources.Count, ReadError = error };
            sources.Add(source);
            pending.Add((source, reader));
        }

        var context = new AnalysisContext(_inventory, sources, _options);
        var announcements = new AnnouncementAnalyzer(_options);
        var emitters = new GatewayEmitterAnalyzer(sources, _options);
        var tunnels = new TunnelAnalyzer(_options);
        UplinkAnalyzer[] analyzers = [announcements, emitters, tunnels];

        var decoder = new PacketDecoder();
        var decoded = new DecodedPacket();
        foreach ((CaptureSource source, CaptureReader? reader) in pending)
        {
            if (reader is null)
            {
                continue;
            }

            using (reader)
            {
                source.Format = reader.Format;
                while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
                {
                    if (source.Packets == 0 && source.NodeFrom == "file name" && NodeFromInterfaces(reader) is { } fromCapture)
                    {
                        // pcapng interfaces are known once the first packet's IDB was read.
                        source.Node = fromCapture;
                        source.NodeFrom = "pcapng interface";
                    }

                    decoder.Decode(data, record.LinkType, decoded, record.OriginalLength);
                    PacketDirection direction = source.TransmitOnly ? PacketDirection.Outbound : PacketFacts.DirectionOf(record, data, decoded);
                    source.Packets++;
                    if (direction != PacketDirection.Unknown)
                    {
                        source.PacketsWithDirection++;
                    }

                    if (decoded.IsMalformed)
                    {
                        source.MalformedPackets++;
                    }
                    else if (decoded.IsTruncated)
                    {
                        source.TruncatedPackets++;
                    }

                    if (record.HasTimestamp)
                    {
                        source.FirstNs = Math.Min(source.FirstNs, record.TimestampNs);
                        source.LastNs = Math.Max(source.LastNs, record.TimestampNs);
                    }

                    var packet = new UplinkPacket(source, record, data, decoded, direction);
                    foreach (UplinkAnalyzer analyzer in analyzers)
                    {
                        analyzer.OnPacket(packet);
                    }
                }

                if (reader.Error is { } error)
                {
                    source.ReadError = $"reading stopped {error}";
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

    private static string? NodeFromInterfaces(CaptureReader reader) =>
        reader.Interfaces.Select(i => i.Node).FirstOrDefault(n => !string.IsNullOrEmpty(n));

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
