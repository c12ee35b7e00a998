using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using UplinkProbe.Reporting;

namespace UplinkProbe.Analysis.Live;

/// <summary>
/// Writes <c>watch</c>'s events: one line of text each (<c>HH:MM:SS.ffffff node: text</c>), or one JSON object per
/// line (JSON Lines) with <c>event</c> naming the kind (<c>garp</c>, <c>gateway_here</c>, <c>gateway_stopped</c>,
/// <c>gateway_away</c>, <c>gateway_heard</c>, <c>finding</c>, <c>status</c>, <c>drops</c>) and a final
/// <c>report</c> record holding the analysis report (the object <c>analyze --format json</c> prints).
/// </summary>
public sealed class LiveEventWriter : IDisposable
{
    private readonly TextWriter? _text;
    private readonly Stream? _stream;
    private readonly Utf8JsonWriter? _json;

    private LiveEventWriter(TextWriter? text, Stream? stream)
    {
        _text = text;
        _stream = stream;
        if (stream is not null)
        {
            _json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }
    }

    public static LiveEventWriter ForText(TextWriter text) => new(text, null);

    public static LiveEventWriter ForJsonLines(Stream stream) => new(null, stream);

    public static string EventName(LiveEventKind kind) => kind switch
    {
        LiveEventKind.Garp => "garp",
        LiveEventKind.GatewayHere => "gateway_here",
        LiveEventKind.GatewayStopped => "gateway_stopped",
        LiveEventKind.GatewayAway => "gateway_away",
        LiveEventKind.GatewayHeard => "gateway_heard",
        LiveEventKind.Finding => "finding",
        LiveEventKind.Status => "status",
        LiveEventKind.Drops => "drops",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The text form of one event, without the line end.</summary>
    public static string FormatText(LiveEvent e)
    {
        string clock = TimeOfDay(e.TimestampNs);
        return e.Kind switch
        {
            LiveEventKind.Status => $"{clock} status: {e.Text}",
            LiveEventKind.Drops => $"{clock} {e.Text}",
            LiveEventKind.Finding => $"{clock} finding {e.Text}",
            _ => $"{clock} {e.Node}: {e.Text}",
        };
    }

    public void Write(LiveEvent e)
    {
        if (_text is not null)
        {
            _text.Write(FormatText(e));
            _text.Write('\n');
            return;
        }

        Utf8JsonWriter w = _json!;
        w.Reset();
        w.WriteStartObject();
        w.WriteString("event", EventName(e.Kind));
        WriteTime(w, "time", e.TimestampNs);
        Optional(w, "node", e.Node);
        Optional(w, "interface", e.Interface);
        Optional(w, "gateway", e.Gateway);
        if (e.Mac is { } mac)
        {
            w.WriteString("mac", mac.ToString());
        }

        Optional(w, "ip", e.Ip);
        Optional(w, "direction", e.Direction);
        Optional(w, "claim", e.ClaimKind);
        Optional(w, "previous_node", e.PreviousNode);
        if (e.SinceNs is long since)
        {
            WriteTime(w, "since", since);
        }

        if (e.Frames is long frames)
        {
            w.WriteNumber("frames", frames);
        }

        if (e.Finding is { } f)
        {
            w.WriteStartObject("finding");
            w.WriteString("id", f.Id);
            w.WriteString("severity", f.Severity.ToString().ToLowerInvariant());
            w.WriteString("message", f.Message);
            Optional(w, "subject", f.Subject);
            if (f.AtNs is long at)
            {
                WriteTime(w, "at", at);
            }

            w.WriteEndObject();
        }

        if (e.Packets is long packets)
        {
            w.WriteNumber("packets", packets);
        }

        if (e.KernelDrops is ulong kernel)
        {
            w.WriteNumber("kernel_drops", kernel);
        }

        if (e.InterfaceDrops is ulong iface)
        {
            w.WriteNumber("interface_drops", iface);
        }

        if (e.Gateways is { } gateways)
        {
            w.WriteStartArray("gateways");
            foreach (GatewayLiveStatus g in gateways)
            {
                w.WriteStartObject();
                w.WriteString("name", g.Name);
                w.WriteString("mac", g.Mac.ToString());
                w.WriteString("state", g.State);
                if (g.SinceNs is long s)
                {
                    WriteTime(w, "since", s);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteString("text", e.Text);
        w.WriteEndObject();
        w.Flush();
        _stream!.WriteByte((byte)'\n');
    }

    /// <summary>
    /// The final record: in text, the analyze report after a separator line; in JSON, one line
    /// <c>{"event":"report","stopped_by":…,"packets":…,"kernel_drops":…,"interface_drops":…,"report":{…}}</c>.
    /// </summary>
    public void WriteReport(AnalysisReport report, string stoppedBy, long packets, DropCounter? drops)
    {
        if (_text is not null)
        {
            _text.WriteLine();
            _text.WriteLine($"=== watch stopped ({stoppedBy}): {packets} packets; {drops?.Summary() ?? "drops not counted"} ===");
            _text.WriteLine();
            AnalysisTextWriter.Write(_text, report);
            return;
        }

        Utf8JsonWriter w = _json!;
        w.Reset();
        w.WriteStartObject();
        w.WriteString("event", "report");
        WriteTime(w, "time", WatchSession.WallClockNs());
        w.WriteString("stopped_by", stoppedBy);
        w.WriteNumber("packets", packets);
        if (drops is not null)
        {
            w.WriteNumber("kernel_drops", drops.KernelDrops);
            w.WriteNumber("interface_drops", drops.InterfaceDrops);
        }

        w.WritePropertyName("report");
        AnalysisJsonWriter.WriteObject(w, report);
        w.WriteEndObject();
        w.Flush();
        _stream!.WriteByte((byte)'\n');
    }

    public void Dispose() => _json?.Dispose();

    private static string TimeOfDay(long ns)
    {
        Span<char> buffer = stackalloc char[16];
        int n = TimeFormat.FormatTimeOfDay(ns, buffer);
        return new string(buffer[..n]);
    }

    private static void WriteTime(Utf8JsonWriter w, string name, long ns)
    {
        w.WriteNumber(name + "_ns", ns);
        w.WriteString(name, DateTimeOffset.UnixEpoch.AddTicks(ns / 100).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
    }

    private static void Optional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }
}
