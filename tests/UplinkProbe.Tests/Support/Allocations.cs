using UplinkProbe.Capture;
using Xunit;

namespace UplinkProbe.Tests.Support;

/// <summary>
/// What a piece of work allocates on the current thread, as the least of a few passes. With other tests running in
/// parallel, one pass can show a few KB it did not allocate — seen once in CI: 7,480 bytes over a read-ahead pass that
/// allocates nothing, most likely a collection triggered by another thread retiring this thread's allocation context
/// (accounted in quanta of about 8 KB). Work that allocates does so in every pass, so the least pass still catches it.
/// </summary>
internal static class Allocations
{
    /// <summary>Runs <paramref name="measuredPass"/> (which returns the bytes it measured around its own loop) up to
    /// <paramref name="passes"/> times, stopping at the first that allocated nothing; returns the least, and all in <paramref name="all"/>.</summary>
    public static long Least(int passes, Func<long> measuredPass, out IReadOnlyList<long> all)
    {
        var results = new List<long>();
        for (int i = 0; i < passes; i++)
        {
            results.Add(measuredPass());
            if (results[^1] == 0)
            {
                break;
            }
        }

        all = results;
        return results.Min();
    }

    /// <summary>Bytes allocated on the current thread while <paramref name="work"/> runs.</summary>
    public static long During(Action work)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        work();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>
    /// Asserts that a reader made by <paramref name="open"/> reads every record after its first without allocating (the
    /// least of three passes), and that it reads <paramref name="expectedRecords"/> of them; <paramref name="perRecord"/>,
    /// when given, runs inside the measurement for each record and its results must add up to <paramref name="expectedSum"/>.
    /// </summary>
    public static void AssertReadingAllocatesNothing(Func<CaptureReader> open, int expectedRecords, Func<CaptureReader, long>? perRecord = null, long expectedSum = 0)
    {
        long least = Least(3, () =>
        {
            using CaptureReader reader = open();
            Assert.True(reader.TryReadNext(out _, out _));
            int n = 0;
            long sum = 0;
            long allocated = During(() =>
            {
                while (reader.TryReadNext(out _, out _))
                {
                    n++;
                    sum += perRecord?.Invoke(reader) ?? 0;
                }
            });
            Assert.Equal(expectedRecords, n);
            Assert.Equal(expectedSum, sum);
            return allocated;
        }, out IReadOnlyList<long> passes);
        Assert.True(least == 0, $"bytes allocated per pass: {string.Join(", ", passes)}");
    }
}
