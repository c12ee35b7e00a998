using UplinkProbe.Analysis;
using Xunit;

namespace UplinkProbe.Tests.Analysis;

/// <summary><see cref="SortedLists.OrderedBy"/> and <see cref="SortedLists.GroupedBy"/> give what LINQ's <c>OrderBy</c> and <c>GroupBy</c> give.</summary>
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

    [Theory]
    [InlineData(6, 0)]
    [InlineData(7, 1)]
    [InlineData(8, 500)]
    public void GroupsLikeGroupByInTheOrderKeysFirstAppear(int seed, int count)
    {
        var random = new Random(seed);
        var items = Enumerable.Range(0, count).Select(i => new Item(random.Next(count / 5 + 1), i)).ToList();

        var expected = items.GroupBy(i => i.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)).Select(g => (g.Key, g.ToList())).ToList();
        var actual = SortedLists.GroupedBy(items, i => i.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)).Select(g => (g.Key, g.Value)).ToList();

        Assert.Equal(expected.Select(g => g.Key), actual.Select(g => g.Key));
        Assert.Equal(expected.Select(g => g.Item2), actual.Select(g => g.Item2));
    }
}
