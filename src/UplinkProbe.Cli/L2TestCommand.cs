using System.CommandLine;
using System.Runtime.InteropServices;
using UplinkProbe.Capture.Live;
using UplinkProbe.L2Test;

namespace UplinkProbe.Cli;

/// <summary>
/// <c>uplinkprobe l2test -i IFACE --node NAME [--duration T] [--vlan ID] [--out FILE.json]</c> on every node at about the
/// same time, then <c>uplinkprobe l2test report NODE1.json NODE2.json …</c>.
/// </summary>
public static class L2TestCommand
{
    /// <summary>
    /// Exit code of <c>l2test report</c> when a required kind was not proven between every pair (or a node has no report):
    /// the check failed, which is exit code 1 as for every verb.
    /// </summary>
    public const int NotProven = ExitCodes.Failure;

    public static Command Build(CliOutput output)
    {
        var iface = new Option<string?>("--interface", "-i") { Description = "the uplink NIC (no IP address needed)" };
        var node = new Option<string?>("--node") { Description = "this node's name as the report shows it (default: the short host name)" };
        var duration = new Option<string>("--duration", "-d")
        {
            Description = "how long to run: seconds, or a number with s, m or h; probes are sent after a quiet fifth (at most 5 s) and stop a quiet fifth before the end",
            DefaultValueFactory = _ => "30s",
        };
        var vlan = new Option<int?>("--vlan") { Description = "also send every kind inside an 802.1Q tag with this VLAN ID (1-4094)" };
        var outFile = new Option<string?>("--out", "-o") { Description = "write the node's JSON here (default: standard output)" };
        var rate = new Option<double>("--rate") { Description = "frames per second, all kinds together (at most 10)", DefaultValueFactory = _ => L2TestRunner.MaxFramesPerSecond };

        node.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } n && !L2Probe.IsValidNodeName(n))
            {
                r.AddError("--node must be 1 to 64 UTF-8 bytes without control characters");
            }
        });
        duration.Validators.Add(r =>
        {
            if (!CaptureCommand.TryParseDuration(r.GetValueOrDefault<string>() ?? string.Empty, out TimeSpan t) || t < TimeSpan.FromSeconds(1))
            {
                r.AddError($"--duration '{r.GetValueOrDefault<string>()}' is not a duration of at least 1 s (e.g. 30, 90s, 5m)");
            }
        });
        vlan.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1 or > 4094)
            {
                r.AddError("--vlan must be a VLAN ID from 1 to 4094");
            }
        });
        rate.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is <= 0 or > L2TestRunner.MaxFramesPerSecond)
            {
                r.AddError("--rate must be above 0 and at most 10 frames/s");
            }
        });

        var command = new Command("l2test",
            "Prove the uplink carries broadcast, IPv4/IPv6 multicast, frames from a non-NIC source MAC and unicast between every pair of nodes. " +
            "Run it on every node at about the same time (needs CAP_NET_RAW), then 'uplinkprobe l2test report' on the files. " +
            "Probes use EtherType 0x88b5 and UDP port 51381, at most 10 frames/s; no ARP or NDP, no address claimed. " +
            "Exit codes: 0 done (the file is written), 1 capture failed, 2 usage error.")
        {
            iface, node, duration, vlan, outFile, rate,
        };
        command.Subcommands.Add(BuildReport(output));
        command.SetAction(parse =>
        {
            if (parse.GetValue(iface) is not { Length: > 0 } device)
            {
                output.Error.WriteLine("uplinkprobe: l2test needs -i IFACE (the uplink NIC)");
                output.Error.WriteLine("Try 'uplinkprobe l2test --help'.");
                return ExitCodes.Usage;
            }

            CaptureCommand.TryParseDuration(parse.GetValue(duration)!, out TimeSpan limit);
            var options = new L2TestOptions
            {
                Interface = device,
                Node = parse.GetValue(node) ?? DefaultNode(),
                Duration = limit,
                VlanId = parse.GetValue(vlan) ?? -1,
                FramesPerSecond = parse.GetValue(rate),
            };
            return Run(options, parse.GetValue(outFile), output);
        });
        return command;
    }

    private static int Run(L2TestOptions options, string? path, CliOutput output)
    {
        TextWriter err = output.Error;
        FileStream? file = null;
        bool created = false;
        if (path is not null)
        {
            try
            {
                created = !File.Exists(path) && !Directory.Exists(path);
                file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read); // fail before the run, not after it
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                err.WriteLine($"uplinkprobe: {path}: cannot write: {ex.Message.ReplaceLineEndings(" ")}");
                return ExitCodes.Failure;
            }
        }

        using (file)
        {
            using var cancel = new CancellationTokenSource();
            string? stopBy = null;
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx =>
            {
                ctx.Cancel = true;
                Interlocked.CompareExchange(ref stopBy, "SIGINT", null);
                cancel.Cancel();
            });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
            {
                ctx.Cancel = true;
                Interlocked.CompareExchange(ref stopBy, "SIGTERM", null);
                cancel.Cancel();
            });

            L2NodeResult result;
            try
            {
                result = L2TestRunner.Run(options, err, cancel.Token);
            }
            catch (LiveCaptureException ex)
            {
                err.WriteLine($"uplinkprobe: {ex.Message}");
                if (path is not null)
                {
                    file!.Dispose();
                    if (created)
                    {
                        // No empty result file left behind. Only one this run created: --out may name something
                        // that must stay, such as /dev/null (deleting that as root breaks the whole machine).
                        File.Delete(path);
                    }
                }

                return ExitCodes.Failure;
            }

            if (stopBy is not null)
            {
                result.StopReason = stopBy;
            }

            int sent = result.Sent.Sum(s => s.Count);
            long received = result.Received.Sum(r => r.Count);
            err.WriteLine($"l2test: {result.Node} done ({result.StopReason}): sent {sent} probes, received {received} from " +
                $"{result.Peers.Count} peers{(result.Peers.Count == 0 ? string.Empty : " (" + string.Join(", ", result.Peers.Select(p => p.Node)) + ")")}; " +
                $"ignored {result.Ignored.Foreign} foreign, {result.Ignored.Malformed} malformed frames; {result.Ignored.KernelDropped} dropped by the kernel");
            foreach (string w in result.Warnings)
            {
                err.WriteLine($"uplinkprobe: warning: {w}");
            }

            if (file is not null)
            {
                L2NodeJson.Write(file, result);
            }
            else
            {
                output.Text.Flush();
                L2NodeJson.Write(output.Stream, result);
            }
        }

        return ExitCodes.Ok;
    }

    private static Command BuildReport(CliOutput output)
    {
        var files = new Argument<string[]>("FILE") { Arity = ArgumentArity.OneOrMore, Description = "the nodes' l2test JSON files; a missing one shows its node (named after the file) as \"no report\"" };
        var expect = new Option<string[]>("--expect") { Description = "NODE that should have reported (repeatable); shown as \"no report\" when no file is from it", AllowMultipleArgumentsPerToken = false };
        var format = new Option<string>("--format", "-F") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var maxLoss = new Option<double>("--max-loss") { Description = "percentage of expected probes a pair may lose and still pass", DefaultValueFactory = _ => 10 };
        maxLoss.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is < 0 or >= 100)
            {
                r.AddError("--max-loss must be from 0 to below 100");
            }
        });
        var command = new Command("report",
            "Combine the nodes' files into an N×N matrix per kind (received/expected, loss, one-way delay) and a verdict per kind. " +
            "Required: broadcast, IPv4 multicast 224.0.0.1 and 239.100.100.100, IPv6 all-nodes and solicited-node, foreign source MAC; " +
            "optional: unicast and the VLAN-tagged copies. Exit codes: 0 every required kind passed between every pair, 1 not proven " +
            "(a required kind failed, a node has no report, or no file could be read), 2 usage error.")
        {
            files, expect, format, maxLoss,
        };
        command.SetAction(parse =>
        {
            string[] paths = parse.GetValue(files) ?? [];
            if (CliApplication.RejectUnknownOptions(paths, output.Error, "l2test report"))
            {
                return ExitCodes.Usage;
            }

            var nodes = new List<L2ReportNode>();
            foreach (string path in paths)
            {
                try
                {
                    L2NodeResult r = L2NodeJson.Read(path);
                    nodes.Add(new L2ReportNode(r.Node, path, r, null));
                }
                catch (L2TestFormatException ex)
                {
                    output.Error.WriteLine($"uplinkprobe: {ex.Message}");
                    string name = Path.GetFileNameWithoutExtension(path);
                    nodes.Add(new L2ReportNode(name, path, null, File.Exists(path) ? "unreadable file" : "no file"));
                }
            }

            foreach (string n in parse.GetValue(expect) ?? [])
            {
                nodes.Add(new L2ReportNode(n, null, null, "expected, no file given"));
            }

            if (nodes.All(n => !n.HasReport))
            {
                output.Error.WriteLine("uplinkprobe: no l2test node file could be read");
                return ExitCodes.Failure;
            }

            L2TestReport report = L2TestReport.Build(nodes, parse.GetValue(maxLoss));
            if (parse.GetValue(format) == "json")
            {
                output.Text.Flush();
                L2TestReportWriter.WriteJson(output.Stream, report);
            }
            else
            {
                L2TestReportWriter.WriteText(output.Text, report);
            }

            return report.Passed ? ExitCodes.Ok : NotProven;
        });
        return command;
    }

    private static string DefaultNode()
    {
        string host = Environment.MachineName;
        int dot = host.IndexOf('.');
        host = dot > 0 ? host[..dot] : host;
        return L2Probe.IsValidNodeName(host) ? host : "unknown";
    }
}
