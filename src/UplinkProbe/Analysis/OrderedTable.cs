using System.Collections;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UplinkProbe.Decoding;

namespace UplinkProbe.Analysis;

/// <summary>How an <see cref="OrderedTable{TKey, TValue, THasher}"/> hashes and compares its keys. Static, so the
/// table's code is specialised for each key type and the hash is inlined.</summary>
internal interface ITableKeyHasher<TKey>
{
    /// <summary>Any 64-bit mix of the key's bits; the table spreads it with a Fibonacci multiply.</summary>
    static abstract ulong Hash(in TKey key);

    static abstract bool Same(in TKey a, in TKey b);
}

/// <summary>
/// A map enumerated in the order its keys were first added, like a <see cref="Dictionary{TKey, TValue}"/> that is
/// never removed from, for the per-packet lookups of the analyzers: key-value entries sit in one array in insertion
/// order and an open-addressing index (kept at most half full) points into it, so a lookup is one multiply and
/// usually one probe, with no comparer call and no bucket chain.
/// </summary>
/// <remarks>
/// A table made with a cap keeps its memory bounded whatever the packets (a flood of random addresses): what it
/// reports (<see cref="Kept"/>) is the <c>cap</c> lowest keys, by its order, of all keys ever added, with complete
/// values. It holds every key added so far that is not above its threshold, and no other: it grows to twice the cap,
/// then keeps only the cap lowest keys (in insertion order) and takes the highest of them as its threshold; a key
/// above the threshold is rejected from then on (a null reference for the caller to count). A key not above it was
/// kept from its first value on, so its value is complete. Which keys are kept does not depend on the order they came
/// in, so two tables of parts of one stream merge exactly by adding the other's entries (the part that filled up
/// holds at least <c>cap</c> complete keys not above its threshold, so nothing above it can be reported; lowering to
/// its threshold first with <see cref="LowerThreshold"/> lets go of those keys at once).
/// </remarks>
internal sealed class OrderedTable<TKey, TValue, THasher> : IEnumerable<KeyValuePair<TKey, TValue>>
    where THasher : ITableKeyHasher<TKey>
{
    // Key and value side by side: a lookup touches the index slot and one entry (values that are structs included).
    private Entry[] _entries = new Entry[4];
    private int[] _index = new int[8]; // slot → position + 1 in _entries; 0 = empty
    private int _shift = 64 - 3;

    private readonly int _cap; // 0: no cap
    private readonly IComparer<TKey>? _order;
    private readonly Action<TValue>? _dropped;
    private TKey _threshold = default!;

    public OrderedTable()
    {
    }

    /// <summary>A table that reports at most <paramref name="cap"/> keys, the lowest by <paramref name="order"/>;
    /// <paramref name="dropped"/> sees the value of every entry it lets go.</summary>
    public OrderedTable(int cap, IComparer<TKey> order, Action<TValue>? dropped = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cap, 1);
        _cap = cap;
        _order = order;
        _dropped = dropped;
    }

    public int Count { get; private set; }

    /// <summary>True once keys above <see cref="Threshold"/> are rejected (a capped table that filled up).</summary>
    public bool HasThreshold { get; private set; }

    /// <summary>The highest key this table can still hold (see <see cref="HasThreshold"/>).</summary>
    public TKey Threshold => _threshold;

    public IEnumerable<TKey> Keys => _entries.Take(Count).Select(e => e.Key);

    /// <summary>The value of <paramref name="key"/>, added as <c>default</c> when new (<paramref name="exists"/> false);
    /// a null reference (<see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>, <paramref name="exists"/> false) when a
    /// capped table rejects the key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref TValue GetValueRefOrAddDefault(in TKey key, out bool exists)
    {
        int position = Find(key, out int emptySlot);
        exists = position >= 0;
        return ref exists ? ref EntryAt(position).Value : ref Add(key, emptySlot);
    }

    /// <summary>The value of <paramref name="key"/>, or a null reference (<see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>) when absent.</summary>
    public ref TValue GetValueRefOrNullRef(in TKey key)
    {
        int position = Find(key, out _);
        return ref position >= 0 ? ref EntryAt(position).Value : ref Unsafe.NullRef<TValue>();
    }

    public bool ContainsKey(in TKey key) => !Unsafe.IsNullRef(ref GetValueRefOrNullRef(key));

    public TValue? GetValueOrDefault(in TKey key)
    {
        ref TValue value = ref GetValueRefOrNullRef(key);
        return Unsafe.IsNullRef(ref value) ? default : value;
    }

    /// <summary>Adds <paramref name="key"/> with <paramref name="value"/> unless present; true when added.</summary>
    public bool TryAdd(in TKey key, TValue value)
    {
        ref TValue slot = ref GetValueRefOrAddDefault(key, out bool exists);
        if (exists || Unsafe.IsNullRef(ref slot))
        {
            return false;
        }

        slot = value;
        return true;
    }

    public IEnumerator<KeyValuePair<TKey, TValue>> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return new KeyValuePair<TKey, TValue>(_entries[i].Key, _entries[i].Value);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The position of <paramref name="key"/>, or -1 and the free index slot where it would go.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(in TKey key, out int emptySlot)
    {
        int[] index = _index;
        int mask = index.Length - 1;
        int slot = SlotOf(key, _shift);
        while (true)
        {
            int at = index[slot];
            if (at == 0)
            {
                emptySlot = slot;
                return -1;
            }

            if (THasher.Same(EntryAt(at - 1).Key, key))
            {
                emptySlot = -1;
                return at - 1;
            }

            slot = (slot + 1) & mask;
        }
    }

    /// <summary>The entry at a position below <see cref="Count"/>, without a bounds check.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Entry EntryAt(int position) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_entries), position);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SlotOf(in TKey key, int shift) => (int)((THasher.Hash(key) * 0x9E37_79B9_7F4A_7C15UL) >> shift);

    private struct Entry
    {
        public TKey Key;
        public TValue Value;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref TValue Add(in TKey key, int slot)
    {
        if (_cap != 0)
        {
            if (Count >= 2 * _cap)
            {
                KeepLowest(_cap);
                Find(key, out slot);
            }

            if (HasThreshold && _order!.Compare(key, _threshold) > 0)
            {
                return ref Unsafe.NullRef<TValue>();
            }
        }

        if (Count == _entries.Length)
        {
            Array.Resize(ref _entries, Count * 2);
        }

        _entries[Count] = new Entry { Key = key };
        _index[slot] = ++Count;
        if (Count * 2 > _index.Length)
        {
            Rehash();
        }

        return ref _entries[Count - 1].Value;
    }

    /// <summary>
    /// What a report shows: the entries of the <c>cap</c> lowest keys, in insertion order (all entries of a table
    /// without a cap or within it). The values of the others, which no later key can bring back, go to
    /// <paramref name="beyond"/>. The table is not changed.
    /// </summary>
    public List<KeyValuePair<TKey, TValue>> Kept(List<TValue>? beyond = null)
    {
        bool cut = _cap != 0 && Count > _cap;
        TKey limit = cut ? LowestKeys(_cap) : default!;
        var kept = new List<KeyValuePair<TKey, TValue>>(Math.Min(Count, _cap == 0 ? Count : _cap));
        for (int i = 0; i < Count; i++)
        {
            if (!cut || _order!.Compare(_entries[i].Key, limit) <= 0)
            {
                kept.Add(new KeyValuePair<TKey, TValue>(_entries[i].Key, _entries[i].Value));
            }
            else
            {
                beyond?.Add(_entries[i].Value);
            }
        }

        return kept;
    }

    /// <summary>Merges a value of a later part into this table's slot for its key (<paramref name="exists"/> false: a new
    /// slot, holding <c>default</c>).</summary>
    public delegate void MergeValue(ref TValue slot, bool exists, in TValue theirs);

    /// <summary>
    /// Adds the entries of <paramref name="later"/>, the table of a later part of the same stream, in its order:
    /// <paramref name="merge"/> for each key this table holds or takes, <paramref name="notKept"/> for each it rejects
    /// (beyond its cap). Exact for capped tables of the same cap and order (see the remarks).
    /// </summary>
    public void AppendPart(OrderedTable<TKey, TValue, THasher> later, MergeValue merge, Action<TValue>? notKept = null)
    {
        if (later.HasThreshold)
        {
            LowerThreshold(later.Threshold);
        }

        for (int i = 0; i < later.Count; i++)
        {
            ref Entry theirs = ref later._entries[i];
            ref TValue slot = ref GetValueRefOrAddDefault(theirs.Key, out bool exists);
            if (!exists && Unsafe.IsNullRef(ref slot))
            {
                notKept?.Invoke(theirs.Value);
                continue;
            }

            merge(ref slot, exists, theirs.Value);
        }
    }

    /// <summary>
    /// Lets go of every key above <paramref name="threshold"/> and rejects such keys from now on, unless the
    /// threshold is already lower. For a merge: the other part could not count keys above its threshold.
    /// </summary>
    public void LowerThreshold(in TKey threshold)
    {
        if (_cap == 0 || (HasThreshold && _order!.Compare(threshold, _threshold) >= 0))
        {
            return;
        }

        _threshold = threshold;
        HasThreshold = true;
        int kept = 0;
        for (int i = 0; i < Count; i++)
        {
            if (_order!.Compare(_entries[i].Key, threshold) <= 0)
            {
                _entries[kept++] = _entries[i];
            }
            else
            {
                _dropped?.Invoke(_entries[i].Value);
            }
        }

        Array.Clear(_entries, kept, Count - kept);
        Count = kept;
        Array.Clear(_index);
        Reindex();
    }

    private void KeepLowest(int n) => LowerThreshold(LowestKeys(n));

    /// <summary>The n-th lowest key (n at most <see cref="Count"/>).</summary>
    private TKey LowestKeys(int n)
    {
        var keys = new TKey[Count];
        for (int i = 0; i < Count; i++)
        {
            keys[i] = _entries[i].Key;
        }

        Array.Sort(keys, _order);
        return keys[n - 1];
    }

    private void Rehash()
    {
        _index = new int[_index.Length * 2];
        _shift--;
        Reindex();
    }

    private void Reindex()
    {
        int mask = _index.Length - 1;
        for (int i = 0; i < Count; i++)
        {
            int slot = SlotOf(_entries[i].Key, _shift);
            while (_index[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            _index[slot] = i + 1;
        }
    }
}

/// <summary>Keys that are already well spread numbers (MACs, port keys, packed tuples).</summary>
internal readonly struct NumberKeyHasher : ITableKeyHasher<ulong>, ITableKeyHasher<ushort>, ITableKeyHasher<int>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(in ulong key) => key ^ (key >> 29);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Same(in ulong a, in ulong b) => a == b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(in ushort key) => key;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Same(in ushort a, in ushort b) => a == b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(in int key) => (uint)key;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Same(in int a, in int b) => a == b;
}

/// <summary>IP address keys (IPv4 mapped into IPv6).</summary>
internal readonly struct IpKeyHasher : ITableKeyHasher<IpKey>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(in IpKey key) => key.Low ^ (key.High * 0xC2B2_AE3D_27D4_EB4FUL);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Same(in IpKey a, in IpKey b) => a.Low == b.Low && a.High == b.High;
}

/// <summary>An (IP, MAC) binding: a struct of the project's, not a tuple, so that ReadyToRun precompiles the table's code.</summary>
internal readonly record struct BindingKey(IpKey Ip, MacAddress Mac);

/// <summary>(IP, MAC) bindings.</summary>
internal readonly struct BindingKeyHasher : ITableKeyHasher<BindingKey>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(in BindingKey key) => IpKeyHasher.Hash(key.Ip) ^ (key.Mac.Value * 0x1656_67B1_9E37_79F9UL);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Same(in BindingKey a, in BindingKey b) => IpKeyHasher.Same(a.Ip, b.Ip) && a.Mac == b.Mac;
}
