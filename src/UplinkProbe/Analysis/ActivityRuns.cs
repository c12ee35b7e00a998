namespace UplinkProbe.Analysis;

/// <summary>A stretch of activity: events no further apart than the run gap.</summary>
public readonly record struct ActivityRun(long StartNs, long EndNs, long Count, long FirstFrame, long LastFrame);

/// <summary>
/// Groups time-ordered events into runs separated by gaps longer than a threshold. The open run lives in fields of
/// this struct, which its owner keeps as a field (mutated in place, no extra object to reach per event); a list
/// entry is allocated only when a run closes.
/// </summary>
internal struct ActivityRuns
{
    private readonly long _gapNs;
    private List<ActivityRun>? _closed;
    private long _start, _end, _count, _firstFrame, _lastFrame;

    public ActivityRuns(long gapNs)
    {
        _gapNs = gapNs;
        _start = -1;
    }

    /// <summary>Records an event; true when it started a new run.</summary>
    public bool Add(long ns, long frame)
    {
        bool started = false;
        if (_start >= 0 && ns - _end > _gapNs)
        {
            (_closed ??= new()).Add(Open);
            _start = -1;
        }

        if (_start < 0)
        {
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

    /// <summary>Number of runs so far (closed and open).</summary>
    public readonly int Count => (_closed?.Count ?? 0) + (_start >= 0 ? 1 : 0);

    public readonly IEnumerable<ActivityRun> All => _start < 0 ? _closed ?? [] : (_closed ?? []).Append(Open);

    public readonly long LastNs => _start >= 0 ? _end : _closed is { Count: > 0 } c ? c[^1].EndNs : long.MinValue;

    private readonly ActivityRun Open => new(_start, _end, _count, _firstFrame, _lastFrame);
}
