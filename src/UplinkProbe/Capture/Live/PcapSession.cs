using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UplinkProbe.Decoding;

namespace UplinkProbe.Capture.Live;

/// <summary>Settings applied to a handle between pcap_create and pcap_activate.</summary>
public sealed record PcapSettings
{
    /// <summary>Bytes kept of each packet (pcap_set_snaplen); 262144 like tcpdump.</summary>
    public int SnapLength { get; init; } = 262_144;

    public bool Promiscuous { get; init; } = true;

    /// <summary>Deliver every packet as soon as it arrives (pcap_set_immediate_mode); libpcap 1.10 then uses TPACKET_V2.</summary>
    public bool ImmediateMode { get; init; }

    /// <summary>Kernel ring buffer size in bytes (pcap_set_buffer_size); 0 keeps libpcap's default (2 MiB).</summary>
    public int BufferSize { get; init; }

    /// <summary>Packet buffer timeout in milliseconds (pcap_set_timeout): how long a partly filled ring block waits.</summary>
    public int TimeoutMilliseconds { get; init; } = 50;

    /// <summary>Ask for nanosecond timestamps (pcap_set_tstamp_precision).</summary>
    public bool NanosecondTimestamps { get; init; } = true;
}

/// <summary>Receives packets from <see cref="PcapSession.Dispatch"/>; the span points into libpcap's ring and is valid only during the call.</summary>
public abstract class PcapPacketSink
{
    internal Exception? PendingException;

    /// <param name="timestampNs">Nanoseconds since the Unix epoch.</param>
    /// <param name="originalLength">Length on the wire.</param>
    /// <param name="data">The captured bytes, straight from the kernel ring.</param>
    public abstract void OnPacket(long timestampNs, int originalLength, ReadOnlySpan<byte> data);
}

/// <summary>
/// One libpcap capture handle (a thin binding of pcap(3PCAP)): create, set, activate, filter, read, inject, statistics.
/// Reads hand out spans over libpcap's own buffers and allocate nothing. Not thread-safe except <see cref="BreakLoop"/>.
/// </summary>
public sealed unsafe partial class PcapSession : IDisposable
{
    private readonly PcapSafeHandle _handle;
    private bool _nanoseconds;
    private LibPcap.BpfProgram* _earlyFilter; // checks packets that may have entered the ring before the kernel filter
    private long _kernelFilterAttachedNs;

    private PcapSession(PcapSafeHandle handle, string device)
    {
        _handle = handle;
        Device = device;
    }

    public string Device { get; }

    public PcapSafeHandle Handle => _handle;

    /// <summary>The warning pcap_activate returned (e.g. promiscuous mode not supported), or null.</summary>
    public string? ActivationWarning { get; private set; }

    /// <summary>pcap_lib_version(), e.g. "libpcap version 1.10.3 (with TPACKET_V3)". Throws <see cref="LiveCaptureException"/> when libpcap is missing.</summary>
    public static string LibraryVersion => Call(static () => LibPcap.ToStringOrNull(LibPcap.LibVersion()) ?? "libpcap (unknown version)", null);

    /// <summary>True when libpcap can be loaded.</summary>
    public static bool IsLibraryAvailable
    {
        get
        {
            try
            {
                _ = LibraryVersion;
                return true;
            }
            catch (LiveCaptureException)
            {
                return false;
            }
        }
    }

    /// <summary>pcap_findalldevs: the capture devices of this network namespace, libpcap's pseudo-devices included.</summary>
    public static IReadOnlyList<PcapDeviceInfo> FindAllDevices() => Call(static () =>
    {
        Span<byte> error = stackalloc byte[LibPcap.ErrorBufferSize];
        LibPcap.Interface* list = null;
        fixed (byte* e = error)
        {
            if (LibPcap.FindAllDevices(&list, e) != 0)
            {
                throw new LiveCaptureException(LiveCaptureErrorKind.Failed, null, "cannot list interfaces: " + LibPcap.ErrorText(error));
            }
        }

        var devices = new List<PcapDeviceInfo>();
        try
        {
            for (LibPcap.Interface* i = list; i is not null; i = i->Next)
            {
                string name = LibPcap.ToStringOrNull(i->Name) ?? string.Empty;
                devices.Add(new PcapDeviceInfo(name, LibPcap.ToStringOrNull(i->Description), (i->Flags & LibPcap.InterfaceUp) != 0,
                    (i->Flags & LibPcap.InterfaceRunning) != 0, (i->Flags & LibPcap.InterfaceLoopback) != 0)
                {
                    IsNetworkInterface = NetworkInterfaceIndex(name) != 0,
                });
            }
        }
        finally
        {
            if (list is not null)
            {
                LibPcap.FreeAllDevices(list);
            }
        }

        return (IReadOnlyList<PcapDeviceInfo>)devices;
    }, null);

    /// <summary>pcap_create: a handle not yet activated.</summary>
    public static PcapSession Create(string device)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        return Call(() =>
        {
            Span<byte> error = stackalloc byte[LibPcap.ErrorBufferSize];
            byte[] name = LibPcap.Utf8z(device);
            nint p;
            fixed (byte* n = name)
            fixed (byte* e = error)
            {
                p = LibPcap.Create(n, e);
            }

            if (p == 0)
            {
                throw new LiveCaptureException(LiveCaptureErrorKind.Failed, device, $"{device}: {LibPcap.ErrorText(error)}");
            }

            return new PcapSession(new PcapSafeHandle(p), device);
        }, device);
    }

    /// <summary>
    /// Creates, configures and activates a handle on <paramref name="device"/>. Failures come as one-line
    /// <see cref="LiveCaptureException"/>s: no such interface (listing the ones there are), interface down, permission
    /// denied (naming the missing capability).
    /// </summary>
    public static PcapSession Open(string device, PcapSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        PcapSession session = Create(device);
        try
        {
            session.Check(LibPcap.SetSnapLength(session._handle, settings.SnapLength), "pcap_set_snaplen");
            session.Check(LibPcap.SetPromiscuous(session._handle, settings.Promiscuous ? 1 : 0), "pcap_set_promisc");
            session.Check(LibPcap.SetImmediateMode(session._handle, settings.ImmediateMode ? 1 : 0), "pcap_set_immediate_mode");
            session.Check(LibPcap.SetTimeout(session._handle, settings.TimeoutMilliseconds), "pcap_set_timeout");
            if (settings.BufferSize > 0)
            {
                session.Check(LibPcap.SetBufferSize(session._handle, settings.BufferSize), "pcap_set_buffer_size");
            }

            if (settings.NanosecondTimestamps)
            {
                // Refused only by platforms without nanosecond support; microseconds are then scaled.
                _ = LibPcap.SetTimestampPrecision(session._handle, LibPcap.TimestampPrecisionNano);
            }

            session.Activate();
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>pcap_activate, with the failure explained for the user.</summary>
    public void Activate()
    {
        int status = LibPcap.Activate(_handle);
        if (status < 0)
        {
            throw ActivationError(status);
        }

        if (status > 0)
        {
            ActivationWarning = $"{Device}: {StatusText(status)}";
        }

        _nanoseconds = LibPcap.GetTimestampPrecision(_handle) == LibPcap.TimestampPrecisionNano;
    }

    /// <summary>The link type in use (pcap_datalink).</summary>
    public LinkType LinkType => (LinkType)LibPcap.DataLink(_handle);

    /// <summary>The link types this device offers (pcap_list_datalinks), as DLT numbers.</summary>
    public IReadOnlyList<int> ListDataLinks()
    {
        int* list = null;
        int n = LibPcap.ListDataLinks(_handle, &list);
        if (n < 0)
        {
            throw Failure("pcap_list_datalinks");
        }

        try
        {
            return new ReadOnlySpan<int>(list, n).ToArray();
        }
        finally
        {
            LibPcap.FreeDataLinks(list);
        }
    }

    /// <summary>pcap_set_datalink; false (with libpcap's reason) when the device does not offer it.</summary>
    public bool TrySetDataLink(int dlt, out string? reason)
    {
        if (LibPcap.SetDataLink(_handle, dlt) == 0)
        {
            reason = null;
            return true;
        }

        reason = LastError;
        return false;
    }

    public int SnapLength => LibPcap.Snapshot(_handle);

    /// <summary>
    /// pcap_compile + pcap_setfilter: the kernel runs the filter, and libpcap also runs it in user space over the ring
    /// block being filled at the time of the call. Do not use it with <c>inbound</c>/<c>outbound</c> (libpcap's user-space
    /// BPF rejects every packet on them); <see cref="SetKernelFilter"/> has no such limit.
    /// </summary>
    public void SetFilter(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        byte[] text = LibPcap.Utf8z(expression);
        LibPcap.BpfProgram program = default;
        fixed (byte* t = text)
        {
            if (LibPcap.Compile(_handle, &program, t, 1, LibPcap.NetmaskUnknown) != 0)
            {
                throw new LiveCaptureException(LiveCaptureErrorKind.BadFilter, Device, $"bad capture filter '{expression}': {LastError}");
            }
        }

        try
        {
            if (LibPcap.SetFilter(_handle, &program) != 0)
            {
                throw new LiveCaptureException(LiveCaptureErrorKind.Failed, Device, $"{Device}: cannot attach filter: {LastError}");
            }
        }
        finally
        {
            LibPcap.FreeCode(&program);
        }
    }

    /// <summary>
    /// Attaches <paramref name="expression"/> to the socket in the kernel only (SO_ATTACH_FILTER), bypassing pcap_setfilter.
    /// <para>
    /// Why: pcap_setfilter on a TPACKET ring (libpcap 1.10) also runs the new filter in user space over the ring block
    /// being filled when it is called, and libpcap's user-space BPF cannot evaluate the socket's packet type
    /// (SKF_AD_PKTTYPE, what <c>inbound</c>/<c>outbound</c> compile to) — every packet of that first block would be
    /// rejected without being counted anywhere. Attached here, the program only ever runs in the kernel. Packets that
    /// reached the ring before it was attached (timestamps up to the attach time) are checked in user space against
    /// <paramref name="earlyCheckExpression"/> instead (the same filter without the direction test, which
    /// pcap_setdirection already enforces per packet).
    /// </para>
    /// </summary>
    public void SetKernelFilter(string expression, string? earlyCheckExpression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        LibPcap.BpfProgram program = Compile(expression);
        try
        {
            var fprog = new LibPcap.SocketFilterProgram { Length = checked((ushort)program.Length), Instructions = program.Instructions };
            if (LibPcap.SetSocketOption(LibPcap.FileNo(_handle), LibPcap.SolSocket, LibPcap.SoAttachFilter, &fprog, (uint)sizeof(LibPcap.SocketFilterProgram)) != 0)
            {
                throw new LiveCaptureException(LiveCaptureErrorKind.Failed, Device,
                    $"{Device}: cannot attach the filter in the kernel: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }

            _kernelFilterAttachedNs = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        }
        finally
        {
            LibPcap.FreeCode(&program);
        }

        FreeEarlyFilter();
        if (!string.IsNullOrWhiteSpace(earlyCheckExpression))
        {
            LibPcap.BpfProgram early = Compile(earlyCheckExpression);
            _earlyFilter = (LibPcap.BpfProgram*)NativeMemory.Alloc((nuint)sizeof(LibPcap.BpfProgram));
            *_earlyFilter = early;
        }
    }

    private LibPcap.BpfProgram Compile(string expression)
    {
        byte[] text = LibPcap.Utf8z(expression);
        LibPcap.BpfProgram program = default;
        fixed (byte* t = text)
        {
            if (LibPcap.Compile(_handle, &program, t, 1, LibPcap.NetmaskUnknown) != 0)
            {
                throw new LiveCaptureException(LiveCaptureErrorKind.BadFilter, Device, $"bad capture filter '{expression}': {LastError}");
            }
        }

        return program;
    }

    private void FreeEarlyFilter()
    {
        if (_earlyFilter is not null)
        {
            LibPcap.FreeCode(_earlyFilter);
            NativeMemory.Free(_earlyFilter);
            _earlyFilter = null;
        }
    }

    /// <summary>pcap_setdirection (tcpdump -Q).</summary>
    public void SetDirection(PcapCaptureDirection direction)
    {
        if (LibPcap.SetDirection(_handle, (int)direction) != 0)
        {
            throw Failure("pcap_setdirection");
        }
    }

    /// <summary>pcap_setnonblock: in non-blocking mode reads return 0 at once when no packet waits.</summary>
    public void SetNonBlocking(bool nonBlocking)
    {
        Span<byte> error = stackalloc byte[LibPcap.ErrorBufferSize];
        fixed (byte* e = error)
        {
            if (LibPcap.SetNonBlocking(_handle, nonBlocking ? 1 : 0, e) != 0)
            {
                throw new LiveCaptureException(LiveCaptureErrorKind.Failed, Device, $"{Device}: pcap_setnonblock: {LibPcap.ErrorText(error)}");
            }
        }
    }

    /// <summary>A descriptor poll(2) reports readable when packets wait (pcap_get_selectable_fd).</summary>
    public int SelectableFd => LibPcap.GetSelectableFd(_handle);

    /// <summary>
    /// pcap_next_ex: 1 with a packet (the span is libpcap's buffer, valid until the next read on this handle), 0 when none
    /// arrived (timeout or non-blocking), -2 after <see cref="BreakLoop"/>. Read errors throw.
    /// </summary>
    public int TryNext(out long timestampNs, out int originalLength, out ReadOnlySpan<byte> data)
    {
        LibPcap.PacketHeader* header;
        byte* bytes;
        int rc = LibPcap.NextEx(_handle, &header, &bytes);
        if (rc == 1)
        {
            timestampNs = ToNanoseconds(header, _nanoseconds);
            originalLength = (int)header->Length;
            data = new ReadOnlySpan<byte>(bytes, (int)header->CapturedLength);
            return 1;
        }

        timestampNs = 0;
        originalLength = 0;
        data = default;
        if (rc == 0 || rc == LibPcap.ErrorBreak)
        {
            return rc;
        }

        throw Failure("pcap_next_ex");
    }

    /// <summary>Like <see cref="TryNext"/>, with the buffer as a pointer so a caller can hold it across its own calls.</summary>
    internal int TryNextRaw(out long timestampNs, out int originalLength, out byte* data, out int capturedLength)
    {
        LibPcap.PacketHeader* header;
        byte* bytes;
        int rc = LibPcap.NextEx(_handle, &header, &bytes);
        while (rc == 1 && _earlyFilter is not null && ToNanoseconds(header, _nanoseconds) <= _kernelFilterAttachedNs
            && LibPcap.OfflineFilter(_earlyFilter, header, bytes) == 0)
        {
            rc = LibPcap.NextEx(_handle, &header, &bytes); // arrived before the kernel filter and does not match it
        }

        if (rc == 1)
        {
            timestampNs = ToNanoseconds(header, _nanoseconds);
            originalLength = (int)header->Length;
            capturedLength = (int)header->CapturedLength;
            data = bytes;
            return 1;
        }

        timestampNs = 0;
        originalLength = 0;
        capturedLength = 0;
        data = null;
        return rc;
    }

    /// <summary>libpcap's text for the last failure on this handle.</summary>
    internal string LastErrorText => LastError;

    /// <summary>
    /// pcap_dispatch: hands up to <paramref name="maxPackets"/> packets (-1: one buffer's worth) to <paramref name="sink"/>
    /// straight from the ring, no copy. Returns the number handed, or -2 after <see cref="BreakLoop"/>. An exception
    /// thrown by the sink stops the batch and is rethrown here.
    /// </summary>
    public int Dispatch(int maxPackets, PcapPacketSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        GCHandle target = GCHandle.Alloc(sink);
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            var state = new DispatchState { Sink = GCHandle.ToIntPtr(target), Pcap = _handle.DangerousGetHandle(), Nanoseconds = _nanoseconds };
            int rc = LibPcap.Dispatch(_handle, maxPackets, &OnDispatched, (byte*)&state);
            if (sink.PendingException is { } ex)
            {
                sink.PendingException = null;
                ExceptionDispatchInfoThrow(ex);
            }

            if (rc < 0 && rc != LibPcap.ErrorBreak)
            {
                throw Failure("pcap_dispatch");
            }

            return rc;
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }

            target.Free();
        }
    }

    /// <summary>pcap_breakloop: makes a running or the next read return -2. Safe from another thread or a signal handler.</summary>
    public void BreakLoop() => LibPcap.BreakLoop(_handle);

    /// <summary>pcap_inject: sends one frame as is (link-layer header included).</summary>
    public void Inject(ReadOnlySpan<byte> frame)
    {
        int rc;
        fixed (byte* f = frame)
        {
            rc = LibPcap.Inject(_handle, f, (nuint)frame.Length);
        }

        if (rc < 0)
        {
            throw Failure("pcap_inject");
        }
    }

    /// <summary>pcap_stats.</summary>
    public PcapStatistics GetStatistics()
    {
        LibPcap.Stat s = default;
        if (LibPcap.Stats(_handle, &s) != 0)
        {
            throw Failure("pcap_stats");
        }

        return new PcapStatistics(s.Received, s.Dropped, s.InterfaceDropped);
    }

    public void Dispose()
    {
        _handle.Dispose();
        FreeEarlyFilter();
    }

    /// <summary>The one-line message for a device that is missing, naming the interfaces that exist.</summary>
    public static string DescribeMissingInterface(string device)
    {
        string list;
        try
        {
            list = string.Join(", ", FindAllDevices().Where(d => d.IsNetworkInterface).Select(d => d.IsUp ? d.Name : d.Name + " (down)"));
        }
        catch (LiveCaptureException)
        {
            list = string.Empty;
        }

        return $"no interface '{device}' here; interfaces: {(list.Length == 0 ? "none" : list)}";
    }

    /// <summary>The one-line message for a permission failure, naming the missing capability.</summary>
    public static string DescribePermissionDenied(string device, string libpcapReason)
    {
        ulong? effective = LinuxCapabilities.ReadEffective();
        string what;
        if (effective is not ulong mask)
        {
            what = $"libpcap says: {libpcapReason}";
        }
        else
        {
            IReadOnlyList<string> missing = LinuxCapabilities.MissingForCapture(mask);
            what = !LinuxCapabilities.Has(mask, LinuxCapabilities.NetRaw)
                ? $"missing capability {string.Join(" and ", missing)} (CAP_NET_RAW opens the packet socket)"
                : missing.Count > 0
                    ? $"libpcap says: {libpcapReason}; missing capability {string.Join(" and ", missing)}"
                    : $"libpcap says: {libpcapReason}";
        }

        return $"{device}: permission denied: {what}; see run-as-root.md to capture without full root";
    }

    /// <summary>if_nametoindex(3): the interface's index in the calling thread's network namespace, 0 when there is none.</summary>
    public static uint NetworkInterfaceIndex(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 15)
        {
            return 0;
        }

        byte[] z = LibPcap.Utf8z(name);
        fixed (byte* p = z)
        {
            return IfNameToIndex(p);
        }
    }

    [LibraryImport("libc", EntryPoint = "if_nametoindex")]
    private static partial uint IfNameToIndex(byte* name);

    private static long ToNanoseconds(LibPcap.PacketHeader* h, bool nanoseconds) =>
        h->Seconds * 1_000_000_000L + (nanoseconds ? h->Fraction : h->Fraction * 1000);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnDispatched(byte* user, LibPcap.PacketHeader* header, byte* bytes)
    {
        var state = (DispatchState*)user;
        var sink = (PcapPacketSink)GCHandle.FromIntPtr(state->Sink).Target!;
        try
        {
            sink.OnPacket(ToNanoseconds(header, state->Nanoseconds), (int)header->Length, new ReadOnlySpan<byte>(bytes, (int)header->CapturedLength));
        }
        catch (Exception ex)
        {
            // Exceptions must not cross into C; stop the batch and rethrow after pcap_dispatch returns.
            sink.PendingException ??= ex;
            LibPcap.BreakLoopRaw(state->Pcap);
        }
    }

    private static void ExceptionDispatchInfoThrow(Exception ex) => System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex);

    private LiveCaptureException ActivationError(int status)
    {
        string reason = LastError is { Length: > 0 } e ? e : StatusText(status);
        return status switch
        {
            LibPcap.ErrorNoSuchDevice => new LiveCaptureException(LiveCaptureErrorKind.NoSuchInterface, Device, DescribeMissingInterface(Device)),
            LibPcap.ErrorPermissionDenied or LibPcap.ErrorPromiscuousPermissionDenied =>
                new LiveCaptureException(LiveCaptureErrorKind.PermissionDenied, Device, DescribePermissionDenied(Device, reason)),
            LibPcap.ErrorInterfaceNotUp => new LiveCaptureException(LiveCaptureErrorKind.InterfaceDown, Device,
                $"{Device}: interface is down (bring it up: ip link set {Device} up)"),
            _ => new LiveCaptureException(LiveCaptureErrorKind.Failed, Device, $"{Device}: cannot start capture: {reason}"),
        };
    }

    private void Check(int rc, string what)
    {
        if (rc != 0)
        {
            throw new LiveCaptureException(LiveCaptureErrorKind.Failed, Device, $"{Device}: {what}: {StatusText(rc)}");
        }
    }

    private LiveCaptureException Failure(string what) =>
        new(LiveCaptureErrorKind.Failed, Device, $"{Device}: {what}: {LastError}");

    private string LastError => LibPcap.ToStringOrNull(LibPcap.GetError(_handle)) ?? string.Empty;

    private static string StatusText(int status) => LibPcap.ToStringOrNull(LibPcap.StatusToString(status)) ?? $"status {status}";

    /// <summary>Runs a first native call, turning "libpcap cannot be loaded" into the one-line install hint.</summary>
    private static T Call<T>(Func<T> call, string? device)
    {
        try
        {
            return call();
        }
        catch (DllNotFoundException)
        {
            throw new LiveCaptureException(LiveCaptureErrorKind.LibraryMissing, device,
                $"libpcap ({LibPcap.LibraryName}) is not installed; install it with: apt-get install libpcap0.8");
        }
        catch (EntryPointNotFoundException ex)
        {
            throw new LiveCaptureException(LiveCaptureErrorKind.LibraryMissing, device,
                $"the libpcap found is too old ({ex.Message}); install libpcap 1.10: apt-get install libpcap0.8");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct DispatchState
    {
        public nint Sink;
        public nint Pcap;
        public bool Nanoseconds;
    }
}
