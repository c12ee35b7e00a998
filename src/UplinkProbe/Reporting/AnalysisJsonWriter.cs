using System.Text.Encodings.Web;
using System.Text.Json;
using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;

namespace UplinkProbe.Reporting;

/// <summary>The report of `uplinkprobe analyze --format json` (schema: docs/analyze-json.md). Times are ns since the epoch and ISO 8601.</summary>
public static class AnalysisJsonWriter
{
    public const int SchemaVersion = 1;

    public static void Write(Stream stream, AnalysisReport report)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        WriteObject(w, report);
        w.Flush();
        stream.WriteByte((byte)'\n');
    }

    /// <summary>Writes the report as one JSON object (a value) into <paramref name="w"/>, e.g. inside watch's final JSON Lines record.</summary>
    public static void WriteObject(Utf8JsonWriter w, AnalysisReport report)
    {
        w.WriteStartObject();
        w.WriteNumber("schema", SchemaVersion);

        w.WriteStartArray("gateways");
        foreach (GatewayReport g in report.Gateways)
        {
            w.WriteStartObject();
            w.WriteString("name", g.Name);
            w.WriteString("answer", AnalysisTextWriter.AnswerLine(g));
            w.WriteOptionalString("port", g.Port);
            w.WriteOptionalString("cr_port", g.ChassisRedirectPort);
            w.WriteString("mac", g.Mac.ToString());
            w.WriteStringArray("ips", g.Ips);
            w.WriteString("source", g.Source.ToString());
            w.WriteOptionalString("active_node", g.ActiveNode);
            if (g.ActiveSinceNs is long since)
            {
                WriteTime(w, "active_since", since);
            }

            w.WriteNumber("active_garps", g.ActiveGarps);
            w.WriteNumber("active_garps_expected", g.ActiveGarpsExpected);
            w.WriteOptionalString("control_plane_active", g.ControlPlaneActive);
            w.WriteStartArray("candidates");
            foreach (GatewayChassisPriority c in g.Candidates)
            {
                w.WriteStartObject();
                w.WriteString("node", c.Node);
                w.WriteNumber("priority", c.Priority);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("timeline");
            foreach (TimelineSegment s in g.Timeline)
            {
                w.WriteStartObject();
                w.WriteString("node", s.Node);
                WriteTime(w, "start", s.StartNs);
                WriteTime(w, "end", s.EndNs);
                w.WriteNumber("frames", s.Frames);
                w.WriteString("attribution", s.Attribution == Attribution.Proven ? "proven" : "probable");
                WriteEvidence(w, "evidence", [s.FirstEvidence]);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("moves");
            foreach (FailoverEvent m in g.Failovers)
            {
                w.WriteStartObject();
                w.WriteOptionalString("from", m.From);
                w.WriteString("to", m.To);
                WriteTime(w, "at", m.AtNs);
                if (m.GapNs is long gap)
                {
                    w.WriteNumber("gap_ns", gap);
                }

                w.WriteNumber("garps", m.GarpsSeen);
                w.WriteNumber("garps_expected", m.GarpsExpected);
                w.WriteString("garp_verdict", m.GarpVerdict);
                WriteEvidence(w, "evidence", [m.Evidence]);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("split_brains");
            foreach (SplitBrainEvent s in g.SplitBrains)
            {
                w.WriteStartObject();
                w.WriteStringArray("nodes", s.Nodes);
                WriteTime(w, "start", s.StartNs);
                WriteTime(w, "end", s.EndNs);
                WriteEvidence(w, "evidence", s.Evidence);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("findings");
        foreach (Finding f in report.Findings)
        {
            w.WriteStartObject();
            w.WriteString("id", f.Id);
            w.WriteString("severity", f.Severity.ToString().ToLowerInvariant());
            w.WriteString("message", f.Message);
            w.WriteOptionalString("subject", f.Subject);
            if (f.AtNs is long at)
            {
                WriteTime(w, "at", at);
            }

            WriteEvidence(w, "evidence", f.Evidence);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("floating_ips");
        foreach (FloatingIpReport f in report.FloatingIps)
        {
            w.WriteStartObject();
            w.WriteString("ip", f.Ip);
            w.WriteString("mac", f.Mac.ToString());
            w.WriteOptionalString("logical_port", f.LogicalPort);
            w.WriteOptionalString("expected_node", f.ExpectedNode);
            w.WriteCounts("emitted_by", f.EmittedBy);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("announcements");
        foreach (AnnouncementReport a in report.Announcements)
        {
            w.WriteStartObject();
            w.WriteString("ip", a.Ip);
            w.WriteString("mac", a.Mac.ToString());
            w.WriteCounts("kinds", a.Kinds);
            w.WriteCounts("sent_by", a.Announcers);
            w.WriteNumber("unattributed", a.Unattributed);
            WriteTime(w, "first", a.FirstNs);
            WriteTime(w, "last", a.LastNs);
            WriteEvidence(w, "evidence", a.Evidence);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("garp_bursts");
        foreach (GarpBurst b in SortedLists.OrderedBy(report.GarpBursts, b => b.StartNs))
        {
            w.WriteStartObject();
            w.WriteString("ip", b.Ip);
            w.WriteString("mac", b.Mac.ToString());
            w.WriteString("node", b.Node);
            WriteTime(w, "start", b.StartNs);
            WriteTime(w, "end", b.EndNs);
            w.WriteNumber("count", b.Count);
            w.WriteNumber("expected", b.Expected);
            w.WriteString("verdict", b.Verdict);
            WriteEvidence(w, "evidence", [b.Evidence]);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("tunnels");
        foreach (TunnelFlowReport t in report.Tunnels)
        {
            w.WriteStartObject();
            w.WriteString("src", t.SourceIp);
            w.WriteString("dst", t.DestinationIp);
            w.WriteOptionalString("src_node", t.SourceNode);
            w.WriteOptionalString("dst_node", t.DestinationNode);
            w.WriteNumber("vni", t.Vni);
            w.WriteOptionalString("datapath", t.DatapathName);
            w.WriteNumber("packets", t.Packets);
            w.WriteNumber("bytes", t.Bytes);
            WriteTime(w, "first", t.FirstNs);
            WriteTime(w, "last", t.LastNs);
            w.WriteNumber("max_outer_ip_length", t.MaxOuterIpLength);
            w.WriteNumber("near_mtu_packets", t.NearMtuPackets);
            w.WriteStartArray("egress_keys");
            foreach ((int key, long n) in t.EgressKeys)
            {
                w.WriteStartObject();
                w.WriteNumber("key", key);
                w.WriteNumber("packets", n);
                w.WriteOptionalString("name", t.EgressKeyNames.GetValueOrDefault(key));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStringArray("seen_by", t.SeenBy);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("bfd");
        foreach (BfdSessionReport b in report.BfdSessions)
        {
            w.WriteStartObject();
            w.WriteString("src", b.SourceIp);
            w.WriteString("dst", b.DestinationIp);
            w.WriteOptionalString("src_node", b.SourceNode);
            w.WriteOptionalString("dst_node", b.DestinationNode);
            w.WriteNumber("packets", b.Packets);
            w.WriteString("last_state", b.LastState);
            w.WriteStartArray("changes");
            foreach ((long ns, string state, Evidence evidence) in b.Changes)
            {
                w.WriteStartObject();
                WriteTime(w, "at", ns);
                w.WriteString("state", state);
                WriteEvidence(w, "evidence", [evidence]);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("l2_evidence");
        foreach (L2EvidenceRow r in report.L2Evidence)
        {
            w.WriteStartObject();
            w.WriteString("node", r.Node);
            w.WriteString("kind", L2EvidenceRow.KindName(r.Kind));
            w.WriteString("source_mac", r.Source.ToString());
            w.WriteOptionalString("source_node", r.SourceName);
            w.WriteNumber("frames", r.Frames);
            WriteTime(w, "first", r.FirstNs);
            WriteTime(w, "last", r.LastNs);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("captures");
        foreach (CaptureSource s in report.ListedSources)
        {
            w.WriteStartObject();
            w.WriteString("file", s.Path);
            w.WriteString("node", s.Node);
            w.WriteString("node_from", s.NodeFrom);
            w.WriteBoolean("transmit_only", s.TransmitOnly);
            w.WriteBoolean("has_direction", s.HasDirection);
            w.WriteNumber("packets", s.Packets);
            w.WriteNumber("malformed", s.MalformedPackets);
            w.WriteNumber("truncated", s.TruncatedPackets);
            if (s.Packets > 0)
            {
                WriteTime(w, "first", s.FirstNs);
                WriteTime(w, "last", s.LastNs);
            }

            w.WriteOptionalString("error", s.ReadError);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStringArray("inventory_inputs", report.Inventory.Inputs);
        w.WriteStringArray("notes", report.Notes);
        w.WriteEndObject();
    }

    private static void WriteTime(Utf8JsonWriter w, string name, long ns)
    {
        w.WriteNumber(name + "_ns", ns);
        w.WriteString(name, DateTimeOffset.UnixEpoch.AddTicks(ns / 100).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));
    }



    private static void WriteEvidence(Utf8JsonWriter w, string name, IEnumerable<Evidence> evidence)
    {
        w.WriteStartArray(name);
        foreach (Evidence e in evidence)
        {
            w.WriteStartObject();
            w.WriteString("file", e.File);
            w.WriteOptionalString("node", e.Node);
            w.WriteStartArray("frames");
            foreach (long f in e.Frames)
            {
                w.WriteNumberValue(f);
            }

            w.WriteEndArray();
            w.WriteOptionalString("note", e.Note);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }
}
