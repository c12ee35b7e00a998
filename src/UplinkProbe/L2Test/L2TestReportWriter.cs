using System.Globalization;
using System.Text;
using System.Text.Json;

namespace UplinkProbe.L2Test;

/// <summary>Text and JSON renderings of an <see cref="L2TestReport"/> (JSON schema in docs/l2test.md).</summary>
public static class L2TestReportWriter
{
    public const string Format = "uplinkprobe-l2test-report";

    public static void WriteText(TextWriter w, L2TestReport report)
    {
        int reported = report.Nodes.Count(n => n.HasReport);
        w.WriteLine($"l2test report: {report.Nodes.Count} nodes, {reported} with a report; a cell is received/expected probes from the row's node to the column's node");
        w.WriteLine();
        w.WriteLine("Nodes");
        foreach (L2ReportNode n in report.Nodes)
        {
            if (n.Result is not { } r)
            {
                w.WriteLine($"  {n.Node}: no report{(n.Problem is null ? string.Empty : $" ({n.Problem})")}");
                continue;
            }

            var sb = new StringBuilder();
            sb.Append(CultureInfo.InvariantCulture, $"  {r.Node}: {r.Interface} {r.NicMac}, foreign source {r.ForeignMac}");
            if (r.VlanId >= 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $", VLAN {r.VlanId}");
            }

            sb.Append(CultureInfo.InvariantCulture, $", {Time(r.StartNs)} for {(r.EndNs - r.StartNs) / 1e9:0.0} s ({r.StopReason}), sent {r.Sent.Sum(s => s.Count)}, heard {r.Peers.Count} peers");
            L2IgnoredCounts i = r.Ignored;
            long ignored = i.Foreign + i.Malformed + i.ShapeMismatch + i.Own;
            if (ignored > 0 || i.KernelDropped > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"; ignored {i.Foreign} foreign, {i.Malformed} malformed, {i.ShapeMismatch} misaddressed, {i.Own} own; {i.KernelDropped} dropped by the kernel");
            }

            w.WriteLine(sb.ToString());
            foreach (string warning in r.Warnings)
            {
                w.WriteLine($"    warning: {warning}");
            }

            foreach (string stranger in r.Peers.Select(p => p.Node).Where(p => !report.Nodes.Any(n => n.Node == p)))
            {
                w.WriteLine($"    heard from {stranger}, which is not in this report");
            }
        }

        w.WriteLine();
        w.WriteLine("Verdicts");
        foreach (L2KindResult k in report.Kinds.Where(k => !k.Cells.All(c => c.Status == L2CellStatus.NotApplicable)))
        {
            w.WriteLine($"  {k.Title}{(k.Required ? string.Empty : " (optional)")}: {k.Summary}");
        }

        foreach (L2ReportNode n in report.Missing)
        {
            w.WriteLine($"  {n.Node}: no report — its pairs are untested, not lost");
        }

        w.WriteLine();
        w.WriteLine(report.Passed
            ? "RESULT: PASS — every required kind arrived between every pair of nodes"
            : $"RESULT: FAIL — {FailureReason(report)}");

        foreach (L2KindResult k in report.Kinds.Where(k => !k.Cells.All(c => c.Status == L2CellStatus.NotApplicable)))
        {
            w.WriteLine();
            w.WriteLine($"{k.Title} [{k.StreamName}]{(k.Required ? " (required)" : " (optional)")}: {k.Summary}");
            WriteMatrix(w, report, k);
        }

        w.WriteLine();
        w.WriteLine("One-way delay in parentheses is receive time minus the sender's send time: it includes the offset between the two hosts' clocks.");
    }

    private static string FailureReason(L2TestReport report)
    {
        var reasons = new List<string>();
        if (report.Nodes.Count(n => n.HasReport) < 2)
        {
            reasons.Add("fewer than two node reports");
        }

        if (report.Missing.Any())
        {
            reasons.Add("no report from " + string.Join(", ", report.Missing.Select(n => n.Node)));
        }

        List<string> failed = report.Kinds.Where(k => k.Required && k.Verdict != L2Verdict.Ok).Select(k => k.Title).ToList();
        if (failed.Count > 0)
        {
            reasons.Add("not proven: " + string.Join(", ", failed));
        }

        return string.Join("; ", reasons);
    }

    private static void WriteMatrix(TextWriter w, L2TestReport report, L2KindResult k)
    {
        List<string> names = report.Nodes.Select(n => n.Node).ToList();
        var rows = new List<string[]> { new[] { "from \\ to" }.Concat(names).ToArray() };
        foreach (string from in names)
        {
            var row = new List<string> { from };
            foreach (string to in names)
            {
                row.Add(from == to ? "-" : CellText(k.Cell(from, to)));
            }

            rows.Add([.. row]);
        }

        int[] widths = Enumerable.Range(0, names.Count + 1).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (string[] row in rows)
        {
            w.WriteLine("  " + string.Join("  ", row.Select((t, c) => t.PadRight(widths[c]))).TrimEnd());
        }
    }

    public static string CellText(L2Cell c) => c.Status switch
    {
        L2CellStatus.NoReport => "no report",
        L2CellStatus.NotSent => "not sent",
        L2CellStatus.NoOverlap => c.Received > 0 ? $"{c.Received}/0" : "no overlap",
        L2CellStatus.NotApplicable => "n/a",
        L2CellStatus.Nothing => $"0/{c.Expected} FAIL",
        L2CellStatus.Lossy => $"{c.Received}/{c.Expected} FAIL {c.LossPercent:0.#}% lost{Delay(c)}",
        _ => $"{c.Received}/{c.Expected}{Delay(c)}",
    };

    private static string Delay(L2Cell c) =>
        c.Stream is { Count: > 0 } s ? string.Create(CultureInfo.InvariantCulture, $" ({s.DelayAverageNs / 1e6:0.###} ms)") : string.Empty;

    private static string Time(long ns) =>
        DateTime.UnixEpoch.AddTicks(ns / 100).ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static void WriteJson(Stream stream, L2TestReport report)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", Format);
        w.WriteNumber("version", 1);
        w.WriteBoolean("passed", report.Passed);
        w.WriteNumber("max_loss_pct", report.MaxLossPercent);
        w.WriteNumber("clock_tolerance_ms", L2TestReport.ClockToleranceNs / 1e6);
        w.WriteStartArray("nodes");
        foreach (L2ReportNode n in report.Nodes)
        {
            w.WriteStartObject();
            w.WriteString("node", n.Node);
            w.WriteString("status", n.HasReport ? "ok" : "no report");
            if (n.Source is not null)
            {
                w.WriteString("file", n.Source);
            }

            if (n.Problem is not null)
            {
                w.WriteString("problem", n.Problem);
            }

            if (n.Result is { } r)
            {
                w.WriteString("interface", r.Interface);
                w.WriteString("nic_mac", r.NicMac.ToString());
                w.WriteString("foreign_mac", r.ForeignMac.ToString());
                w.WriteNumber("start_ns", r.StartNs);
                w.WriteNumber("end_ns", r.EndNs);
                w.WriteNumber("sent", r.Sent.Sum(s => s.Count));
                L2NodeJson.WriteIgnored(w, r.Ignored);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("kinds");
        foreach (L2KindResult k in report.Kinds)
        {
            w.WriteStartObject();
            w.WriteString("kind", L2ProbeKinds.Name(k.Kind));
            if (k.VlanId >= 0)
            {
                w.WriteNumber("vlan", k.VlanId);
            }
            else
            {
                w.WriteNull("vlan");
            }

            w.WriteString("title", k.Title);
            w.WriteBoolean("required", k.Required);
            w.WriteString("verdict", k.Verdict switch
            {
                L2Verdict.Ok => "ok",
                L2Verdict.Fail => "fail",
                L2Verdict.Incomplete => "incomplete",
                _ => "untested",
            });
            w.WriteString("summary", k.Summary);
            w.WriteStartArray("pairs");
            foreach (L2Cell c in k.Cells)
            {
                w.WriteStartObject();
                w.WriteString("from", c.From);
                w.WriteString("to", c.To);
                w.WriteString("status", c.Status switch
                {
                    L2CellStatus.Ok => "ok",
                    L2CellStatus.Lossy => "lossy",
                    L2CellStatus.Nothing => "nothing",
                    L2CellStatus.NoReport => "no report",
                    L2CellStatus.NotSent => "not sent",
                    L2CellStatus.NoOverlap => "no overlap",
                    _ => "n/a",
                });
                w.WriteNumber("sent", c.Sent);
                w.WriteNumber("expected", c.Expected);
                w.WriteNumber("received", c.Received);
                w.WriteNumber("loss_pct", Math.Round(c.LossPercent, 2));
                if (c.Stream is { Count: > 0 } s)
                {
                    w.WriteStartObject("delay_ms");
                    w.WriteNumber("min", Math.Round(s.DelayMinNs / 1e6, 3));
                    w.WriteNumber("avg", Math.Round(s.DelayAverageNs / 1e6, 3));
                    w.WriteNumber("max", Math.Round(s.DelayMaxNs / 1e6, 3));
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteNull("delay_ms");
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        stream.WriteByte((byte)'\n');
    }
}
