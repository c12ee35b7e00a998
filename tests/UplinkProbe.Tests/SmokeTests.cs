using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests;

public class SmokeTests
{
    [Fact]
    public void DecodedPacketRecordsFirstProblemOnly()
    {
        var p = new DecodedPacket();
        p.Reset(LinkType.Ethernet, 10);
        p.SetProblem(DecodeProblem.TruncatedArp, LayerKind.Arp, 14);
        p.SetProblem(DecodeProblem.TruncatedIpv4, LayerKind.Ipv4, 14);
        Assert.Equal(DecodeProblem.TruncatedArp, p.Problem);
        Assert.True(p.IsTruncated);
    }
}
