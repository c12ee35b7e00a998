using UplinkProbe.Analysis;
using Xunit;

namespace UplinkProbe.Tests.Analysis;

/// <summary>
/// <see cref="ActivityRuns"/> with its closed runs in a compact log (<see cref="ClosedRuns"/>, <see cref="VarintLog"/>):
/// the runs read back are exactly those a plain list of runs gives, for ordinary and hostile timestamps, in one pass
/// and in parts; and a long capture's runs take about ten bytes each.
/// </summary>
public sealed class ActivityRunsTests
{
    private const long Gap = 2_000_000_000;

    [Fact]
    public void VarintLogGivesBackEveryValueIncludingTheExtremes()
    {
        long[] edges = [0, 1, -1, 63, -64, 64, -65, 127, 128, 8191, 8192, int.MaxValue, int.MinValue, long.MaxValue, long.MinValue, long.MaxValue - 1, long.MinValue + 1];
        var random = new Random(7);
        var values = new List<long>(edges);
        for (int i = 0; i < 20_000; i++)
        {
            values.Add(random.NextInt64(long.MinValue, long.MaxValue) >> random.Next(64));
        }

        var log = new VarintLog();
        foreach (long v in values)
        {
            log.Write(v);
        }

        var read = new List<long>();
        for (VarintLog.Reader reader = log.Read(); !reader.AtEnd;)
        {
            read.Add(reader.Next());
        }

        Assert.Equal(values, read);
        Assert.Equal(1 + 1 + 1 + 1 + 1 + 2 + 2 + 2 + 2 + 2 + 3 + 5 + 5 + 10 + 10 + 10 + 10, SizeOf(edges));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    public void RunsAreThoseOfAPlainListInOnePassAndInParts(int seed, bool hostile)
    {
        List<(long Ns, long Frame)> events = Events(seed, 30_000, hostile);
        List<ActivityRun> expected = ReferenceRuns(events);
        Assert.True(expected.Count > 1_000, $"only {expected.Count} runs");

        var single = new ActivityRuns(Gap);
        foreach ((long ns, long frame) in events)
        {
            single.Add(ns, frame);
        }

        Assert.Equal(expected, single.All.ToList());
        Assert.Equal(expected.Count, single.Count);
        Assert.Equal(expected[^1].EndNs, single.LastNs);

        // Parts: the second part numbers its frames from 1 and is appended with the offset of the first part's frames.
        var random = new Random(seed);
        foreach (int cut in new[] { 1, random.Next(2, events.Count - 1), events.Count - 1 })
        {
            var first = new ActivityRuns(Gap);
            var second = new ActivityRuns(Gap);
            long offset = events[cut - 1].Frame;
            for (int i = 0; i < events.Count; i++)
            {
                if (i < cut)
                {
                    first.Add(events[i].Ns, events[i].Frame);
                }
                else
                {
                    second.Add(events[i].Ns, events[i].Frame - offset);
                }
            }

            first.Append(second, offset);
            Assert.Equal(expected, first.All.ToList());
        }
    }

    [Fact]
    public void ASparseTalkersRunsTakeAboutTenBytesEach()
    {
        // One frame every 3 s (each its own run) among a busy capture's frame numbers: the case that made analyze hold
        // about 140 bytes a run with a list of structs.
        var runs = new ClosedRuns();
        long ns = 1_735_689_600_000_000_000, frame = 1;
        var random = new Random(3);
        for (int i = 0; i < 100_000; i++)
        {
            runs.Add(new ActivityRun(ns, ns, 1, frame, frame));
            ns += 3_000_000_000 + random.Next(1_000_000);
            frame += 4_096 + random.Next(64);
        }

        Assert.Equal(100_000, runs.Count);
        Assert.True(runs.Bytes <= 12 * runs.Count, $"{runs.Bytes} bytes for {runs.Count} runs");
        Assert.Equal(100_000, runs.All().Count());
    }

    private static int SizeOf(long[] values)
    {
        var log = new VarintLog();
        foreach (long v in values)
        {
            log.Write(v);
        }

        return log.Length;
    }

    /// <summary>Increasing frames; timestamps mostly increasing with gaps around the run gap, some going backwards; hostile: near the ends of the range too.</summary>
    private static List<(long Ns, long Frame)> Events(int seed, int count, bool hostile)
    {
        var random = new Random(seed);
        var events = new List<(long, long)>(count);
        long ns = hostile ? long.MinValue + 10 : 1_735_689_600_000_000_000;
        long frame = 0;
        for (int i = 0; i < count; i++)
        {
            frame += 1 + random.Next(100);
            long step = random.Next(10) switch
            {
                0 => -random.NextInt64(5_000_000_000),         // backwards
                1 or 2 => Gap + 1 + random.NextInt64(Gap),      // a new run
                3 => Gap,                                       // exactly the gap: same run
                _ => random.NextInt64(1_000_000_000),
            };
            ns = unchecked(ns + step);
            if (hostile && random.Next(2_000) == 0)
            {
                ns = random.Next(2) == 0 ? long.MaxValue - random.NextInt64(Gap) : long.MinValue + random.NextInt64(Gap);
            }

            events.Add((ns, frame));
        }

        return events;
    }

    /// <summary>The runs as the rule reads, kept in a plain list (an independent model of <see cref="ActivityRuns.Add"/>).</summary>
    private static List<ActivityRun> ReferenceRuns(List<(long Ns, long Frame)> events)
    {
        var runs = new List<ActivityRun>();
        foreach ((long ns, long frame) in events)
        {
            if (runs.Count > 0 && ns - runs[^1].EndNs <= Gap)
            {
                ActivityRun r = runs[^1];
                runs[^1] = r with { EndNs = Math.Max(r.EndNs, ns), Count = r.Count + 1, LastFrame = frame };
            }
            else
            {
                runs.Add(new ActivityRun(ns, ns, 1, frame, frame));
            }
        }

        return runs;
    }
}
