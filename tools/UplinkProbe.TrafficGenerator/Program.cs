// uplinkprobe-trafficgen: writes a deterministic synthetic OVN-uplink capture (classic pcap, nanosecond).
//   dotnet run -c Release --project tools/UplinkProbe.TrafficGenerator -- --packets N --seed S --out FILE
using System.Diagnostics;
using System.Globalization;
using UplinkProbe.Capture;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;

long packets = 100_000;
ulong seed = 1;
string? output = null;
bool quiet = false;
for (int i = 0; i < args.Length; i++)
{
    string a = args[i];
    string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{a} needs a value");
    try
    {
        switch (a)
        {
            case "--packets" or "-n":
                packets = long.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture);
                break;
            case "--seed" or "-s":
                seed = ulong.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture);
                break;
            case "--out" or "-o":
                output = Value();
                break;
            case "--quiet" or "-q":
                quiet = true;
                break;
            case "--help" or "-h":
                PrintUsage(Console.Out);
                return 0;
            default:
                throw new UsageException($"unknown argument '{a}'");
        }
    }
    catch (Exception e) when (e is UsageException or FormatException or OverflowException)
    {
        Console.Error.WriteLine($"uplinkprobe-trafficgen: {e.Message}");
        PrintUsage(Console.Error);
        return 64;
    }
}

if (output is null)
{
    Console.Error.WriteLine("uplinkprobe-trafficgen: --out FILE is required");
    PrintUsage(Console.Error);
    return 64;
}

var sw = Stopwatch.StartNew();
var traffic = new SyntheticUplinkTraffic(seed);
var frame = new byte[SyntheticUplinkTraffic.MaxFrameLength];
long bytes = 0;
try
{
    // The temporary name keeps a half-written file from looking like a finished one (bench.sh caches files).
    string partial = output + ".partial";
    using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 22))
    using (var writer = new PcapWriter(stream, LinkType.Ethernet, snapLength: 65535))
    {
        for (long n = 0; n < packets; n++)
        {
            int length = traffic.NextFrame(frame, out long ts);
            writer.Write(ts, frame.AsSpan(0, length));
            bytes += length;
        }
    }

    File.Move(partial, output, overwrite: true);
}
catch (IOException e)
{
    Console.Error.WriteLine($"uplinkprobe-trafficgen: {output}: {e.Message}");
    return 74;
}

if (!quiet)
{
    double s = sw.Elapsed.TotalSeconds;
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{output}: {packets} packets, {bytes} frame bytes, seed {seed}, {s:F2} s ({(packets > 0 ? s * 1e9 / packets : 0):F0} ns/packet)"));
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  geneve {traffic.Count(SyntheticFrameKind.Geneve)}, tcp {traffic.Count(SyntheticFrameKind.Tcp)}, arp {traffic.Count(SyntheticFrameKind.Arp)}, ndp {traffic.Count(SyntheticFrameKind.Ndp)}, vlan {traffic.Count(SyntheticFrameKind.VlanTagged)}, lldp/mdns/dhcp {traffic.Count(SyntheticFrameKind.Broadcast)}"));
}

return 0;

static void PrintUsage(TextWriter w) => w.WriteLine(
    "usage: uplinkprobe-trafficgen --packets N --seed S --out FILE [--quiet]\n" +
    "  Writes N frames of a synthetic OVN uplink mix (70% Geneve, 15% TCP, 5% ARP, 5% NDP, 3% VLAN,\n" +
    "  2% LLDP/mDNS/DHCP) as nanosecond pcap. The same seed always gives a byte-identical file.");

internal sealed class UsageException(string message) : Exception(message);
