using System.Runtime.InteropServices;

namespace UplinkProbe.Analysis;

/// <summary>Searches in lists kept in order, a stable sort and a grouping, for the report's code.</summary>
internal static class SortedLists
{
    /// <summary>
    /// The items grouped by <paramref name="key"/>, groups (the dictionary's values) in the order their keys were first
    /// seen, items in the order given (what <c>GroupBy</c> gives). A dictionary by one string: precompiled, while LINQ's
    /// groupings by a tuple are compiled at run time.
    /// </summary>
    public static Dictionary<string, List<T>> GroupedBy<T>(IEnumerable<T> items, Func<T, string> key)
        where T : class
    {
        var groups = new Dictionary<string, List<T>>(StringComparer.Ordinal);
        foreach (T item in items)
        {
            ref List<T>? group = ref CollectionsMarshal.GetValueRefOrAddDefault(groups, key(item), out _);
            (group ??= []).Add(item);
        }

        return groups;
    }

    /// <summary>
    /// The items ordered by <paramref name="key"/>, items of equal keys in the order given (what <c>OrderBy</c> gives).
    /// A merge sort of our own: LINQ's sorters, instantiated for the report's types, are compiled at run time, while
    /// this is precompiled for every reference type.
    /// </summary>
    public static List<T> OrderedBy<T>(IEnumerable<T> items, Func<T, long> key)
        where T : class
    {
        var list = new List<T>(items);
        if (list.Count < 2)
        {
            return list;
        }

        var keys = new long[list.Count];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = key(list[i]);
        }

        // Bottom-up merge of index runs; on equal keys the left (earlier) run goes first.
        int[] order = new int[list.Count], scratch = new int[list.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        for (int width = 1; width < order.Length; width *= 2)
        {
            for (int low = 0; low < order.Length; low += 2 * width)
            {
                int middle = Math.Min(low + width, order.Length), high = Math.Min(low + (2 * width), order.Length);
                int left = low, right = middle, to = low;
                while (left < middle && right < high)
                {
                    scratch[to++] = keys[order[right]] < keys[order[left]] ? order[right++] : order[left++];
                }

                while (left < middle)
                {
                    scratch[to++] = order[left++];
                }

                while (right < high)
                {
                    scratch[to++] = order[right++];
                }
            }

            (order, scratch) = (scratch, order);
        }

        var sorted = new List<T>(list.Count);
        foreach (int i in order)
        {
            sorted.Add(list[i]);
        }

        return sorted;
    }

    /// <summary>
    /// How many items lead the list while <paramref name="before"/> holds, by binary search: the list must hold every
    /// item for which it is true ahead of every item for which it is false (e.g. "time earlier than t" in time order).
    /// </summary>
    public static int CountBefore<T>(IReadOnlyList<T> list, Func<T, bool> before)
    {
        int low = 0, high = list.Count;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            (low, high) = before(list[middle]) ? (middle + 1, high) : (low, middle);
        }

        return low;
    }
}
