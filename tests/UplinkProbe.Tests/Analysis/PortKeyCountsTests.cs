using UplinkProbe.Analysis;
using Xunit;

namespace UplinkProbe.Tests.Analysis;

public sealed class PortKeyCountsTests
{
    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 40)]
    [InlineData(3, 5000)]
    [InlineData(4, 65536)]
    public void CountsAndFirstSeenOrderMatchADictionary(int seed, int distinctKeys)
    {
        var random = new Random(seed);
        var expected = new Dictionary<ushort, long>(); // keeps insertion order: nothing is ever removed
        var counts = new PortKeyCounts();
        for (int i = 0; i < 200_000; i++)
        {
            ushort key = (ushort)(random.Next(distinctKeys) * 7919 % 65536);
            expected[key] = expected.GetValueOrDefault(key) + 1;
            counts.CountOf(key)++;
        }

        Assert.Equal(expected.Count, counts.Count);
        Assert.Equal(expected.ToList(), counts.ToList());
    }
}
