using System.Runtime.CompilerServices;

namespace UplinkProbe.Analysis;

/// <summary>
/// A stretch of activity: events no further apart than the run gap. <see cref="Tagged"/> counts the events its owner
/// marked and <see cref="Flagged"/> says whether any was flagged (an emission track: ARP frames, and frames proven sent).
/// </summary>
public readonly record struct ActivityRun(long StartNs, long EndNs, long Count, long FirstFrame, long LastFrame, long Tagged = 0, bool Flagged = false);

/// <summary>
/// The runs a track no longer itemises (its oldest, once it had more than it keeps), summed: their events, tagged
/// events and flag, the first run's start (its first event) and first frame, the earliest start of the runs after it,
/// and the latest end of any. How many runs they were is not kept: it is the one figure that depends on where parts of
/// a stream were cut (see <see cref="ActivityRuns.Append"/>).
/// </summary>
internal readonly record struct ForgottenRuns(long Events, long Tagged, bool Flagged, long FirstStartNs, long FirstFrame, long LaterMinStartNs, long MaxEndNs)
{
    /// <summary>Some run is forgotten (every run has at least one event).</summary>
    public bool Any => Events > 0;

    /// <summary>The earliest start of a forgotten run.</summary>
    public long MinStartNs => Math.Min(FirstStartNs, LaterMinStartNs);

    /// <summary>These runs followed by <paramref name="run"/>.</summary>
    public ForgottenRuns Then(in ActivityRun run) => !Any
        ? new(run.Count, run.Tagged, run.Flagged, run.StartNs, run.FirstFrame, long.MaxValue, run.EndNs)
        : new(Events + run.Count, Tagged + run.Tagged, Flagged | run.Flagged, FirstStartNs, FirstFrame, Math.Min(LaterMinStartNs, run.StartNs), Math.Max(MaxEndNs, run.EndNs));

    /// <summary>These runs followed by <paramref name="later"/>; when <paramref name="joined"/>, its first run continued the last run here.</summary>
    public ForgottenRuns Then(in ForgottenRuns later, bool joined = false) => !later.Any ? this : !Any ? later
        : new(Events + later.Events, Tagged + later.Tagged, Flagged | later.Flagged, FirstStartNs, FirstFrame,
            Math.Min(LaterMinStartNs, joined ? later.LaterMinStartNs : later.MinStartNs), Math.Max(MaxEndNs, later.MaxEndNs));

    public ForgottenRuns WithFramesShifted(long frameOffset) => Any ? this with { FirstFrame = FirstFrame + frameOffset } : this;

    public override string ToString() => Any ? $"forgotten n={Events} t={Tagged}{(Flagged ? "!" : string.Empty)} first {FirstStartNs} #{FirstFrame} span {MinStartNs}..{MaxEndNs}" : "forgotten none";
}

/// <summary>
/// Groups time-ordered events into runs separated by gaps longer than a threshold. The open run lives in fields of
/// this struct, which its owner keeps as a field (mutated in place, no extra object to reach per event); a closed run
/// is written to a compact log (<see cref="ClosedRuns"/>, about 11 bytes a run). With a limit (<c>keep</c>), only the
/// newest runs are itemised and the older ones are summed (<see cref="ForgottenRuns"/>): the state stays bounded however
/// long a sparse talker goes on.
/// </summary>
/// <remarks>
/// An event closes the open run when it is more than the gap after the run's latest event so far (<c>EndNs</c>, the
/// maximum, so a timestamp going backwards never closes a run). <c>StartNs</c> is the first event's time.
/// What is shown (<see cref="All"/>, <see cref="Forgotten"/>) is exactly the newest <c>keep</c> runs and the sum of the
/// others, whenever the log forgot its oldest: at least <c>keep</c> newer runs are always held, so the view does not
/// depend on when the log was trimmed, and parts of one stream appended in order show what a single pass shows (with
/// one exception, under <see cref="Append"/>).
/// </remarks>
internal struct ActivityRuns
{
    private readonly long _gapNs;
    private readonly int _keep; // 0: every run is kept
    private ClosedRuns? _closed;
    private bool _open, _flagged;
    private long _start, _end, _count, _firstFrame, _lastFrame, _tagged;

    public ActivityRuns(long gapNs, int keep = 0)
    {
        if (keep is < 0 or 1)
        {
            throw new ArgumentOutOfRangeException(nameof(keep), keep, "0 (keep every run) or at least 2");
        }

        _gapNs = gapNs;
        _keep = keep;
    }

    /// <summary>Records an event; true when it started a new run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Add(long ns, long frame)
    {
        bool started = false;
        if (_open && ns - _end > _gapNs)
        {
            Closed.Add(Open);
            _open = false;
        }

        if (!_open)
        {
            _open = true;
            _start = _end = ns;
            _count = _tagged = 0;
            _flagged = false;
            _firstFrame = frame;
            started = true;
        }

        _end = Math.Max(_end, ns);
        _lastFrame = frame;
        _count++;
        return started;
    }

    /// <summary>Marks the event just added: counted as tagged when <paramref name="tagged"/>, and the run flagged when <paramref name="flagged"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Mark(bool tagged, bool flagged)
    {
        _tagged += tagged ? 1 : 0;
        _flagged |= flagged;
    }

    /// <summary>
    /// Continues these runs with the events of <paramref name="later"/>, which were recorded from an empty state and
    /// came after every event recorded here; its frame numbers are shifted by <paramref name="frameOffset"/>. The
    /// result shows what feeding all events here one by one would have shown.
    /// </summary>
    /// <remarks>
    /// Inside <paramref name="later"/> an event started a new run only when it came more than the gap after the
    /// latest event of its run so far. Fed after the events here, the open run's latest time can only be the same
    /// or later, so an event that joined a run in <paramref name="later"/> joins here too, and the only events that
    /// may decide differently are the first events of <paramref name="later"/>'s runs. Once one of them starts a new
    /// run, the state is the same as in <paramref name="later"/> and the rest follows unchanged.
    /// When <paramref name="later"/> forgot its oldest runs, it holds at least <c>keep</c> newer ones, so every run here
    /// is forgotten too. Of forgotten runs only sums, the first event, the latest end and the earliest start after the
    /// first run are kept: joining runs changes none but the last, which leaves out the start of a first run that joins.
    /// The runs shown are still those of a single pass, unless timestamps go back across the cut by more than
    /// the gap: otherwise no run of <paramref name="later"/> after its second can join the run open here (its second
    /// only when the open run's latest event is later than all of its first run's), and it forgets at least its two
    /// oldest (<c>keep</c> is at least 2).
    /// </remarks>
    public void Append(in ActivityRuns later, long frameOffset)
    {
        ForgottenRuns theirs = later._closed?.Forgotten ?? default;
        if (theirs.Any)
        {
            // Its first run continuing the run open here starts no run of its own: its start is no run's start.
            bool joins = _open && theirs.FirstStartNs - _end <= _gapNs;
            var closed = new ClosedRuns(_keep, AllHeldForgotten().Then(theirs.WithFramesShifted(frameOffset), joins));
            foreach (ActivityRun run in later._closed!.All())
            {
                closed.Add(run with { FirstFrame = run.FirstFrame + frameOffset, LastFrame = run.LastFrame + frameOffset });
            }

            _closed = closed;
            Reopen(later.Open, frameOffset); // a part that forgot runs has events, so a run open
            return;
        }

        bool following = !_open;
        foreach (ActivityRun run in later.HeldRuns())
        {
            if (!following && run.StartNs - _end <= _gapNs)
            {
                _end = Math.Max(_end, run.EndNs);
                _count += run.Count;
                _lastFrame = run.LastFrame + frameOffset;
                _tagged += run.Tagged;
                _flagged |= run.Flagged;
                continue;
            }

            following = true;
            if (_open)
            {
                Closed.Add(Open);
            }

            Reopen(run, frameOffset);
        }
    }

    /// <summary>The runs shown: the newest <c>keep</c> (all when there is no limit or no more), oldest first.</summary>
    public readonly List<ActivityRun> All => Shown(out _);

    /// <summary>The runs not shown, summed (<see cref="ForgottenRuns.Any"/> false when every run is shown).</summary>
    public readonly ForgottenRuns Forgotten
    {
        get
        {
            ForgottenRuns forgotten = _closed?.Forgotten ?? default;
            int hidden = Hidden;
            if (hidden > 0)
            {
                foreach (ActivityRun run in HeldRuns())
                {
                    if (hidden-- == 0)
                    {
                        break;
                    }

                    forgotten = forgotten.Then(run);
                }
            }

            return forgotten;
        }
    }

    /// <summary>Number of runs shown (closed and open).</summary>
    public readonly int Count => HeldCount - Hidden;

    /// <summary>Events of every run, shown or forgotten.</summary>
    public readonly long Events
    {
        get
        {
            long events = _closed?.Forgotten.Events ?? 0;
            foreach (ActivityRun run in HeldRuns())
            {
                events += run.Count;
            }

            return events;
        }
    }

    public readonly long LastNs => _open ? _end : long.MinValue;

    public readonly override string ToString()
    {
        List<ActivityRun> shown = Shown(out ForgottenRuns forgotten);
        string runs = string.Join(" ", shown.Select(r => $"[{r.StartNs}..{r.EndNs} n={r.Count} #{r.FirstFrame}..#{r.LastFrame}" + (r.Tagged != 0 || r.Flagged ? $" t={r.Tagged}{(r.Flagged ? "!" : string.Empty)}]" : "]")));
        return forgotten.Any ? $"({forgotten}) {runs}" : runs;
    }

    /// <summary><see cref="All"/> and <see cref="Forgotten"/> in one reading of the log.</summary>
    public readonly List<ActivityRun> Shown(out ForgottenRuns forgotten)
    {
        forgotten = _closed?.Forgotten ?? default;
        int hidden = Hidden;
        var shown = new List<ActivityRun>(HeldCount - hidden);
        foreach (ActivityRun run in HeldRuns())
        {
            if (hidden > 0)
            {
                forgotten = forgotten.Then(run);
                hidden--;
            }
            else
            {
                shown.Add(run);
            }
        }

        return shown;
    }

    private readonly int HeldCount => (_closed?.Count ?? 0) + (_open ? 1 : 0);

    /// <summary>Held runs older than the newest <c>keep</c>.</summary>
    private readonly int Hidden => _keep == 0 ? 0 : Math.Max(0, HeldCount - _keep);

    /// <summary>Every run held (closed and open), oldest first; read from the log as it goes, not copied (a track holds
    /// up to twice <c>keep</c>).</summary>
    private readonly IEnumerable<ActivityRun> HeldRuns()
    {
        IEnumerable<ActivityRun> closed = _closed?.All() ?? [];
        return _open ? closed.Append(Open) : closed;
    }

    /// <summary>The stored sum followed by every run held.</summary>
    private readonly ForgottenRuns AllHeldForgotten()
    {
        ForgottenRuns all = _closed?.Forgotten ?? default;
        foreach (ActivityRun run in HeldRuns())
        {
            all = all.Then(run);
        }

        return all;
    }

    /// <summary>Makes <paramref name="run"/>, its frames shifted by <paramref name="frameOffset"/>, the open run.</summary>
    private void Reopen(in ActivityRun run, long frameOffset)
    {
        _open = true;
        _start = run.StartNs;
        _end = run.EndNs;
        _count = run.Count;
        _firstFrame = run.FirstFrame + frameOffset;
        _lastFrame = run.LastFrame + frameOffset;
        _tagged = run.Tagged;
        _flagged = run.Flagged;
    }

    private ClosedRuns Closed => _closed ??= new ClosedRuns(_keep);

    private readonly ActivityRun Open => new(_start, _end, _count, _firstFrame, _lastFrame, _tagged, _flagged);
}

/// <summary>
/// Closed runs in order, each written as six varints (<see cref="VarintLog"/>) relative to the run before: start after
/// the previous end, duration, event count, first frame after the previous last frame, frames spanned, and tagged
/// events × 2 + flagged. Wrapping arithmetic makes the round trip exact for any values, hostile timestamps included.
/// With a limit (<c>keep</c> > 0), reaching twice the limit forgets the oldest runs down to the limit into
/// <see cref="Forgotten"/>: the bytes of the runs kept move to the front of the log unchanged (they stay relative to the
/// last forgotten run, kept as the base), so forgetting allocates nothing.
/// </summary>
internal sealed class ClosedRuns
{
    private readonly int _keep;
    private readonly VarintLog _log = new();
    private long _baseEnd, _baseFrame; // end and last frame of the run before the first one held
    private long _lastEnd, _lastFrame;

    public ClosedRuns(int keep = 0, ForgottenRuns forgotten = default)
    {
        _keep = keep;
        Forgotten = forgotten;
    }

    /// <summary>Runs held.</summary>
    public int Count { get; private set; }

    /// <summary>The runs no longer held, summed.</summary>
    public ForgottenRuns Forgotten { get; private set; }

    /// <summary>Bytes the runs take (tests).</summary>
    public int Bytes => _log.Length;

    public void Add(in ActivityRun run)
    {
        if (_keep > 0 && Count >= 2 * _keep)
        {
            ForgetOldest(Count - _keep);
        }

        unchecked
        {
            _log.Write(run.StartNs - _lastEnd);
            _log.Write(run.EndNs - run.StartNs);
            _log.Write(run.Count);
            _log.Write(run.FirstFrame - _lastFrame);
            _log.Write(run.LastFrame - run.FirstFrame);
            _log.Write((run.Tagged << 1) | (run.Flagged ? 1L : 0L));
        }

        _lastEnd = run.EndNs;
        _lastFrame = run.LastFrame;
        Count++;
    }

    private void ForgetOldest(int n)
    {
        VarintLog.Reader reader = _log.Read();
        long end = _baseEnd, frame = _baseFrame;
        ForgottenRuns forgotten = Forgotten;
        for (int i = 0; i < n; i++)
        {
            forgotten = forgotten.Then(Next(ref reader, ref end, ref frame));
        }

        _log.RemoveFirst(reader.Position);
        (_baseEnd, _baseFrame) = (end, frame);
        Forgotten = forgotten;
        Count -= n;
    }

    /// <summary>The runs held (a later <see cref="Add"/> does not disturb an enumeration under way unless it forgets runs).</summary>
    public IEnumerable<ActivityRun> All()
    {
        VarintLog.Reader reader = _log.Read();
        long end = _baseEnd, frame = _baseFrame;
        while (!reader.AtEnd)
        {
            yield return Next(ref reader, ref end, ref frame);
        }
    }

    private static ActivityRun Next(ref VarintLog.Reader reader, ref long end, ref long frame)
    {
        unchecked
        {
            long start = end + reader.Next();
            end = start + reader.Next();
            long count = reader.Next();
            long first = frame + reader.Next();
            frame = first + reader.Next();
            long extra = reader.Next();
            return new ActivityRun(start, end, count, first, frame, extra >> 1, (extra & 1) != 0);
        }
    }
}
