using System.Net.NetworkInformation;
using UplinkProbe.Capture.Live;
using UplinkProbe.Decoding;

namespace UplinkProbe.L2Test;

/// <summary>Settings of one node's l2test run.</summary>
public sealed record L2TestOptions
{
    public required string Interface { get; init; }

    public required string Node { get; init; }

    /// <summary>The whole run: listening from start to end; probes are sent inside it, after <see cref="Quiet"/> and until <see cref="Quiet"/> before the end.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Also send every kind inside an 802.1Q tag with this VLAN ID; -1 for none.</summary>
    public int VlanId { get; init; } = -1;

    /// <summary>Listen-only time at the start and at the end; null: a fifth of the duration, at most 5 s.</summary>
    public TimeSpan? Quiet { get; init; }

    /// <summary>Frames per second, all kinds together; at most <see cref="L2TestRunner.MaxFramesPerSecond"/>.</summary>
    public double FramesPerSecond { get; init; } = L2TestRunner.MaxFramesPerSecond;

    public TimeSpan EffectiveQuiet => Quiet ?? TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, Duration.Ticks / 5));
}

/// <summary>Runs <see cref="L2TestNode"/> on a live interface: one libpcap handle receives the probes (kernel filter) and injects ours.</summary>
public static class L2TestRunner
{
    public const double MaxFramesPerSecond = 10;

    /// <summary>
    /// Sends and listens for <see cref="L2TestOptions.Duration"/> (or until <paramref name="cancel"/>), then returns what it
    /// saw. Nothing is sent after the send window ends. Capture problems come as one-line <see cref="LiveCaptureException"/>s.
    /// </summary>
    public static L2NodeResult Run(L2TestOptions options, TextWriter? log, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.FramesPerSecond is <= 0 or > MaxFramesPerSecond)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"the rate must be above 0 and at most {MaxFramesPerSecond} frames/s");
        }

        using PcapSession session = PcapSession.Open(options.Interface, new PcapSettings
        {
            SnapLength = 512,
            Promiscuous = true, // unicast to a peer's MAC reaches only that peer; promiscuous shows what a switch floods
            ImmediateMode = true,
            BufferSize = 1 << 20,
            TimeoutMilliseconds = 20,
        });
        if (session.LinkType != LinkType.Ethernet)
        {
            throw new LiveCaptureException(LiveCaptureErrorKind.Failed, options.Interface,
                $"{options.Interface}: not an Ethernet interface (link type {session.LinkType}); l2test needs the uplink NIC");
        }

        MacAddress nic = NicMac(options.Interface);
        session.SetKernelFilter(L2Probe.CaptureFilter, L2Probe.CaptureFilter);
        session.SetDirection(PcapCaptureDirection.In);
        session.SetNonBlocking(true); // reads never block: the loop waits in poll(2) until a frame or the next send is due

        var node = new L2TestNode(options.Node, options.Interface, nic, options.VlanId);
        L2NodeResult result = node.Result;
        if (session.ActivationWarning is { } warning)
        {
            result.Warnings.Add(warning);
        }

        long start = NowNs();
        long interval = (long)(1e9 / options.FramesPerSecond);
        long quiet = options.EffectiveQuiet.Ticks * 100;
        long end = start + options.Duration.Ticks * 100;
        result.StartNs = start;
        result.SendStartNs = start + quiet;
        result.SendEndNs = Math.Max(result.SendStartNs, end - quiet);
        log?.WriteLine($"l2test: {options.Node} on {options.Interface} ({nic}), foreign source {result.ForeignMac}: " +
            $"listening {options.Duration.TotalSeconds:0.#} s, sending from +{quiet / 1e9:0.#} s to +{(result.SendEndNs - start) / 1e9:0.#} s " +
            $"at {options.FramesPerSecond:0.#} frames/s (EtherType 0x{L2Probe.EtherType:x4}, UDP {L2Probe.UdpPort})");

        byte[] frame = new byte[L2Probe.MaxFrameLength];
        long nextSend = result.SendStartNs;
        while (!cancel.IsCancellationRequested)
        {
            long now = NowNs();
            if (now >= end)
            {
                break;
            }

            if (now >= nextSend && now < result.SendEndNs)
            {
                int length = node.NextFrame(frame, now);
                session.Inject(frame.AsSpan(0, length));
                nextSend = now + interval; // at least one interval between frames: never above the rate
            }

            long until = Math.Min(end, now < result.SendEndNs ? Math.Max(nextSend, now) : end);
            Wait(session.SelectableFd, (int)Math.Clamp((until - now) / 1_000_000, 0, 50));
            ReadFor(session, node);
        }

        result.EndNs = NowNs();
        try
        {
            result.Ignored.KernelDropped = (long)session.GetStatistics().Dropped;
        }
        catch (LiveCaptureException ex)
        {
            result.Warnings.Add(ex.Message);
        }

        return result;
    }

    private static unsafe void Wait(int fd, int milliseconds)
    {
        if (milliseconds <= 0)
        {
            return;
        }

        var p = new LinuxPollFd { Fd = fd, Events = LinuxPollFd.PollIn };
        _ = LinuxPollFd.Poll(&p, 1, milliseconds); // EINTR or timeout: the loop looks at the clock again
    }

    /// <summary>Hands every frame waiting (up to 64) to the node; returns at once when none waits (non-blocking handle).</summary>
    private static unsafe void ReadFor(PcapSession session, L2TestNode node)
    {
        for (int i = 0; i < 64; i++)
        {
            int rc = session.TryNextRaw(out long ts, out _, out byte* data, out int captured);
            if (rc != 1)
            {
                return;
            }

            node.OnFrame(ts, new ReadOnlySpan<byte>(data, captured));
        }
    }

    /// <summary>The interface's Ethernet address in this network namespace.</summary>
    public static MacAddress NicMac(string iface)
    {
        NetworkInterface? ni = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == iface);
        byte[] bytes = ni?.GetPhysicalAddress().GetAddressBytes() ?? [];
        if (bytes.Length != MacAddress.Size || MacAddress.Read(bytes).IsZero || MacAddress.Read(bytes).IsMulticast)
        {
            throw new LiveCaptureException(LiveCaptureErrorKind.Failed, iface, $"{iface}: has no unicast Ethernet address; l2test needs the uplink NIC");
        }

        return MacAddress.Read(bytes);
    }

    private static long NowNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
}
