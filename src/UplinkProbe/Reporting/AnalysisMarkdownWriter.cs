using UplinkProbe.Analysis;

namespace UplinkProbe.Reporting;

/// <summary>The report as Markdown, for a ticket or a chat: answer, findings table, timeline table, captures.</summary>
public static class AnalysisMarkdownWriter
{
    public static void Write(TextWriter w, AnalysisReport report)
    {
        w.WriteLine("# UplinkProbe analysis");
        w.WriteLine();
        foreach (GatewayReport g in report.Gateways)
        {
            w.WriteLine($"- **{Escape(AnalysisTextWriter.AnswerLine(g))}**");
        }

        foreach (FloatingIpReport f in report.FloatingIps)
        {
            w.WriteLine($"- distributed floating IP {f.Ip} ({f.Mac}): emitted by {(f.EmittedBy.Count == 0 ? "nobody seen" : string.Join(", ", f.EmittedBy.Keys))}" +
                        (f.ExpectedNode is null ? string.Empty : $", expected {f.ExpectedNode}"));
        }

        w.WriteLine();
        w.WriteLine("## Findings");
        w.WriteLine();
        if (report.Findings.Count == 0)
        {
            w.WriteLine("None.");
        }
        else
        {
            w.WriteLine("| severity | id | when | what | evidence |");
            w.WriteLine("| --- | --- | --- | --- | --- |");
            foreach (Finding f in report.Findings)
            {
                string when = f.AtNs is long ns ? AnalysisTextWriter.Clock(ns) : string.Empty;
                w.WriteLine($"| {f.Severity.ToString().ToLowerInvariant()} | `{f.Id}` | {when} | {Escape(f.Message)} | {Escape(string.Join("; ", f.Evidence.Where(e => e.Frames.Count > 0).Take(3)))} |");
            }
        }

        foreach (GatewayReport g in report.Gateways.Where(g => g.Timeline.Count > 0))
        {
            w.WriteLine();
            w.WriteLine($"## Timeline of {g.Name} ({g.Mac})");
            w.WriteLine();
            w.WriteLine("| from | to | node | frames | attribution | first frame |");
            w.WriteLine("| --- | --- | --- | ---: | --- | --- |");
            foreach (TimelineSegment s in g.Timeline)
            {
                w.WriteLine($"| {AnalysisTextWriter.Clock(s.StartNs)} | {AnalysisTextWriter.Clock(s.EndNs)} | {s.Node} | {s.Frames} | {s.Attribution.ToString().ToLowerInvariant()} | {Escape(s.FirstEvidence.ToString())} |");
            }
        }

        if (report.Tunnels.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("## Geneve tunnels");
            w.WriteLine();
            w.WriteLine("| source | destination | VNI | packets | egress keys |");
            w.WriteLine("| --- | --- | ---: | ---: | --- |");
            foreach (TunnelFlowReport t in report.Tunnels)
            {
                w.WriteLine($"| {t.SourceNode ?? t.SourceIp} | {t.DestinationNode ?? t.DestinationIp} | {t.Vni} | {t.Packets} | {string.Join(", ", t.EgressKeys.Keys)} |");
            }
        }

        if (report.L2Evidence.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("## Broadcast/multicast received");
            w.WriteLine();
            w.WriteLine("| node | kind | source | frames |");
            w.WriteLine("| --- | --- | --- | ---: |");
            foreach (L2EvidenceRow r in report.L2Evidence)
            {
                w.WriteLine($"| {r.Node} | {L2EvidenceRow.KindName(r.Kind)} | {r.Source}{(r.SourceName is null ? string.Empty : $" ({Escape(r.SourceName)})")} | {r.Frames} |");
            }
        }

        w.WriteLine();
        w.WriteLine("## Captures");
        w.WriteLine();
        w.WriteLine("| node | file | packets | direction |");
        w.WriteLine("| --- | --- | ---: | --- |");
        foreach (CaptureSource s in report.ListedSources)
        {
            w.WriteLine($"| {s.Node} | {Escape(Path.GetFileName(s.Path))} | {s.Packets} | {(s.TransmitOnly ? "transmit-only" : s.HasDirection ? "yes" : "none")} |");
        }

        foreach (string note in report.Notes)
        {
            w.WriteLine();
            w.WriteLine($"> {Escape(note)}");
        }
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
