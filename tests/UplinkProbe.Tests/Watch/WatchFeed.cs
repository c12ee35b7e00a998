using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Analysis.Live;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Tests.Analysis;

namespace UplinkProbe.Tests.Watch;

/// <summary>
/// A <see cref="WatchSession"/> fed with hand-built frames (the <see cref="Scenario"/> frames: OVN GARPs, pings with the
/// gateway MAC) as a live capture would deliver them, collecting the events. Times are seconds after <see cref="Scenario.T0"/>.
/// </summary>
internal sealed class WatchFeed
{
    private long _number;

    public WatchFeed(CloudInventory? inventory = null, params string[] nodes)
    {
        Session = new WatchSession(inventory, null, Events.Add);
        foreach (string node in nodes.Length == 0 ? ["hv1"] : nodes)
        {
            Sources[node] = Session.AddSource("up0", node);
        }
    }

    public WatchSession Session { get; }

    public Dictionary<string, CaptureSource> Sources { get; } = new(StringComparer.Ordinal);

    public List<LiveEvent> Events { get; } = new();

    public static long Ns(double seconds) => Scenario.T0 + (long)Math.Round(seconds * 1e9);

    public static CloudInventory OvnInventory()
    {
        using var s = new Scenario();
        return s.WithOvnInventory().Inventory;
    }

    public WatchFeed Packet(double seconds, byte[] frame, PacketDirection direction, string node = "hv1")
    {
        var record = new CaptureRecord
        {
            Number = ++_number,
            TimestampNs = Ns(seconds),
            HasTimestamp = true,
            LinkType = LinkType.Ethernet,
            Direction = direction,
            OriginalLength = frame.Length,
            CapturedLength = frame.Length,
        };
        Session.Analysis.OnPacket(Sources[node], record, frame);
        return this;
    }

    public WatchFeed Sent(double seconds, byte[] frame, string node = "hv1") => Packet(seconds, frame, PacketDirection.Outbound, node);

    public WatchFeed Heard(double seconds, byte[] frame, string node = "hv1") => Packet(seconds, frame, PacketDirection.Inbound, node);

    /// <summary>Pings with the gateway MAC toward the upstream router every 0.2 s from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public WatchFeed Traffic(double from, double to, string node = "hv1")
    {
        byte[] ping = Scenario.Ping(Scenario.GatewayMac, Scenario.RouterMac, Scenario.GatewayIp, Scenario.UpstreamIp);
        for (double t = from; t <= to + 1e-9; t += 0.2)
        {
            Sent(t, ping, node);
        }

        return this;
    }

    public WatchFeed Tick(double seconds)
    {
        Session.Tick(Ns(seconds));
        return this;
    }

    public List<LiveEvent> Of(LiveEventKind kind) => Events.Where(e => e.Kind == kind).ToList();
}
