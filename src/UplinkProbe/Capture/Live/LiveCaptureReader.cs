using System.Buffers.Binary;
using System.Runtime.InteropServices;
using UplinkProbe.Decoding;

namespace UplinkProbe.Capture.Live;

/// <summary>What to capture and how.</summary>
public sealed record LiveCaptureOptions
{
    /// <summary>Interface names (one or more).</summary>
    public required IReadOnlyList<string> Interfaces { get; init; }

    public PcapSettings Pcap { get; init; } = new();

    /// <summary>Capture filter (pcap-filter(7)) run in the kernel; null or empty captures everything.</summary>
    public string? Filter { get; init; }

    /// <summary>Which packets to keep (tcpdump -Q). Each kept packet carries its direction either way.</summary>
    public PcapCaptureDirection Direction { get; init; } = PcapCaptureDirection.InOut;

    /// <summary>Node name recorded with each interface (see <see cref="CaptureInterface.Node"/>).</summary>
    public string? Node { get; init; }

    /// <summary>How often <see cref="LiveCaptureReader.Periodic"/> runs.</summary>
    public TimeSpan PeriodicInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// A live capture as a <see cref="CaptureReader"/> (<see cref="CaptureFormat.Live"/>): the same span pipeline the file
/// readers feed (<see cref="PacketPipeline"/>), fed from libpcap. <see cref="TryReadNext"/> wraps pcap_next_ex: the span
/// is libpcap's buffer, valid until the next call, and nothing is allocated per packet.
/// <para>
/// Direction: libpcap 1.10 offers only Ethernet (and DOCSIS) on a named Ethernet interface — Linux cooked v2
/// (DLT_LINUX_SLL2), whose header carries the packet type, is refused there, and it would drop the destination MAC
/// anyway. So each NIC gets two handles, one keeping inbound and one outbound packets (a kernel BPF test of the
/// socket buffer's packet type attached with <see cref="PcapSession.SetKernelFilter"/>, plus pcap_setdirection), and
/// every packet's direction is the handle's. On a cooked link type
/// (the "any" device) one handle suffices and the direction is read from the SLL/SLL2 packet type (4 = outgoing).
/// </para>
/// <para>
/// Several NICs and both directions are read on one thread: every handle is non-blocking, the reader polls their
/// selectable descriptors and returns the earliest of the packets waiting at the head of each handle. Only
/// <see cref="Stop"/> may be called from another thread (or a signal handler); after it the reader drains what the
/// kernel already holds (partly filled ring blocks are handed over after the packet buffer timeout) and then ends.
/// </para>
/// </summary>
public sealed unsafe class LiveCaptureReader : CaptureReader
{
    private const int MaxPollMilliseconds = 100;

    /// <summary>Packets returned before handles found empty are asked again (so a busy handle cannot starve a quiet one).</summary>
    private const int RecheckEvery = 64;

    private readonly Tap[] _taps;
    private readonly LinuxPollFd[] _pollFds;
    private readonly LiveCaptureOptions _options;
    private readonly long _drainWindowNs;
    private int _returned = -1;
    private long _number;
    private long _stopRequestedNs; // wall clock ns; 0 = running
    private long _nextPeriodic;
    private bool _finished;
    private int _sinceRecheck;

    private LiveCaptureReader(LiveCaptureOptions options, Tap[] taps, List<CaptureInterface> interfaces)
    {
        _options = options;
        _taps = taps;
        _pollFds = new LinuxPollFd[taps.Length];
        for (int i = 0; i < taps.Length; i++)
        {
            _pollFds[i] = new LinuxPollFd { Fd = taps[i].Fd, Events = LinuxPollFd.PollIn };
        }

        InterfaceList.AddRange(interfaces);
        _drainWindowNs = (options.Pcap.ImmediateMode ? 20 : options.Pcap.TimeoutMilliseconds + 150) * 1_000_000L;
        _nextPeriodic = Environment.TickCount64 + (long)options.PeriodicInterval.TotalMilliseconds;
    }

    public override CaptureFormat Format => CaptureFormat.Live;

    public override ReadOnlySpan<byte> CurrentComment => ReadOnlySpan<byte>.Empty;

    /// <summary>Runs on the reading thread, between packets, every <see cref="LiveCaptureOptions.PeriodicInterval"/> (e.g. to read statistics).</summary>
    public Action<LiveCaptureReader>? Periodic { get; set; }

    /// <summary>Runs on the reading thread each time no packet waits and the reader is about to sleep (e.g. to flush output).</summary>
    public Action<LiveCaptureReader>? Idle { get; set; }

    /// <summary>True once <see cref="Stop"/> was called.</summary>
    public bool StopRequested => Volatile.Read(ref _stopRequestedNs) != 0;

    /// <summary>The filter each interface was opened with (null: none).</summary>
    public string? Filter => _options.Filter;

    /// <summary>pcap handles in use (two per Ethernet NIC capturing both directions).</summary>
    public int HandleCount => _taps.Length;

    /// <summary>Opens every interface of <paramref name="options"/>; throws a one-line <see cref="LiveCaptureException"/> on failure.</summary>
    public static LiveCaptureReader Open(LiveCaptureOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Interfaces.Count == 0)
        {
            throw new ArgumentException("at least one interface is needed", nameof(options));
        }

        var taps = new List<Tap>();
        var interfaces = new List<CaptureInterface>();
        try
        {
            for (int i = 0; i < options.Interfaces.Count; i++)
            {
                string name = options.Interfaces[i];
                CheckInterfaceIsUsable(name);
                PcapSession first = PcapSession.Open(name, options.Pcap);
                LinkType linkType = first.LinkType;
                bool cooked = linkType is LinkType.LinuxSll or LinkType.LinuxSll2;
                if (cooked || options.Direction != PcapCaptureDirection.InOut)
                {
                    taps.Add(Configure(first, i, options, options.Direction, cooked));
                }
                else
                {
                    taps.Add(Configure(first, i, options, PcapCaptureDirection.In, false));
                    taps.Add(Configure(PcapSession.Open(name, options.Pcap), i, options, PcapCaptureDirection.Out, false));
                }

                interfaces.Add(new CaptureInterface
                {
                    Index = i,
                    LocalId = i,
                    LinkType = linkType,
                    RawLinkType = (uint)linkType,
                    SnapLength = (uint)first.SnapLength,
                    Name = name,
                    Filter = string.IsNullOrEmpty(options.Filter) ? null : options.Filter,
                    Node = options.Node,
                    Description = options.Node is null ? null : CaptureInterface.NodePrefix + options.Node,
                    OperatingSystem = OperatingSystemName,
                    TicksPerSecond = 1_000_000_000,
                    FcsLength = 0,
                });
            }
        }
        catch
        {
            foreach (Tap t in taps)
            {
                t.Session.Dispose();
            }

            throw;
        }

        return new LiveCaptureReader(options, taps.ToArray(), interfaces);
    }

    /// <summary>"Linux KERNEL-RELEASE" for if_os.</summary>
    public static string OperatingSystemName
    {
        get
        {
            try
            {
                return "Linux " + File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
            }
            catch (IOException)
            {
                return "Linux";
            }
        }
    }

    /// <summary>Asks the reader to end: it returns what the kernel already captured, then false. Thread-safe.</summary>
    public void Stop()
    {
        long now = WallClockNs();
        Interlocked.CompareExchange(ref _stopRequestedNs, now == 0 ? 1 : now, 0);
    }

    /// <summary>pcap_stats of interface <paramref name="interfaceIndex"/>, over all its handles (interface drops counted once).</summary>
    public PcapStatistics GetStatistics(int interfaceIndex)
    {
        ulong received = 0, dropped = 0, ifDropped = 0;
        foreach (Tap tap in _taps)
        {
            if (tap.InterfaceIndex != interfaceIndex)
            {
                continue;
            }

            PcapStatistics s = tap.Session.GetStatistics();
            received += s.Received;
            dropped += s.Dropped;
            ifDropped = Math.Max(ifDropped, s.InterfaceDropped); // every handle of a NIC reads the same NIC counter
        }

        return new PcapStatistics(received, dropped, ifDropped);
    }

    public override bool TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data)
    {
        if (_returned >= 0)
        {
            // The caller is done with the packet returned last time (its span is valid only until this call).
            _taps[_returned].HasPending = false;
            _returned = -1;
        }

        while (!_finished)
        {
            if (Periodic is not null && Environment.TickCount64 >= _nextPeriodic)
            {
                _nextPeriodic = Environment.TickCount64 + (long)_options.PeriodicInterval.TotalMilliseconds;
                Periodic(this);
            }

            long stopNs = Volatile.Read(ref _stopRequestedNs);
            long cutoffNs = stopNs == 0 ? long.MaxValue : stopNs + _drainWindowNs;
            if (!Fill(cutoffNs))
            {
                break;
            }

            int best = -1;
            for (int i = 0; i < _taps.Length; i++)
            {
                if (_taps[i].HasPending && (best < 0 || _taps[i].TimestampNs < _taps[best].TimestampNs))
                {
                    best = i;
                }
            }

            if (best >= 0)
            {
                ref Tap tap = ref _taps[best];
                _returned = best;
                data = new ReadOnlySpan<byte>(tap.Data, tap.CapturedLength);
                CaptureInterface iface = InterfaceList[tap.InterfaceIndex];
                record = new CaptureRecord
                {
                    Number = ++_number,
                    TimestampNs = tap.TimestampNs,
                    HasTimestamp = true,
                    InterfaceId = tap.InterfaceIndex,
                    InterfaceIndex = tap.InterfaceIndex,
                    LinkType = iface.LinkType,
                    Direction = tap.DirectionFromHeader ? CookedDirection(data, iface.LinkType) : tap.Direction,
                    OriginalLength = tap.OriginalLength,
                    CapturedLength = tap.CapturedLength,
                };
                Statistics.Packets++;
                return true;
            }

            if (stopNs != 0)
            {
                bool allDone = true;
                long now = WallClockNs();
                for (int i = 0; i < _taps.Length; i++)
                {
                    if (!_taps[i].Done && now >= cutoffNs)
                    {
                        _taps[i].Done = true;
                    }

                    allDone &= _taps[i].Done;
                }

                if (allDone)
                {
                    break;
                }
            }

            Idle?.Invoke(this);
            Wait(stopNs == 0 ? MaxPollMilliseconds : (int)Math.Clamp((cutoffNs - WallClockNs()) / 1_000_000 + 1, 1, MaxPollMilliseconds));
        }

        _finished = true;
        record = default;
        data = default;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (Tap tap in _taps)
            {
                tap.Session.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>Reads the head packet of every handle that has none; false when a read failed (<see cref="CaptureReader.Error"/> is set).</summary>
    private bool Fill(long cutoffNs)
    {
        bool recheck = _sinceRecheck >= RecheckEvery;
        for (int i = 0; i < _taps.Length; i++)
        {
            ref Tap tap = ref _taps[i];
            if (tap.HasPending || tap.Done || (tap.Empty && _sinceRecheck < RecheckEvery))
            {
                continue; // an empty non-blocking read costs libpcap a poll(2): ask again only after a wait or some packets
            }

            int rc = tap.Session.TryNextRaw(out long ts, out int original, out byte* bytes, out int captured);
            if (rc == 1)
            {
                if (ts > cutoffNs)
                {
                    tap.Done = true; // arrived after the stop request and its drain window: not part of this capture
                    continue;
                }

                tap.HasPending = true;
                tap.Empty = false;
                tap.TimestampNs = ts;
                tap.OriginalLength = original;
                tap.Data = bytes;
                tap.CapturedLength = captured;
            }
            else if (rc == 0)
            {
                tap.Empty = true;
            }
            else if (rc != LibPcap.ErrorBreak)
            {
                Error = new CaptureFileError(_number, $"{tap.Session.Device}: capture failed: {tap.Session.LastErrorText}");
                return false;
            }
        }

        _sinceRecheck = recheck ? 0 : _sinceRecheck + 1;
        return true;
    }

    private void Wait(int milliseconds)
    {
        fixed (LinuxPollFd* fds = _pollFds)
        {
            for (int i = 0; i < _pollFds.Length; i++)
            {
                fds[i].Revents = 0;
            }

            _ = LinuxPollFd.Poll(fds, (nuint)_pollFds.Length, milliseconds); // EINTR or timeout: the loop looks again
        }

        for (int i = 0; i < _taps.Length; i++)
        {
            _taps[i].Empty = false; // after a wait every handle is asked again
        }
    }

    private static PacketDirection CookedDirection(ReadOnlySpan<byte> data, LinkType linkType)
    {
        // Packet type: SLL bytes 0-1, SLL2 byte 10 (tcpdump.org linktype LINUX_SLL / LINUX_SLL2); 0-3 arrived, 4 was sent.
        int type = linkType == LinkType.LinuxSll
            ? (data.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(data) : -1)
            : (data.Length >= 11 ? data[10] : -1);
        return type switch
        {
            >= 0 and <= 3 => PacketDirection.Inbound,
            4 => PacketDirection.Outbound,
            _ => PacketDirection.Unknown,
        };
    }

    private static void CheckInterfaceIsUsable(string name)
    {
        if (name is "any")
        {
            return;
        }

        IReadOnlyList<PcapDeviceInfo> devices = PcapSession.FindAllDevices();
        PcapDeviceInfo? device = devices.FirstOrDefault(d => d.Name == name);
        if (device is null && PcapSession.NetworkInterfaceIndex(name) == 0)
        {
            throw new LiveCaptureException(LiveCaptureErrorKind.NoSuchInterface, name, PcapSession.DescribeMissingInterface(name));
        }

        if (device is { IsNetworkInterface: true, IsUp: false })
        {
            throw new LiveCaptureException(LiveCaptureErrorKind.InterfaceDown, name,
                $"{name}: interface is down (bring it up: ip link set {name} up); interfaces: "
                + string.Join(", ", devices.Where(d => d.IsNetworkInterface).Select(d => d.IsUp ? d.Name : d.Name + " (down)")));
        }
    }

    private static Tap Configure(PcapSession session, int interfaceIndex, LiveCaptureOptions options, PcapCaptureDirection direction, bool cooked)
    {
        try
        {
            string? filter = string.IsNullOrWhiteSpace(options.Filter) ? null : options.Filter;
            string? kernel = filter;
            if (!cooked && direction != PcapCaptureDirection.InOut)
            {
                // Decide the direction in the kernel (BPF reads the socket buffer's packet type) so a handle's ring only
                // ever holds its own direction; the direction test goes first because "vlan" shifts later offsets.
                string test = direction == PcapCaptureDirection.In ? "inbound" : "outbound";
                kernel = filter is null ? test : $"{test} and ({filter})";
            }

            if (kernel is not null)
            {
                if (filter is not null)
                {
                    session.SetKernelFilter(filter, null); // compiles the user's expression alone first, so errors name it
                }

                session.SetKernelFilter(kernel, filter);
            }

            if (direction != PcapCaptureDirection.InOut)
            {
                session.SetDirection(direction);
            }

            session.SetNonBlocking(true);
            return new Tap
            {
                Session = session,
                InterfaceIndex = interfaceIndex,
                Fd = session.SelectableFd,
                DirectionFromHeader = cooked,
                Direction = direction switch
                {
                    PcapCaptureDirection.In => PacketDirection.Inbound,
                    PcapCaptureDirection.Out => PacketDirection.Outbound,
                    _ => PacketDirection.Unknown,
                },
            };
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static long WallClockNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    private struct Tap
    {
        public PcapSession Session;
        public int InterfaceIndex;
        public int Fd;
        public PacketDirection Direction;
        public bool DirectionFromHeader;
        public bool HasPending;
        public bool Done;
        public bool Empty;
        public long TimestampNs;
        public int OriginalLength;
        public int CapturedLength;
        public byte* Data;
    }
}

/// <summary>struct pollfd and poll(2).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe partial struct LinuxPollFd
{
    public const short PollIn = 0x1;

    public int Fd;
    public short Events;
    public short Revents;

    [LibraryImport("libc", EntryPoint = "poll")]
    public static partial int Poll(LinuxPollFd* fds, nuint count, int timeoutMilliseconds);
}
