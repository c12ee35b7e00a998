namespace UplinkProbe.Capture;

/// <summary>One pcapng section: a Section Header Block and what it says about the capture.</summary>
public sealed class CaptureSection
{
    public int Index { get; init; }

    /// <summary>File offset of the SHB.</summary>
    public long FileOffset { get; init; }

    public bool IsBigEndian { get; init; }

    /// <summary>shb_hardware (option 2).</summary>
    public string? Hardware { get; init; }

    /// <summary>shb_os (option 3).</summary>
    public string? OperatingSystem { get; init; }

    /// <summary>shb_userappl (option 4).</summary>
    public string? UserApplication { get; init; }

    /// <summary>opt_comment options of the SHB, in file order.</summary>
    public IReadOnlyList<string> Comments { get; init; } = Array.Empty<string>();
}
