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
}
