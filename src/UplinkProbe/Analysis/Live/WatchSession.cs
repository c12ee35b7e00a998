using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;
using UplinkProbe.Capture.Live;
using UplinkProbe.Reporting;

namespace UplinkProbe.Analysis.Live;

/// <summary>
/// <c>uplinkprobe watch</c> without the command line: an <see cref="AnalysisSession"/> (the analysis <c>analyze</c>
/// runs) with a <see cref="GatewayEventTracker"/> observing the same packets, findings reported as they become
/// known, and the status line. Fed from any <see cref="CaptureReader"/> — a live capture or, in tests, a file — on
/// one thread; <see cref="Tick"/> is called between packets (e.g. from <see cref="LiveCaptureReader.Periodic"/>).
/// </summary>
public sealed class WatchSession
{
    private readonly Action<LiveEvent> _emit;
    private readonly HashSet<(string Id, string? Subject, long? AtNs)> _reported = new();
    private HashSet<(string Id, string? Subject, long? AtNs)> _seenLastCheck = new();

    public WatchSession(CloudInventory? inventory, AnalysisOptions? options, Action<LiveEvent> emit)
    {
        _emit = emit;
        Analysis = new AnalysisSession(inventory, options);
        Tracker = new GatewayEventTracker(Analysis.Inventory, Analysis.Options, emit);
        Analysis.AddObserver(Tracker);
        FindingSettleNs = Analysis.Options.RunGapNs + Analysis.Options.GarpMoveWindowNs;
    }

    public AnalysisSession Analysis { get; }

    public GatewayEventTracker Tracker { get; }

    /// <summary>
    /// A finding is reported live once it was present in two checks in a row and its instant is at least this far in
    /// the past: right after a move, "no GARP after the move" is true for a second (OVN sends the first GARP ~1 s
    /// after the claim) and must not be shouted. Default: the run gap plus the GARP window of a move.
    /// </summary>
    public long FindingSettleNs { get; init; }

    /// <summary>Adds a capture source (one per NIC) of <paramref name="node"/>.</summary>
    public CaptureSource AddSource(string interfaceName, string node)
    {
        CaptureSource source = Analysis.AddSource(interfaceName, node, "--node");
        source.Format = CaptureFormat.Live;
        return source;
    }

    /// <summary>The live capture failed: the report says so for every source.</summary>
    public void ReadFailed(string message)
    {
        foreach (CaptureSource source in Analysis.Sources)
        {
            source.ReadError ??= message;
        }
    }

    /// <summary>Wall clock, ns since the epoch (the time base of live packet timestamps).</summary>
    public static long WallClockNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>Time passes without packets (wall clock, ns): closes gateway stretches whose run gap has elapsed.</summary>
    public void Tick(long nowNs) => Tracker.Advance(nowNs);

    /// <summary>Builds the report of everything so far and reports the findings that have settled and were not reported yet.</summary>
    public AnalysisReport CheckFindings(long nowNs)
    {
        Tick(nowNs);
        AnalysisReport report = Analysis.BuildReport();
        var seen = new HashSet<(string, string?, long?)>();
        foreach (Finding finding in report.Findings)
        {
            var key = (finding.Id, finding.Subject, finding.AtNs);
            seen.Add(key);
            bool settled = _seenLastCheck.Contains(key) && (finding.AtNs is not long at || nowNs - at >= FindingSettleNs);
            if (settled && _reported.Add(key))
            {
                _emit(new LiveEvent
                {
                    Kind = LiveEventKind.Finding,
                    TimestampNs = finding.AtNs ?? nowNs,
                    Finding = finding,
                    Gateway = finding.Subject,
                    Text = $"{finding.Severity.ToString().ToUpperInvariant()} {finding.Id}: {finding.Message}",
                });
            }
        }

        _seenLastCheck = seen;
        return report;
    }

    /// <summary>The one-line status: packets, each gateway's state here, drops so far.</summary>
    public LiveEvent Status(long nowNs, DropCounter? drops)
    {
        IReadOnlyList<GatewayLiveStatus> gateways = Tracker.Status();
        string gw = gateways.Count == 0 ? "no gateway MAC known yet"
            : string.Join("; ", gateways.Select(g => $"{g.Name} {g.State}{(g.SinceNs is long s ? " since " + AnalysisTextWriter.Clock(s) : string.Empty)}"));
        string dropText = drops is null ? string.Empty
            : drops.KernelDrops == 0 && drops.InterfaceDrops == 0 ? "; 0 dropped"
            : $"; DROPPED {drops.KernelDrops} by the kernel, {drops.InterfaceDrops} by the interface";
        return new LiveEvent
        {
            Kind = LiveEventKind.Status,
            TimestampNs = nowNs,
            Packets = Analysis.Packets,
            KernelDrops = drops?.KernelDrops,
            InterfaceDrops = drops?.InterfaceDrops,
            Gateways = gateways,
            Text = $"{Analysis.Packets} packets; {gw}{dropText}" + (Tracker.GatewaysNotLearned > 0
                ? $"; {Tracker.GatewaysNotLearned} GARP requests from MACs beyond the first {GatewayEventTracker.MaxLearnedGateways} not tracked as gateways"
                : string.Empty),
        };
    }
}

/// <summary>
/// Kernel and interface drops of every NIC of a live capture (pcap_stats), read on demand. Each read that finds a
/// counter grown yields a <see cref="LiveEventKind.Drops"/> event per NIC: drops are never silent.
/// </summary>
public sealed class DropCounter
{
    private readonly Func<int, PcapStatistics> _read;
    private readonly IReadOnlyList<string> _names;
    private readonly PcapStatistics[] _last;

    public DropCounter(IReadOnlyList<string> interfaceNames, Func<int, PcapStatistics> read)
    {
        _names = interfaceNames;
        _read = read;
        _last = new PcapStatistics[interfaceNames.Count];
    }

    public ulong KernelDrops { get; private set; }

    public ulong InterfaceDrops { get; private set; }

    /// <summary>Packets the kernel filter passed, over all NICs (pcap_stats ps_recv).</summary>
    public ulong Received { get; private set; }

    public PcapStatistics this[int interfaceIndex] => _last[interfaceIndex];

    /// <summary>Reads the counters; returns one event per NIC whose drops grew (empty when none did). Read failures come back as text.</summary>
    public IReadOnlyList<LiveEvent> Poll(long nowNs, long packets, Action<string>? failed = null)
    {
        List<LiveEvent>? events = null;
        ulong kernel = 0, iface = 0, received = 0;
        for (int i = 0; i < _last.Length; i++)
        {
            PcapStatistics now;
            try
            {
                now = _read(i);
            }
            catch (LiveCaptureException ex)
            {
                failed?.Invoke(ex.Message);
                now = _last[i];
            }

            if (now.Dropped > _last[i].Dropped || now.InterfaceDropped > _last[i].InterfaceDropped)
            {
                (events ??= new()).Add(new LiveEvent
                {
                    Kind = LiveEventKind.Drops,
                    TimestampNs = nowNs,
                    Interface = _names[i],
                    Packets = packets,
                    KernelDrops = now.Dropped,
                    InterfaceDrops = now.InterfaceDropped,
                    Text = $"{_names[i]}: DROPPED packets: {now.Dropped} by the kernel (ring buffer full), {now.InterfaceDropped} by the interface, so far " +
                        $"(+{now.Dropped - Math.Min(now.Dropped, _last[i].Dropped)} kernel, +{now.InterfaceDropped - Math.Min(now.InterfaceDropped, _last[i].InterfaceDropped)} interface): the analysis misses them",
                });
            }

            _last[i] = now;
            kernel += now.Dropped;
            iface += now.InterfaceDropped;
            received += now.Received;
        }

        KernelDrops = kernel;
        InterfaceDrops = iface;
        Received = received;
        return events ?? (IReadOnlyList<LiveEvent>)[];
    }

    /// <summary>e.g. "0 dropped by the kernel" or "DROPPED 120 packets (kernel ring buffer full; raise -B or narrow -f), 3 by the interface".</summary>
    public string Summary() =>
        (KernelDrops > 0 ? $"DROPPED {KernelDrops} packets (kernel ring buffer full; raise -B or narrow -f)" : "0 dropped by the kernel")
        + (InterfaceDrops > 0 ? $", {InterfaceDrops} dropped by the interface (NIC counter)" : string.Empty);
}
