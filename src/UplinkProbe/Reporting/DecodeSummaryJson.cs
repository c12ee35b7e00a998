using System.Text.Json;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Reporting;

/// <summary>The counters of a decode run as one JSON object per file (one line).</summary>
public static class DecodeSummaryJson
{
    public static void Write(Stream stream, string file, CaptureReader reader, DecodeStatistics stats)
    {
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("file", file);
            w.WriteString("format", reader.Format.ToString().ToLowerInvariant());
            w.WriteNumber("packets", stats.Packets);
            w.WriteNumber("bytes", stats.Bytes);
            w.WriteNumber("clean", stats.CleanPackets);
            w.WriteNumber("truncated", stats.TruncatedPackets);
            w.WriteNumber("malformed", stats.MalformedPackets);
            w.WriteNumber("unsupported_link_type", stats.UnsupportedLinkTypePackets);
            w.WriteStartObject("packets_with");
            foreach (LayerKind kind in Enum.GetValues<LayerKind>())
            {
                if (kind != LayerKind.None && stats.PacketsWith(kind) > 0)
                {
                    w.WriteNumber(LayerNames.Of(kind), stats.PacketsWith(kind));
                }
            }

            w.WriteEndObject();
            w.WriteStartObject("problems");
            foreach (DecodeProblem problem in Enum.GetValues<DecodeProblem>())
            {
                if (problem != DecodeProblem.None && stats.ProblemCountOf(problem) > 0)
                {
                    w.WriteNumber(DecodeProblems.Name(problem), stats.ProblemCountOf(problem));
                }
            }

            w.WriteEndObject();
            w.WriteStartObject("unsupported_link_types");
            foreach ((int linkType, long n) in stats.UnsupportedLinkTypes.OrderBy(p => p.Key))
            {
                w.WriteNumber(linkType.ToString(System.Globalization.CultureInfo.InvariantCulture), n);
            }

            w.WriteEndObject();
            CaptureReaderStatistics r = reader.Statistics;
            w.WriteStartObject("reader");
            w.WriteNumber("clamped_records", r.ClampedRecords);
            w.WriteNumber("inconsistent_length_records", r.InconsistentLengthRecords);
            w.WriteNumber("truncated_records", r.TruncatedRecords);
            w.WriteNumber("invalid_timestamps", r.InvalidTimestamps);
            w.WriteNumber("malformed_options", r.MalformedOptions);
            w.WriteNumber("dropped_packets", r.DroppedPackets);
            w.WriteStartObject("skipped_blocks");
            foreach ((uint type, long n) in r.SkippedBlocks.OrderBy(p => p.Key))
            {
                w.WriteNumber(DecodeSummaryWriter.BlockName(type), n);
            }

            w.WriteEndObject();
            if (reader.Error is { } error)
            {
                w.WriteString("error", error.Message);
                w.WriteNumber("error_offset", error.Offset);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
    }
}
