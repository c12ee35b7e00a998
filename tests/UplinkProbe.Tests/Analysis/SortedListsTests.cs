using UplinkProbe.Analysis;
using Xunit;

namespace UplinkProbe.Tests.Analysis;

/// <summary><see cref="SortedLists.OrderedBy"/> gives what LINQ's stable <c>OrderBy</c> gives, ties and extremes included.</summary>
public sealed class SortedListsTests
{
    private sealed record Item(long Key, int Position);

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 17)]
    [InlineData(4, 1000)]
    [InlineData(5, 4097)]
    public void OrdersLikeOrderByKeepingTiesInTheirOrder(int seed, int count)
    {
        var random = new Random(seed);
        long[] extremes = [long.MinValue, long.MaxValue, 0, -1, 1];
        var items = Enumerable.Range(0, count)
            .Select(i => new Item(random.Next(4) == 0 ? extremes[random.Next(extremes.Length)] : random.Next(count / 4 + 1), i))
            .ToList();

        List<Item> expected = items.OrderBy(i => i.Key).ToList();
        List<Item> actual = SortedLists.OrderedBy(items, i => i.Key);

        Assert.Equal(expected, actual);
        Assert.Equal(Enumerable.Range(0, count), items.Select(i => i.Position)); // the input is left as it was
    }
}
