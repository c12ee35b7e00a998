using System.Runtime.CompilerServices;

namespace UplinkProbe.Decoding;

/// <summary>
/// The result of decoding one packet: the chain of layers (kinds and offsets into the packet span) and, when
/// decoding stopped early, the problem. One instance is reused for every packet; it holds no packet bytes.
/// </summary>
public sealed class DecodedPacket
{
    /// <summary>Enough for the ~70-header IPv6 chains seen in real fuzz captures plus tunnels.</summary>
    public const int MaxLayers = 128;

    private readonly Layer[] _layers = new Layer[MaxLayers];
    /// <summary>How many layer kinds <see cref="Chain"/> holds exactly (6 bits each).</summary>
    public const int ChainCapacity = 10;

    private int _count;
    private int _positions; // layers of _layers that are valid: _count, or 0 after PacketDecoder.DecodeChain's straight-line path
    private ulong _chain;

    public int LayerCount => _count;

    /// <summary>
    /// The kinds of the layers in order, 6 bits each, the last layer in the low bits: exact while
    /// <see cref="LayerCount"/> ≤ <see cref="ChainCapacity"/> (kinds are below 64 and never 0), so counters can tally
    /// whole chains with one lookup instead of walking them.
    /// </summary>
    public ulong Chain => _chain;

    /// <summary>One bit per <see cref="LayerKind"/> present (bit n = kind n).</summary>
    public ulong LayerMask
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _maskKnown ? _mask : ComputeLayerMask();
    }

    private ulong ComputeLayerMask()
    {
        ulong mask = 0;
        foreach (Layer layer in Layers)
        {
            mask |= 1UL << ((int)layer.Kind & 63);
        }

        _mask = mask;
        _maskKnown = true;
        return mask;
    }

    // The decoder's common path knows the mask as it goes; the general one leaves it to be computed when first asked.
    private ulong _mask;
    private bool _maskKnown;

    /// <summary>The layers with their offsets and lengths; empty when <see cref="HasLayerPositions"/> is false.</summary>
    public ReadOnlySpan<Layer> Layers => new(_layers, 0, _positions);

    /// <summary>
    /// Whether <see cref="Layers"/> holds each layer's position. False only after <see cref="PacketDecoder.DecodeChain"/>
    /// decoded a packet of a common chain: then <see cref="LayerCount"/>, <see cref="Chain"/>, <see cref="LayerMask"/> and
    /// the problem fields are set, and <see cref="Layers"/> is empty.
    /// </summary>
    public bool HasLayerPositions => _positions == _count;

    public LinkType LinkType { get; private set; }

    /// <summary>Captured length of the packet that was decoded.</summary>
    public int Length { get; private set; }

    public DecodeProblem Problem { get; private set; }

    /// <summary>
    /// The layer whose decoding failed. It is not in <see cref="Layers"/>, except for ICMP/ICMPv6 messages whose fixed
    /// part was read but whose body is cut or whose ND options are bad: that layer is kept (its fields are valid) and
    /// <see cref="ProblemOffset"/> points at the message (or at the bad ND option).
    /// </summary>
    public LayerKind ProblemLayer { get; private set; }

    /// <summary>Offset in the packet where the failing layer starts.</summary>
    public int ProblemOffset { get; private set; }

    public bool HasProblem => Problem != DecodeProblem.None;

    /// <summary>Length of the packet on the wire when the caller gave it, else -1.</summary>
    public int OriginalLength { get; private set; } = -1;

    /// <summary>
    /// The bytes ended inside a header and the capture did cut the packet (captured &lt; original length, or the
    /// original length is unknown). When the whole packet was captured, running out of bytes means the packet itself
    /// is too short, which counts as <see cref="IsMalformed"/> (the <see cref="Problem"/> still says where it ended).
    /// </summary>
    public bool IsTruncated => HasProblem && DecodeProblems.IsTruncation(Problem) && (OriginalLength < 0 || OriginalLength > Length);

    /// <summary>The bytes contradict the protocol (or a complete packet is too short). Unsupported link types and the
    /// tunnel-depth limit are not malformations.</summary>
    public bool IsMalformed => HasProblem && !IsTruncated && Problem is not (DecodeProblem.UnsupportedLinkType or DecodeProblem.TunnelTooDeep);

    public void Reset(LinkType linkType, int length) => Reset(linkType, length, -1);

    /// <summary>Starts a new packet; <paramref name="originalLength"/> is the on-the-wire length, or -1 when unknown.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Reset(LinkType linkType, int length, int originalLength)
    {
        _count = 0;
        _positions = 0;
        _chain = 0;
        _maskKnown = false;
        LinkType = linkType;
        Length = length;
        OriginalLength = originalLength;
        Problem = DecodeProblem.None;
        ProblemLayer = LayerKind.None;
        ProblemOffset = 0;
    }

    /// <summary>Appends a layer; false (and <see cref="DecodeProblem.TooManyLayers"/>) when the chain is full. Kinds are
    /// <see cref="LayerKind"/> values (below 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAdd(LayerKind kind, int offset, int length, byte depth)
    {
        int count = _count;
        Layer[] layers = _layers;
        if ((uint)count >= (uint)layers.Length)
        {
            SetProblem(DecodeProblem.TooManyLayers, kind, offset);
            return false;
        }

        layers[count] = new Layer(kind, offset, length, depth);
        _count = count + 1;
        _positions = count + 1;
        _chain = (_chain << 6) | ((ulong)kind & 63);
        _maskKnown = false;
        return true;
    }

    /// <summary>The layer array the decoder fills directly (see <see cref="SetLayers"/>).</summary>
    internal Layer[] LayerBuffer => _layers;

    /// <summary>Sets how many entries of <see cref="LayerBuffer"/> are valid and their <see cref="Chain"/>.</summary>
    internal void SetLayers(int count, ulong chain)
    {
        _count = count;
        _positions = count;
        _chain = chain;
        _maskKnown = false;
    }

    /// <summary>Sets a whole clean result at once: the packet's fields, <paramref name="count"/> layers (written to
    /// <see cref="LayerBuffer"/> when <paramref name="positions"/> is true), their chain and mask.</summary>
    internal void SetDecoded(LinkType linkType, int length, int originalLength, int count, ulong chain, ulong mask, bool positions)
    {
        Reset(linkType, length, originalLength);
        _count = count;
        _positions = positions ? count : 0;
        _chain = chain;
        _mask = mask;
        _maskKnown = true;
    }

    /// <summary>Records why decoding stopped; the first problem wins.</summary>
    public void SetProblem(DecodeProblem problem, LayerKind layer, int offset)
    {
        if (Problem != DecodeProblem.None)
        {
            return;
        }

        Problem = problem;
        ProblemLayer = layer;
        ProblemOffset = offset;
    }

    /// <summary>Index of the first layer of <paramref name="kind"/> at or after <paramref name="start"/>, or -1.</summary>
    public int IndexOf(LayerKind kind, int start = 0)
    {
        for (int i = start; i < _positions; i++)
        {
            if (_layers[i].Kind == kind)
            {
                return i;
            }
        }

        return -1;
    }

    public bool TryFind(LayerKind kind, out Layer layer)
    {
        int i = IndexOf(kind);
        layer = i >= 0 ? _layers[i] : default;
        return i >= 0;
    }

    public bool Contains(LayerKind kind) => IndexOf(kind) >= 0;
}
