using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Decoding;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Lab;

/// <summary>What the analysis of a lab run must agree with: the lab's own record and the transmit-only ground truth.</summary>
internal static class LabAssertions
{
    public static void Check(LabRun run, AnalysisReport report, ITestOutputHelper output)
    {
        GatewayReport gateway = Assert.Single(report.Gateways, g => g.Mac == run.GatewayMac);

        // 1. In every phase, the nodes the timeline shows emitting the gateway MAC are the nodes that transmitted it.
        foreach (LabRun.Phase phase in run.Phases)
        {
            var truth = run.EmittersBetween(phase.StartNs, phase.EndNs).ToList();
            var ours = gateway.Timeline.Where(s => s.StartNs <= phase.EndNs && s.EndNs >= phase.StartNs).Select(s => s.Node).Distinct().Order(StringComparer.Ordinal).ToList();
            output.WriteLine($"{phase.Label,-20} transmitted by [{string.Join(",", truth)}], timeline [{string.Join(",", ours)}], lab expects {phase.ExpectedActive}, SB {phase.SbAtEnd}");
            Assert.True(truth.SequenceEqual(ours), $"{phase.Label}: transmitted by [{string.Join(",", truth)}] but the timeline shows [{string.Join(",", ours)}]");

            // When one node alone transmitted in the last seconds of the phase, it owns the gateway, as the lab intended.
            var tail = run.EmittersBetween(phase.EndNs - 2_000_000_000, phase.EndNs).ToList();
            if (tail.Count == 1)
            {
                Assert.Equal(tail[0], OwnerAt(gateway, phase.EndNs));
                if (phase.SbAtEnd == phase.ExpectedActive)
                {
                    Assert.Equal(phase.ExpectedActive, tail[0]);
                }
            }
        }

        // 2. Every move that follows a southbound claim is placed at the new node's first emission, and its first GARP
        //    is the one the node transmitted (within 100 ms).
        foreach (FailoverEvent move in gateway.Failovers.Where(m => m.GapNs is not null))
        {
            (long claimNs, string? chassis) = run.SbChanges.Where(c => c.Chassis == move.To && c.Ns <= move.AtNs + 100_000_000).LastOrDefault();
            Assert.True(chassis is not null, $"move to {move.To} at {move.AtNs} has no southbound claim before it");
            // The new node cannot emit before the control plane gave it the port; how long it takes after is OVN's business.
            Assert.True(move.AtNs - claimNs >= -100_000_000,
                $"move {move.From} → {move.To} at {move.AtNs} is {(claimNs - move.AtNs) / 1e9:F3} s before the southbound claim at {claimNs}");
            output.WriteLine($"move {move.From} → {move.To}: first emission {(move.AtNs - claimNs) / 1e6:F0} ms after the claim, first GARP {((move.FirstGarpNs ?? move.AtNs) - claimNs) / 1e6:F0} ms");
            long? truthGarp = run.FirstGarp(move.To, claimNs);
            if (truthGarp is long garp && garp < move.AtNs + 35_000_000_000)
            {
                Assert.NotNull(move.FirstGarpNs);
                Assert.InRange(move.FirstGarpNs!.Value - garp, -100_000_000, 100_000_000);
                Assert.True(move.AtNs <= garp + 100_000_000, $"move to {move.To} placed at {move.AtNs}, after its first GARP {garp}");
            }
        }

        // 3. The graceful exit of the active chassis's ovn-controller leaves a split brain, and it is flagged.
        LabRun.Phase graceful = run.Phases.Single(p => p.Label == "graceful-exit");
        Assert.Contains(report.Findings, f => f.Id == FindingIds.TwoHostsEmitGatewayMac && f.AtNs >= graceful.StartNs && f.AtNs <= graceful.EndNs);

        // 4. The distributed floating IP is attributed to its instance's chassis and raises nothing.
        FloatingIpReport fip = Assert.Single(report.FloatingIps);
        Assert.Equal([fip.ExpectedNode!], fip.EmittedBy.Keys);
        Assert.DoesNotContain(report.Findings, f => f.Subject == fip.Ip);

        // 5. Steady phases raise no warning.
        foreach (LabRun.Phase steady in run.Phases.Where(p => p.Label == "steady"))
        {
            Assert.DoesNotContain(report.Findings, f => f.Severity >= FindingSeverity.Warning && f.AtNs >= steady.StartNs && f.AtNs <= steady.EndNs);
        }

        // 6. The chassis whose Geneve is dropped is named by the tunnel finding, and every such finding is true by the
        //    Geneve each node sent on its tunnel NIC.
        if (run.Phases.FirstOrDefault(p => p.Label == "geneve-drop") is { } drop)
        {
            LabRun.Phase isolate = run.Phases.FirstOrDefault(p => p.Label == "geneve-isolate") ?? drop;
            var tunnelFindings = report.Findings.Where(f => f.Id == FindingIds.NoTunnelTrafficToGateway).ToList();
            Assert.Contains(tunnelFindings, f => f.Subject == "hv1" && f.AtNs >= isolate.StartNs - 1_000_000_000 && f.AtNs <= drop.EndNs);
            foreach (Finding finding in tunnelFindings)
            {
                output.WriteLine($"{finding.Id} {finding.Subject} at {finding.AtNs}: {finding.Message}");
                Assert.True(SilentTowardGateway(run, report, gateway, finding), $"not true by {finding.Subject}'s tunnel capture: {finding.Message}");
            }
        }
    }

    /// <summary>
    /// A no_tunnel_traffic_to_gateway finding says its node sent no Geneve on the router's datapath (toward the gateway
    /// port's key) to the active gateway for at least 5 s after the finding's instant, until that gateway's stretch of
    /// emission ended: true when some stretch of the timeline holds that instant and the node's tunnel capture shows no
    /// such packet to that stretch's node in between.
    /// </summary>
    private static bool SilentTowardGateway(LabRun run, AnalysisReport report, GatewayReport gateway, Finding finding)
    {
        GatewayPortInfo port = Assert.Single(report.Inventory.GatewayPorts, p => p.Mac == gateway.Mac);
        string node = finding.Subject!;
        long at = finding.AtNs!.Value;
        return gateway.Timeline.Any(s => s.Node != node && s.StartNs <= at && at <= s.EndNs && s.EndNs - at >= 5_000_000_000
            && !run.SentGeneve[node].Any(g => g.Ns > at && g.Ns <= s.EndNs && g.Destination == run.EncapIps[s.Node]
                                             && g.Vni == (uint)port.DatapathKey!.Value && (port.PortKey is not int key || g.EgressKey == key)));
    }

    /// <summary>The owner at an instant: the target of the last move before it, else the first node seen.</summary>
    private static string? OwnerAt(GatewayReport gateway, long ns) =>
        gateway.Failovers.LastOrDefault(m => m.AtNs <= ns)?.To ?? gateway.Timeline.FirstOrDefault()?.Node;
}
