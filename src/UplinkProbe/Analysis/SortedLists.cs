namespace UplinkProbe.Analysis;

/// <summary>Searches in lists kept in order.</summary>
internal static class SortedLists
{
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
