using UplinkProbe.Crafting;
using Xunit;

namespace UplinkProbe.Tests.Crafting;

public sealed class InternetChecksumTests
{
    [Fact]
    public void Rfc1071NumericalExample()
    {
        // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2 (after the end-around carry).
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        Assert.Equal(0xddf2, InternetChecksum.Fold(InternetChecksum.Add(0, data)));
        Assert.Equal(0x220d, InternetChecksum.Compute(data));
    }

    [Fact]
    public void KnownIpv4HeaderChecksum()
    {
        // A widely published IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) whose checksum is 0xb861.
        byte[] header = Convert.FromHexString("450000730000400040110000c0a80001c0a800c7");
        Assert.Equal(0xb861, InternetChecksum.Compute(header));
        header[10] = 0xb8;
        header[11] = 0x61;
        Assert.Equal(0, InternetChecksum.Compute(header));
    }

    [Fact]
    public void OddLengthPadsTheLastByteOnTheRight()
    {
        // 0x0102 + 0x0300 = 0x0402 -> checksum 0xfbfd.
        Assert.Equal(0xfbfd, InternetChecksum.Compute([0x01, 0x02, 0x03]));
    }

    [Fact]
    public void ChunkedSumEqualsWholeSumForEvenChunks()
    {
        var data = new byte[1001];
        new Random(7).NextBytes(data);
        ulong chunked = 0;
        for (int i = 0; i < 1000; i += 10)
        {
            chunked = InternetChecksum.Add(chunked, data.AsSpan(i, 10));
        }

        chunked = InternetChecksum.Add(chunked, data.AsSpan(1000));
        Assert.Equal(InternetChecksum.Compute(data), InternetChecksum.Finish(chunked));
        Assert.Equal(ReferenceChecksum(data), InternetChecksum.Compute(data));
    }

    [Fact]
    public void MatchesBytewiseReferenceOnRandomLengths()
    {
        var rng = new Random(11);
        foreach (int n in Enumerable.Range(0, 200).Concat([1499, 1500, 9000, 65535]))
        {
            var data = new byte[n];
            rng.NextBytes(data);
            Assert.Equal(ReferenceChecksum(data), InternetChecksum.Compute(data));
            // Also from an odd (unaligned) start and with all-ones words, where end-around carries pile up.
            if (n > 1)
            {
                Assert.Equal(ReferenceChecksum(data[1..]), InternetChecksum.Compute(data.AsSpan(1)));
                Array.Fill(data, (byte)0xff);
                Assert.Equal(ReferenceChecksum(data), InternetChecksum.Compute(data));
            }
        }
    }

    [Fact]
    public void Ipv6PseudoHeaderKnownAnswer()
    {
        // ICMPv6 echo request fe80::1 -> ff02::1, id 0, seq 0, no data; checksum computed by hand:
        // pseudo-header words fe80 0001 ff02 0001 0000 0008 003a + message 8000 0000 0000 0000.
        byte[] src = Convert.FromHexString("fe800000000000000000000000000001");
        byte[] dst = Convert.FromHexString("ff020000000000000000000000000001");
        byte[] msg = Convert.FromHexString("8000000000000000");
        ulong sum = InternetChecksum.PseudoHeaderIpv6(src, dst, 58, msg.Length);
        // 0xfe80 + 0x0001 + 0xff02 + 0x0001 + 0x0008 + 0x003a + 0x8000 = 0x27dc6 -> 0x7dc8 -> ~ = 0x8237.
        Assert.Equal(0x8237, InternetChecksum.Finish(InternetChecksum.Add(sum, msg)));
    }

    /// <summary>The textbook definition, word by word, as an independent reference.</summary>
    private static ushort ReferenceChecksum(byte[] data)
    {
        uint sum = 0;
        for (int i = 0; i < data.Length; i += 2)
        {
            uint word = (uint)(data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0u);
            sum += word;
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
