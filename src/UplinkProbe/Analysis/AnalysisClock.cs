using System.Globalization;

namespace UplinkProbe.Analysis;

/// <summary>The time of day of an instant (ns since the Unix epoch, UTC) as findings and notes write it.</summary>
internal static class AnalysisClock
{
    public static string Format(long ns) => DateTimeOffset.FromUnixTimeMilliseconds(ns / 1_000_000).ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
}
