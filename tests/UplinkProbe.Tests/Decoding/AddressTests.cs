using System.Text;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Decoding;

public class AddressTests
{
    [Fact]
    public void MacAddressReadsFormatsAndClassifies()
    {
        var mac = MacAddress.Read(new byte[] { 0x0a, 0x58, 0xc6, 0x33, 0x64, 0x01 });
        Assert.Equal("0a:58:c6:33:64:01", mac.ToString());
        Assert.True(mac.IsLocallyAdministered);
        Assert.False(mac.IsMulticast);
        Assert.False(mac.IsBroadcast);
        Assert.True(MacAddress.Broadcast.IsBroadcast && MacAddress.Broadcast.IsMulticast);
        Assert.True(MacAddress.Parse("33:33:FF:00:00:01").IsMulticast);
        Assert.True(default(MacAddress).IsZero);

        Span<byte> utf8 = stackalloc byte[17];
        Assert.True(mac.TryFormat(utf8, out int n));
        Assert.Equal("0a:58:c6:33:64:01", Encoding.ASCII.GetString(utf8[..n]));
        Assert.False(mac.TryFormat(new char[16], out _));

        Span<byte> wire = stackalloc byte[6];
        Assert.True(mac.TryWriteBytes(wire));
        Assert.Equal("0A58C6336401", Convert.ToHexString(wire));
    }

    [Theory]
    [InlineData("aa:bb:cc:dd:ee:ff", true)]
    [InlineData("AA-BB-CC-DD-EE-FF", true)]
    [InlineData("a:b:c:d:e:f", true)]
    [InlineData("aa:bb:cc:dd:ee", false)]
    [InlineData("aa:bb:cc:dd:ee:ff:00", false)]
    [InlineData("aa:bb-cc:dd:ee:ff", false)]
    [InlineData("aab:bb:cc:dd:ee:ff", false)]
    [InlineData("", false)]
    public void MacAddressParses(string text, bool ok)
    {
        Assert.Equal(ok, MacAddress.TryParse(text, out MacAddress mac));
        if (ok)
        {
            Assert.Equal(text.Length == 17 ? text.ToLowerInvariant().Replace('-', ':') : "0a:0b:0c:0d:0e:0f", mac.ToString());
        }
    }

    [Fact]
    public void AddressesWorkAsDictionaryKeys()
    {
        var d = new Dictionary<MacAddress, int> { [MacAddress.Parse("02:00:00:00:00:01")] = 1 };
        Assert.Equal(1, d[MacAddress.Read(new byte[] { 2, 0, 0, 0, 0, 1 })]);
        var d4 = new Dictionary<Ipv4Address, int> { [Ipv4Address.Parse("192.0.2.1")] = 4 };
        Assert.Equal(4, d4[new Ipv4Address(192, 0, 2, 1)]);
        var d6 = new Dictionary<Ipv6Address, int> { [Ipv6Address.Parse("2001:db8::1")] = 6 };
        Assert.Equal(6, d6[Ipv6Address.Parse("2001:0DB8:0:0:0:0:0:1")]);
    }

    [Theory]
    [InlineData("192.0.2.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("256.0.0.1", false)]
    [InlineData("192.0.2", false)]
    [InlineData("192.0.2.01", false)]
    [InlineData("192.0.2.1.", false)]
    [InlineData("1.2.3.4x", false)]
    public void Ipv4ParsesAndRoundTrips(string text, bool ok)
    {
        Assert.Equal(ok, Ipv4Address.TryParse(text, out Ipv4Address a));
        if (ok)
        {
            Assert.Equal(text, a.ToString());
            Span<byte> utf8 = stackalloc byte[15];
            Assert.True(a.TryFormat(utf8, out int n));
            Assert.Equal(text, Encoding.ASCII.GetString(utf8[..n]));
        }
    }

    // Expected strings are what tshark 4.0.17 prints for these addresses (checked with a capture written by
    // TestPacketDump-style tooling; glibc inet_ntop rules: RFC 5952 plus ::a.b.c.d / ::ffff:a.b.c.d).
    [Theory]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1")]
    [InlineData("::", "::")]
    [InlineData("::1", "::1")]
    [InlineData("fe80::68d3:1235:d068:1f9e", "fe80::68d3:1235:d068:1f9e")]
    [InlineData("ff02::1:ff00:1", "ff02::1:ff00:1")]
    [InlineData("2001:db8:0:1::", "2001:db8:0:1::")]
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1")]
    [InlineData("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1")]
    [InlineData("1:0:0:2:0:0:0:3", "1:0:0:2::3")]
    [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.1")]
    [InlineData("::ffff:c000:0201", "::ffff:192.0.2.1")]
    [InlineData("::192.0.2.1", "::192.0.2.1")]
    [InlineData("::0.0.1.2", "::102")]
    [InlineData("::ffff:0:c000:201", "::ffff:0:c000:201")]
    [InlineData("64:ff9b::192.0.2.33", "64:ff9b::c000:221")]
    [InlineData("ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789")]
    public void Ipv6FormatsLikeTshark(string input, string expected)
    {
        Assert.True(Ipv6Address.TryParse(input, out Ipv6Address a), input);
        Assert.Equal(expected, a.ToString());
        Span<byte> utf8 = stackalloc byte[Ipv6Address.MaxFormattedLength];
        Assert.True(a.TryFormat(utf8, out int n));
        Assert.Equal(expected, Encoding.ASCII.GetString(utf8[..n]));
        Assert.True(Ipv6Address.TryParse(expected, out Ipv6Address back));
        Assert.Equal(a, back);
    }

    [Theory]
    [InlineData(":")]
    [InlineData(":::")]
    [InlineData("1::2::3")]
    [InlineData("1:2:3:4:5:6:7")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("12345::")]
    [InlineData("1:2:3:4:5:6:7:")]
    [InlineData("fe80::1%eth0")]
    [InlineData("::ffff:192.0.2")]
    [InlineData("1:2:3:4:5:6:7:1.2.3.4")]
    [InlineData("g::")]
    public void Ipv6RejectsBadText(string text) => Assert.False(Ipv6Address.TryParse(text, out _));

    [Fact]
    public void Ipv6Classifies()
    {
        Assert.True(Ipv6Address.Parse("ff02::1:ff00:1").IsSolicitedNodeMulticast);
        Assert.True(Ipv6Address.Parse("ff02::1").IsMulticast);
        Assert.False(Ipv6Address.Parse("ff02::1").IsSolicitedNodeMulticast);
        Assert.True(Ipv6Address.Parse("fe80::1").IsLinkLocal);
        Assert.False(Ipv6Address.Parse("fec0::1").IsLinkLocal);
        Assert.True(Ipv6Address.Parse("::ffff:192.0.2.1").IsIpv4Mapped);
        Assert.True(Ipv6Address.Any.IsZero);
    }
}
