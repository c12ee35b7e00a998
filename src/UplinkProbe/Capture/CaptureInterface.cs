using UplinkProbe.Decoding;

namespace UplinkProbe.Capture;

/// <summary>One capture interface: a pcapng IDB, the implicit interface of a classic pcap file, or a live NIC.</summary>
public sealed class CaptureInterface
{
    /// <summary>Index in <see cref="CaptureReader.Interfaces"/>.</summary>
    public int Index { get; init; }

    public int Section { get; init; }

    /// <summary>Interface id within its section (the number EPBs refer to).</summary>
    public int LocalId { get; init; }

    public LinkType LinkType { get; init; }

    /// <summary>Link type field as written, before masking (pcap upper bits carry FCS information).</summary>
    public uint RawLinkType { get; init; }

    /// <summary>Snapshot length; 0 means unlimited (pcapng).</summary>
    public uint SnapLength { get; init; }

    public string? Name { get; init; }

    public string? Description { get; init; }

    public string? Comment { get; init; }

    public string? Filter { get; init; }

    public string? OperatingSystem { get; init; }

    public string? Hardware { get; init; }

    /// <summary>Timestamp units per second (if_tsresol; 10^6 by default, 10^9 for nanosecond pcap).</summary>
    public ulong TicksPerSecond { get; init; } = 1_000_000;

    /// <summary>if_tsoffset in seconds, added to every timestamp of this interface.</summary>
    public long TimestampOffsetSeconds { get; init; }

    /// <summary>FCS bytes at the end of every packet: pcap link type bits 26-31 or pcapng if_fcslen; -1 when the file does not say.</summary>
    public int FcsLength { get; init; } = -1;

    /// <summary>
    /// Node name this interface belongs to, when the capture says so. UplinkProbe writes it at the start of the pcapng
    /// if_description as <c>node=NAME</c>, optionally followed by <c>; </c> and a free description, e.g.
    /// <c>node=mc1; uplink bond0</c>. NAME runs up to the first ';' or white space. See <see cref="ParseNode"/>.
    /// </summary>
    public string? Node { get; init; }

    internal const string NodePrefix = "node=";

    /// <summary>The node name of an if_description of the form <c>node=NAME[; description]</c>, else null.</summary>
    public static string? ParseNode(string? description)
    {
        if (description is null || !description.StartsWith(NodePrefix, StringComparison.Ordinal))
        {
            return null;
        }

        ReadOnlySpan<char> rest = description.AsSpan(NodePrefix.Length);
        int end = rest.IndexOfAny(';', ' ', '\t');
        ReadOnlySpan<char> node = end < 0 ? rest : rest[..end];
        return node.IsEmpty ? null : node.ToString();
    }

    /// <summary>True when <paramref name="node"/> can be written in an if_description and read back by <see cref="ParseNode"/>.</summary>
    public static bool IsValidNodeName(string node) =>
        node.Length > 0 && node.AsSpan().IndexOfAny(";\r\n\t ") < 0;
}
