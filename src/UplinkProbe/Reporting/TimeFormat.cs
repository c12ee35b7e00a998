namespace UplinkProbe.Reporting;

/// <summary>Allocation-free timestamp formatting.</summary>
public static class TimeFormat
{
    /// <summary>Writes <c>seconds.nanoseconds</c> (9 digits) since the epoch, as tshark's frame.time_epoch; returns the byte count.</summary>
    public static int FormatEpoch(long timestampNs, Span<byte> destination)
    {
        long seconds = Math.DivRem(timestampNs, 1_000_000_000L, out long nanos);
        if (nanos < 0)
        {
            seconds--;
            nanos += 1_000_000_000L;
        }

        seconds.TryFormat(destination, out int n);
        destination[n++] = (byte)'.';
        nanos.TryFormat(destination[n..], out int m, "D9");
        return n + m;
    }

    /// <summary>Writes <c>HH:MM:SS.ffffff</c> (UTC time of day, microseconds) as tcpdump prints it; returns the char count.</summary>
    public static int FormatTimeOfDay(long timestampNs, Span<char> destination)
    {
        long dayNs = timestampNs % 86_400_000_000_000L;
        if (dayNs < 0)
        {
            dayNs += 86_400_000_000_000L;
        }

        long micros = dayNs / 1000;
        int h = (int)(micros / 3_600_000_000L);
        int m = (int)(micros / 60_000_000L % 60);
        int s = (int)(micros / 1_000_000L % 60);
        int f = (int)(micros % 1_000_000L);
        h.TryFormat(destination, out _, "D2");
        destination[2] = ':';
        m.TryFormat(destination[3..], out _, "D2");
        destination[5] = ':';
        s.TryFormat(destination[6..], out _, "D2");
        destination[8] = '.';
        f.TryFormat(destination[9..], out _, "D6");
        return 15;
    }
}
