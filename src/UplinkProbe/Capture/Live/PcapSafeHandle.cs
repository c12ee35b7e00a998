using System.Runtime.InteropServices;

namespace UplinkProbe.Capture.Live;

/// <summary>A <c>pcap_t*</c>; closing it (pcap_close) releases the socket and its ring buffer.</summary>
public sealed class PcapSafeHandle : SafeHandle
{
    public PcapSafeHandle()
        : base(0, ownsHandle: true)
    {
    }

    internal PcapSafeHandle(nint pcap)
        : base(0, ownsHandle: true)
    {
        SetHandle(pcap);
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        LibPcap.Close(handle);
        return true;
    }
}

/// <summary>What went wrong when opening or driving a live capture; the message is one line meant for the user.</summary>
public enum LiveCaptureErrorKind
{
    /// <summary>libpcap could not be loaded (Debian package libpcap0.8 missing).</summary>
    LibraryMissing,

    /// <summary>The process may not open a packet socket (capability CAP_NET_RAW missing).</summary>
    PermissionDenied,

    /// <summary>No interface of that name exists in this network namespace.</summary>
    NoSuchInterface,

    /// <summary>The interface exists but is administratively down.</summary>
    InterfaceDown,

    /// <summary>The capture filter does not compile.</summary>
    BadFilter,

    /// <summary>libpcap refused something else (a setting, a read, an injection).</summary>
    Failed,
}

/// <summary>A live-capture failure with a one-line, user-facing message (no stack trace needed to act on it).</summary>
public sealed class LiveCaptureException : Exception
{
    public LiveCaptureException(LiveCaptureErrorKind kind, string? device, string message)
        : base(message.ReplaceLineEndings(" "))
    {
        Kind = kind;
        Device = device;
    }

    public LiveCaptureErrorKind Kind { get; }

    /// <summary>The interface concerned, when there is one.</summary>
    public string? Device { get; }
}

/// <summary>pcap_stats of one handle: counters since it was activated.</summary>
/// <param name="Received">Packets that passed the filter (Linux: tp_packets, dropped ones included).</param>
/// <param name="Dropped">Packets the kernel dropped because the ring buffer was full (tp_drops).</param>
/// <param name="InterfaceDropped">Packets the interface or its driver dropped (Linux: rx_dropped of the NIC, since activation).</param>
public readonly record struct PcapStatistics(ulong Received, ulong Dropped, ulong InterfaceDropped)
{
    public static PcapStatistics operator +(PcapStatistics a, PcapStatistics b) =>
        new(a.Received + b.Received, a.Dropped + b.Dropped, a.InterfaceDropped + b.InterfaceDropped);
}

/// <summary>One entry of pcap_findalldevs.</summary>
public sealed record PcapDeviceInfo(string Name, string? Description, bool IsUp, bool IsRunning, bool IsLoopback)
{
    /// <summary>True for a network interface of this namespace (not libpcap's pseudo-devices such as nflog or dbus).</summary>
    public bool IsNetworkInterface { get; init; }
}

/// <summary>Which packets a handle sees, as pcap_setdirection (tcpdump -Q).</summary>
public enum PcapCaptureDirection
{
    InOut = 0,
    In = 1,
    Out = 2,
}
