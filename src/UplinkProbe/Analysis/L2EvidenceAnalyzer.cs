using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.L2Test;

namespace UplinkProbe.Analysis;

/// <summary>The broadcast/multicast kinds the passive evidence tells apart (names as in l2test where they overlap).</summary>
public enum L2EvidenceKind : byte
{
    Broadcast,

    /// <summary>IPv4 to 224.0.0.0/24.</summary>
    Ipv4LinkLocal,

    /// <summary>Any other IPv4 group (239.0.0.0/8 admin-scoped included).</summary>
    Ipv4Multicast,

    /// <summary>IPv6 ff02::1.</summary>
    Ipv6AllNodes,

    /// <summary>IPv6 ff02::1:ffXX:XXXX (NDP).</summary>
    Ipv6SolicitedNode,

    /// <summary>Any other IPv6 group (MLD reports, all-routers, …).</summary>
    Ipv6Multicast,

    /// <summary>Other group MACs (STP, LLDP, CDP, …).</summary>
    OtherMulticast,
}

/// <summary>
/// Frames of one kind one node received from one source MAC. <c>SourceName</c> is the node the source MAC belongs to,
/// when the inventory, that node's own transmitted frames or an l2test probe tell.
/// </summary>
public sealed record L2EvidenceRow(string Node, L2EvidenceKind Kind, MacAddress Source, string? SourceName, long Frames, long FirstNs, long LastNs)
{
    public static string KindName(L2EvidenceKind kind) => kind switch
    {
        L2EvidenceKind.Broadcast => "broadcast",
        L2EvidenceKind.Ipv4LinkLocal => "ipv4-link-local",
        L2EvidenceKind.Ipv4Multicast => "ipv4-multicast",
        L2EvidenceKind.Ipv6AllNodes => "ipv6-all-nodes",
        L2EvidenceKind.Ipv6SolicitedNode => "ipv6-solicited-node",
        L2EvidenceKind.Ipv6Multicast => "ipv6-multicast",
        _ => "other-multicast",
    };
}

/// <summary>
/// Passive evidence for the l2test question: which broadcast and multicast kinds each node's NIC received, from which
/// peers, during normal operation. Counts inbound frames (and frames of captures without direction that a node's own
/// NIC did not send). At most <see cref="MaxEntries"/> (capture, kind, source) entries: beyond that the lowest
/// (capture index, kind, source MAC) combinations are kept and the frames of the others counted as overflow — a choice
/// that does not depend on the order of the frames, so parts of a capture analysed apart merge to the same answer.
/// Frames of captures beyond the first <see cref="MaxSources"/> of one analysis are only counted.
/// </summary>
public sealed class L2EvidenceAnalyzer : UplinkAnalyzer
{
    public const int MaxEntries = 4096;

    /// <summary>Captures beyond this many in one analysis are not itemised (their frames are only counted, in a note of their own): the key packs the capture index into 13 bits.</summary>
    public const int MaxSources = 1 << SourceBits;

    private const int SourceBits = 13;
    private const int KindShift = 48;
    private const int SourceShift = 51;
    private const ulong KindMask = (1UL << (SourceShift - KindShift)) - 1;

    // Keyed by (capture index, kind, source MAC) packed into one ulong in that order of significance, so the keys
    // compare as the tuples would and a lookup hashes one number. Capped: the lowest keys are kept.
    private readonly OrderedTable<ulong, Entry, NumberKeyHasher> _entries;
    private readonly Dictionary<ulong, string> _ownMacs = []; // source MACs each node was seen sending (outbound), for names
    private readonly Dictionary<ulong, string> _probeNames = [];
    private long _overflow;
    private long _beyondSources;

    public L2EvidenceAnalyzer() => _entries = new(MaxEntries, Comparer<ulong>.Default, e => _overflow += e.Frames);

    /// <summary>Inlined into the session's loop: most frames are received unicast, which this analyzer does not count,
    /// and return here without the frame set-up of the method that counts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override void OnPacket(in UplinkPacket packet)
    {
        if (packet.Record.LinkType == LinkType.Ethernet && EthernetHeader.TryRead(packet.Data, out EthernetHeader ethernet, out _)
            && (packet.Direction == PacketDirection.Outbound || ethernet.Destination.IsMulticast)) // sent, or to a group address
        {
            OnSentOrGroupFrame(packet, ethernet);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void OnSentOrGroupFrame(in UplinkPacket packet, EthernetHeader ethernet)
    {
        ReadOnlySpan<byte> data = packet.Data;

        MacAddress destination = ethernet.Destination;
        MacAddress source = ethernet.Source;
        if (packet.Direction == PacketDirection.Outbound)
        {
            if (!source.IsMulticast && _ownMacs.Count < MaxEntries)
            {
                _ownMacs.TryAdd(source.Value, packet.Source.Node);
            }

            return;
        }

        if (!destination.IsMulticast)
        {
            return;
        }

        L2EvidenceKind kind = Classify(data, destination);
        if (L2Probe.TryDecode(data, out L2ProbeFrame probe) == L2ProbeProblem.None && !_probeNames.ContainsKey(probe.EthernetSource.Value)
            && _probeNames.Count < MaxEntries)
        {
            _probeNames[probe.EthernetSource.Value] = System.Text.Encoding.UTF8.GetString(probe.NodeName);
        }

        if ((uint)packet.Source.Index >= MaxSources)
        {
            _beyondSources++;
            return;
        }

        ref Entry entry = ref _entries.GetValueRefOrAddDefault(KeyOf(packet.Source.Index, kind, source.Value), out bool exists);
        if (!exists)
        {
            if (Unsafe.IsNullRef(ref entry))
            {
                _overflow++;
                return;
            }

            entry = new Entry { Frames = 1, FirstNs = packet.TimestampNs, LastNs = packet.TimestampNs };
            return;
        }

        entry.Frames++;
        entry.FirstNs = Math.Min(entry.FirstNs, packet.TimestampNs);
        entry.LastNs = Math.Max(entry.LastNs, packet.TimestampNs);
    }

    /// <summary>
    /// The kept entries are the lowest keys among all seen (<see cref="OrderedTable{TKey, TValue, THasher}"/>'s cap),
    /// which parts merge to exactly. Own MACs and probe names keep their first value and the first keys up to the cap:
    /// the later part's are added in its order while there is room.
    /// </summary>
    internal override void Append(UplinkAnalyzer later, long frameOffset, IReadOnlyList<CaptureSource> sources)
    {
        var other = (L2EvidenceAnalyzer)later;
        _overflow += other._overflow;
        _entries.AppendPart(other._entries, (ref Entry entry, bool exists, in Entry theirs) => entry = !exists ? theirs : new Entry
        {
            Frames = entry.Frames + theirs.Frames,
            FirstNs = Math.Min(entry.FirstNs, theirs.FirstNs),
            LastNs = Math.Max(entry.LastNs, theirs.LastNs),
        }, e => _overflow += e.Frames);
        _beyondSources += other._beyondSources;
        foreach ((ulong mac, string node) in other._ownMacs)
        {
            if (_ownMacs.Count < MaxEntries)
            {
                _ownMacs.TryAdd(mac, node);
            }
        }

        foreach ((ulong mac, string name) in other._probeNames)
        {
            if (_probeNames.Count < MaxEntries)
            {
                _probeNames.TryAdd(mac, name);
            }
        }
    }

    internal override void WriteState(TextWriter w)
    {
        // Nothing depends on the entries' order (the report sorts them), so the state lists them by key.
        var beyond = new List<Entry>();
        foreach ((ulong key, Entry e) in _entries.Kept(beyond).OrderBy(x => x.Key))
        {
            (int source, L2EvidenceKind kind, ulong mac) = Unpack(key);
            w.WriteLine($"entry {source} {kind} {new MacAddress(mac)} {e.Frames} {e.FirstNs}..{e.LastNs}");
        }

        w.WriteLine($"overflow {_overflow + beyond.Sum(e => e.Frames)} beyond sources {_beyondSources}");
        foreach ((ulong mac, string node) in _ownMacs)
        {
            w.WriteLine($"own {new MacAddress(mac)} {node}");
        }

        foreach ((ulong mac, string name) in _probeNames)
        {
            w.WriteLine($"probe {new MacAddress(mac)} {name}");
        }
    }

    private static ulong KeyOf(int source, L2EvidenceKind kind, ulong mac) => ((ulong)source << SourceShift) | ((ulong)kind << KindShift) | mac;

    private static (int Source, L2EvidenceKind Kind, ulong Mac) Unpack(ulong key) =>
        ((int)(key >> SourceShift), (L2EvidenceKind)((key >> KindShift) & KindMask), key & 0xFFFF_FFFF_FFFFUL);

    public override void Complete(AnalysisContext context, AnalysisReport report)
    {
        // Merge per node (a node may have several captures) and name the sources.
        var merged = new Dictionary<(string Node, L2EvidenceKind Kind, ulong Mac), Entry>();
        var beyond = new List<Entry>();
        foreach ((ulong key, Entry e) in _entries.Kept(beyond))
        {
            (int index, L2EvidenceKind kind, ulong mac) = Unpack(key);
            string node = context.Sources[index].Node;
            if (_ownMacs.TryGetValue(mac, out string? owner) && owner == node)
            {
                continue; // the node's own frames in a capture without direction
            }

            ref Entry m = ref CollectionsMarshal.GetValueRefOrAddDefault(merged, (node, kind, mac), out bool exists);
            m = exists
                ? new Entry { Frames = m.Frames + e.Frames, FirstNs = Math.Min(m.FirstNs, e.FirstNs), LastNs = Math.Max(m.LastNs, e.LastNs) }
                : e;
        }

        var rows = new List<L2EvidenceRow>(merged.Count);
        foreach (((string node, L2EvidenceKind kind, ulong mac), Entry e) in merged)
        {
            var address = new MacAddress(mac);
            string? name = context.Inventory.FindNodeByMac(address)?.Name
                ?? (_ownMacs.TryGetValue(mac, out string? o) ? o : null)
                ?? (_probeNames.TryGetValue(mac, out string? p) ? p : null);
            rows.Add(new L2EvidenceRow(node, kind, address, name, e.Frames, e.FirstNs, e.LastNs));
        }

        // By node, kind, most frames first, source; (node, kind, source) is unique, so the order is total. Rows sorted
        // with a comparison: that code is precompiled, LINQ's sorters over tuples are compiled at run time.
        rows.Sort(static (a, b) => string.CompareOrdinal(a.Node, b.Node) is int n && n != 0 ? n
            : a.Kind != b.Kind ? a.Kind.CompareTo(b.Kind)
            : a.Frames != b.Frames ? b.Frames.CompareTo(a.Frames)
            : a.Source.Value.CompareTo(b.Source.Value));
        report.L2Evidence.AddRange(rows);

        long overflow = _overflow + beyond.Sum(e => e.Frames);
        if (overflow > 0)
        {
            report.Notes.Add($"broadcast/multicast evidence: {overflow} frames from more than {MaxEntries} (node, kind, source) combinations were not itemised");
        }

        if (_beyondSources > 0)
        {
            report.Notes.Add($"broadcast/multicast evidence: {_beyondSources} frames of captures beyond the first {MaxSources} were not itemised");
        }
    }

    /// <summary>The kind of a group-addressed Ethernet frame (one 802.1Q tag allowed), from its IP destination where it has one.</summary>
    public static L2EvidenceKind Classify(ReadOnlySpan<byte> frame, MacAddress destination)
    {
        if (destination.IsBroadcast)
        {
            return L2EvidenceKind.Broadcast;
        }

        int offset = 12;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        if (type == EtherTypes.Vlan && frame.Length >= 18)
        {
            offset = 16;
            type = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
        }

        ReadOnlySpan<byte> l3 = frame[(offset + 2)..];
        if (type == EtherTypes.Ipv4 && l3.Length >= 20 && (l3[0] >> 4) == 4 && l3[16] is >= 224 and <= 239)
        {
            return l3[16] == 224 && l3[17] == 0 && l3[18] == 0 ? L2EvidenceKind.Ipv4LinkLocal : L2EvidenceKind.Ipv4Multicast;
        }

        if (type == EtherTypes.Ipv6 && l3.Length >= 40 && (l3[0] >> 4) == 6 && l3[24] == 0xff)
        {
            var group = Ipv6Address.Read(l3[24..]);
            return group == L2Probe.AllNodes ? L2EvidenceKind.Ipv6AllNodes
                : group.IsSolicitedNodeMulticast ? L2EvidenceKind.Ipv6SolicitedNode
                : L2EvidenceKind.Ipv6Multicast;
        }

        // Not IP (or cut short): judge by the MAC alone (RFC 1112 6.4, RFC 2464 7).
        ulong mac = destination.Value;
        if ((mac >> 24) == 0x01_00_5e)
        {
            return (mac & 0x7f_ffff) <= 0xff ? L2EvidenceKind.Ipv4LinkLocal : L2EvidenceKind.Ipv4Multicast;
        }

        if ((mac >> 32) == 0x3333)
        {
            return mac == 0x3333_0000_0001UL ? L2EvidenceKind.Ipv6AllNodes
                : (mac >> 24) == 0x33_33_ff ? L2EvidenceKind.Ipv6SolicitedNode
                : L2EvidenceKind.Ipv6Multicast;
        }

        return L2EvidenceKind.OtherMulticast;
    }

    private struct Entry
    {
        public long Frames;
        public long FirstNs;
        public long LastNs;
    }
}
