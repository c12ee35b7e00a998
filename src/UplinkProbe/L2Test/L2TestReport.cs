namespace UplinkProbe.L2Test;

/// <summary>One node as the report sees it: its result, or why there is none.</summary>
public sealed record L2ReportNode(string Node, string? Source, L2NodeResult? Result, string? Problem)
{
    public bool HasReport => Result is not null;
}

/// <summary>The state of one (sender, receiver) cell of a kind's matrix.</summary>
public enum L2CellStatus
{
    /// <summary>Every expected probe arrived (or loss within the allowed share).</summary>
    Ok,

    /// <summary>Some arrived, more than the allowed share were lost.</summary>
    Lossy,

    /// <summary>None arrived.</summary>
    Nothing,

    /// <summary>The sender or the receiver has no report: not a loss, simply unknown.</summary>
    NoReport,

    /// <summary>A directed kind the sender never sent to this receiver (it never learned the receiver's MAC).</summary>
    NotSent,

    /// <summary>The sender sent, but never while the receiver listened (started too far apart).</summary>
    NoOverlap,

    /// <summary>The sender did not send this kind at all (a VLAN variant it was not asked for).</summary>
    NotApplicable,
}

/// <summary>One cell: probes of a kind from <see cref="From"/> to <see cref="To"/>.</summary>
public sealed record L2Cell(string From, string To, L2CellStatus Status, int Sent, int Expected, long Received, double LossPercent, L2ReceivedStream? Stream)
{
    public bool IsFailure => Status is L2CellStatus.Lossy or L2CellStatus.Nothing;

    public bool IsTested => Status is L2CellStatus.Ok or L2CellStatus.Lossy or L2CellStatus.Nothing;
}

public enum L2Verdict
{
    Ok,
    Fail,

    /// <summary>No pair could be judged (fewer than two reports, or nothing sent while peers listened).</summary>
    Untested,

    /// <summary>Every judged pair passed but some could not be judged.</summary>
    Incomplete,
}

/// <summary>A kind's matrix and verdict.</summary>
public sealed record L2KindResult(L2ProbeKind Kind, int VlanId, bool Required, L2Verdict Verdict, string Summary, IReadOnlyList<L2Cell> Cells)
{
    public string Title => VlanId >= 0 ? $"{L2ProbeKinds.Title(Kind)} in VLAN {VlanId}" : L2ProbeKinds.Title(Kind);

    public string StreamName => L2ProbeKinds.StreamName(Kind, VlanId);

    public L2Cell Cell(string from, string to) => Cells.First(c => c.From == from && c.To == to);
}

/// <summary>
/// The N×N matrices and verdicts of an l2test run (<c>uplinkprobe l2test report</c>). Expected probes are those a sender
/// sent while the receiver listened, judged with both clocks and a <see cref="ClockToleranceNs"/> margin; a node without
/// a report appears as "no report", never as loss.
/// </summary>
public sealed class L2TestReport
{
    /// <summary>Probes sent within this much of a receiver's start or end are not expected (clocks of two nodes disagree a little).</summary>
    public const long ClockToleranceNs = 250_000_000;

    private L2TestReport(IReadOnlyList<L2ReportNode> nodes, IReadOnlyList<L2KindResult> kinds, double maxLossPercent)
    {
        Nodes = nodes;
        Kinds = kinds;
        MaxLossPercent = maxLossPercent;
    }

    public IReadOnlyList<L2ReportNode> Nodes { get; }

    public IReadOnlyList<L2KindResult> Kinds { get; }

    public double MaxLossPercent { get; }

    public IEnumerable<L2ReportNode> Missing => Nodes.Where(n => !n.HasReport);

    /// <summary>True when every required kind is OK between every pair of nodes, each of which has a report.</summary>
    public bool Passed => Nodes.Count(n => n.HasReport) >= 2 && !Missing.Any() && Kinds.Where(k => k.Required).All(k => k.Verdict == L2Verdict.Ok);

    public L2KindResult Kind(L2ProbeKind kind, int vlanId = -1) => Kinds.First(k => k.Kind == kind && k.VlanId == vlanId);

    public static L2TestReport Build(IEnumerable<L2ReportNode> input, double maxLossPercent = 10)
    {
        // One entry per node name; a report wins over a "no report" of the same name.
        List<L2ReportNode> nodes = input
            .GroupBy(n => n.Node, StringComparer.Ordinal)
            .Select(g => g.FirstOrDefault(n => n.HasReport) ?? g.First())
            .OrderBy(n => n.Node, StringComparer.Ordinal)
            .ToList();

        var vlans = new SortedSet<int> { -1 };
        foreach (L2ReportNode n in nodes)
        {
            if (n.Result is { VlanId: >= 0 } r)
            {
                vlans.Add(r.VlanId);
            }
        }

        var kinds = new List<L2KindResult>();
        foreach (int vlan in vlans)
        {
            foreach (L2ProbeKind kind in L2ProbeKinds.All)
            {
                var cells = new List<L2Cell>();
                foreach (L2ReportNode s in nodes)
                {
                    foreach (L2ReportNode r in nodes)
                    {
                        if (s.Node != r.Node)
                        {
                            cells.Add(CellOf(s, r, kind, vlan, maxLossPercent));
                        }
                    }
                }

                bool required = L2ProbeKinds.IsRequired(kind, vlan >= 0);
                (L2Verdict verdict, string summary) = Judge(kind, cells, nodes);
                kinds.Add(new L2KindResult(kind, vlan, required, verdict, summary, cells));
            }
        }

        return new L2TestReport(nodes, kinds, maxLossPercent);
    }

    private static L2Cell CellOf(L2ReportNode s, L2ReportNode r, L2ProbeKind kind, int vlan, double maxLoss)
    {
        if (s.Result is not { } sender || r.Result is not { } receiver)
        {
            return new L2Cell(s.Node, r.Node, L2CellStatus.NoReport, 0, 0, 0, 0, null);
        }

        L2ReceivedStream? got = receiver.FindReceived(sender.Node, kind, vlan);
        long received = got?.Count ?? 0;
        if (vlan >= 0 && sender.VlanId != vlan)
        {
            return new L2Cell(s.Node, r.Node, L2CellStatus.NotApplicable, 0, 0, received, 0, got);
        }

        L2SentStream? sent = sender.FindSent(kind, vlan, L2ProbeKinds.IsDirected(kind) ? receiver.Node : null);
        if (sent is null || sent.Count == 0)
        {
            return new L2Cell(s.Node, r.Node, L2CellStatus.NotSent, 0, 0, received, 0, got);
        }

        long from = receiver.StartNs + ClockToleranceNs;
        long to = receiver.EndNs - ClockToleranceNs;
        int expected = sent.TimesNs.Count(t => t >= from && t <= to);
        if (expected == 0)
        {
            return new L2Cell(s.Node, r.Node, received > 0 ? L2CellStatus.Ok : L2CellStatus.NoOverlap, sent.Count, 0, received, 0, got);
        }

        double loss = Math.Max(0, expected - received) * 100.0 / expected;
        L2CellStatus status = received == 0 ? L2CellStatus.Nothing : loss > maxLoss ? L2CellStatus.Lossy : L2CellStatus.Ok;
        return new L2Cell(s.Node, r.Node, status, sent.Count, expected, received, loss, got);
    }

    private static (L2Verdict, string) Judge(L2ProbeKind kind, List<L2Cell> cells, IReadOnlyList<L2ReportNode> nodes)
    {
        List<L2Cell> considered = cells.Where(c => c.Status is not (L2CellStatus.NoReport or L2CellStatus.NotApplicable)).ToList();
        List<L2Cell> tested = considered.Where(c => c.IsTested).ToList();
        List<L2Cell> failed = tested.Where(c => c.IsFailure).ToList();
        List<L2Cell> untested = considered.Where(c => !c.IsTested).ToList();
        string untestedText = untested.Count == 0 ? string.Empty : "; untested: " + string.Join(", ", untested.Select(c => Untested(c, nodes)));

        if (considered.Count == 0 || tested.Count == 0)
        {
            string why = cells.All(c => c.Status == L2CellStatus.NotApplicable)
                ? "not sent by any node"
                : considered.Count == 0 ? "fewer than two nodes reported" : "no pair could be judged" + untestedText;
            return (L2Verdict.Untested, $"UNTESTED — {why}");
        }

        if (failed.Count == 0)
        {
            return untested.Count == 0
                ? (L2Verdict.Ok, tested.Count == 1 ? "OK on the 1 pair" : $"OK on all {tested.Count} pairs")
                : (L2Verdict.Incomplete, $"INCOMPLETE — OK on {tested.Count} pairs{untestedText}");
        }

        bool spoof = kind == L2ProbeKind.ForeignSource;
        if (failed.Count == tested.Count && tested.Count > 1)
        {
            string what = spoof
                ? "frames from a non-NIC MAC are dropped between all pairs (MAC spoof protection?)"
                : $"nothing arrives between any of the {tested.Count} pairs";
            return (L2Verdict.Fail, $"FAIL — {what}{untestedText}");
        }

        // Describe the failures by sender when whole rows fail, otherwise by receiver.
        List<string> senders = failed.Select(c => c.From).Distinct().Where(s => tested.Where(c => c.From == s).All(c => c.IsFailure)).ToList();
        List<string> receivers = failed.Select(c => c.To).Distinct().Where(r => tested.Where(c => c.To == r).All(c => c.IsFailure)).ToList();
        var parts = new List<string>();
        HashSet<L2Cell> explained = [];
        bool bySender = senders.Count > 0 && (receivers.Count == 0 || senders.Count < receivers.Count ||
            (senders.Count == receivers.Count && spoof));
        if (bySender)
        {
            foreach (string s in senders)
            {
                List<L2Cell> row = failed.Where(c => c.From == s).ToList();
                explained.UnionWith(row);
                parts.Add($"nothing from {s} reaches {string.Join(", ", row.Select(c => c.To))}" + (spoof ? $" (MAC spoof protection on {s}'s port?)" : string.Empty));
            }
        }
        else
        {
            foreach (string r in receivers)
            {
                List<L2Cell> column = failed.Where(c => c.To == r).ToList();
                explained.UnionWith(column);
                parts.Add($"{r} receives nothing from {string.Join(", ", column.Select(c => c.From))}");
            }
        }

        foreach (IGrouping<string, L2Cell> g in failed.Where(c => !explained.Contains(c)).GroupBy(c => c.To))
        {
            parts.Add($"{g.Key} " + string.Join(", ", g.Select(c => c.Status == L2CellStatus.Nothing
                ? $"receives nothing from {c.From}"
                : $"loses {c.LossPercent:0.#}% from {c.From} ({c.Received}/{c.Expected})")));
        }

        return (L2Verdict.Fail, $"FAIL {string.Join("; ", parts)}{untestedText}");
    }

    private static string Untested(L2Cell c, IReadOnlyList<L2ReportNode> nodes) => c.Status switch
    {
        L2CellStatus.NotSent when nodes.FirstOrDefault(n => n.Node == c.From)?.Result?.Peers.Any(p => p.Node == c.To) == true =>
            $"{c.From}→{c.To} (never sent: {c.From} learned {c.To} too late in the run; run longer)",
        L2CellStatus.NotSent => $"{c.From}→{c.To} (never sent: {c.From} never learned {c.To}'s MAC)",
        L2CellStatus.NoOverlap => $"{c.From}→{c.To} (sent only while {c.To} was not listening)",
        _ => $"{c.From}→{c.To}",
    };
}
