using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace UplinkProbe.Decoding;

/// <summary>
/// Running counts over decoded packets: layers by kind, problems by kind, packets of unsupported link types by
/// link-type number, totals. <see cref="Add(DecodedPacket)"/> does not allocate except the first time a new unsupported link
/// type is seen.
/// </summary>
public sealed class DecodeStatistics
{
    private static readonly int ProblemCount = MaxValue<DecodeProblem>() + 1;

    private const int ChainSlotBits = 8;
    private const int ChainSlots = 1 << ChainSlotBits;

    private readonly long[] _layers = new long[64];
    private readonly long[] _packetsWithLayer = new long[64];

    // Whole layer chains (DecodedPacket.Chain) → packets: most traffic repeats a few chains, so one table probe
    // replaces a walk over the layers; Fold() spreads the tallies over the per-kind counters when they are read.
    private readonly ulong[] _chainKeys = new ulong[ChainSlots];
    private readonly long[] _chainPackets = new long[ChainSlots];
    private int _chainsUsed;
    private readonly long[] _problems = new long[ProblemCount];
    private readonly Dictionary<int, long> _unsupportedLinkTypes = new();

    /// <summary>Packets given to <see cref="Add(DecodedPacket)"/>, unsupported link types included.</summary>
    public long Packets { get; private set; }

    /// <summary>Sum of captured lengths.</summary>
    public long Bytes { get; private set; }

    /// <summary>Packets decoded to the end without a problem.</summary>
    public long CleanPackets { get; private set; }

    /// <summary>Packets that stopped on a truncation (the capture cut the packet inside a header).</summary>
    public long TruncatedPackets { get; private set; }

    /// <summary>Packets that stopped on a malformation, including complete packets too short for their headers.</summary>
    public long MalformedPackets { get; private set; }

    /// <summary>Packets that stopped on a decoder limit that is not the packet's fault (tunnel depth).</summary>
    public long OtherProblemPackets { get; private set; }

    /// <summary>Packets whose link type the decoder does not handle (not errors).</summary>
    public long UnsupportedLinkTypePackets { get; private set; }

    /// <summary>Layers of <paramref name="kind"/> seen (a QinQ packet counts two VLAN tags, a Geneve packet two Ethernet headers).</summary>
    public long LayerCount(LayerKind kind)
    {
        Fold();
        return (uint)kind < (uint)_layers.Length ? _layers[(int)kind] : 0;
    }

    /// <summary>Packets that contain at least one layer of <paramref name="kind"/>.</summary>
    public long PacketsWith(LayerKind kind)
    {
        Fold();
        return (uint)kind < (uint)_packetsWithLayer.Length ? _packetsWithLayer[(int)kind] : 0;
    }

    public long ProblemCountOf(DecodeProblem problem) => (uint)problem < (uint)_problems.Length ? _problems[(int)problem] : 0;

    /// <summary>Packets per unsupported link-type number.</summary>
    public IReadOnlyDictionary<int, long> UnsupportedLinkTypes => _unsupportedLinkTypes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(DecodedPacket packet)
    {
        Packets++;
        Bytes += packet.Length;

        int count = packet.LayerCount;
        if ((uint)(count - 1) < DecodedPacket.ChainCapacity)
        {
            CountChain(packet.Chain, packet);
        }
        else if (count != 0)
        {
            CountLayers(packet.Layers, 1);
        }

        DecodeProblem problem = packet.Problem;
        if (problem == DecodeProblem.None)
        {
            CleanPackets++;
            return;
        }

        if (problem == DecodeProblem.UnsupportedLinkType)
        {
            UnsupportedLinkTypePackets++;
            _problems[(int)problem]++;
            CollectionsMarshal.GetValueRefOrAddDefault(_unsupportedLinkTypes, (int)packet.LinkType, out _)++;
            return;
        }

        _problems[(int)problem]++;
        if (packet.IsTruncated)
        {
            TruncatedPackets++;
        }
        else if (packet.IsMalformed)
        {
            MalformedPackets++;
        }
        else
        {
            OtherProblemPackets++;
        }
    }

    /// <summary>Adds every count of <paramref name="other"/> (e.g. of another part of the same file) to these.</summary>
    public void Add(DecodeStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        other.Fold();
        for (int i = 0; i < _layers.Length; i++)
        {
            _layers[i] += other._layers[i];
            _packetsWithLayer[i] += other._packetsWithLayer[i];
        }

        for (int i = 0; i < _problems.Length; i++)
        {
            _problems[i] += other._problems[i];
        }

        foreach ((int linkType, long packets) in other._unsupportedLinkTypes)
        {
            CollectionsMarshal.GetValueRefOrAddDefault(_unsupportedLinkTypes, linkType, out _) += packets;
        }

        Packets += other.Packets;
        Bytes += other.Bytes;
        CleanPackets += other.CleanPackets;
        TruncatedPackets += other.TruncatedPackets;
        MalformedPackets += other.MalformedPackets;
        OtherProblemPackets += other.OtherProblemPackets;
        UnsupportedLinkTypePackets += other.UnsupportedLinkTypePackets;
    }

    /// <summary>Tallies one packet under its whole layer chain (one probe of a small open-addressing table).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CountChain(ulong chain, DecodedPacket packet)
    {
        ulong[] keys = _chainKeys;
        int slot = (int)((chain * 0x9E37_79B9_7F4A_7C15UL) >> (64 - ChainSlotBits));
        while (true)
        {
            ulong key = keys[slot];
            if (key == chain)
            {
                _chainPackets[slot]++;
                return;
            }

            if (key == 0)
            {
                AddChain(slot, chain, packet);
                return;
            }

            slot = (slot + 1) & (ChainSlots - 1);
        }
    }

    /// <summary>A chain seen for the first time: a new table entry, or, once the table is three-quarters full, direct counts.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddChain(int slot, ulong chain, DecodedPacket packet)
    {
        if (_chainsUsed >= ChainSlots * 3 / 4)
        {
            CountLayers(packet.Layers, 1);
            return;
        }

        _chainsUsed++;
        _chainKeys[slot] = chain;
        _chainPackets[slot] = 1;
    }

    private void CountLayers(ReadOnlySpan<Layer> layers, long packets)
    {
        ulong seen = 0;
        foreach (Layer layer in layers)
        {
            int k = (int)layer.Kind & 63;
            _layers[k] += packets;
            seen |= 1UL << k;
        }

        while (seen != 0)
        {
            _packetsWithLayer[BitOperations.TrailingZeroCount(seen)] += packets;
            seen &= seen - 1;
        }
    }

    /// <summary>Moves the chain table's tallies into the per-kind counters (before they are read).</summary>
    private void Fold()
    {
        if (_chainsUsed == 0)
        {
            return;
        }

        Span<Layer> kinds = stackalloc Layer[DecodedPacket.ChainCapacity];
        for (int slot = 0; slot < ChainSlots; slot++)
        {
            ulong chain = _chainKeys[slot];
            if (chain == 0 || _chainPackets[slot] == 0)
            {
                continue;
            }

            int n = 0;
            for (ulong c = chain; c != 0; c >>= 6)
            {
                kinds[n++] = new Layer((LayerKind)(c & 63), 0, 0, 0);
            }

            CountLayers(kinds[..n], _chainPackets[slot]);
            _chainPackets[slot] = 0;
        }
    }

    public void Clear()
    {
        Array.Clear(_layers);
        Array.Clear(_chainKeys);
        Array.Clear(_chainPackets);
        _chainsUsed = 0;
        Array.Clear(_packetsWithLayer);
        Array.Clear(_problems);
        _unsupportedLinkTypes.Clear();
        Packets = Bytes = CleanPackets = TruncatedPackets = MalformedPackets = OtherProblemPackets = UnsupportedLinkTypePackets = 0;
    }

    private static int MaxValue<T>()
        where T : struct, Enum
    {
        int max = 0;
        foreach (T value in Enum.GetValues<T>())
        {
            max = Math.Max(max, Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture));
        }

        return max;
    }
}
