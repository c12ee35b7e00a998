using System.CommandLine;
using System.Runtime.InteropServices;
using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Analysis.Live;
using UplinkProbe.Capture;
using UplinkProbe.Capture.Live;
using UplinkProbe.Decoding;

namespace UplinkProbe.Cli;

/// <summary>
/// <c>uplinkprobe watch -i IFACE [-i IFACE…] [--node NAME] [--inventory FILE…] [-f BPF] [--duration T]
/// [--status-seconds N] [--format text|json]</c>: the live form of <c>analyze</c>. The packets of a live capture go
/// through the same <see cref="AnalysisSession"/> that <c>analyze</c> feeds from files; events are printed as they
/// happen, a status line every few seconds, and at the end the analyze report.
/// </summary>
internal static class WatchCommand
{
    public static Command Build(CliOutput output)
    {
        var interfaces = new Option<string[]>("--interface", "-i")
        {
            Description = "interface to watch (the node's uplink NIC); repeat for several NICs of this node",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
            Required = true,
        };
        var node = new Option<string?>("--node") { Description = "this node's name, as the inventory and other nodes' reports call it (default: the host name)" };
        var inventory = new Option<string[]>("--inventory") { Description = "inventory (repeatable, merged), as for analyze: names the gateway ports, so their MACs join the capture filter and the report" };
        var filter = new Option<string?>("--filter", "-f")
        {
            Description = "capture filter (pcap-filter(7)) replacing the default: ARP, RARP, ICMPv6, Geneve, VXLAN, BFD, plus every frame from or to the inventory's gateway and floating IP MACs; \"\" captures everything",
        };
        var duration = new Option<string?>("--duration") { Description = "stop after this long: seconds, or a number with s, m or h (e.g. 90s, 5m)" };
        var status = new Option<int>("--status-seconds") { Description = "print the status line (packets, gateway state, drops) this often; 0: never", DefaultValueFactory = _ => 10 };
        var format = new Option<string>("--format", "-F") { Description = "text, or json (JSON Lines: one object per event, then the report)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var buffer = new Option<int>("--buffer-size", "-B") { Description = "kernel ring buffer per handle, in MiB", DefaultValueFactory = _ => 8 };

        node.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } n && !CaptureInterface.IsValidNodeName(n))
            {
                r.AddError("--node must be non-empty and contain no ';' or white space");
            }
        });
        duration.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } d && !CaptureCommand.TryParseDuration(d, out _))
            {
                r.AddError($"--duration '{d}' is not a duration (e.g. 30, 90s, 5m, 1h)");
            }
        });
        status.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
            {
                r.AddError("--status-seconds must be 0 or more");
            }
        });
        buffer.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() <= 0)
            {
                r.AddError("--buffer-size must be a positive number");
            }
        });

        var command = new Command("watch",
            "Watch live which node emits each OVN gateway: the live form of analyze (same analysis, fed from the NIC). Prints GARPs, the gateway " +
            "moving here or away, and findings as they happen, a status line with kernel and interface drops, and on SIGINT, SIGTERM or --duration " +
            "the analyze report. Needs CAP_NET_RAW (see run-as-root.md). Exit codes: 0 done (drops are reported loudly, not by the exit code), " +
            "1 the capture failed, 2 usage error.")
        {
            interfaces, node, inventory, filter, duration, status, format, buffer,
        };

        command.SetAction(parse =>
        {
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

            var settings = new WatchSettings
            {
                Interfaces = (parse.GetValue(interfaces) ?? []).Distinct(StringComparer.Ordinal).ToArray(),
                Node = parse.GetValue(node) ?? CaptureCommand.DefaultNode(),
                Inventory = inv,
                UserFilter = parse.GetValue(filter),
                Duration = parse.GetValue(duration) is { } d && CaptureCommand.TryParseDuration(d, out TimeSpan t) ? t : null,
                StatusInterval = TimeSpan.FromSeconds(parse.GetValue(status)),
                Json = parse.GetValue(format) == "json",
                BufferBytes = parse.GetValue(buffer) * 1024 * 1024,
            };
            return WatchRunner.Run(settings, output);
        });
        return command;
    }
}

internal sealed record WatchSettings
{
    public required string[] Interfaces { get; init; }

    public required string Node { get; init; }

    public CloudInventory? Inventory { get; init; }

    public string? UserFilter { get; init; }

    public TimeSpan? Duration { get; init; }

    public TimeSpan StatusInterval { get; init; }

    public bool Json { get; init; }

    public int BufferBytes { get; init; }
}

/// <summary>The watch loop: open the NICs, feed the analysis session, print events, status and drops, then the report.</summary>
internal static class WatchRunner
{
    /// <summary>How often findings are looked for (a report build: a pass over the analysis state, not over the packets).</summary>
    private static readonly TimeSpan FindingInterval = TimeSpan.FromSeconds(5);

    public static int Run(WatchSettings settings, CliOutput output)
    {
        TextWriter err = output.Error;
        CloudInventory inventory = settings.Inventory ?? new CloudInventory();
        var macs = inventory.GatewayPorts.Select(g => g.Mac).Concat(inventory.DistributedFloatingIps.Select(f => f.ExternalMac)).Distinct().ToList();
        string filter = settings.UserFilter ?? DefaultCaptureFilter.Build(macs);
        LiveCaptureReader reader;
        try
        {
            reader = LiveCaptureReader.Open(new LiveCaptureOptions
            {
                Interfaces = settings.Interfaces,
                Filter = filter.Length == 0 ? null : filter,
                Node = settings.Node,
                PeriodicInterval = TimeSpan.FromMilliseconds(500),
                Pcap = new PcapSettings
                {
                    SnapLength = 65_535,
                    Promiscuous = true,
                    BufferSize = settings.BufferBytes,
                    ImmediateMode = true, // events as they happen
                    TimeoutMilliseconds = 100,
                },
            });
        }
        catch (LiveCaptureException ex)
        {
            err.WriteLine($"uplinkprobe: {ex.Message}");
            return ExitCodes.Failure;
        }

        using (reader)
        {
            return Watch(reader, settings, inventory, filter, macs.Count, output);
        }
    }

    private static int Watch(LiveCaptureReader reader, WatchSettings settings, CloudInventory inventory, string filter, int filterMacs, CliOutput output)
    {
        TextWriter err = output.Error;
        using LiveEventWriter writer = settings.Json ? LiveEventWriter.ForJsonLines(output.Stream) : LiveEventWriter.ForText(output.Text);
        void Emit(LiveEvent e)
        {
            writer.Write(e);
            output.Flush(); // a watcher wants each event now, not when a buffer fills
        }

        var session = new WatchSession(inventory, null, Emit);
        var sources = settings.Interfaces.Select(name => session.AddSource(name, settings.Node)).ToArray();

        var drops = new DropCounter(settings.Interfaces, reader.GetStatistics);

        string? stopBy = null; // the first of SIGINT, SIGTERM, --duration
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx =>
        {
            ctx.Cancel = true;
            Interlocked.CompareExchange(ref stopBy, "SIGINT", null);
            reader.Stop();
        });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            Interlocked.CompareExchange(ref stopBy, "SIGTERM", null);
            reader.Stop();
        });
        using Timer? timer = settings.Duration is { } limit
            ? new Timer(_ =>
            {
                Interlocked.CompareExchange(ref stopBy, "duration reached", null);
                reader.Stop();
            }, null, limit, Timeout.InfiniteTimeSpan)
            : null;

        void PollDrops(long now)
        {
            foreach (LiveEvent e in drops.Poll(now, session.Analysis.Packets, message => err.WriteLine($"uplinkprobe: {message}")))
            {
                err.WriteLine($"uplinkprobe: {e.Text}");
                Emit(e);
            }
        }

        long nextStatus = settings.StatusInterval > TimeSpan.Zero ? Environment.TickCount64 + (long)settings.StatusInterval.TotalMilliseconds : long.MaxValue;
        long nextFindings = Environment.TickCount64 + (long)FindingInterval.TotalMilliseconds;
        reader.Periodic = _ =>
        {
            long now = WatchSession.WallClockNs();
            session.Tick(now);
            PollDrops(now);
            long tick = Environment.TickCount64;
            if (tick >= nextFindings)
            {
                nextFindings = tick + (long)FindingInterval.TotalMilliseconds;
                session.CheckFindings(now);
            }

            if (tick >= nextStatus)
            {
                nextStatus = tick + (long)settings.StatusInterval.TotalMilliseconds;
                Emit(session.Status(now, drops));
            }
        };

        string filterText = settings.UserFilter is null
            ? (filterMacs > 0 ? $"default + {filterMacs} gateway/FIP MAC(s) of the inventory" : "default")
            : filter.Length == 0 ? "none" : filter;
        err.WriteLine($"uplinkprobe: watching {string.Join(", ", settings.Interfaces)} (node {settings.Node}, filter {filterText})");
        if (settings.UserFilter is null && inventory.GatewayPorts.Count == 0)
        {
            err.WriteLine("uplinkprobe: no inventory gateway ports: gateways are learned from their GARPs and followed through their ARP traffic only " +
                "(the default filter keeps no data frames); give --inventory, or -f \"\" on a quiet uplink, for the full timeline");
        }

        session.Analysis.Read(reader, i => sources[i]);

        long end = WatchSession.WallClockNs();
        session.Tick(end);
        PollDrops(end);
        int exit = ExitCodes.Ok;
        if (reader.Error is { } error)
        {
            err.WriteLine($"uplinkprobe: {error.Message}");
            session.ReadFailed(error.Message);

            exit = ExitCodes.Failure;
        }

        string stopReason = Volatile.Read(ref stopBy) ?? "capture ended";
        AnalysisReport report = session.CheckFindings(end);
        if (drops.KernelDrops > 0 || drops.InterfaceDrops > 0)
        {
            report.Notes.Add($"the capture missed packets: {drops.Summary()}; the timeline and counts can have holes");
        }

        writer.WriteReport(report, stopReason, session.Analysis.Packets, drops);
        output.Flush();
        err.WriteLine($"uplinkprobe: watch stopped ({stopReason}): {session.Analysis.Packets} packets; {drops.Summary()}");
        return exit;
    }
}
