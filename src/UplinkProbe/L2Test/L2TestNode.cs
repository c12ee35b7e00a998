using System.Text;
using UplinkProbe.Decoding;

namespace UplinkProbe.L2Test;

/// <summary>
/// One node's probe logic without any I/O: decides which frame to send next (a round of every kind, directed kinds once
/// per learned peer), records what it sent, and accounts every received frame. <see cref="L2TestRunner"/> drives it over
/// a libpcap handle; tests drive it directly.
/// </summary>
public sealed class L2TestNode
{
    private readonly byte[] _name;
    private readonly Queue<(L2ProbeKind Kind, int Vlan, L2Peer? Peer)> _round = new();
    private readonly Dictionary<(L2ProbeKind, int, string?), L2SentStream> _sent = [];
    private readonly Dictionary<(string, L2ProbeKind, int), L2ReceivedStream> _received = [];
    private readonly Dictionary<string, L2Peer> _peers = new(StringComparer.Ordinal);
    private readonly List<(byte[] Utf8, string Name)> _names = [];

    public L2TestNode(string node, string iface, MacAddress nicMac, int vlanId)
    {
        if (!L2Probe.IsValidNodeName(node))
        {
            throw new ArgumentException("the node name must be 1..64 UTF-8 bytes without control characters", nameof(node));
        }

        _name = Encoding.UTF8.GetBytes(node);
        Result = new L2NodeResult
        {
            Node = node,
            Interface = iface,
            NicMac = nicMac,
            ForeignMac = L2Probe.ForeignMac(node, nicMac),
            VlanId = vlanId,
        };
    }

    public L2NodeResult Result { get; }

    public IReadOnlyCollection<L2Peer> Peers => _peers.Values;

    /// <summary>Builds the next probe into <paramref name="buffer"/> and records it as sent at <paramref name="nowNs"/>.</summary>
    public int NextFrame(Span<byte> buffer, long nowNs)
    {
        if (_round.Count == 0)
        {
            FillRound();
        }

        (L2ProbeKind kind, int vlan, L2Peer? peer) = _round.Dequeue();
        var key = (kind, vlan, peer?.Node);
        if (!_sent.TryGetValue(key, out L2SentStream? stream))
        {
            stream = new L2SentStream { Kind = kind, VlanId = vlan, To = peer?.Node, ToMac = peer?.NicMac ?? default };
            _sent.Add(key, stream);
            Result.Sent.Add(stream);
        }

        stream.TimesNs.Add(nowNs);
        var spec = new L2ProbeSpec(kind, (uint)stream.Count, nowNs, Result.NicMac, Result.ForeignMac, peer?.NicMac ?? default, vlan);
        return L2Probe.Build(buffer, spec, _name);
    }

    /// <summary>A round: every undirected kind, then the directed kinds for every peer known, each untagged then tagged.</summary>
    private void FillRound()
    {
        foreach (L2ProbeKind kind in L2ProbeKinds.All)
        {
            if (!L2ProbeKinds.IsDirected(kind))
            {
                EnqueueBothTags(kind, null);
            }
        }

        foreach (L2Peer peer in _peers.Values.OrderBy(p => p.Node, StringComparer.Ordinal))
        {
            EnqueueDirected(peer);
        }
    }

    private void EnqueueDirected(L2Peer peer)
    {
        foreach (L2ProbeKind kind in L2ProbeKinds.All)
        {
            if (L2ProbeKinds.IsDirected(kind))
            {
                EnqueueBothTags(kind, peer);
            }
        }
    }

    private void EnqueueBothTags(L2ProbeKind kind, L2Peer? peer)
    {
        _round.Enqueue((kind, -1, peer));
        if (Result.VlanId >= 0)
        {
            _round.Enqueue((kind, Result.VlanId, peer));
        }
    }

    /// <summary>Accounts one captured frame received at <paramref name="timestampNs"/>. Never throws on packet bytes.</summary>
    public void OnFrame(long timestampNs, ReadOnlySpan<byte> frame)
    {
        L2IgnoredCounts ignored = Result.Ignored;
        switch (L2Probe.TryDecode(frame, out L2ProbeFrame probe))
        {
            case L2ProbeProblem.Foreign:
                ignored.Foreign++;
                return;
            case L2ProbeProblem.Malformed:
                ignored.Malformed++;
                return;
            case L2ProbeProblem.ShapeMismatch:
                ignored.ShapeMismatch++;
                return;
        }

        if (probe.NodeName.SequenceEqual(_name))
        {
            ignored.Own++;
            return;
        }

        if (NameOf(probe.NodeName) is not { } from)
        {
            ignored.Foreign++; // more distinct senders than any cluster has: a flood of made-up names, not peers
            return;
        }

        if (!_peers.ContainsKey(from) && !probe.SenderMac.IsMulticast && !probe.SenderMac.IsZero)
        {
            // Learned from any probe kind, so a peer whose broadcasts do not arrive still gets unicast and solicited-node probes.
            var peer = new L2Peer(from, probe.SenderMac, timestampNs);
            _peers.Add(from, peer);
            Result.Peers.Add(peer);
            EnqueueDirected(peer); // served in the current round, not only from the next one

        }

        if (!L2Probe.IsAddressedTo(probe, Result.NicMac))
        {
            ignored.NotForUs++;
            return;
        }

        var key = (from, probe.Kind, probe.VlanId);
        if (!_received.TryGetValue(key, out L2ReceivedStream? r))
        {
            r = new L2ReceivedStream { From = from, Kind = probe.Kind, VlanId = probe.VlanId, FirstSequence = probe.Sequence, FirstNs = timestampNs };
            _received.Add(key, r);
            Result.Received.Add(r);
        }
        else if (probe.Sequence <= r.LastSequence)
        {
            r.OutOfOrder++;
        }

        r.FromMac = probe.SenderMac;
        r.EthernetSource = probe.EthernetSource;
        r.Count++;
        r.LastSequence = Math.Max(r.LastSequence, probe.Sequence);
        r.FirstSequence = Math.Min(r.FirstSequence, probe.Sequence);
        r.LastNs = timestampNs;
        long delay = timestampNs - probe.SendTimeNs;
        r.DelayMinNs = Math.Min(r.DelayMinNs, delay);
        r.DelayMaxNs = Math.Max(r.DelayMaxNs, delay);
        r.DelaySumNs += delay;
    }

    /// <summary>At most this many distinct sender names are tracked.</summary>
    public const int MaxPeers = 256;

    private string? NameOf(ReadOnlySpan<byte> utf8)
    {
        foreach ((byte[] bytes, string name) in _names)
        {
            if (utf8.SequenceEqual(bytes))
            {
                return name;
            }
        }

        if (_names.Count >= MaxPeers)
        {
            return null;
        }

        string s = Encoding.UTF8.GetString(utf8);
        _names.Add((utf8.ToArray(), s));
        return s;
    }
}
