using System.CommandLine;
using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Reporting;

namespace UplinkProbe.Cli;

/// <summary>
/// <c>uplinkprobe analyze [--node NAME=FILE]... [--tx-node NAME=FILE]... [FILE...] [--inventory FILE] [--format text|json|markdown]</c>.
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Build(CliOutput output)
    {
        var files = new Argument<string[]>("FILE") { Arity = ArgumentArity.ZeroOrMore, Description = "captures whose node is named in the pcapng interface (written by 'uplinkprobe capture') or taken from the file name" };
        var nodes = new Option<string[]>("--node", "-n") { Description = "NAME=FILE: a capture of NAME's uplink NIC (repeatable)", AllowMultipleArgumentsPerToken = false };
        var txNodes = new Option<string[]>("--tx-node") { Description = "NAME=FILE: a transmit-only capture of NAME's uplink (tcpdump -Q out): every frame in it was sent by NAME (repeatable)" };
        var inventory = new Option<string[]>("--inventory", "-i") { Description = "inventory (repeatable, merged): an 'uplinkprobe inventory' file, a hand-written YAML/JSON inventory, a directory of ovn-nbctl/ovn-sbctl --format=json dumps, or a lab manifest" };
        var format = new Option<string>("--format", "-F") { Description = "text, json or markdown", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "markdown");
        Option<int> threads = CliApplication.ThreadsOption();
        var command = new Command("analyze", "Answer from packets which node really emits each OVN gateway, since when, and what is wrong: timeline, moves, split brain, GARPs, tunnels, BFD.")
        {
            files, nodes, txNodes, inventory, format, threads,
        };
        command.SetAction(parse =>
        {
            string[] paths = parse.GetValue(files) ?? [];
            if (CliApplication.RejectUnknownOptions(paths, output.Error, "analyze"))
            {
                return ExitCodes.Usage;
            }

            // Big captures: the report code is compiled on a spare core while they are read.
            string chosenFormat = parse.GetValue(format) ?? "text";
            string[] capturePaths = [.. paths, .. NodeFiles(parse.GetValue(nodes)), .. NodeFiles(parse.GetValue(txNodes))];
            if (ReportWarmUp.IsWorthwhile(capturePaths))
            {
                ReportWarmUp.Start(sample => WriteReport(chosenFormat, sample, Stream.Null, TextWriter.Null));
            }

            CloudInventory? inv = null;
            if (parse.GetValue(inventory) is { Length: > 0 } inventoryPaths)
            {
                try
                {
                    inv = InventoryLoader.LoadAll(inventoryPaths);
                }
                catch (Exception ex) when (ex is InventoryException or IOException or UnauthorizedAccessException)
                {
                    output.Error.WriteLine($"uplinkprobe: {ex.Message.ReplaceLineEndings(" ")}");
                    return ExitCodes.Failure;
                }
            }

            var analysis = new UplinkAnalysis(inv) { Threads = parse.GetValue(threads) };
            foreach ((string[] values, bool tx) in new[] { (parse.GetValue(nodes) ?? [], false), (parse.GetValue(txNodes) ?? [], true) })
            {
                foreach (string value in values)
                {
                    if (!TrySplitNodeFile(value, out string node, out string file))
                    {
                        output.Error.WriteLine($"uplinkprobe: --{(tx ? "tx-node" : "node")} expects NAME=FILE, got '{value}'");
                        output.Error.WriteLine("Try 'uplinkprobe analyze --help'.");
                        return ExitCodes.Usage;
                    }

                    analysis.AddCapture(file, node, tx);
                }
            }

            foreach (string path in paths)
            {
                analysis.AddCapture(path);
            }

            if (paths.Length == 0 && (parse.GetValue(nodes)?.Length ?? 0) + (parse.GetValue(txNodes)?.Length ?? 0) == 0)
            {
                output.Error.WriteLine("uplinkprobe: analyze needs at least one capture (FILE, --node NAME=FILE or --tx-node NAME=FILE)");
                output.Error.WriteLine("Try 'uplinkprobe analyze --help'.");
                return ExitCodes.Usage;
            }

            AnalysisReport report = analysis.Run();
            if (chosenFormat == "json")
            {
                output.Text.Flush();
            }

            WriteReport(chosenFormat, report, output.Stream, output.Text);

            // Every capture unreadable: the analysis could not be done.
            if (report.Sources.All(s => s.ReadError is not null && s.Packets == 0))
            {
                output.Flush();
                foreach (CaptureSource s in report.Sources)
                {
                    output.Error.WriteLine($"uplinkprobe: {s.ReadError}");
                }

                return ExitCodes.Failure;
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>NAME=FILE of --node and --tx-node: both parts non-empty, split at the first '='.</summary>
    private static bool TrySplitNodeFile(string value, out string node, out string file)
    {
        int eq = value.IndexOf('=', StringComparison.Ordinal);
        bool ok = eq > 0 && eq < value.Length - 1;
        node = ok ? value[..eq] : string.Empty;
        file = ok ? value[(eq + 1)..] : string.Empty;
        return ok;
    }

    /// <summary>The files of well-formed NAME=FILE values (the others are reported when the captures are added).</summary>
    private static IEnumerable<string> NodeFiles(string[]? values)
    {
        foreach (string value in values ?? [])
        {
            if (TrySplitNodeFile(value, out _, out string file))
            {
                yield return file;
            }
        }
    }

    private static void WriteReport(string format, AnalysisReport report, Stream stream, TextWriter text)
    {
        switch (format)
        {
            case "json":
                AnalysisJsonWriter.Write(stream, report);
                break;
            case "markdown":
                AnalysisMarkdownWriter.Write(text, report);
                break;
            default:
                AnalysisTextWriter.Write(text, report);
                break;
        }
    }
}
