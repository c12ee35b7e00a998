using System.Globalization;
using UplinkProbe.Analysis;

namespace UplinkProbe.Reporting;

/// <summary>
/// The human report of `uplinkprobe analyze`: the answer first (which node emits each gateway now, since when),
/// then the timeline, moves, findings with the frames to open in Wireshark, announcements, tunnels and inputs.
/// </summary>
public static class AnalysisTextWriter
{
    public static void Write(TextWriter w, AnalysisReport report)
    {
        var nodes = report.ListedSources.Select(s => s.Node).Distinct().ToList();
        long first = report.Sources.Where(s => s.Packets > 0).Select(s => s.FirstNs).DefaultIfEmpty(0).Min();
        long last = report.Sources.Where(s => s.Packets > 0).Select(s => s.LastNs).DefaultIfEmpty(0).Max();
        w.WriteLine($"uplinkprobe analyze: {nodes.Count} node(s), {report.ListedSources.Select(s => s.Path).Distinct().Count()} capture file(s), {Date(first)} – {Date(last)} UTC");
        w.WriteLine();

        if (report.Gateways.Count == 0)
        {
            w.WriteLine("No gateway MAC found: give an inventory (--inventory) or captures that contain the gateway's GARPs.");
        }

        foreach (GatewayReport g in report.Gateways)
        {
            w.WriteLine(AnswerLine(g));
        }

        foreach (FloatingIpReport f in report.FloatingIps)
        {
            string emitted = f.EmittedBy.Count == 0 ? "no emission seen" : "emitted by " + string.Join(", ", f.EmittedBy.Select(e => $"{e.Key} ({e.Value} frames)"));
            string verdict = f.ExpectedNode is null || f.EmittedBy.Count == 0 ? string.Empty
                : f.EmittedBy.Keys.All(n => n == f.ExpectedNode) ? $" — as expected: its port {f.LogicalPort} is on {f.ExpectedNode}"
                : $" — UNEXPECTED: its port {f.LogicalPort} is on {f.ExpectedNode}";
            w.WriteLine($"distributed floating IP {f.Ip} ({f.Mac}{(f.LogicalPort is null ? string.Empty : ", " + f.LogicalPort)}): {emitted}{verdict}");
        }

        foreach (GatewayReport g in report.Gateways.Where(g => g.Timeline.Count > 0))
        {
            w.WriteLine();
            w.WriteLine($"Timeline of {g.Mac} ({g.Name})");
            foreach (TimelineSegment s in g.Timeline)
            {
                w.WriteLine($"  {Clock(s.StartNs)} – {Clock(s.EndNs)}  {s.Node,-10} {s.Frames,7} frames  {(s.Attribution == Attribution.Proven ? "sent (proven)" : "probably sent")}  first: {s.FirstEvidence}");
            }

            foreach (FailoverEvent m in g.Failovers)
            {
                string gap = m.GapNs is long g0 ? $", {g0 / 1e9:F3} s without an emitter" : ", while the old node still emitted";
                string garp = m.FirstGarpNs is long fg ? $", first GARP {Clock(fg)}" : string.Empty;
                w.WriteLine($"  move {Clock(m.AtNs)}: {m.From} → {m.To}{gap}; GARP {m.GarpsSeen}/{m.GarpsExpected} {m.GarpVerdict}{garp} ({m.Evidence})");
            }

            foreach (SplitBrainEvent s in g.SplitBrains)
            {
                w.WriteLine($"  SPLIT BRAIN {Clock(s.StartNs)} – {Clock(s.EndNs)}: {string.Join(" and ", s.Nodes)} both emit {g.Mac} ({string.Join("; ", s.Evidence)})");
            }
        }

        w.WriteLine();
        var findings = report.Findings;
        w.WriteLine(findings.Count == 0 ? "Findings: none" : $"Findings ({findings.Count(f => f.Severity == FindingSeverity.Error)} error, {findings.Count(f => f.Severity == FindingSeverity.Warning)} warning, {findings.Count(f => f.Severity == FindingSeverity.Info)} info)");
        foreach (Finding f in findings)
        {
            string at = f.AtNs is long ns ? Clock(ns) + " " : string.Empty;
            w.WriteLine($"  {Severity(f.Severity),-7} {f.Id}: {at}{f.Message}");
            foreach (Evidence e in f.Evidence.Where(e => e.Frames.Count > 0).Take(4))
            {
                w.WriteLine($"          evidence: {e}");
            }
        }

        if (report.Announcements.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Announcements (IP, MAC: kinds; sent by)");
            foreach (AnnouncementReport a in report.Announcements)
            {
                string kinds = string.Join(", ", a.Kinds.Select(k => $"{k.Key} {k.Value}"));
                string by = a.Announcers.Count == 0 ? "sender not provable from these captures" : string.Join(", ", a.Announcers.Select(p => $"{p.Key} {p.Value}"));
                w.WriteLine($"  {(a.Ip.Length == 0 ? "(RARP)" : a.Ip),-16} {a.Mac}: {kinds}; sent by {by}; {Clock(a.FirstNs)} – {Clock(a.LastNs)}");
            }
        }

        if (report.GarpBursts.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("GARP bursts (OVN sends 5 per IP, about 1, 3, 7, 15 and 31 s after a claim)");
            foreach (GarpBurst b in SortedLists.OrderedBy(report.GarpBursts, b => b.StartNs))
            {
                w.WriteLine($"  {Clock(b.StartNs)} {b.Node,-10} {b.Ip,-16} {b.Mac}  {b.Count}/{b.Expected} {b.Verdict}  ({b.Evidence})");
            }
        }

        if (report.Tunnels.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Geneve tunnels (source → destination, VNI: packets; OVN egress port keys)");
            foreach (TunnelFlowReport t in report.Tunnels)
            {
                string keys = string.Join(", ", t.EgressKeys.Select(k => t.EgressKeyNames.TryGetValue(k.Key, out string? n) ? $"{k.Key} {n} ×{k.Value}" : $"{k.Key} ×{k.Value}"));
                string dp = t.DatapathName is null ? string.Empty : $" ({t.DatapathName})";
                w.WriteLine($"  {Endpoint(t.SourceIp, t.SourceNode)} → {Endpoint(t.DestinationIp, t.DestinationNode)} vni {t.Vni}{dp}: {t.Packets} packets, {Clock(t.FirstNs)} – {Clock(t.LastNs)}{(keys.Length > 0 ? "; egress " + keys : string.Empty)}");
            }
        }

        if (report.BfdSessions.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("BFD between chassis (Geneve VNI 0)");
            foreach (BfdSessionReport b in report.BfdSessions)
            {
                string changes = string.Join(", ", b.Changes.Select(c => $"{c.State} {Clock(c.Ns)}"));
                w.WriteLine($"  {Endpoint(b.SourceIp, b.SourceNode)} → {Endpoint(b.DestinationIp, b.DestinationNode)}: {b.LastState} ({b.Packets} packets; {changes})");
            }
        }

        if (report.L2Evidence.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Broadcast/multicast received (node ← source: frames), passive evidence for 'uplinkprobe l2test'");
            // One line per (node, kind), in the order first seen.
            foreach (List<L2EvidenceRow> rows in SortedLists.GroupedBy(report.L2Evidence, r => $"{r.Node}\n{(int)r.Kind}").Values)
            {
                string sources = string.Join(", ", rows.Select(r => $"{r.Source}{(r.SourceName is null ? string.Empty : $" ({r.SourceName})")} ×{r.Frames}"));
                w.WriteLine($"  {rows[0].Node,-10} {L2EvidenceRow.KindName(rows[0].Kind),-20} {sources}");
            }
        }

        w.WriteLine();
        w.WriteLine("Captures");
        foreach (CaptureSource s in report.ListedSources)
        {
            string direction = s.TransmitOnly ? "transmit-only" : s.HasDirection ? "with direction" : "NO direction";
            string span = s.Packets > 0 ? $"{Clock(s.FirstNs)} – {Clock(s.LastNs)}" : "empty";
            string problems = s.MalformedPackets + s.TruncatedPackets > 0 ? $", {s.MalformedPackets} malformed, {s.TruncatedPackets} truncated" : string.Empty;
            w.WriteLine($"  {s.Node,-10} {Path.GetFileName(s.Path)}: {s.Packets} packets, {direction}, {span}{problems} (node from {s.NodeFrom})");
        }

        if (report.Inventory.Inputs.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Inventory: " + string.Join("; ", report.Inventory.Inputs));
        }

        foreach (string note in report.Notes)
        {
            w.WriteLine("Note: " + note);
        }
    }

    /// <summary>e.g. <c>lr0 203.0.113.10 (00:16:3e:aa:00:02, cr-lrp-ext): active on hv2 since 12:00:31.204 (GARP 5/5); before: hv1 until 12:00:30.911</c>.</summary>
    public static string AnswerLine(GatewayReport g)
    {
        string ips = g.Ips.Count == 0 ? string.Empty : " " + string.Join(", ", g.Ips);
        string? port = g.ChassisRedirectPort ?? g.Port;
        string head = $"{g.Name}{ips} ({g.Mac}{(port is null ? string.Empty : ", " + port)})";
        if (g.ActiveNode is null)
        {
            return $"{head}: no node emitted it in these captures";
        }

        string answer = $"{head}: active on {g.ActiveNode} since {Clock(g.ActiveSinceNs!.Value)} (GARP {g.ActiveGarps}/{g.ActiveGarpsExpected})";
        if (g.PreviousNode is { } before)
        {
            answer += $"; before: {before} until {Clock(g.PreviousUntilNs!.Value)}";
        }

        if (g.SplitBrains.Count > 0)
        {
            answer += $"; SPLIT BRAIN {g.SplitBrains.Count}×";
        }

        if (g.ControlPlaneActive is { } cp)
        {
            answer += cp == g.ActiveNode ? $"; control plane agrees ({cp})" : $"; control plane says {cp}";
        }

        return answer;
    }

    public static string Clock(long ns) =>
        ns is long.MaxValue or long.MinValue ? "--:--:--.---" : DateTimeOffset.UnixEpoch.AddTicks(ns / 100).ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);

    private static string Date(long ns) => DateTimeOffset.UnixEpoch.AddTicks(ns / 100).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Endpoint(string ip, string? node) => node is null ? ip : $"{node} ({ip})";

    private static string Severity(FindingSeverity s) => s switch
    {
        FindingSeverity.Error => "ERROR",
        FindingSeverity.Warning => "WARNING",
        _ => "info",
    };
}
