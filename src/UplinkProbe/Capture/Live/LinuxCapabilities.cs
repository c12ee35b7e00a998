using System.Globalization;

namespace UplinkProbe.Capture.Live;

/// <summary>The capabilities live capture needs, read from the process's effective set (CapEff in /proc/self/status).</summary>
public static class LinuxCapabilities
{
    /// <summary>capability(7) bit numbers.</summary>
    public const int NetAdmin = 12;

    public const int NetRaw = 13;

    /// <summary>The effective capability mask, or null when /proc/self/status cannot be read.</summary>
    public static ulong? ReadEffective()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal)
                    && ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong mask))
                {
                    return mask;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    public static bool Has(ulong mask, int capability) => (mask & (1UL << capability)) != 0;

    /// <summary>
    /// Names of the capture capabilities missing from <paramref name="effective"/>: CAP_NET_RAW (needed to open the
    /// packet socket) first, then CAP_NET_ADMIN (not needed by libpcap 1.10 for what UplinkProbe does, but named so
    /// that a grant of both, as run-as-root.md recommends, can be checked).
    /// </summary>
    public static IReadOnlyList<string> MissingForCapture(ulong effective)
    {
        var missing = new List<string>(2);
        if (!Has(effective, NetRaw))
        {
            missing.Add("CAP_NET_RAW");
        }

        if (!Has(effective, NetAdmin))
        {
            missing.Add("CAP_NET_ADMIN");
        }

        return missing;
    }
}
