using System.Collections;
using System.Runtime.CompilerServices;

namespace UplinkProbe.Analysis;

/// <summary>
/// Packets per 16-bit OVN port key, enumerated in the order the keys were first seen. An open-addressing index over
/// two parallel arrays: one multiply and usually one probe per packet, where a <see cref="Dictionary{TKey, TValue}"/>
/// costs a modulo, an entry indirection and a bucket chain.
/// </summary>
internal sealed class PortKeyCounts : IEnumerable<KeyValuePair<ushort, long>>
{
    private ushort[] _keys = new ushort[4];
    private long[] _counts = new long[4];
    private int[] _index = new int[8]; // slot → position + 1 in _keys/_counts; 0 = empty. Kept at most half full.
    private int _shift = 64 - 3;

    public int Count { get; private set; }

    /// <summary>The count of <paramref name="key"/>, added at zero when new.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref long CountOf(ushort key)
    {
        int[] index = _index;
        int mask = index.Length - 1;
        int slot = (int)((key * 0x9E37_79B9_7F4A_7C15UL) >> _shift);
        while (true)
        {
            int at = index[slot];
            if (at == 0)
            {
                return ref Add(key, slot);
            }

            if (_keys[at - 1] == key)
            {
                return ref _counts[at - 1];
            }

            slot = (slot + 1) & mask;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref long Add(ushort key, int slot)
    {
        if (Count == _keys.Length)
        {
            Array.Resize(ref _keys, Count * 2);
            Array.Resize(ref _counts, Count * 2);
        }

        _keys[Count] = key;
        _counts[Count] = 0;
        _index[slot] = ++Count;
        if (Count * 2 > _index.Length)
        {
            Rehash();
        }

        return ref _counts[Count - 1];
    }

    private void Rehash()
    {
        _index = new int[_index.Length * 2];
        _shift--;
        int mask = _index.Length - 1;
        for (int i = 0; i < Count; i++)
        {
            int slot = (int)((_keys[i] * 0x9E37_79B9_7F4A_7C15UL) >> _shift);
            while (_index[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            _index[slot] = i + 1;
        }
    }

    public IEnumerator<KeyValuePair<ushort, long>> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return new KeyValuePair<ushort, long>(_keys[i], _counts[i]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
