using System.Runtime.CompilerServices;

namespace UplinkProbe.Analysis;

/// <summary>A stretch of activity: events no further apart than the run gap.</summary>
public readonly record struct ActivityRun(long StartNs, long EndNs, long Count, long FirstFrame, long LastFrame);

/// <summary>
/// Groups time-ordered events into runs separated by gaps longer than a threshold. The open run lives in fields of
/// this struct, which its owner keeps as a field (mutated in place, no extra object to reach per event); a closed run
/// is written to a compact log (<see cref="ClosedRuns"/>, about 10 bytes a run).
/// </summary>
/// <remarks>
/// An event closes the open run when it is more than the gap after the run's latest event so far (<c>EndNs</c>, the
/// maximum, so a timestamp going backwards never closes a run). <c>StartNs</c> is the first event's time.
/// </remarks>
internal struct ActivityRuns
{
    private readonly long _gapNs;
    private ClosedRuns? _closed;
    private bool _open;
    private long _start, _end, _count, _firstFrame, _lastFrame;

    public ActivityRuns(long gapNs) => _gapNs = gapNs;

    /// <summary>Records an event; true when it started a new run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Add(long ns, long frame)
    {
        bool started = false;
        if (_open && ns - _end > _gapNs)
        {
            (_closed ??= new()).Add(Open);
            _open = false;
        }

        if (!_open)
        {
            _open = true;
            _start = _end = ns;
            _count = 0;
            _firstFrame = frame;
            started = true;
        }

        _end = Math.Max(_end, ns);
        _lastFrame = frame;
        _count++;
        return started;
    }

    /// <summary>
    /// Continues these runs with the events of <paramref name="later"/>, which were recorded from an empty state and
    /// came after every event recorded here; its frame numbers are shifted by <paramref name="frameOffset"/>. The
    /// result is what feeding all events here one by one would have given. Returns how many of
    /// <paramref name="later"/>'s runs (its first ones) joined the run open here.
    /// </summary>
    /// <remarks>
    /// Inside <paramref name="later"/> an event started a new run only when it came more than the gap after the
    /// latest event of its run so far. Fed after the events here, the open run's latest time can only be the same
    /// or later, so an event that joined a run in <paramref name="later"/> joins here too, and the only events that
    /// may decide differently are the first events of <paramref name="later"/>'s runs. Once one of them starts a new
    /// run, the state is the same as in <paramref name="later"/> and the rest follows unchanged.
    /// </remarks>
    public int Append(in ActivityRuns later, long frameOffset)
    {
        int joined = 0;
        bool following = !_open;
        foreach (ActivityRun run in later.All)
        {
            if (!following && run.StartNs - _end <= _gapNs)
            {
                _end = Math.Max(_end, run.EndNs);
                _count += run.Count;
                _lastFrame = run.LastFrame + frameOffset;
                joined++;
                continue;
            }

            following = true;
            if (_open)
            {
                (_closed ??= new()).Add(Open);
            }

            _open = true;
            _start = run.StartNs;
            _end = run.EndNs;
            _count = run.Count;
            _firstFrame = run.FirstFrame + frameOffset;
            _lastFrame = run.LastFrame + frameOffset;
        }

        return joined;
    }

    /// <summary>Number of runs so far (closed and open).</summary>
    public readonly int Count => (_closed?.Count ?? 0) + (_open ? 1 : 0);

    public readonly IEnumerable<ActivityRun> All => !_open ? _closed?.All() ?? [] : (_closed?.All() ?? []).Append(Open);

    public readonly long LastNs => _open ? _end : _closed is { Count: > 0 } c ? c.LastEndNs : long.MinValue;

    public readonly override string ToString() => string.Join(" ", All.Select(r => $"[{r.StartNs}..{r.EndNs} n={r.Count} #{r.FirstFrame}..#{r.LastFrame}]"));

    private readonly ActivityRun Open => new(_start, _end, _count, _firstFrame, _lastFrame);
}

/// <summary>
/// Closed runs in order, each written as five varints (<see cref="VarintLog"/>) relative to the run before: start after
/// the previous end, duration, event count, first frame after the previous last frame, frames spanned. Wrapping
/// arithmetic makes the round trip exact for any values, hostile timestamps included.
/// </summary>
internal sealed class ClosedRuns
{
    private readonly VarintLog _log = new();
    private long _lastEnd;
    private long _lastFrame;

    public int Count { get; private set; }

    public long LastEndNs => _lastEnd;

    /// <summary>Bytes the runs take (tests).</summary>
    public int Bytes => _log.Length;

    public void Add(in ActivityRun run)
    {
        unchecked
        {
            _log.Write(run.StartNs - _lastEnd);
            _log.Write(run.EndNs - run.StartNs);
            _log.Write(run.Count);
            _log.Write(run.FirstFrame - _lastFrame);
            _log.Write(run.LastFrame - run.FirstFrame);
        }

        _lastEnd = run.EndNs;
        _lastFrame = run.LastFrame;
        Count++;
    }

    /// <summary>The runs written so far (a later <see cref="Add"/> does not disturb an enumeration under way).</summary>
    public IEnumerable<ActivityRun> All()
    {
        VarintLog.Reader reader = _log.Read();
        long end = 0, frame = 0;
        while (!reader.AtEnd)
        {
            unchecked
            {
                long start = end + reader.Next();
                end = start + reader.Next();
                long count = reader.Next();
                long first = frame + reader.Next();
                frame = first + reader.Next();
                yield return new ActivityRun(start, end, count, first, frame);
            }
        }
    }
}
