using System.Runtime.InteropServices;

namespace UplinkProbe.Decoding;

/// <summary>
/// Running counts over decoded packets: layers by kind, problems by kind, packets of unsupported link types by
/// link-type number, totals. <see cref="Add"/> does not allocate except the first time a new unsupported link
/// type is seen.
/// </summary>
public sealed class DecodeStatistics
{
    private static readonly int LayerKindCount = MaxValue<LayerKind>() + 1;
    private static readonly int ProblemCount = MaxValue<DecodeProblem>() + 1;

    private readonly long[] _layers = new long[LayerKindCount];
    private readonly long[] _packetsWithLayer = new long[LayerKindCount];
    private readonly long[] _problems = new long[ProblemCount];
    private readonly Dictionary<int, long> _unsupportedLinkTypes = new();

    /// <summary>Packets given to <see cref="Add"/>, unsupported link types included.</summary>
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
    public long LayerCount(LayerKind kind) => (uint)kind < (uint)_layers.Length ? _layers[(int)kind] : 0;

    /// <summary>Packets that contain at least one layer of <paramref name="kind"/>.</summary>
    public long PacketsWith(LayerKind kind) => (uint)kind < (uint)_packetsWithLayer.Length ? _packetsWithLayer[(int)kind] : 0;

    public long ProblemCountOf(DecodeProblem problem) => (uint)problem < (uint)_problems.Length ? _problems[(int)problem] : 0;

    /// <summary>Packets per unsupported link-type number.</summary>
    public IReadOnlyDictionary<int, long> UnsupportedLinkTypes => _unsupportedLinkTypes;

    public void Add(DecodedPacket packet)
    {
        Packets++;
        Bytes += packet.Length;

        ReadOnlySpan<Layer> layers = packet.Layers;
        ulong seen0 = 0, seen1 = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            int k = (int)layers[i].Kind;
            _layers[k]++;
            if (k >= 128)
            {
                continue;
            }

            if (k < 64)
            {
                seen0 |= 1UL << k;
            }
            else
            {
                seen1 |= 1UL << (k - 64);
            }
        }

        while (seen0 != 0)
        {
            int k = System.Numerics.BitOperations.TrailingZeroCount(seen0);
            _packetsWithLayer[k]++;
            seen0 &= seen0 - 1;
        }

        while (seen1 != 0)
        {
            int k = System.Numerics.BitOperations.TrailingZeroCount(seen1);
            _packetsWithLayer[k + 64]++;
            seen1 &= seen1 - 1;
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

    public void Clear()
    {
        Array.Clear(_layers);
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
