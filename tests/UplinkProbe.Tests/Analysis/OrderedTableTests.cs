using System.Runtime.CompilerServices;
using UplinkProbe.Analysis;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Analysis;

public sealed class OrderedTableTests
{
    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 40)]
    [InlineData(3, 5000)]
    [InlineData(4, 65536)]
    public void PortKeyCountsAndFirstSeenOrderMatchADictionary(int seed, int distinctKeys)
    {
        var random = new Random(seed);
        var expected = new Dictionary<ushort, long>(); // keeps insertion order: nothing is ever removed
        var counts = new OrderedTable<ushort, long, NumberKeyHasher>();
        for (int i = 0; i < 200_000; i++)
        {
            ushort key = (ushort)(random.Next(distinctKeys) * 7919 % 65536);
            expected[key] = expected.GetValueOrDefault(key) + 1;
            counts.GetValueRefOrAddDefault(key, out bool exists)++;
            Assert.Equal(expected[key] > 1, exists);
        }

        Assert.Equal(expected.Count, counts.Count);
        Assert.Equal(expected.ToList(), counts.ToList());
        Assert.Equal(expected.Keys, counts.Keys);
    }

    [Theory]
    [InlineData(5, 10)]
    [InlineData(6, 3000)]
    public void MacAndAddressKeysWithSharedHighBitsBehaveLikeADictionary(int seed, int distinct)
    {
        // MACs of one vendor prefix and IPv4-mapped addresses differ only in their low bits: the index must still
        // spread them (a bad spread would only be slow, so equality with the dictionary is what is asserted here).
        var random = new Random(seed);
        var macs = new OrderedTable<ulong, string, NumberKeyHasher>();
        var addresses = new OrderedTable<IpKey, int, IpKeyHasher>();
        var expectedMacs = new Dictionary<ulong, string>();
        var expectedAddresses = new Dictionary<IpKey, int>();
        for (int i = 0; i < 50_000; i++)
        {
            ulong mac = 0x00163E00_0000UL | (uint)random.Next(distinct);
            IpKey ip = IpKey.Of(new Ipv4Address(0xC0000200u + (uint)random.Next(distinct)));
            string name = $"n{i}";
            Assert.Equal(expectedMacs.TryAdd(mac, name), macs.TryAdd(mac, name));
            expectedAddresses[ip] = expectedAddresses.GetValueOrDefault(ip) + 1;
            addresses.GetValueRefOrAddDefault(ip, out _)++;
        }

        Assert.Equal(expectedMacs.ToList(), macs.ToList());
        Assert.Equal(expectedAddresses.ToList(), addresses.ToList());
        foreach (ulong mac in new[] { 0x00163E00_0000UL, 0x00163E00_0000UL + (ulong)distinct, 0xFFFF_FFFF_FFFFUL })
        {
            Assert.Equal(expectedMacs.ContainsKey(mac), macs.ContainsKey(mac));
            Assert.Equal(expectedMacs.GetValueOrDefault(mac), macs.GetValueOrDefault(mac));
            Assert.Equal(!expectedMacs.ContainsKey(mac), Unsafe.IsNullRef(ref macs.GetValueRefOrNullRef(mac)));
        }
    }

    [Theory]
    [InlineData(1, 100, 5000)]
    [InlineData(2, 7, 40)]
    [InlineData(3, 500, 600)]
    [InlineData(4, 64, 64)]
    public void ACappedTableKeepsTheLowestKeysWithCompleteCountsWhateverTheOrder(int seed, int cap, int distinct)
    {
        var random = new Random(seed);
        ulong[] stream = Enumerable.Range(0, 30_000).Select(_ => (ulong)random.Next(distinct) * 977).ToArray();
        var counts = stream.GroupBy(k => k).ToDictionary(g => g.Key, g => (long)g.Count());
        var lowest = counts.Keys.Order().Take(cap).ToHashSet();
        var expected = stream.Distinct().Where(lowest.Contains).Select(k => new KeyValuePair<ulong, long>(k, counts[k])).ToList();

        foreach (ulong[] order in new[] { stream, stream.Reverse().ToArray(), stream.OrderBy(_ => random.Next()).ToArray() })
        {
            (OrderedTable<ulong, long, NumberKeyHasher> table, long notKept) = Count(order, cap);
            var orderExpected = order.Distinct().Where(lowest.Contains).Select(k => new KeyValuePair<ulong, long>(k, counts[k])).ToList();
            var beyond = new List<long>();
            Assert.Equal(orderExpected, table.Kept(beyond));
            Assert.True(table.Count <= 2 * cap, $"{table.Count} entries held for a cap of {cap}");
            Assert.Equal(stream.Length, orderExpected.Sum(k => k.Value) + notKept + beyond.Sum());
            Assert.Equal(distinct > 2 * cap, table.HasThreshold);
        }

        // Parts of the stream merge to the same table (AppendPart: lower to the other part's threshold, then add its entries).
        foreach (int cut in new[] { 1, stream.Length / 3, stream.Length - 5 })
        {
            (OrderedTable<ulong, long, NumberKeyHasher> first, long firstNotKept) = Count(stream[..cut], cap);
            (OrderedTable<ulong, long, NumberKeyHasher> second, long secondNotKept) = Count(stream[cut..], cap);
            long notKept = firstNotKept + secondNotKept;
            var merged = new OrderedTable<ulong, long, NumberKeyHasher>(cap, Comparer<ulong>.Default, n => notKept += n);
            merged.AppendPart(first, (ref long slot, bool exists, in long n) => slot += n);
            merged.AppendPart(second, (ref long slot, bool exists, in long n) => slot += n, n => notKept += n);

            var beyond = new List<long>();
            Assert.Equal(expected, merged.Kept(beyond));
            Assert.Equal(stream.Length, expected.Sum(k => k.Value) + notKept + beyond.Sum());
        }
    }

    [Fact]
    public void ACappedTableRanksByItsOrderNotByValue()
    {
        // An order that puts multiples of 1000 first keeps them all under a flood of other keys.
        var order = Comparer<ulong>.Create((a, b) => (a % 1000 != 0).CompareTo(b % 1000 != 0) is int rank && rank != 0 ? rank : b.CompareTo(a));
        var table = new OrderedTable<ulong, long, NumberKeyHasher>(10, order);
        for (ulong k = 1; k <= 100_000; k++)
        {
            ref long slot = ref table.GetValueRefOrAddDefault(k % 7 == 0 ? k / 7 * 1000 % 10_000 : (k << 20) | 1, out bool exists);
            if (exists || !Unsafe.IsNullRef(ref slot))
            {
                slot++;
            }
        }

        Assert.Equal(new ulong[] { 0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000 }, table.Kept().Select(e => e.Key).Order());
        Assert.All(table.Kept(), e => Assert.True(e.Value >= 1428, $"{e.Key}: {e.Value}"));
    }

    private static (OrderedTable<ulong, long, NumberKeyHasher> Table, long NotKept) Count(ulong[] keys, int cap)
    {
        long notKept = 0;
        var table = new OrderedTable<ulong, long, NumberKeyHasher>(cap, Comparer<ulong>.Default, n => notKept += n);
        foreach (ulong key in keys)
        {
            ref long slot = ref table.GetValueRefOrAddDefault(key, out bool exists);
            if (!exists && Unsafe.IsNullRef(ref slot))
            {
                notKept++;
                continue;
            }

            slot++;
        }

        return (table, notKept);
    }
}
