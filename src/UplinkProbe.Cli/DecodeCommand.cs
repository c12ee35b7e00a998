using System.CommandLine;
using System.Runtime.CompilerServices;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;

namespace UplinkProbe.Cli;

/// <summary><c>uplinkprobe decode FILE... [--format text|json] [--summary]</c>: one line per packet, counters on stderr.</summary>
internal static class DecodeCommand
{
    public static Command Build(CliOutput output)
    {
        var files = new Argument<string[]>("FILE") { Arity = ArgumentArity.OneOrMore, Description = "pcap or pcapng capture files (the format is detected from the content)" };
        var format = new Option<string>("--format", "-F") { Description = "text: one tcpdump-like line per packet; json: JSON Lines (schema: docs/decode-json.md)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var summary = new Option<bool>("--summary") { Description = "print only the counters (same as 'uplinkprobe stats')" };
        var count = new Option<long?>("--count", "-c") { Description = "stop after this many packets per file" };
        count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long?>() is <= 0)
            {
                r.AddError("--count must be a positive number");
            }
        });

        var command = new Command("decode", "Decode capture files packet by packet. Malformed packets are printed with their reason and counted; a summary per file goes to stderr.")
        {
            files, format, summary, count,
        };
        command.SetAction(parse =>
        {
            string[] paths = parse.GetValue(files) ?? [];
            if (CliApplication.RejectUnknownOptions(paths, output.Error, "decode"))
            {
                return ExitCodes.Usage;
            }

            var mode = parse.GetValue(summary) ? DecodeOutput.None : parse.GetValue(format) == "json" ? DecodeOutput.Json : DecodeOutput.Text;
            return DecodeRunner.Run(paths, mode, summaryToStdout: mode == DecodeOutput.None, jsonSummary: false, parse.GetValue(count), output);
        });
        return command;
    }
}

/// <summary><c>uplinkprobe stats FILE...</c>: decode everything, print only the counters (the benchmark mode).</summary>
internal static class StatsCommand
{
    public static Command Build(CliOutput output)
    {
        var files = new Argument<string[]>("FILE") { Arity = ArgumentArity.OneOrMore, Description = "pcap or pcapng capture files" };
        var format = new Option<string>("--format", "-F") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        Option<int> threads = CliApplication.ThreadsOption();
        var command = new Command("stats", "Decode every packet and print only the counters per protocol and per problem.") { files, format, threads };
        command.SetAction(parse =>
        {
            string[] paths = parse.GetValue(files) ?? [];
            if (CliApplication.RejectUnknownOptions(paths, output.Error, "stats"))
            {
                return ExitCodes.Usage;
            }

            return DecodeRunner.Run(paths, DecodeOutput.None, summaryToStdout: true, jsonSummary: parse.GetValue(format) == "json", null, output, parse.GetValue(threads));
        });
        return command;
    }
}

internal enum DecodeOutput
{
    None,
    Text,
    Json,
}

/// <summary>The decode loop shared by <c>decode</c> and <c>stats</c>.</summary>
internal static class DecodeRunner
{
    public static int Run(string[] paths, DecodeOutput mode, bool summaryToStdout, bool jsonSummary, long? limit, CliOutput output, int threads = 1)
    {
        int exit = ExitCodes.Ok;
        var decoder = new PacketDecoder();
        var decoded = new DecodedPacket();
        foreach (string path in paths)
        {
            if (mode == DecodeOutput.None && limit is null && CaptureFileParts.TryOpen(path, threads, out CaptureFileParts? parts))
            {
                // stats on a big classic pcap: every core reads and decodes its own part of the file.
                using (parts)
                {
                    var statistics = new DecodeStatistics();
                    try
                    {
                        foreach (PartResult<DecodeStatistics> part in parts.Read(_ => new DecodeStatistics(), (r, s) => CountAll(r, new PacketDecoder(), new DecodedPacket(), s)))
                        {
                            statistics.Add(part.State);
                        }
                    }
                    catch (IOException ex) when (ex is not CaptureFileException)
                    {
                        output.Error.WriteLine($"uplinkprobe: {path}: read error: {ex.Message}");
                        exit = ExitCodes.Failure;
                    }

                    WriteSummary(path, parts.First, statistics, summaryToStdout, jsonSummary, output);
                }

                continue;
            }

            CaptureReader reader;
            try
            {
                reader = CaptureFile.Open(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                output.Flush();
                output.Error.WriteLine($"uplinkprobe: {OneLine(ex, path)}");
                exit = ExitCodes.Failure;
                continue;
            }

            using (reader)
            {
                var handler = new OutputHandler(mode, reader.Format, paths.Length > 1 ? path : null, output, limit ?? long.MaxValue);
                try
                {
                    if (mode == DecodeOutput.None && limit is null)
                    {
                        // stats: nothing per packet but the counters.
                        CountAll(reader, decoder, decoded, handler.Statistics);
                    }
                    else
                    {
                        while (handler.Remaining > 0 && reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
                        {
                            decoder.Decode(data, record.LinkType, decoded, record.OriginalLength);
                            handler.OnPacket(record, data, decoded);
                        }
                    }
                }
                catch (IOException ex) when (ex is not CaptureFileException && !IsOutputError(ex))
                {
                    output.Flush();
                    output.Error.WriteLine($"uplinkprobe: {path}: read error: {ex.Message}");
                    exit = ExitCodes.Failure;
                }

                WriteSummary(path, reader, handler.Statistics, summaryToStdout, jsonSummary, output);
            }
        }

        return exit;
    }

    private static void WriteSummary(string path, CaptureReader reader, DecodeStatistics statistics, bool summaryToStdout, bool jsonSummary, CliOutput output)
    {
        output.Flush();
        if (reader.Error is { } error)
        {
            output.Error.WriteLine($"uplinkprobe: {path}: warning: reading stopped {error} after {statistics.Packets} packets");
        }

        if (summaryToStdout && jsonSummary)
        {
            DecodeSummaryJson.Write(output.Stream, path, reader, statistics);
        }
        else
        {
            DecodeSummaryWriter.WriteText(summaryToStdout ? output.Text : output.Error, path, reader, statistics);
        }

        output.Flush();
    }

    private static void CountAll(CaptureReader reader, PacketDecoder decoder, DecodedPacket decoded, DecodeStatistics statistics)
    {
        if (reader is PcapReader pcap)
        {
            // The sealed type lets the record loop inline the reader's fast path.
            CountAll(pcap, decoder, decoded, statistics);
            return;
        }

        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            decoder.DecodeChain(data, record.LinkType, decoded, record.OriginalLength);
            statistics.Add(decoded);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void CountAll(PcapReader reader, PacketDecoder decoder, DecodedPacket decoded, DecodeStatistics statistics)
    {
        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            decoder.DecodeChain(data, record.LinkType, decoded, record.OriginalLength);
            statistics.Add(decoded);
        }
    }

    private static bool IsOutputError(IOException ex) => ex.Message.Contains("Broken pipe", StringComparison.OrdinalIgnoreCase);

    private static string OneLine(Exception ex, string path)
    {
        string message = ex switch
        {
            CaptureFileException => ex.Message,
            FileNotFoundException => $"{path}: no such file",
            DirectoryNotFoundException => $"{path}: no such file or directory",
            UnauthorizedAccessException => $"{path}: permission denied",
            _ => $"{path}: {ex.Message}",
        };
        return message.ReplaceLineEndings(" ");
    }

    private sealed class OutputHandler : IPacketHandler
    {
        private readonly DecodeOutput _mode;
        private readonly CaptureFormat _format;
        private readonly string? _file;
        private readonly CliOutput _output;
        private readonly PacketJsonWriter? _json;
        private readonly PacketTextFormatter? _text;

        public OutputHandler(DecodeOutput mode, CaptureFormat format, string? file, CliOutput output, long limit)
        {
            _mode = mode;
            _format = format;
            _file = file;
            _output = output;
            Remaining = limit;
            _json = mode == DecodeOutput.Json ? new PacketJsonWriter() : null;
            _text = mode == DecodeOutput.Text ? new PacketTextFormatter() : null;
            if (file is not null && mode == DecodeOutput.Text)
            {
                output.Text.WriteLine($"# {file}");
            }
        }

        public DecodeStatistics Statistics { get; } = new();

        public long Remaining { get; private set; }

        public void OnPacket(in CaptureRecord record, ReadOnlySpan<byte> data, DecodedPacket decoded)
        {
            Statistics.Add(decoded);
            Remaining--;
            switch (_mode)
            {
                case DecodeOutput.Text:
                    _output.Text.Write(_text!.Format(record, data, decoded));
                    _output.Text.Write('\n');
                    break;
                case DecodeOutput.Json:
                    _output.Stream.Write(_json!.Format(record, data, decoded, _format, _file));
                    _output.Stream.WriteByte((byte)'\n');
                    break;
            }
        }
    }
}
