using UplinkProbe.Analysis;
using Xunit;

namespace UplinkProbe.Tests.Analysis;

/// <summary>
/// <see cref="ActivityRuns"/> with its closed runs in a compact log (<see cref="ClosedRuns"/>, <see cref="VarintLog"/>):
/// the runs read back are exactly those a plain list of runs gives, for ordinary and hostile timestamps, in one pass
/// and in parts; and a long capture's runs take about ten bytes each. With a limit, the newest runs are shown and the
/// others summed, in parts as in one pass, and a sparse talker's state stays bounded.
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

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    [InlineData(5, 8)]
    [InlineData(6, 100)]
    [InlineData(7, 2_000)]
    public void WithALimitTheNewestRunsAreShownAndTheOthersSummedInOnePassAndInParts(int seed, int keep)
    {
        // Timestamps go back, but never by more than the gap from the latest so far (see the remarks of Append).
        List<(long Ns, long Frame)> events = Events(seed, 30_000, hostile: false, maxBackNs: Gap);
        List<ActivityRun> reference = ReferenceRuns(events);
        Assert.True(reference.Count > 2 * keep || keep == 2_000, $"only {reference.Count} runs");
        List<ActivityRun> expected = reference.TakeLast(keep).ToList();
        ForgottenRuns expectedForgotten = Summed(reference.SkipLast(keep));

        var single = new ActivityRuns(Gap, keep);
        foreach ((long ns, long frame) in events)
        {
            single.Add(ns, frame);
        }

        Assert.Equal(expected, single.All);
        Assert.Equal(expectedForgotten, single.Forgotten);
        Assert.Equal(events.Count, single.Events);

        // Two and three parts at random cuts (and at the ends), appended in order or the later two first.
        var random = new Random(seed);
        for (int trial = 0; trial < 12; trial++)
        {
            int[] cuts = trial switch
            {
                0 => [1],
                1 => [events.Count - 1],
                _ when trial % 2 == 0 => [random.Next(1, events.Count)],
                _ => [.. new[] { random.Next(1, events.Count), random.Next(1, events.Count) }.Distinct().Order()],
            };
            List<ActivityRuns> parts = Parts(events, cuts, keep, out List<long> offsets);
            ActivityRuns merged = parts[0];
            if (parts.Count == 3 && trial % 4 == 3)
            {
                ActivityRuns later = parts[1];
                later.Append(parts[2], offsets[2] - offsets[1]);
                merged.Append(later, offsets[1]);
            }
            else
            {
                for (int i = 1; i < parts.Count; i++)
                {
                    merged.Append(parts[i], offsets[i]);
                }
            }

            Assert.Equal(expected, merged.All);
            Assert.Equal(expectedForgotten, merged.Forgotten);
            Assert.Equal(events.Count, merged.Events);
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void WithALimitAndTimestampsFarBackEveryEventIsStillCounted(int seed)
    {
        // Timestamps more than the gap back across a cut can join runs the later part had forgotten: then the runs shown
        // may differ from a single pass (documented), but no event is lost or counted twice.
        List<(long Ns, long Frame)> events = Events(seed, 20_000, hostile: true);
        var random = new Random(seed);
        for (int trial = 0; trial < 8; trial++)
        {
            List<ActivityRuns> parts = Parts(events, [random.Next(1, events.Count)], keep: 4, out List<long> offsets);
            ActivityRuns merged = parts[0];
            merged.Append(parts[1], offsets[1]);
            Assert.Equal(events.Count, merged.Events);
            Assert.Equal(events[0].Ns, merged.Forgotten.FirstStartNs);
            Assert.Equal(events[0].Frame, merged.Forgotten.FirstFrame);
            Assert.Equal(4, merged.Count);
        }
    }

    [Fact]
    public void ALimitedLogHoldsAtMostTwiceItsLimit()
    {
        // A sparse talker for a month: one frame every 3 s, each its own run.
        const int Keep = 64;
        var runs = new ActivityRuns(Gap, Keep);
        long ns = 1_735_689_600_000_000_000;
        for (int i = 1; i <= 864_000; i++)
        {
            runs.Add(ns, i);
            runs.Mark(tagged: i % 3 == 0, flagged: i == 5);
            ns += 3_000_000_000;
        }

        List<ActivityRun> shown = runs.All;
        Assert.Equal(Keep, shown.Count);
        Assert.Equal(864_000 - Keep + 1, shown[0].FirstFrame);
        Assert.Equal(864_000, shown[^1].LastFrame);
        ForgottenRuns forgotten = runs.Forgotten;
        Assert.Equal((864_000L - Keep, (864_000L - Keep) / 3, true, 1_735_689_600_000_000_000L, 1L), (forgotten.Events, forgotten.Tagged, forgotten.Flagged, forgotten.FirstStartNs, forgotten.FirstFrame));
        Assert.Equal(shown[0].StartNs - 3_000_000_000, forgotten.MaxEndNs);

        var log = new ClosedRuns(Keep);
        for (int i = 0; i < 100_000; i++)
        {
            log.Add(new ActivityRun(i * 3_000_000_000L, i * 3_000_000_000L, 1, i, i));
            Assert.True(log.Count <= 2 * Keep);
        }

        Assert.True(log.Bytes <= 2 * Keep * 12, $"{log.Bytes} bytes");
        Assert.Equal(100_000, log.Forgotten.Events + log.All().Sum(r => r.Count));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActivityRuns(Gap, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AnalysisOptions { MaxRunsPerTrack = 1 });
    }

    /// <summary>The events cut at <paramref name="cuts"/>, each part numbering its frames from 1 after the frame before it (its offset).</summary>
    private static List<ActivityRuns> Parts(List<(long Ns, long Frame)> events, int[] cuts, int keep, out List<long> offsets)
    {
        var parts = new List<ActivityRuns>();
        offsets = [];
        int from = 0;
        foreach (int to in cuts.Append(events.Count))
        {
            long offset = from == 0 ? 0 : events[from - 1].Frame;
            var part = new ActivityRuns(Gap, keep);
            for (int i = from; i < to; i++)
            {
                part.Add(events[i].Ns, events[i].Frame - offset);
            }

            parts.Add(part);
            offsets.Add(offset);
            from = to;
        }

        return parts;
    }

    private static ForgottenRuns Summed(IEnumerable<ActivityRun> runs)
    {
        ForgottenRuns sum = default;
        foreach (ActivityRun run in runs)
        {
            sum = sum.Then(run);
        }

        return sum;
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
    private static List<(long Ns, long Frame)> Events(int seed, int count, bool hostile, long maxBackNs = long.MaxValue)
    {
        var random = new Random(seed);
        var events = new List<(long, long)>(count);
        long ns = hostile ? long.MinValue + 10 : 1_735_689_600_000_000_000;
        long latest = ns;
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

            if (!hostile)
            {
                ns = Math.Max(ns, latest - maxBackNs);
                latest = Math.Max(latest, ns);
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
