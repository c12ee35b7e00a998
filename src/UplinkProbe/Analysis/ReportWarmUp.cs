using System.Runtime.InteropServices;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis;

/// <summary>
/// Builds and writes the report of a small made-up uplink on a background thread while the real captures are read.
/// </summary>
/// <remarks>
/// Building a report instantiates about a thousand generic methods over the analyzers' value types (collections and
/// LINQ of CoreLib), which ReadyToRun cannot precompile outside CoreLib's version bubble, so the runtime compiles them
/// when the report is first built: about 0.2 s, the same for a 100-packet capture as for a 10-million-packet one, on a
/// single thread after the last packet. Going through the same code earlier on a sample, while a core is idle (start-up)
/// or shared with the readers, leaves the compiled code in place for the real report. The sample has what makes every
/// part of the report run: a gateway that moves between two chassis with a full and a partial GARP burst, an address
/// claimed by two MACs, an unsolicited neighbour advertisement, RARP, Geneve with OVN's option (one packet near the
/// MTU), BFD in VNI 0 that comes up and goes down, broadcast and multicast frames, a transmit-only capture and one
/// without direction. Documentation addresses only; nothing leaves the process.
/// </remarks>
public static partial class ReportWarmUp
{
    /// <summary>Environment variable that turns the warm-up off when set to 1 (to measure without it).</summary>
    public const string DisableVariable = "UPLINKPROBE_NO_WARMUP";

    /// <summary>
    /// Captures smaller than this in total are not worth a warm-up: their report is due before the sample's is done,
    /// the two threads then wait for the same methods to compile, and the sample's own work is a loss (measured on
    /// 0.1 and 10 MB captures: the same time either way, about 0.07 s more CPU).
    /// </summary>
    public const long MinInputBytes = 64L << 20;

    /// <summary>True when the captures at <paramref name="paths"/> (those that exist) add up to <see cref="MinInputBytes"/>.</summary>
    public static bool IsWorthwhile(IEnumerable<string> paths)
    {
        long total = 0;
        foreach (string path in paths)
        {
            try
            {
                var file = new FileInfo(path);
                total += file.Exists ? file.Length : 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                // A capture that cannot be read is reported by the analysis.
            }
        }

        return total >= MinInputBytes;
    }

    private static readonly byte[] GatewayMac = [0x00, 0x16, 0x3e, 0xaa, 0x00, 0x02];
    private static readonly byte[] OtherMac = [0x00, 0x16, 0x3e, 0xaa, 0x00, 0x09];
    private static readonly byte[] UpstreamMac = [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01];
    private static readonly byte[] GatewayIp = [203, 0, 113, 10];
    private static readonly byte[] UpstreamIp = [203, 0, 113, 1];
    private static readonly byte[] GatewayIpv6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];
    private static readonly byte[] AllNodesIpv6 = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];
    private static readonly byte[] AllNodesMac = [0x33, 0x33, 0, 0, 0, 0x01];
    private static readonly byte[] MdnsMac = [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb];
    private static readonly byte[] MdnsIp = [224, 0, 0, 251];

    /// <summary>
    /// Starts the warm-up on a background thread that ends with the process; <paramref name="write"/> writes the
    /// sample report the way the real one will be written, to a sink that discards it. Does nothing when
    /// <see cref="DisableVariable"/> is 1. A failure of the warm-up is ignored: it only costs the time it saved.
    /// </summary>
    public static void Start(Action<AnalysisReport> write)
    {
        if (Environment.GetEnvironmentVariable(DisableVariable) == "1")
        {
            return;
        }

        var thread = new Thread(() =>
        {
            try
            {
                LowerPriority();
                write(BuildSampleReport());
            }
            catch (Exception)
            {
                // Nothing depends on the sample report.
            }
        })
        {
            IsBackground = true,
            Name = "uplinkprobe report warm-up",
        };
        thread.Start();
    }

    /// <summary>
    /// Nice 19 for the calling thread (Linux: a thread is a task of its own for setpriority): the warm-up then runs on
    /// cores the readers leave idle (start-up, a part that ends early) instead of taking time from them. Should the
    /// report need a method the warm-up is compiling, the waiting thread frees its core and the warm-up gets it.
    /// </summary>
    private static void LowerPriority()
    {
        try
        {
            _ = SetPriority(PriorityProcess, (uint)GetThreadId(), 19);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not Linux/glibc: the warm-up runs at normal priority.
        }
    }

    private const int PriorityProcess = 0; // PRIO_PROCESS: with a thread id, that thread only

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, uint who, int priority);

    /// <summary>The report of the sample uplink (see the remarks of <see cref="ReportWarmUp"/>).</summary>
    public static AnalysisReport BuildSampleReport()
    {
        var session = new AnalysisSession(new CloudInventory(), new AnalysisOptions());
        CaptureSource hv1 = session.AddSource("warm-up/hv1.pcap", "hv1", "--node", transmitOnly: true);
        CaptureSource hv2 = session.AddSource("warm-up/hv2.pcap", "hv2", "--node");
        var feeder = new Feeder(session);
        Span<byte> frame = stackalloc byte[1600];

        // hv1 claims the gateway at 0 s: the full OVN schedule, data from the gateway MAC, tunnels, BFD coming up.
        foreach (double at in (ReadOnlySpan<double>)[1, 3, 7, 15, 31])
        {
            feeder.Feed(hv1, at, frame[..OvnFrames.GratuitousArpRequest(frame, GatewayMac, GatewayIp)]);
            feeder.Feed(hv2, at, frame[..OvnFrames.GratuitousArpRequest(frame, GatewayMac, GatewayIp)]);
        }

        feeder.Feed(hv1, 2, frame[..OvnFrames.ReverseArpRequest(frame, GatewayMac)]);
        feeder.Feed(hv1, 4, frame[..UnsolicitedNeighborAdvertisement(frame)]);
        feeder.Feed(hv2, 5, frame[..OvnFrames.GratuitousArpRequest(frame, OtherMac, GatewayIp)]);
        BfdState[] states = [BfdState.Down, BfdState.Init, BfdState.Up, BfdState.Up, BfdState.Down];
        for (int i = 0; i < 40; i++)
        {
            double at = 1 + i;
            feeder.Feed(hv1, at, frame[..UpstreamTcp(frame, fromGateway: true)]);
            feeder.Feed(hv2, at + 0.1, frame[..UpstreamTcp(frame, fromGateway: false)]);
            feeder.Feed(hv1, at + 0.2, frame[..Geneve(frame, 1, 2, egressKey: 3, length: i == 7 ? 1514 : 200)]);
            feeder.Feed(hv2, at + 0.3, frame[..Geneve(frame, 2, 1, egressKey: 1, length: 120)]);
            feeder.Feed(hv2, at + 0.4, frame[..Broadcast(frame, i)]);
            feeder.Feed(hv1, at + 0.5, frame[..Bfd(frame, states[Math.Min(i / 8, states.Length - 1)])]);
        }

        // hv2 takes over at 45 s with a partial burst while hv1 still sends for a while: a move, an incomplete burst,
        // two nodes on one MAC at once.
        feeder.Feed(hv1, 46.2, frame[..UpstreamTcp(frame, fromGateway: true)]);
        feeder.Feed(hv1, 47.2, frame[..UpstreamTcp(frame, fromGateway: true)]);
        foreach (double at in (ReadOnlySpan<double>)[46, 48, 52])
        {
            feeder.Feed(hv2, at, frame[..OvnFrames.GratuitousArpRequest(frame, GatewayMac, GatewayIp)]);
            feeder.Feed(hv2, at + 0.5, frame[..UpstreamTcp(frame, fromGateway: true)]);
        }

        feeder.FeedInTimeOrder();
        return session.BuildReport();
    }

    private static int UpstreamTcp(Span<byte> frame, bool fromGateway)
    {
        var b = new FrameBuilder(frame);
        b.Ethernet(fromGateway ? UpstreamMac : GatewayMac, fromGateway ? GatewayMac : UpstreamMac, EtherTypes.Ipv4);
        b.BeginIpv4(fromGateway ? GatewayIp : UpstreamIp, fromGateway ? UpstreamIp : GatewayIp, IpProtocols.Tcp);
        b.BeginTcp(fromGateway ? (ushort)40000 : (ushort)443, fromGateway ? (ushort)443 : (ushort)40000, 1, 1, TcpFlags.Ack);
        return b.Finish(FrameBuilder.EthernetMinimumFrameLength);
    }

    private static int Geneve(Span<byte> frame, byte from, byte to, ushort egressKey, int length)
    {
        var b = new FrameBuilder(frame);
        b.Ethernet(ChassisMac(to), ChassisMac(from), EtherTypes.Ipv4);
        b.BeginIpv4([192, 0, 2, (byte)(10 + from)], [192, 0, 2, (byte)(10 + to)], IpProtocols.Udp, flags: Ipv4Flags.DontFragment);
        b.BeginUdp(50000, UdpPorts.Geneve);
        b.Geneve(2);
        b.OvnGeneveOption(1, egressKey);
        b.Ethernet(GatewayMac, [0x00, 0x16, 0x3e, 0xcc, 0x00, from], EtherTypes.Ipv4);
        b.BeginIpv4([198, 51, 100, from], UpstreamIp, IpProtocols.Udp);
        b.BeginUdp(40000, 40001);
        b.WriteZeros(Math.Max(0, length - b.Length));
        return b.Finish(FrameBuilder.EthernetMinimumFrameLength);
    }

    private static int Bfd(Span<byte> frame, BfdState state) => OvnFrames.BfdOverGeneve(frame,
        ChassisMac(1), ChassisMac(2), [192, 0, 2, 11], [192, 0, 2, 12], 49152,
        ChassisMac(1), OvnFrames.OvsBfdDestinationMac, [169, 254, 0, 1], [169, 254, 0, 2], 49152,
        new BfdControl { State = state, MyDiscriminator = 1, YourDiscriminator = state == BfdState.Down ? 0u : 2u });

    private static int UnsolicitedNeighborAdvertisement(Span<byte> frame)
    {
        var b = new FrameBuilder(frame);
        b.Ethernet(AllNodesMac, GatewayMac, EtherTypes.Ipv6);
        b.BeginIpv6(GatewayIpv6, AllNodesIpv6, IpProtocols.Icmpv6, hopLimit: 255);
        b.BeginNeighborAdvertisement(NeighborAdvertisementFlags.Override | NeighborAdvertisementFlags.Router, GatewayIpv6);
        b.NdpTargetLinkLayerAddress(GatewayMac);
        return b.Finish(FrameBuilder.EthernetMinimumFrameLength);
    }

    /// <summary>Alternately an LLDP-like broadcast and an mDNS multicast, from an upstream MAC.</summary>
    private static int Broadcast(Span<byte> frame, int i)
    {
        var b = new FrameBuilder(frame);
        if (i % 2 == 0)
        {
            b.Ethernet(OvnFrames.BroadcastMac, UpstreamMac, 0x88b5);
            b.WriteZeros(46);
        }
        else
        {
            b.Ethernet(MdnsMac, UpstreamMac, EtherTypes.Ipv4);
            b.BeginIpv4(UpstreamIp, MdnsIp, IpProtocols.Udp, ttl: 255);
            b.BeginUdp(5353, 5353);
        }

        return b.Finish(FrameBuilder.EthernetMinimumFrameLength);
    }

    private static byte[] ChassisMac(byte n) => [0x00, 0x00, 0x5e, 0x00, 0x53, (byte)(0x10 + n)];

    /// <summary>Collects frames, then feeds them in time order (a stable sort), numbering each source's records.</summary>
    private sealed class Feeder(AnalysisSession session)
    {
        private const long T0 = 1_790_000_000_000_000_000;
        private readonly List<(long Ns, CaptureSource Source, byte[] Frame)> _frames = new();

        public void Feed(CaptureSource source, double seconds, ReadOnlySpan<byte> frame) =>
            _frames.Add((T0 + (long)(seconds * 1e9), source, frame.ToArray()));

        public void FeedInTimeOrder()
        {
            var numbers = new long[session.Sources.Count];
            foreach ((long ns, CaptureSource source, byte[] frame) in _frames.OrderBy(f => f.Ns))
            {
                var record = new CaptureRecord
                {
                    Number = ++numbers[source.Index],
                    TimestampNs = ns,
                    HasTimestamp = true,
                    LinkType = LinkType.Ethernet,
                    Direction = PacketDirection.Unknown,
                    OriginalLength = frame.Length,
                    CapturedLength = frame.Length,
                };
                session.OnPacket(source, record, frame);
            }
        }
    }
}
