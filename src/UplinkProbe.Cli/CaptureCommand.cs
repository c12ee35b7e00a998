using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.InteropServices;
using UplinkProbe.Capture;
using UplinkProbe.Capture.Live;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;

namespace UplinkProbe.Cli;

/// <summary>
/// <c>uplinkprobe capture -i IFACE [-i IFACE…] [--node NAME] [-f BPF] [-c COUNT] [--duration T] [-w FILE.pcapng]
/// [--rotate-size N|--rotate-seconds N] [--ring N]</c>: live capture into pcapng, or one decoded line per packet.
/// </summary>
public static class CaptureCommand
{
    /// <summary>Exit code when the capture ran to its end but the kernel dropped packets (ring buffer full).</summary>

    public static Command Build(CliOutput output)
    {
        var interfaces = new Option<string[]>("--interface", "-i")
        {
            Description = "interface to capture on; repeat for several NICs (one pcapng interface each)",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
            Required = true,
        };
        var node = new Option<string?>("--node") { Description = "node name recorded with every interface (default: the host name)" };
        var filter = new Option<string?>("--filter", "-f")
        {
            Description = "capture filter (pcap-filter(7)) replacing the default, which keeps ARP, RARP, ICMPv6, Geneve, VXLAN and BFD; \"\" captures everything",
        };
        var count = new Option<long?>("--count", "-c") { Description = "stop after this many packets" };
        var duration = new Option<string?>("--duration") { Description = "stop after this long: seconds, or a number with s, m or h (e.g. 90s, 5m)" };
        var write = new Option<string?>("--write", "-w") { Description = "record into this pcapng file instead of printing one line per packet" };
        var rotateSize = new Option<string?>("--rotate-size") { Description = "start a new file after N bytes (suffix k, M, G: KiB, MiB, GiB); files are named FILE-00001.pcapng, …" };
        var rotateSeconds = new Option<int?>("--rotate-seconds") { Description = "start a new file every N seconds" };
        var ring = new Option<int?>("--ring") { Description = "keep only the newest N files (needs --rotate-size or --rotate-seconds)" };
        var direction = new Option<string>("--direction", "-Q") { Description = "which packets to keep: inout, in or out", DefaultValueFactory = _ => "inout" };
        direction.AcceptOnlyFromAmong("inout", "in", "out");
        var snaplen = new Option<int>("--snaplen", "-s") { Description = "bytes kept of each packet", DefaultValueFactory = _ => 262_144 };
        var buffer = new Option<int>("--buffer-size", "-B") { Description = "kernel ring buffer per handle, in MiB", DefaultValueFactory = _ => 8 };
        var noPromiscuous = new Option<bool>("--no-promiscuous", "-p") { Description = "do not put the interface into promiscuous mode" };
        var stats = new Option<int>("--stats-seconds") { Description = "read kernel and interface drop counters this often", DefaultValueFactory = _ => 10 };

        foreach (Option<long?> o in new[] { count })
        {
            o.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<long?>() is <= 0)
                {
                    r.AddError($"{r.Option.Name} must be a positive number");
                }
            });
        }

        foreach (Option<int?> o in new[] { rotateSeconds, ring })
        {
            o.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int?>() is <= 0)
                {
                    r.AddError($"{r.Option.Name} must be a positive number");
                }
            });
        }

        foreach (Option<int> o in new[] { snaplen, buffer, stats })
        {
            o.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() <= 0)
                {
                    r.AddError($"{r.Option.Name} must be a positive number");
                }
            });
        }

        node.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } n && !CaptureInterface.IsValidNodeName(n))
            {
                r.AddError("--node must be non-empty and contain no ';' or white space");
            }
        });
        duration.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } d && !TryParseDuration(d, out _))
            {
                r.AddError($"--duration '{d}' is not a duration (e.g. 30, 90s, 5m, 1h)");
            }
        });
        rotateSize.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } s && !TryParseSize(s, out _))
            {
                r.AddError($"--rotate-size '{s}' is not a size (e.g. 1000000, 100M, 1G)");
            }
        });

        var command = new Command("capture",
            "Capture live on one or more interfaces (needs CAP_NET_RAW, see run-as-root.md). Without -w, prints one decoded line per packet. " +
            "Stops on -c, --duration, SIGINT or SIGTERM with the file complete; kernel drops are written into the file and reported. " +
            "Exit codes: 0 done (kernel drops are reported on stderr and in the pcapng, never silently), 1 capture failed, 2 usage error.")
        {
            interfaces, node, filter, count, duration, write, rotateSize, rotateSeconds, ring, direction, snaplen, buffer, noPromiscuous, stats,
        };
        command.Validators.Add(r =>
        {
            bool rotates = r.GetValue(rotateSize) is not null || r.GetValue(rotateSeconds) is not null;
            if (rotates && r.GetValue(write) is null)
            {
                r.AddError("--rotate-size and --rotate-seconds need -w");
            }

            if (r.GetValue(ring) is not null && !rotates)
            {
                r.AddError("--ring needs --rotate-size or --rotate-seconds");
            }
        });

        command.SetAction(parse =>
        {
            string[] names = parse.GetValue(interfaces) ?? [];
            string? userFilter = parse.GetValue(filter);
            TryParseSize(parse.GetValue(rotateSize) ?? "0", out long rotateBytes);
            TimeSpan? limit = parse.GetValue(duration) is { } d && TryParseDuration(d, out TimeSpan t) ? t : null;
            var settings = new CaptureSettings
            {
                Interfaces = names.Distinct(StringComparer.Ordinal).ToArray(),
                Node = parse.GetValue(node) ?? DefaultNode(),
                Filter = userFilter ?? DefaultCaptureFilter.Build(),
                FilterIsDefault = userFilter is null,
                Count = parse.GetValue(count),
                Duration = limit,
                WritePath = parse.GetValue(write),
                RotateBytes = rotateBytes,
                RotateInterval = TimeSpan.FromSeconds(parse.GetValue(rotateSeconds) ?? 0),
                RingFiles = parse.GetValue(ring) ?? 0,
                Direction = parse.GetValue(direction) switch { "in" => PcapCaptureDirection.In, "out" => PcapCaptureDirection.Out, _ => PcapCaptureDirection.InOut },
                SnapLength = parse.GetValue(snaplen),
                BufferBytes = parse.GetValue(buffer) * 1024 * 1024,
                Promiscuous = !parse.GetValue(noPromiscuous),
                StatisticsInterval = TimeSpan.FromSeconds(parse.GetValue(stats)),
            };
            return CaptureRunner.Run(settings, output);
        });
        return command;
    }

    /// <summary>Seconds, or a number with s, m or h.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        string s = text.Trim();
        double scale = 1;
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            scale = char.ToLowerInvariant(s[^1]) switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 0 };
            s = s[..^1];
        }

        if (scale == 0 || !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || !(n > 0) || n * scale > 365 * 86400)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(n * scale);
        return true;
    }

    /// <summary>Bytes, or a number with k, M or G (powers of 1024).</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        string s = text.Trim();
        long scale = 1;
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            scale = char.ToLowerInvariant(s[^1]) switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, _ => 0 };
            s = s[..^1];
        }

        if (scale == 0 || !long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n < 0 || n > long.MaxValue / scale)
        {
            return false;
        }

        bytes = n * scale;
        return true;
    }

    internal static string DefaultNode()
    {
        string host = Environment.MachineName;
        int dot = host.IndexOf('.');
        host = dot > 0 ? host[..dot] : host;
        return CaptureInterface.IsValidNodeName(host) ? host : "unknown";
    }
}

internal sealed record CaptureSettings
{
    public required string[] Interfaces { get; init; }

    public required string Node { get; init; }

    public required string Filter { get; init; }

    public bool FilterIsDefault { get; init; }

    public long? Count { get; init; }

    public TimeSpan? Duration { get; init; }

    public string? WritePath { get; init; }

    public long RotateBytes { get; init; }

    public TimeSpan RotateInterval { get; init; }

    public int RingFiles { get; init; }

    public PcapCaptureDirection Direction { get; init; }

    public int SnapLength { get; init; }

    public int BufferBytes { get; init; }

    public bool Promiscuous { get; init; }

    public TimeSpan StatisticsInterval { get; init; }
}

/// <summary>The capture loop: open, read until a stop condition, record or print, report drops.</summary>
internal static class CaptureRunner
{
    public static int Run(CaptureSettings settings, CliOutput output)
    {
        TextWriter err = output.Error;
        LiveCaptureReader reader;
        try
        {
            reader = LiveCaptureReader.Open(new LiveCaptureOptions
            {
                Interfaces = settings.Interfaces,
                Filter = settings.Filter.Length == 0 ? null : settings.Filter,
                Direction = settings.Direction,
                Node = settings.Node,
                PeriodicInterval = TimeSpan.FromSeconds(1),
                Pcap = new PcapSettings
                {
                    SnapLength = settings.SnapLength,
                    Promiscuous = settings.Promiscuous,
                    BufferSize = settings.BufferBytes,
                    ImmediateMode = settings.WritePath is null, // printing: show each packet at once; recording: batch
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
            return Capture(reader, settings, output);
        }
    }

    private static int Capture(LiveCaptureReader reader, CaptureSettings settings, CliOutput output)
    {
        TextWriter err = output.Error;
        int nics = reader.Interfaces.Count;
        string filterText = settings.Filter.Length == 0 ? "none" : settings.FilterIsDefault ? "default (" + settings.Filter + ")" : settings.Filter;
        string description = $"node {settings.Node}, interfaces {string.Join(", ", settings.Interfaces)}, filter {filterText}";
        CaptureRecorder? recorder = null;
        if (settings.WritePath is { } path)
        {
            try
            {
                recorder = new CaptureRecorder(
                    new RecordingOptions { Path = path, RotateBytes = settings.RotateBytes, RotateInterval = settings.RotateInterval, RingFiles = settings.RingFiles },
                    reader.Interfaces, description);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                err.WriteLine($"uplinkprobe: {path}: cannot write: {ex.Message.ReplaceLineEndings(" ")}");
                return ExitCodes.Failure;
            }
        }

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

        var drops = new DropWatch(reader, err);
        long nextStats = Environment.TickCount64 + (long)settings.StatisticsInterval.TotalMilliseconds;
        reader.Periodic = r =>
        {
            if (Environment.TickCount64 >= nextStats)
            {
                nextStats = Environment.TickCount64 + (long)settings.StatisticsInterval.TotalMilliseconds;
                if (drops.Poll() && recorder is not null)
                {
                    recorder.WriteStatistics(drops.Get, "drops increased");
                }
                else if (recorder is not null)
                {
                    recorder.WriteStatistics(drops.Get);
                }
            }

            recorder?.Tick(drops.Get);
            recorder?.Flush();
            output.Flush();
        };
        reader.Idle = _ => output.Flush();

        err.WriteLine($"uplinkprobe: capturing on {string.Join(", ", settings.Interfaces)} (node {settings.Node}, filter {(settings.FilterIsDefault ? "default" : settings.Filter.Length == 0 ? "none" : settings.Filter)})"
            + (settings.WritePath is null ? string.Empty : $" into {settings.WritePath}"));

        var decoder = new PacketDecoder();
        var decoded = new DecodedPacket();
        var text = recorder is null ? new PacketTextFormatter() : null;
        long limitCount = settings.Count ?? long.MaxValue;
        long packets = 0;
        int exit = ExitCodes.Ok;
        try
        {
            while (packets < limitCount && reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
            {
                packets++;
                if (recorder is not null)
                {
                    recorder.Write(record, data, drops.Get);
                }
                else
                {
                    decoder.Decode(data, record.LinkType, decoded, record.OriginalLength);
                    output.Text.Write(text!.Format(record, data, decoded));
                    output.Text.Write('\n');
                }
            }
        }
        catch (IOException ex)
        {
            output.Flush();
            err.WriteLine($"uplinkprobe: write failed: {ex.Message.ReplaceLineEndings(" ")}");
            exit = ExitCodes.Failure;
        }

        drops.Poll();
        output.Flush();
        if (reader.Error is { } error)
        {
            err.WriteLine($"uplinkprobe: {error.Message}");
            exit = ExitCodes.Failure;
        }

        string stopReason = Volatile.Read(ref stopBy) ?? (packets >= limitCount ? "count reached" : "capture ended");
        string summary = drops.Summary(packets);
        try
        {
            recorder?.Finish($"uplinkprobe capture stopped {DateTime.UtcNow:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} ({stopReason}): {summary}", drops.Get);
        }
        catch (IOException ex)
        {
            err.WriteLine($"uplinkprobe: write failed: {ex.Message.ReplaceLineEndings(" ")}");
            exit = ExitCodes.Failure;
        }
        finally
        {
            recorder?.Dispose();
        }

        string files = recorder is null ? string.Empty
            : recorder.Files.Count == 1 ? $" into {recorder.Files[0]}" : $" into {recorder.Files.Count} files ({recorder.Files[0]} … {recorder.Files[^1]})";
        err.WriteLine($"uplinkprobe: capture stopped ({stopReason}): {summary}{files}");
        return exit;
    }

    /// <summary>Reads pcap_stats of every NIC, warns on stderr when kernel drops grow, and builds the summary.</summary>
    private sealed class DropWatch
    {
        private readonly LiveCaptureReader _reader;
        private readonly TextWriter _err;
        private readonly PcapStatistics[] _last;

        public DropWatch(LiveCaptureReader reader, TextWriter err)
        {
            _reader = reader;
            _err = err;
            _last = new PcapStatistics[reader.Interfaces.Count];
        }

        public ulong KernelDrops { get; private set; }

        public ulong InterfaceDrops { get; private set; }

        public PcapStatistics Get(int i) => _last[i];

        /// <summary>Reads the counters; true when a drop counter grew since the last read.</summary>
        public bool Poll()
        {
            bool grew = false;
            ulong kernel = 0, iface = 0;
            for (int i = 0; i < _last.Length; i++)
            {
                PcapStatistics now;
                try
                {
                    now = _reader.GetStatistics(i);
                }
                catch (LiveCaptureException ex)
                {
                    _err.WriteLine($"uplinkprobe: {ex.Message}");
                    continue;
                }

                if (now.Dropped > _last[i].Dropped || now.InterfaceDropped > _last[i].InterfaceDropped)
                {
                    grew = true;
                    _err.WriteLine($"uplinkprobe: {_reader.Interfaces[i].Name}: DROPPED packets: {now.Dropped} by the kernel (ring buffer full), {now.InterfaceDropped} by the interface, so far");
                }

                _last[i] = now;
                kernel += now.Dropped;
                iface += now.InterfaceDropped;
            }

            KernelDrops = kernel;
            InterfaceDrops = iface;
            return grew;
        }

        public string Summary(long packets)
        {
            string counts = string.Join(", ", _last.Select((s, i) => $"{_reader.Interfaces[i].Name} {s.Received} received by filter"));
            string dropped = KernelDrops > 0
                ? $"DROPPED {KernelDrops} packets (kernel ring buffer full; raise -B or narrow -f)"
                : "0 dropped by the kernel";
            string iface = InterfaceDrops > 0 ? $", {InterfaceDrops} dropped by the interface (NIC counter)" : string.Empty;
            return $"{packets} packets captured ({counts}); {dropped}{iface}";
        }
    }
}
