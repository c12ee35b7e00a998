using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Reporting;

/// <summary>Writes the per-file counters of a decode run: packets per protocol, per problem, and what the reader skipped.</summary>
public static class DecodeSummaryWriter
{
    private static readonly LayerKind[] ReportedLayers = Enum.GetValues<LayerKind>().Where(k => k != LayerKind.None).ToArray();

    public static void WriteText(TextWriter w, string file, CaptureReader reader, DecodeStatistics stats)
    {
        w.WriteLine($"{file}: {stats.Packets} packets, {stats.Bytes} bytes captured, {FormatName(reader.Format)}, " +
                    $"{stats.CleanPackets} decoded cleanly, {stats.TruncatedPackets} truncated, {stats.MalformedPackets} malformed" +
                    (stats.UnsupportedLinkTypePackets > 0 ? $", {stats.UnsupportedLinkTypePackets} of unsupported link types" : string.Empty));
        var protocols = ReportedLayers.Where(k => stats.PacketsWith(k) > 0).Select(k => $"{LayerNames.Of(k)} {stats.PacketsWith(k)}").ToList();
        if (protocols.Count > 0)
        {
            w.WriteLine("  packets with: " + string.Join(", ", protocols));
        }

        foreach (DecodeProblem problem in Enum.GetValues<DecodeProblem>())
        {
            long n = stats.ProblemCountOf(problem);
            if (problem != DecodeProblem.None && problem != DecodeProblem.UnsupportedLinkType && n > 0)
            {
                w.WriteLine($"  {(DecodeProblems.IsTruncation(problem) ? "truncated" : "malformed")} {DecodeProblems.Name(problem)}: {n} ({DecodeProblems.Describe(problem)})");
            }
        }

        foreach ((int linkType, long n) in stats.UnsupportedLinkTypes.OrderBy(p => p.Key))
        {
            w.WriteLine($"  unsupported link type {linkType}: {n} packets (counted, not decoded)");
        }

        CaptureReaderStatistics r = reader.Statistics;
        var notes = new List<string>();
        if (r.SkippedBlocks.Count > 0)
        {
            notes.Add("skipped blocks: " + string.Join(", ", r.SkippedBlocks.OrderBy(p => p.Key).Select(p => $"{BlockName(p.Key)} {p.Value}")));
        }

        AddIf(notes, r.ClampedRecords, "records whose captured length was cut to the snap length or the file");
        AddIf(notes, r.InconsistentLengthRecords, "records with a captured length above the original length");
        AddIf(notes, r.TruncatedRecords, "record cut short by the end of the file");
        AddIf(notes, r.InvalidTimestamps, "invalid timestamps");
        AddIf(notes, r.MalformedOptions, "malformed pcapng options");
        AddIf(notes, r.DroppedPackets, "packets the capturing host reported dropped");
        if (notes.Count > 0)
        {
            w.WriteLine("  reader: " + string.Join("; ", notes));
        }

        if (reader.Error is { } error)
        {
            w.WriteLine($"  reading stopped {error}");
        }
    }

    private static void AddIf(List<string> notes, long count, string what)
    {
        if (count > 0)
        {
            notes.Add($"{count} {what}");
        }
    }

    private static string FormatName(CaptureFormat format) => format switch
    {
        CaptureFormat.Pcap => "pcap",
        CaptureFormat.PcapNg => "pcapng",
        _ => "live",
    };

    public static string BlockName(uint blockType) => blockType switch
    {
        0x00000004 => "NRB",
        0x00000005 => "ISB",
        0x0000000A => "DSB",
        0x00000BAD => "CB",
        0x40000BAD => "DCB",
        0x00000007 => "IRIG timestamp",
        0x00000008 => "AFDX info",
        0x00000009 => "systemd journal",
        _ => $"type 0x{blockType:x8}",
    };
}
