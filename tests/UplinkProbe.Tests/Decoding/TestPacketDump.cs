using System.Reflection;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Decoding;

/// <summary>
/// Writes every hand-written test packet to a pcap so it can be checked with an independent decoder:
/// <c>UPLINKPROBE_DUMP_TEST_PACKETS=/tmp/dir dotnet test --filter TestPacketDump</c>, then
/// <c>tshark -r /tmp/dir/ethernet.pcap -V</c>. Without the variable the test only checks that every packet is
/// well-formed hex (it is a no-op otherwise).
/// </summary>
public class TestPacketDump
{
    [Fact]
    public void DumpTestPacketsWhenAsked()
    {
        var packets = new List<(string Name, byte[] Bytes)>();
        foreach (FieldInfo f in typeof(TestPackets).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (f.GetValue(null) is byte[] bytes)
            {
                packets.Add((f.Name, bytes));
            }
        }

        packets.Add(("Vxlan4789", TestPackets.VxlanArp(4789)));
        packets.Add(("Vxlan8472", TestPackets.VxlanArp(8472)));
        packets.Add(("Vxlan4790", TestPackets.VxlanArp(4790)));
        Assert.NotEmpty(packets);

        string? dir = Environment.GetEnvironmentVariable("UPLINKPROBE_DUMP_TEST_PACKETS");
        if (string.IsNullOrEmpty(dir))
        {
            return;
        }

        Directory.CreateDirectory(dir);
        var byLink = new Dictionary<LinkType, PcapWriter>();
        using var names = new StreamWriter(Path.Combine(dir, "names.txt"));
        foreach ((string name, byte[] bytes) in packets)
        {
            LinkType link = name.StartsWith("Sll2", StringComparison.Ordinal) ? LinkType.LinuxSll2
                : name.StartsWith("Sll", StringComparison.Ordinal) ? LinkType.LinuxSll
                : LinkType.Ethernet;
            if (!byLink.TryGetValue(link, out PcapWriter? w))
            {
                w = byLink[link] = PcapWriter.Create(Path.Combine(dir, link.ToString().ToLowerInvariant() + ".pcap"), link);
            }

            w.Write(0, bytes);
            names.WriteLine($"{link}\t{name}");
        }

        foreach (PcapWriter w in byLink.Values)
        {
            w.Dispose();
        }
    }
}
