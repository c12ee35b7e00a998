using System.Runtime.CompilerServices;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;

namespace UplinkProbe.Analysis;

/// <summary>
/// Something that watches the decoded packets beside the analyzers (e.g. <c>watch</c>'s live event tracker). Its
/// per-packet path must not allocate for ordinary traffic.
/// </summary>
public abstract class UplinkObserver
{
    public abstract void OnPacket(in UplinkPacket packet);
}

/// <summary>
/// The one analysis path of <c>analyze</c> and <c>watch</c>: sources are added, packets from any
/// <see cref="CaptureReader"/> (a file, a live capture) are decoded once and handed to the analyzers and observers,
/// and the report can be built at any time — after the last file, or every few seconds of a live capture.
/// Not thread-safe: feed it and build reports from one thread.
/// </summary>
public sealed class AnalysisSession
{
    private readonly List<CaptureSource> _sources = new();
    private readonly List<UplinkObserver> _observers = new();
    private readonly UplinkAnalyzer[] _analyzers;
    // The same analyzers, typed: every packet calls them directly instead of through four virtual calls.
    private readonly AnnouncementAnalyzer _announcements;
    private readonly GatewayEmitterAnalyzer _emitters;
    private readonly TunnelAnalyzer _tunnels;
    private readonly L2EvidenceAnalyzer _l2Evidence;
    private readonly AnalysisContext _context;
    private readonly KeepPriorities _priorities;
    private readonly PacketDecoder _decoder = new();
    private readonly DecodedPacket _decoded = new();

    public AnalysisSession(CloudInventory? inventory = null, AnalysisOptions? options = null)
        : this(inventory ?? new CloudInventory(), options ?? new AnalysisOptions(), priorities: null)
    {
    }

    /// <summary><paramref name="priorities"/>: a part shares its session's, made from the inventory as it was then.</summary>
    private AnalysisSession(CloudInventory inventory, AnalysisOptions options, KeepPriorities? priorities)
    {
        Inventory = inventory;
        Options = options;
        _priorities = priorities ?? new KeepPriorities(inventory);
        _context = new AnalysisContext(Inventory, _sources, Options);
        _announcements = new AnnouncementAnalyzer(Options, _priorities);
        _emitters = new GatewayEmitterAnalyzer(_sources, Options, _priorities);
        _tunnels = new TunnelAnalyzer(Options, _priorities);
        _l2Evidence = new L2EvidenceAnalyzer();
        _analyzers = [_announcements, _emitters, _tunnels, _l2Evidence];
    }

    public CloudInventory Inventory { get; }

    public AnalysisOptions Options { get; }

    public IReadOnlyList<CaptureSource> Sources => _sources;

    /// <summary>Packets fed so far, over all sources.</summary>
    public long Packets { get; private set; }

    /// <summary>The newest packet timestamp fed so far (the session's clock); <see cref="long.MinValue"/> before the first.</summary>
    public long LastTimestampNs { get; private set; } = long.MinValue;

    /// <summary>True for a session made by <see cref="CreatePart"/>: its sources are fixed.</summary>
    public bool IsPart { get; private init; }

    /// <summary>Adds a source: one node's capture (a file, a live NIC). <paramref name="nodeFrom"/> says how the node name was found.</summary>
    /// <exception cref="InvalidOperationException">This session is a part (<see cref="CreatePart"/>).</exception>
    public CaptureSource AddSource(string path, string node, string nodeFrom, bool transmitOnly = false)
    {
        if (IsPart)
        {
            throw new InvalidOperationException("a part of an analysis session has the sources of the session it was made from; add sources before making parts");
        }

        var source = new CaptureSource { Path = path, Node = node, NodeFrom = nodeFrom, TransmitOnly = transmitOnly, Index = _sources.Count };
        _sources.Add(source);
        return source;
    }

    /// <summary>Adds an observer that sees every packet after the analyzers.</summary>
    public void AddObserver(UplinkObserver observer) => _observers.Add(observer);

    /// <summary>Decodes one packet of <paramref name="source"/> and hands it to every analyzer and observer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnPacket(CaptureSource source, in CaptureRecord record, ReadOnlySpan<byte> data)
    {
        _decoder.Decode(data, record.LinkType, _decoded, record.OriginalLength);
        PacketDirection direction = source.TransmitOnly ? PacketDirection.Outbound : PacketFacts.DirectionOf(record, data, _decoded);
        source.Count(record, direction, _decoded);
        Packets++;
        if (record.HasTimestamp && record.TimestampNs > LastTimestampNs)
        {
            LastTimestampNs = record.TimestampNs;
        }

        var packet = new UplinkPacket(source, in record, data, _decoded, direction);
        _announcements.OnPacket(packet);
        _emitters.OnPacket(packet);
        _tunnels.OnPacket(packet);
        _l2Evidence.OnPacket(packet);
        if (_observers.Count != 0)
        {
            foreach (UplinkObserver observer in _observers)
            {
                observer.OnPacket(packet);
            }
        }
    }

    /// <summary>
    /// Reads <paramref name="reader"/> to its end (a live reader ends after <c>Stop</c>), feeding every packet to
    /// <see cref="OnPacket"/>. <paramref name="sourceForInterface"/> maps an interface index of the reader to its
    /// source; it is asked only when the interface changes from one packet to the next. Read errors are the caller's
    /// to report (<see cref="CaptureReader.Error"/>).
    /// </summary>
    public void Read(CaptureReader reader, Func<int, CaptureSource> sourceForInterface)
    {
        if (reader is PcapReader pcap)
        {
            ReadPcap(pcap, sourceForInterface);
            return;
        }

        int lastInterface = -1;
        CaptureSource? source = null;
        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            if (source is null || record.InterfaceIndex != lastInterface)
            {
                lastInterface = record.InterfaceIndex;
                source = sourceForInterface(record.InterfaceIndex);
            }

            OnPacket(source, record, data);
        }
    }

    /// <summary>A classic pcap file has one interface; the sealed reader type lets its record fast path be inlined.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadPcap(PcapReader reader, Func<int, CaptureSource> sourceForInterface)
    {
        CaptureSource? source = null;
        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            source ??= sourceForInterface(record.InterfaceIndex);
            OnPacket(source, record, data);
        }
    }

    /// <summary>
    /// A new, empty session for a later part of the same packet stream, to be fed on its own (e.g. on another thread)
    /// and then added to this one with <see cref="Append"/>: the same inventory and options, a mirror of the current
    /// sources (same index, path, node, format, transmit-only; counters at zero), no observers. A part never adds
    /// sources (<see cref="AddSource"/> throws): every source a later packet can belong to must exist before the parts
    /// are made, and no source may be added here either until every part has been appended. Parts are meant for
    /// splitting one capture file into regions; they work for any fixed set of sources. A part shares nothing it
    /// changes with this session or other parts (the inventory and options are only read), so each part can be fed
    /// on its own thread while this session is fed on another.
    /// </summary>
    public AnalysisSession CreatePart()
    {
        var part = new AnalysisSession(Inventory, Options, _priorities) { IsPart = true };
        foreach (CaptureSource source in _sources)
        {
            part._sources.Add(new CaptureSource
            {
                Path = source.Path, Node = source.Node, NodeFrom = source.NodeFrom, TransmitOnly = source.TransmitOnly,
                Index = source.Index, Format = source.Format,
            });
        }

        return part;
    }

    /// <summary>
    /// Adds everything <paramref name="part"/> saw to this session, as if its packets had been fed here after every
    /// packet fed so far: the report afterwards is the one a single session fed all packets in that order would give.
    /// <paramref name="part"/> must come from <see cref="CreatePart"/> (of this session or of one with the same sources)
    /// and have been fed the packets that follow this session's, with record numbers counted from 1 at its first
    /// packet; <paramref name="frameOffset"/> is added to every frame number it recorded: the number its first record
    /// has in this session's numbering, minus one (for regions of one file appended to the session of the first
    /// region: the records of the file before the part's region). Observers of this session do not see the part's packets. The part is not
    /// changed and must not be appended twice. Costs a pass over the part's state, not over its packets.
    /// </summary>
    /// <exception cref="ArgumentException">The part does not have this session's sources, inventory and options.</exception>
    public void Append(AnalysisSession part, long frameOffset)
    {
        ArgumentNullException.ThrowIfNull(part);
        if (part == this || !part.IsPart || part.Inventory != Inventory || part.Options != Options || part._sources.Count != _sources.Count)
        {
            throw new ArgumentException("not a part made by CreatePart of this session (or of one with the same sources)", nameof(part));
        }

        for (int i = 0; i < _sources.Count; i++)
        {
            CaptureSource mine = _sources[i], theirs = part._sources[i];
            if (mine.Path != theirs.Path || mine.TransmitOnly != theirs.TransmitOnly)
            {
                throw new ArgumentException($"source {i} of the part is {theirs.Path}, not {mine.Path}", nameof(part));
            }
        }

        for (int i = 0; i < _analyzers.Length; i++)
        {
            _analyzers[i].Append(part._analyzers[i], frameOffset, _sources);
        }

        for (int i = 0; i < _sources.Count; i++)
        {
            _sources[i].Append(part._sources[i]);
        }

        Packets += part.Packets;
        LastTimestampNs = Math.Max(LastTimestampNs, part.LastTimestampNs);
    }

    /// <summary>The analyzers' state and the session's counters as text (<see cref="UplinkAnalyzer.WriteState"/>), for tests.</summary>
    internal string DescribeState()
    {
        using var w = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        w.WriteLine($"packets {Packets} last {LastTimestampNs}");
        foreach (CaptureSource s in _sources)
        {
            w.WriteLine($"source {s.Index} {s.Path} {s.Node} {s.NodeFrom} {s.TransmitOnly} {s.Format} {s.Packets} {s.FirstNs} {s.LastNs} {s.PacketsWithDirection} {s.MalformedPackets} {s.TruncatedPackets} {s.ReadError}");
        }

        foreach (UplinkAnalyzer analyzer in _analyzers)
        {
            w.WriteLine(analyzer.GetType().Name);
            analyzer.WriteState(w);
        }

        return w.ToString();
    }

    /// <summary>
    /// The report of everything fed so far. The analyzers' state is not changed, so this can be called as often as
    /// wanted (it costs a pass over the state, not over the packets).
    /// </summary>
    public AnalysisReport BuildReport()
    {
        var report = new AnalysisReport(Inventory, _sources);
        _context.IndexSources();
        foreach (UplinkAnalyzer analyzer in _analyzers)
        {
            analyzer.Complete(_context, report);
        }

        foreach (CaptureSource source in _sources)
        {
            if (source.ReadError is { } error)
            {
                report.Notes.Add($"{source.Path}: {error}");
            }
        }

        report.ListFindingEndsOnly();
        report.Findings.Sort((a, b) => (b.Severity, a.AtNs ?? 0).CompareTo((a.Severity, b.AtNs ?? 0)));
        return report;
    }
}
