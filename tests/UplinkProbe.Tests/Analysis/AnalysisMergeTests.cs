using System.Text;
using UplinkProbe.Analysis;
using UplinkProbe.Analysis.Inventory;
using UplinkProbe.Capture;
using UplinkProbe.Crafting;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;
using UplinkProbe.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Analysis;

/// <summary>
/// A packet stream analysed in one session, and the same stream cut into 2–5 contiguous parts, each fed to its own
/// part session (<see cref="AnalysisSession.CreatePart"/>) with record numbers restarting at 1 and appended in order
/// (<see cref="AnalysisSession.Append"/>), give byte-identical JSON and text reports. Cuts fall at random, at the first
/// and last packet, and right inside what depends on earlier packets: GARP bursts, emission runs, BFD state changes, a
/// MAC change of an IP, timestamps going backwards, capped lists. The analyzers' whole state is compared too
/// (<see cref="AnalysisSession.DescribeState"/>): the report does not show everything (e.g. runs of emissions closer
/// than the run gap are joined again in the timeline), but a later report of an appended session builds on all of it.
/// </summary>
public sealed class AnalysisMergeTests
{
    private readonly ITestOutputHelper _output;

    public AnalysisMergeTests(ITestOutputHelper output) => _output = output;

    private sealed record SourceSpec(string Path, string Node, string NodeFrom, bool TransmitOnly, CaptureFormat Format);

    private sealed record Packet(int Source, CaptureRecord Record, byte[] Data);

    /// <summary>One file's packets in read order (record numbers 1..N), the sources they map to, and where cuts are most telling.</summary>
    private sealed record PacketStream(string Name, List<SourceSpec> Sources, List<Packet> Packets, CloudInventory Inventory, List<int> Marks)
    {
        public AnalysisOptions? Options { get; init; }
    }

    // ------------------------------------------------------------------ inputs

    [Fact]
    public void TheCommittedLabCaptureMergesExactly()
    {
        string dir = Path.Combine(Corpus.RepositoryRoot, "captures", "ovn-lab");
        string path = Path.Combine(dir, "ovn-lab.pcapng");
        CloudInventory inventory = InventoryLoader.Load(Path.Combine(dir, "inventory.json"));
        PacketStream stream = LoadLikeUplinkAnalysis(path, inventory);
        Assert.True(stream.Packets.Count > 1000 && stream.Sources.Count >= 3, $"{stream.Packets.Count} packets, {stream.Sources.Count} sources");

        // The harness maps interfaces to sources as `analyze` does: its single pass gives what UplinkAnalysis gives.
        var analysis = new UplinkAnalysis(inventory, fileOptions: new CaptureFileOptions { ReadAhead = false });
        analysis.AddCapture(path);
        (byte[] json, string text) = Render(analysis.Run());
        (byte[] sequentialJson, string sequentialText, _) = Sequential(stream);
        Assert.Equal(Encoding.UTF8.GetString(json), Encoding.UTF8.GetString(sequentialJson));
        Assert.Equal(text, sequentialText);

        CheckSplits(stream, seeds: 6, marksAlone: 6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AGeneratedOvnMixMergesExactly(bool transmitOnly)
    {
        // The mix of tools/UplinkProbe.TrafficGenerator (classic pcap, no direction); transmit-only makes every frame
        // an emission, so its gratuitous ARPs become announcements, bursts and learned gateways.
        var traffic = new SyntheticUplinkTraffic(transmitOnly ? 11UL : 3UL);
        var buffer = new byte[SyntheticUplinkTraffic.MaxFrameLength];
        var packets = new List<Packet>();
        for (int i = 0; i < 30_000; i++)
        {
            int n = traffic.NextFrame(buffer, out long ts);
            packets.Add(new Packet(0, Record(i + 1, ts, n, PacketDirection.Unknown), buffer[..n]));
        }

        var sources = new List<SourceSpec> { new("mix.pcap", "hv1", "--node", transmitOnly, CaptureFormat.Pcap) };
        CheckSplits(new PacketStream("mix", sources, packets, new CloudInventory(), []), seeds: 6, marksAlone: 4);
    }

    [Fact]
    public void HandBuiltAdversarialSequencesMergeExactly()
    {
        using var scenario = new Scenario();
        scenario.WithOvnInventory(activeNode: "hv2");
        var b = new StreamBuilder("adversarial.pcapng", "hv1", "hv2", "hv3");
        byte[] gw = Scenario.GatewayMac;
        byte[] toRouter = Scenario.Ping(gw, Scenario.RouterMac, Scenario.GatewayIp, Scenario.UpstreamIp);

        // The gateway MAC from hv1, then the same MAC again less than RunGapNs later: a cut between continues the run.
        for (double t = 0; t <= 10; t += 0.5)
        {
            b.Add(0, t, toRouter, PacketDirection.Outbound);
        }

        b.Mark();
        for (double t = 10.5; t <= 12; t += 0.5)
        {
            b.Add(0, t, toRouter, PacketDirection.Outbound);
        }

        // Backwards across the cut: the part starting here sees 6 s and then 13.9 s, more than RunGapNs apart, while
        // after 12 s they are one run. The same for a Geneve flow.
        b.Add(0, 11.8, Scenario.Geneve(1, 2, 2, 1, 3), PacketDirection.Outbound);
        b.Mark();
        b.Add(0, 6, toRouter, PacketDirection.Outbound);
        b.Add(0, 6.1, Scenario.Geneve(1, 2, 2, 1, 3), PacketDirection.Outbound);
        b.Add(0, 13.9, toRouter, PacketDirection.Outbound);
        b.Add(0, 13.5, Scenario.Geneve(1, 2, 2, 1, 3), PacketDirection.Outbound);

        // hv2 claims the gateway at 20 s: data at once, GARPs 1, 3, 7, 15, 31 s later; a cut before each GARP and after it.
        double[] garps = [21, 23, 27, 35, 51];
        int next = 0;
        for (double t = 20; t <= 60; t += 1)
        {
            if (next < garps.Length && garps[next] <= t)
            {
                b.Mark();
                b.Add(1, garps[next], Scenario.Garp(gw, Scenario.GatewayIp), PacketDirection.Outbound);
                b.Add(0, garps[next], Scenario.Garp(gw, Scenario.GatewayIp), PacketDirection.Inbound);
                b.Mark();
                next++;
            }

            b.Add(1, t, toRouter, PacketDirection.Outbound);
        }

        // An IP whose MAC changes exactly at a cut, stays the same across another, and flips back; heard by two captures.
        byte[] ip = [203, 0, 113, 50];
        byte[] macA = [0x00, 0x00, 0x5e, 0x00, 0x53, 0xa1], macB = [0x00, 0x00, 0x5e, 0x00, 0x53, 0xb2];
        foreach ((double t, byte[] mac) in new[] { (60.0, macA), (61, macA), (62, macA), (63, macB), (64, macB), (65, macA), (66, macA) })
        {
            b.Mark();
            b.Add(2, t, Scenario.Garp(mac, ip), PacketDirection.Outbound);
            b.Add(0, t, Scenario.Garp(mac, ip), PacketDirection.Inbound);
        }

        // BFD hv1 -> hv2: changes and repeats, one packet of the same state right after a cut, diag changes, time going back.
        (double T, BfdState State, BfdDiagnostic Diag)[] bfd =
        [
            (70, BfdState.Down, BfdDiagnostic.None), (71, BfdState.Down, BfdDiagnostic.None), (72, BfdState.Init, BfdDiagnostic.None),
            (73, BfdState.Up, BfdDiagnostic.None), (74, BfdState.Up, BfdDiagnostic.None), (75, BfdState.Down, BfdDiagnostic.ControlDetectionTimeExpired),
            (74.5, BfdState.Down, BfdDiagnostic.ControlDetectionTimeExpired), (76, BfdState.Up, BfdDiagnostic.None), (77, BfdState.Down, BfdDiagnostic.NeighborSignaledSessionDown),
        ];
        foreach ((double t, BfdState state, BfdDiagnostic diag) in bfd)
        {
            b.Mark();
            b.Add(0, t, Scenario.Bfd(1, 2, state, diag), PacketDirection.Outbound);
            b.Add(1, t + 0.001, Scenario.Bfd(1, 2, state, diag), PacketDirection.Inbound);
        }

        // Egress keys: a flow whose later part starts with another key than its first; an endpoint not in the
        // inventory learned from the first node that sent from it.
        ushort[] keys = [3, 3, 5, 3, 7, 5, 3];
        for (int i = 0; i < keys.Length; i++)
        {
            b.Mark();
            b.Add(1, 80 + i, Scenario.Geneve(2, 1, 2, 1, keys[i]), PacketDirection.Outbound);
            b.Add(1, 80.5 + i, Scenario.Geneve(4, 1, 9, 1, keys[^(i + 1)]), PacketDirection.Outbound);
            b.Add(2, 80.7 + i, Scenario.Geneve(4, 1, 9, 1, 4), PacketDirection.Outbound);
        }

        // More distinct egress keys on one flow than a flow counts inline: cuts fall before, at and after the overflow.
        var manyKeys = new Random(5);
        for (int i = 0; i < 60; i++)
        {
            if (i % 9 == 0)
            {
                b.Mark();
            }

            b.Add(1, 81 + (i * 0.01), Scenario.Geneve(2, 3, 2, 1, (ushort)(100 + manyKeys.Next(40))), PacketDirection.Outbound);
        }

        // Broadcasts received (L2 evidence), the same sources again later, then timestamps far back.
        for (int i = 0; i < 40; i++)
        {
            if (i % 7 == 0)
            {
                b.Mark();
            }

            b.Add(2, 90 + (i * 0.1), Broadcast((byte)(i % 9)), PacketDirection.Inbound);
        }

        b.Mark();
        b.Add(1, 3, toRouter, PacketDirection.Outbound);
        b.Add(2, 1, Scenario.Garp(macB, ip), PacketDirection.Outbound);
        b.Add(2, 2, Broadcast(1), PacketDirection.Inbound);
        b.Add(0, 100, toRouter, PacketDirection.Outbound);

        CheckSplits(b.Build(scenario.Inventory), seeds: 12, marksAlone: int.MaxValue);
    }

    [Fact]
    public void CappedStateMergesExactly()
    {
        // More (capture, kind, source) combinations than L2EvidenceAnalyzer keeps, more own MACs than it names, more
        // announcements per binding and MAC changes per IP than kept: each appearing on both sides of the cuts.
        var b = new StreamBuilder("storm.pcapng", "hv1", "hv2");
        var rng = new Random(5);
        int distinct = L2EvidenceAnalyzer.MaxEntries + 1500;
        var order = Enumerable.Range(0, distinct).OrderBy(_ => rng.Next()).ToList();
        for (int round = 0; round < 3; round++)
        {
            foreach (int m in order.Where((_, i) => (i + round) % 3 != 0))
            {
                b.Add(1, round + (m * 1e-6), Broadcast(m), PacketDirection.Inbound);
                if (m % 2 == round % 2)
                {
                    b.Add(0, round + (m * 1e-6), Unicast(m), PacketDirection.Outbound);
                }
            }

            b.Mark();
        }

        byte[] ip = [203, 0, 113, 60];
        byte[] macA = [0x00, 0x00, 0x5e, 0x00, 0x53, 0xa1], macB = [0x00, 0x00, 0x5e, 0x00, 0x53, 0xb2];
        for (int i = 0; i < 2600; i++)
        {
            if (i is 1000 or 1023 or 1024 or 1030 or 2100)
            {
                b.Mark();
            }

            b.Add(0, 10 + (i * 0.01), Scenario.Garp(i % 3 == 0 ? macA : macB, ip), PacketDirection.Outbound);
        }

        CheckSplits(b.Build(new CloudInventory()), seeds: 5, marksAlone: int.MaxValue);
    }

    [Fact]
    public void FloodsBeyondEveryCapMergeExactly()
    {
        // Small caps and a flood of new keys for every capped table (Geneve flows with random egress keys, BFD
        // sessions, emitters with and without direction, ARP and NA bindings, IPs), beside the traffic of an inventory
        // that must survive it, and one BFD session flapping past the kept state changes.
        var options = new AnalysisOptions { MaxTunnelFlows = 40, MaxEmitters = 30, MaxBindings = 30, MaxEgressKeysPerFlow = 5 };
        using var scenario = new Scenario();
        scenario.WithOvnInventory();
        var b = new StreamBuilder("flood.pcapng", "hv1", "hv2");
        var random = new Random(11);
        PacketDirection[] directions = [PacketDirection.Outbound, PacketDirection.Inbound, PacketDirection.Unknown];
        for (int i = 0; i < 8400; i++)
        {
            double t = i * 0.01;
            PacketDirection direction = directions[random.Next(3)];
            switch (i % 7)
            {
                case 0:
                    b.Add(i % 2, t, FloodFrames.GeneveFlow(random), direction);
                    break;
                case 1:
                    b.Add(0, t, FloodFrames.FromRandomMac(random), direction);
                    break;
                case 2:
                    b.Add(1, t, random.Next(2) == 0 ? FloodFrames.RandomGarp(random) : FloodFrames.RandomNeighborAdvertisement(random), direction);
                    break;
                case 3:
                    b.Add(0, t, Scenario.Ping(Scenario.GatewayMac, Scenario.RouterMac, Scenario.GatewayIp, Scenario.UpstreamIp), PacketDirection.Outbound);
                    b.Add(1, t, Scenario.Geneve(2, 1, 2, 1, (ushort)random.Next(12)), PacketDirection.Outbound);
                    break;
                case 4:
                    b.Add(1, t, Scenario.Bfd(random.Next(1, 200), random.Next(1, 200), BfdState.Up), direction);
                    break;
                default:
                    b.Add(0, t, Scenario.Bfd(1, 2, (i / 7 % 2) == 0 ? BfdState.Up : BfdState.Down), PacketDirection.Outbound);
                    break;
            }

            if (i % 700 == 0)
            {
                b.Mark();
            }
        }

        PacketStream stream = b.Build(scenario.Inventory) with { Options = options };
        AnalysisReport report = OnePass(stream);
        _output.WriteLine(string.Join("\n", report.Notes));
        foreach (string note in new[] { "Geneve: more than 40 flows", "Geneve: 1 flow(s) carried more than 5 OVN egress port keys", "BFD: more than 40 sessions",
                     "BFD 192.0.2.11 → 192.0.2.12: 1200 state changes", "Emitters: more than 30", "Announcements: more than 30 (IP, MAC) bindings", "Announcements: more than 30 claimed IPs" })
        {
            Assert.Contains(report.Notes, n => n.StartsWith(note, StringComparison.Ordinal));
        }

        Assert.InRange(report.Tunnels.Count, 1, 40);
        Assert.Contains(report.Tunnels, t => t.SourceNode == "hv2" && t.DestinationNode == "hv1" && t.Vni == 2 && t.EgressKeys.Count == 5 && t.EgressKeys.Keys.Max() == 4);
        Assert.Contains(report.Gateways, g => g.Mac == MacAddress.Read(Scenario.GatewayMac) && g.Timeline.Count == 1 && g.Timeline[0].Node == "hv1");
        Assert.InRange(report.Announcements.Count, 1, 30);
        Assert.Contains(report.BfdSessions, s => s.SourceNode == "hv1" && s.DestinationNode == "hv2" && s.Changes.Count == BfdStateCap + 1 && s.LastState == "down");
        CheckSplits(stream, seeds: 6, marksAlone: 4);
    }

    private const int BfdStateCap = 1024;

    [Fact]
    public void SparseTalkersBeyondTheRunLimitMergeExactly()
    {
        // Four runs itemised per track: hv1 emits the gateway MAC every 3 s (a run each) before hv2 takes it over;
        // Geneve toward each gateway node every 3 s from the others; the distributed FIP every 3 s from its node.
        // Cuts fall anywhere, the tracks and flows forget their oldest runs in every part.
        var options = new AnalysisOptions { MaxRunsPerTrack = 4 };
        using var scenario = new Scenario();
        scenario.WithOvnInventory(activeNode: "hv2");
        var b = new StreamBuilder("sparse.pcapng", "hv1", "hv2", "hv3");
        byte[] toRouter = Scenario.Ping(Scenario.GatewayMac, Scenario.RouterMac, Scenario.GatewayIp, Scenario.UpstreamIp);
        byte[] fip = Scenario.Ping(Scenario.FipMac, Scenario.RouterMac, Scenario.FipIp, Scenario.UpstreamIp);
        for (int i = 0; i < 60; i++)
        {
            double t = i * 3;
            bool moved = t >= 120;
            if (!moved)
            {
                b.Add(0, t, toRouter, PacketDirection.Outbound);
                b.Add(1, t + 0.5, Scenario.Geneve(2, 1, 2, 1, 3), PacketDirection.Outbound);
                b.Add(2, t + 0.7, Scenario.Geneve(3, 1, 2, 1, 3), PacketDirection.Outbound);
            }
            else
            {
                for (double d = 0; d < 3; d += 1)
                {
                    b.Add(1, t + d, toRouter, PacketDirection.Outbound);
                }

                b.Add(0, t + 0.5, Scenario.Geneve(1, 2, 2, 1, 3), PacketDirection.Outbound);
                if (t < 150)
                {
                    b.Add(2, t + 0.7, Scenario.Geneve(3, 2, 2, 1, 3), PacketDirection.Outbound);
                }
            }

            b.Add(2, t + 0.9, fip, PacketDirection.Outbound);
            if (i % 3 == 0)
            {
                b.Mark();
            }
        }

        PacketStream stream = b.Build(scenario.Inventory) with { Options = options };
        AnalysisReport report = OnePass(stream);
        _output.WriteLine(string.Join("\n", report.Notes));
        GatewayReport lr0 = Assert.Single(report.Gateways);
        Assert.Equal(("hv2", Scenario.T0 + 120_000_000_000L), (lr0.ActiveNode, lr0.ActiveSinceNs));
        Assert.Contains(report.Notes, n => n.StartsWith("lr0: the timeline starts after ", StringComparison.Ordinal) && n.Contains("hv1 emitted 00:16:3e:aa:00:02 in more than 4 separate runs", StringComparison.Ordinal));
        Assert.Equal(["hv1", "hv1", "hv1", "hv1", "hv2"], lr0.Timeline.Select(s => s.Node));
        Assert.Contains(report.Findings, f => f.Id == FindingIds.NoTunnelTrafficToGateway && f.Subject == "hv3");
        Assert.DoesNotContain(report.Notes, n => n.Contains("no_tunnel_traffic_to_gateway was not checked", StringComparison.Ordinal));
        FloatingIpReport fipReport = Assert.Single(report.FloatingIps);
        Assert.Equal(60, fipReport.EmittedBy["hv3"]);
        Assert.All(report.Tunnels, t => Assert.Equal(t.SourceNode == "hv3" && t.DestinationNode == "hv2" ? 10 : 40 - (t.SourceNode == "hv1" ? 20 : 0), t.Packets));
        CheckSplits(stream, seeds: 8, marksAlone: 8);
    }

    [Fact]
    public void L2EvidenceOfCapturesBeyondItsSourceLimitIsOnlyCounted()
    {
        // The evidence key packs the kind into the 3 bits between the MAC and the capture index.
        Assert.True((int)Enum.GetValues<L2EvidenceKind>().Max() < 8);
        var session = new AnalysisSession();
        for (int i = 0; i <= L2EvidenceAnalyzer.MaxSources; i++)
        {
            session.AddSource($"hv{i}.pcap", $"hv{i}", "--node");
        }

        byte[] frame = Broadcast(7);
        session.OnPacket(session.Sources[L2EvidenceAnalyzer.MaxSources - 1], Record(1, Scenario.T0, frame.Length, PacketDirection.Inbound), frame);
        session.OnPacket(session.Sources[L2EvidenceAnalyzer.MaxSources], Record(2, Scenario.T0 + 1, frame.Length, PacketDirection.Inbound), frame);
        session.OnPacket(session.Sources[0], Record(3, Scenario.T0 + 2, frame.Length, PacketDirection.Inbound), frame);

        AnalysisReport report = session.BuildReport();
        Assert.Equal([$"hv0 broadcast", $"hv{L2EvidenceAnalyzer.MaxSources - 1} broadcast"],
            report.L2Evidence.Select(r => $"{r.Node} {L2EvidenceRow.KindName(r.Kind)}").Order(StringComparer.Ordinal).ToArray());
        Assert.Contains($"broadcast/multicast evidence: 1 frames of captures beyond the first {L2EvidenceAnalyzer.MaxSources} were not itemised", report.Notes);
    }

    [Fact]
    public void BeyondItsCapL2EvidenceKeepsTheLowestCombinationsWhateverTheOrder()
    {
        int distinct = L2EvidenceAnalyzer.MaxEntries + 10;
        var reports = new List<AnalysisReport>();
        foreach (int seed in new[] { 1, 2 })
        {
            var session = new AnalysisSession();
            CaptureSource source = session.AddSource("hv3.pcapng", "hv3", "--node");
            var random = new Random(seed);
            int number = 0;
            foreach (int m in Enumerable.Range(0, distinct).Concat(Enumerable.Range(0, 20)).OrderBy(_ => random.Next()))
            {
                byte[] frame = Broadcast(m);
                session.OnPacket(source, Record(++number, Scenario.T0 + m, frame.Length, PacketDirection.Inbound), frame);
            }

            reports.Add(session.BuildReport());
        }

        foreach (AnalysisReport report in reports)
        {
            Assert.Equal(L2EvidenceAnalyzer.MaxEntries, report.L2Evidence.Count);
            Assert.Equal(L2EvidenceAnalyzer.MaxEntries - 1, report.L2Evidence.Max(r => (int)(r.Source.Value & 0xFF_FFFF)));
            Assert.Equal(20, report.L2Evidence.Count(r => r.Frames == 2));
            Assert.Contains(report.Notes, n => n.StartsWith("broadcast/multicast evidence: 10 frames from more than 4096", StringComparison.Ordinal));
        }

        Assert.Equal(Encoding.UTF8.GetString(Render(reports[0]).Json), Encoding.UTF8.GetString(Render(reports[1]).Json));
    }

    [Fact]
    public void AWrongFrameOffsetIsSeen()
    {
        // The comparison can fail: appending with the frame offset off by one changes the report.
        using var scenario = new Scenario();
        var b = new StreamBuilder("small.pcapng", "hv1", "hv2");
        for (int i = 0; i < 20; i++)
        {
            b.Add(i % 2, i, Scenario.Garp(Scenario.GatewayMac, Scenario.GatewayIp), PacketDirection.Outbound);
        }

        PacketStream stream = b.Build(new CloudInventory());
        (byte[] json, _, _) = Sequential(stream);
        (byte[] split, _, _) = Split(stream, [10], pairwise: false, offsetError: 1);
        Assert.NotEqual(Encoding.UTF8.GetString(json), Encoding.UTF8.GetString(split));
    }

    [Fact]
    public void APartHasTheSourcesOfItsSessionAndCannotAddAny()
    {
        var session = new AnalysisSession();
        CaptureSource first = session.AddSource("a.pcapng", "hv1", "pcapng interface", transmitOnly: true);
        first.Format = CaptureFormat.PcapNg;
        session.AddSource("a.pcapng", "hv2", "pcapng interface");
        AnalysisSession part = session.CreatePart();
        Assert.True(part.IsPart);
        Assert.Same(session.Inventory, part.Inventory);
        Assert.Same(session.Options, part.Options);
        Assert.Equal(session.Sources.Select(s => (s.Index, s.Path, s.Node, s.NodeFrom, s.TransmitOnly, s.Format)),
            part.Sources.Select(s => (s.Index, s.Path, s.Node, s.NodeFrom, s.TransmitOnly, s.Format)));
        Assert.All(part.Sources, s => Assert.NotSame(s, session.Sources[s.Index]));
        Assert.Throws<InvalidOperationException>(() => part.AddSource("b.pcap", "hv3", "file name"));
        Assert.Throws<ArgumentException>(() => session.Append(new AnalysisSession(), 0));
        Assert.Throws<ArgumentException>(() => session.Append(new AnalysisSession().CreatePart(), 0));
    }

    // ------------------------------------------------------------------ the property

    private void CheckSplits(PacketStream stream, int seeds, int marksAlone)
    {
        (byte[] json, string text, string state) = Sequential(stream);
        string expectedJson = Encoding.UTF8.GetString(json);
        int n = stream.Packets.Count;
        var configurations = new List<(int[] Cuts, bool Pairwise)> { ([1], false), ([n - 1], false), ([1, n - 1], true) };
        var rng = new Random(stream.Name.Length * 7919);
        foreach (int mark in stream.Marks.Where(m => m > 0 && m < n).Distinct().OrderBy(_ => rng.Next()).Take(marksAlone))
        {
            configurations.Add(([mark], false));
        }

        for (int seed = 1; seed <= seeds; seed++)
        {
            var random = new Random(seed);
            int parts = random.Next(2, 6);
            var cuts = new SortedSet<int>();
            while (cuts.Count < parts - 1)
            {
                int cut = random.Next(2) == 0 && stream.Marks.Count > 0 ? stream.Marks[random.Next(stream.Marks.Count)] : random.Next(1, n);
                if (cut > 0 && cut < n)
                {
                    cuts.Add(cut);
                }
            }

            configurations.Add((cuts.ToArray(), seed % 2 == 0));
        }

        foreach ((int[] cuts, bool pairwise) in configurations)
        {
            (byte[] splitJson, string splitText, string splitState) = Split(stream, cuts, pairwise, offsetError: 0);
            string where = $"{stream.Name}: cut at {string.Join(", ", cuts)}{(pairwise ? ", parts appended to each other first" : string.Empty)}";
            AssertSameText(state, splitState, where + " (analyzer state)");
            AssertSameText(expectedJson, Encoding.UTF8.GetString(splitJson), where);
            AssertSameText(text, splitText, where);
        }

        _output.WriteLine($"{stream.Name}: {n} packets, {configurations.Count} splits, reports of {json.Length} bytes identical");
    }

    private static void AssertSameText(string expected, string actual, string where)
    {
        if (expected == actual)
        {
            return;
        }

        string[] e = expected.Split('\n'), a = actual.Split('\n');
        int line = 0;
        while (line < e.Length && line < a.Length && e[line] == a[line])
        {
            line++;
        }

        Assert.Fail($"{where}: reports differ at line {line + 1}\n  one pass: {(line < e.Length ? e[line] : "<end>")}\n  in parts: {(line < a.Length ? a[line] : "<end>")}");
    }

    /// <summary>The report of the whole stream read in one session.</summary>
    private static AnalysisReport OnePass(PacketStream stream)
    {
        AnalysisSession session = NewSession(stream);
        foreach (Packet p in stream.Packets)
        {
            session.OnPacket(session.Sources[p.Source], p.Record, p.Data);
        }

        return session.BuildReport();
    }

    private static (byte[] Json, string Text, string State) Sequential(PacketStream stream)
    {
        AnalysisSession session = NewSession(stream);
        foreach (Packet p in stream.Packets)
        {
            session.OnPacket(session.Sources[p.Source], p.Record, p.Data);
        }

        (byte[] json, string text) = Render(session.BuildReport());
        return (json, text, session.DescribeState());
    }

    /// <summary>
    /// Feeds part i the packets [cuts[i-1], cuts[i]) renumbered from 1, then appends the parts in order (pairwise: each
    /// part is first appended to the one before it, from the last backwards, then the first session takes the result).
    /// </summary>
    private static (byte[] Json, string Text, string State) Split(PacketStream stream, int[] cuts, bool pairwise, long offsetError)
    {
        AnalysisSession first = NewSession(stream);
        int[] starts = [0, .. cuts];
        var sessions = new List<AnalysisSession> { first };
        for (int i = 1; i < starts.Length; i++)
        {
            sessions.Add(first.CreatePart());
        }

        long expectedPackets = 0;
        for (int i = 0; i < starts.Length; i++)
        {
            int end = i + 1 < starts.Length ? starts[i + 1] : stream.Packets.Count;
            AnalysisSession session = sessions[i];
            for (int k = starts[i]; k < end; k++)
            {
                Packet p = stream.Packets[k];
                Assert.Equal(k + 1, p.Record.Number);
                CaptureRecord renumbered = p.Record with { Number = k - starts[i] + 1 };
                session.OnPacket(session.Sources[p.Source], renumbered, p.Data);
            }

            expectedPackets += end - starts[i];
        }

        if (pairwise)
        {
            for (int i = starts.Length - 1; i >= 2; i--)
            {
                sessions[i - 1].Append(sessions[i], starts[i] - starts[i - 1] + offsetError);
            }

            if (starts.Length > 1)
            {
                first.Append(sessions[1], starts[1] + offsetError);
            }
        }
        else
        {
            for (int i = 1; i < starts.Length; i++)
            {
                first.Append(sessions[i], starts[i] + offsetError);
            }
        }

        Assert.Equal(expectedPackets, first.Packets);
        Assert.Equal(stream.Packets.Where(p => p.Record.HasTimestamp).Select(p => p.Record.TimestampNs).DefaultIfEmpty(long.MinValue).Max(), first.LastTimestampNs);
        for (int s = 0; s < stream.Sources.Count; s++)
        {
            var mine = stream.Packets.Where(p => p.Source == s).ToList();
            Assert.Equal(mine.Count, first.Sources[s].Packets);
            if (mine.Count > 0)
            {
                Assert.Equal(mine.Min(p => p.Record.TimestampNs), first.Sources[s].FirstNs);
                Assert.Equal(mine.Max(p => p.Record.TimestampNs), first.Sources[s].LastNs);
            }
        }

        (byte[] json, string text) = Render(first.BuildReport());
        return (json, text, first.DescribeState());
    }

    private static AnalysisSession NewSession(PacketStream stream)
    {
        var session = new AnalysisSession(stream.Inventory, stream.Options);
        foreach (SourceSpec spec in stream.Sources)
        {
            CaptureSource source = session.AddSource(spec.Path, spec.Node, spec.NodeFrom, spec.TransmitOnly);
            source.Format = spec.Format;
        }

        return session;
    }

    private static (byte[] Json, string Text) Render(AnalysisReport report)
    {
        using var json = new MemoryStream();
        AnalysisJsonWriter.Write(json, report);
        using var text = new StringWriter();
        AnalysisTextWriter.Write(text, report);
        return (json.ToArray(), text.ToString());
    }

    // ------------------------------------------------------------------ building streams

    /// <summary>
    /// Reads a capture into memory and maps its interfaces to sources as <see cref="UplinkAnalysis"/> does without
    /// --node: the file's source takes the first interface that names a node, other nodes get a source each at their
    /// first packet, interfaces without a node share the file's source.
    /// </summary>
    private static PacketStream LoadLikeUplinkAnalysis(string path, CloudInventory inventory)
    {
        using CaptureReader reader = CaptureFile.Open(path, new CaptureFileOptions { ReadAhead = false });
        var sources = new List<SourceSpec> { new(path, Path.GetFileNameWithoutExtension(path), "file name", false, reader.Format) };
        var byInterface = new Dictionary<int, int>();
        var packets = new List<Packet>();
        var marks = new List<int>();
        var decoder = new PacketDecoder();
        var decoded = new DecodedPacket();
        bool fileSourceUsed = false;
        while (reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data))
        {
            if (!byInterface.TryGetValue(record.InterfaceIndex, out int source))
            {
                string? node = record.InterfaceIndex < reader.Interfaces.Count ? reader.Interfaces[record.InterfaceIndex].Node : null;
                if (string.IsNullOrEmpty(node))
                {
                    source = 0;
                }
                else if (!fileSourceUsed && sources[0].NodeFrom == "file name" && !byInterface.ContainsValue(0))
                {
                    sources[0] = sources[0] with { Node = node, NodeFrom = "pcapng interface" };
                    source = 0;
                }
                else
                {
                    int known = byInterface.Values.Where(i => sources[i].Node == node).DefaultIfEmpty(-1).First();
                    source = known >= 0 ? known : sources.Count;
                    if (known < 0)
                    {
                        sources.Add(new SourceSpec(path, node, "pcapng interface", false, default));
                    }
                }

                byInterface[record.InterfaceIndex] = source;
            }

            fileSourceUsed |= source == 0;
            packets.Add(new Packet(source, record, data.ToArray()));
            decoder.Decode(data, record.LinkType, decoded, record.OriginalLength);
            if ((decoded.LayerMask & ((1UL << (int)LayerKind.Arp) | (1UL << (int)LayerKind.Bfd))) != 0)
            {
                marks.Add(packets.Count - 1);
                marks.Add(packets.Count);
            }
        }

        Assert.Null(reader.Error);
        return new PacketStream(Path.GetFileName(path), sources, packets, inventory, marks);
    }

    private static CaptureRecord Record(long number, long ns, int length, PacketDirection direction) => new()
    {
        Number = number, TimestampNs = ns, HasTimestamp = true, LinkType = LinkType.Ethernet, Direction = direction,
        OriginalLength = length, CapturedLength = length,
    };

    /// <summary>An Ethernet broadcast from a documentation-range MAC numbered <paramref name="n"/> (local experimental EtherType).</summary>
    private static byte[] Broadcast(int n)
    {
        var frame = new byte[60];
        frame.AsSpan(0, 6).Fill(0xff);
        WriteMac(frame.AsSpan(6), n);
        frame[12] = 0x88;
        frame[13] = 0xb5;
        return frame;
    }

    /// <summary>A unicast frame sent from the MAC numbered <paramref name="n"/>.</summary>
    private static byte[] Unicast(int n)
    {
        var frame = new byte[60];
        Scenario.RouterMac.CopyTo(frame, 0);
        WriteMac(frame.AsSpan(6), n);
        frame[12] = 0x88;
        frame[13] = 0xb5;
        return frame;
    }

    private static void WriteMac(Span<byte> destination, int n)
    {
        // 02:00:5e:xx:xx:xx: locally administered, unicast, above the RFC 7042 documentation block's prefix.
        destination[0] = 0x02;
        destination[1] = 0x00;
        destination[2] = 0x5e;
        destination[3] = (byte)(n >> 16);
        destination[4] = (byte)(n >> 8);
        destination[5] = (byte)n;
    }

    /// <summary>A merged pcapng-like stream of several nodes, in the order packets are added (time may go backwards).</summary>
    private sealed class StreamBuilder
    {
        private readonly string _path;
        private readonly string[] _nodes;
        private readonly List<Packet> _packets = new();
        private readonly List<int> _marks = new();

        public StreamBuilder(string path, params string[] nodes)
        {
            _path = path;
            _nodes = nodes;
        }

        public void Add(int source, double seconds, byte[] frame, PacketDirection direction) =>
            _packets.Add(new Packet(source, Record(_packets.Count + 1, Scenario.T0 + (long)Math.Round(seconds * 1e9), frame.Length, direction), frame));

        /// <summary>A cut before the next packet is worth trying (also one packet either side).</summary>
        public void Mark()
        {
            _marks.Add(_packets.Count);
            _marks.Add(_packets.Count - 1);
            _marks.Add(_packets.Count + 1);
        }

        public PacketStream Build(CloudInventory inventory) => new(_path, _nodes.Select(n => new SourceSpec(_path, n, "pcapng interface", false, CaptureFormat.PcapNg)).ToList(),
            _packets, inventory, _marks);
    }
}
