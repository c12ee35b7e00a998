namespace UplinkProbe.Tests.Differential;

/// <summary>
/// The one place where UplinkProbe is allowed to disagree with tshark 4.0.17 on the shared corpus, each with its
/// reason. An entry that no longer matches a disagreement fails the test, so the list cannot go stale.
/// Packet numbers are tshark's frame numbers; an empty set means every packet of the file.
/// </summary>
internal static class DifferentialAllowList
{
    public sealed record Entry(string File, string Column, int[] Packets, string Reason);

    public static readonly Entry[] Entries =
    [
        new("tcpdump/timestamp_invalid_micro.pcap", "epoch", [3],
            "fraction 2147483648 µs: tshark multiplies it by 1000 in 32 bits (wraps to 0) and prints .000000000; we carry 2147.483648 s into the seconds"),
        new("tcpdump/timestamp_invalid_nano.pcap", "epoch", [3],
            "fraction 2147483648 ns: tshark stores it in a signed 32-bit field and prints -1418145370.2147483648; we carry 2.147483648 s into the seconds"),
    ];

    public static Entry? Find(string file, string column, int packet) =>
        Entries.FirstOrDefault(e => e.File == file && e.Column == column && (e.Packets.Length == 0 || e.Packets.Contains(packet)));
}
