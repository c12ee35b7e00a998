using System.Reflection;
using System.Runtime.InteropServices;

namespace UplinkProbe.Capture.Live;

/// <summary>
/// The raw libpcap entry points UplinkProbe uses (pcap(3PCAP), libpcap 1.10 ABI on 64-bit Linux). Everything above this
/// class goes through <see cref="PcapSession"/>; nothing here is public.
/// </summary>
internal static unsafe partial class LibPcap
{
    /// <summary>The name the binding asks for: Debian's libpcap0.8 package installs it.</summary>
    public const string LibraryName = "libpcap.so.0.8";

    /// <summary>Environment variable naming another libpcap to load (a path or a soname), e.g. a newer build.</summary>
    public const string LibraryOverrideVariable = "UPLINKPROBE_LIBPCAP";

    public const int ErrorBufferSize = 256; // PCAP_ERRBUF_SIZE

    public const int Error = -1;
    public const int ErrorBreak = -2;
    public const int ErrorNotActivated = -3;
    public const int ErrorActivated = -4;
    public const int ErrorNoSuchDevice = -5;
    public const int ErrorRfmonNotSupported = -6;
    public const int ErrorNotRfmon = -7;
    public const int ErrorPermissionDenied = -8;
    public const int ErrorInterfaceNotUp = -9;
    public const int ErrorCannotSetTimestampType = -10;
    public const int ErrorPromiscuousPermissionDenied = -11;
    public const int ErrorTimestampPrecisionNotSupported = -12;

    public const int WarningPromiscuousNotSupported = 2;

    public const int TimestampPrecisionNano = 1; // PCAP_TSTAMP_PRECISION_NANO
    public const uint NetmaskUnknown = 0xffffffff; // PCAP_NETMASK_UNKNOWN

    public const uint InterfaceLoopback = 0x1; // PCAP_IF_LOOPBACK
    public const uint InterfaceUp = 0x2; // PCAP_IF_UP
    public const uint InterfaceRunning = 0x4; // PCAP_IF_RUNNING

    private static readonly object ResolverLock = new();
    private static bool _resolverSet;

    static LibPcap() => EnsureResolver();

    /// <summary>struct pcap_pkthdr on LP64: struct timeval (two longs), caplen, len.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PacketHeader
    {
        public long Seconds;
        public long Fraction; // microseconds, or nanoseconds with PCAP_TSTAMP_PRECISION_NANO
        public uint CapturedLength;
        public uint Length;
    }

    /// <summary>struct pcap_stat (the first three members, the portable ones).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Stat
    {
        public uint Received;
        public uint Dropped;
        public uint InterfaceDropped;
    }

    /// <summary>struct bpf_program.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BpfProgram
    {
        public uint Length;
        public nint Instructions;
    }

    /// <summary>struct pcap_if.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Interface
    {
        public Interface* Next;
        public byte* Name;
        public byte* Description;
        public nint Addresses;
        public uint Flags;
    }

    /// <summary>
    /// Installs the resolver that finds libpcap under its Debian soname, then the names other distributions use, or
    /// where <see cref="LibraryOverrideVariable"/> says. Called before the first native call.
    /// </summary>
    public static void EnsureResolver()
    {
        lock (ResolverLock)
        {
            if (_resolverSet)
            {
                return;
            }

            NativeLibrary.SetDllImportResolver(typeof(LibPcap).Assembly, Resolve);
            _resolverSet = true;
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != LibraryName)
        {
            return 0;
        }

        if (Environment.GetEnvironmentVariable(LibraryOverrideVariable) is { Length: > 0 } custom)
        {
            // Returning 0 would let the runtime fall back to the system library; the user asked for this one.
            return NativeLibrary.TryLoad(custom, out nint h) ? h : throw new DllNotFoundException($"{custom} cannot be loaded");
        }

        foreach (string candidate in (ReadOnlySpan<string>)[LibraryName, "libpcap.so.1", "libpcap.so"])
        {
            if (NativeLibrary.TryLoad(candidate, out nint handle))
            {
                return handle;
            }
        }

        return 0;
    }

    [LibraryImport(LibraryName, EntryPoint = "pcap_lib_version")]
    public static partial byte* LibVersion();

    [LibraryImport(LibraryName, EntryPoint = "pcap_create")]
    public static partial nint Create(byte* device, byte* errorBuffer);

    [LibraryImport(LibraryName, EntryPoint = "pcap_close")]
    public static partial void Close(nint pcap);

    [LibraryImport(LibraryName, EntryPoint = "pcap_set_snaplen")]
    public static partial int SetSnapLength(PcapSafeHandle pcap, int snapLength);

    [LibraryImport(LibraryName, EntryPoint = "pcap_set_promisc")]
    public static partial int SetPromiscuous(PcapSafeHandle pcap, int on);

    [LibraryImport(LibraryName, EntryPoint = "pcap_set_immediate_mode")]
    public static partial int SetImmediateMode(PcapSafeHandle pcap, int on);

    [LibraryImport(LibraryName, EntryPoint = "pcap_set_buffer_size")]
    public static partial int SetBufferSize(PcapSafeHandle pcap, int bytes);

    [LibraryImport(LibraryName, EntryPoint = "pcap_set_timeout")]
    public static partial int SetTimeout(PcapSafeHandle pcap, int milliseconds);

    [LibraryImport(LibraryName, EntryPoint = "pcap_set_tstamp_precision")]
    public static partial int SetTimestampPrecision(PcapSafeHandle pcap, int precision);

    [LibraryImport(LibraryName, EntryPoint = "pcap_get_tstamp_precision")]
    public static partial int GetTimestampPrecision(PcapSafeHandle pcap);

    [LibraryImport(LibraryName, EntryPoint = "pcap_activate")]
    public static partial int Activate(PcapSafeHandle pcap);

    [LibraryImport(LibraryName, EntryPoint = "pcap_geterr")]
    public static partial byte* GetError(PcapSafeHandle pcap);

    [LibraryImport(LibraryName, EntryPoint = "pcap_statustostr")]
    public static partial byte* StatusToString(int status);

    [LibraryImport(LibraryName, EntryPoint = "pcap_compile")]
    public static partial int Compile(PcapSafeHandle pcap, BpfProgram* program, byte* expression, int optimize, uint netmask);

    [LibraryImport(LibraryName, EntryPoint = "pcap_setfilter")]
    public static partial int SetFilter(PcapSafeHandle pcap, BpfProgram* program);

    [LibraryImport(LibraryName, EntryPoint = "pcap_freecode")]
    public static partial void FreeCode(BpfProgram* program);

    [LibraryImport(LibraryName, EntryPoint = "pcap_offline_filter")]
    public static partial int OfflineFilter(BpfProgram* program, PacketHeader* header, byte* data);

    [LibraryImport(LibraryName, EntryPoint = "pcap_fileno")]
    public static partial int FileNo(PcapSafeHandle pcap);

    [LibraryImport(LibraryName, EntryPoint = "pcap_setdirection")]
    public static partial int SetDirection(PcapSafeHandle pcap, int direction);

    [LibraryImport(LibraryName, EntryPoint = "pcap_datalink")]
    public static partial int DataLink(PcapSafeHandle pcap);

    [LibraryImport(LibraryName, EntryPoint = "pcap_set_datalink")]
    public static partial int SetDataLink(PcapSafeHandle pcap, int dlt);

    [LibraryImport(LibraryName, EntryPoint = "pcap_list_datalinks")]
    public static partial int ListDataLinks(PcapSafeHandle pcap, int** list);

    [LibraryImport(LibraryName, EntryPoint = "pcap_free_datalinks")]
    public static partial void FreeDataLinks(int* list);

    [LibraryImport(LibraryName, EntryPoint = "pcap_snapshot")]
    public static partial int Snapshot(PcapSafeHandle pcap);

    [LibraryImport(LibraryName, EntryPoint = "pcap_setnonblock")]
    public static partial int SetNonBlocking(PcapSafeHandle pcap, int nonBlocking, byte* errorBuffer);

    [LibraryImport(LibraryName, EntryPoint = "pcap_get_selectable_fd")]
    public static partial int GetSelectableFd(PcapSafeHandle pcap);

    [LibraryImport(LibraryName, EntryPoint = "pcap_next_ex")]
    public static partial int NextEx(PcapSafeHandle pcap, PacketHeader** header, byte** data);

    [LibraryImport(LibraryName, EntryPoint = "pcap_dispatch")]
    public static partial int Dispatch(PcapSafeHandle pcap, int count, delegate* unmanaged[Cdecl]<byte*, PacketHeader*, byte*, void> callback, byte* user);

    [LibraryImport(LibraryName, EntryPoint = "pcap_breakloop")]
    public static partial void BreakLoop(PcapSafeHandle pcap);

    [LibraryImport(LibraryName, EntryPoint = "pcap_breakloop")]
    public static partial void BreakLoopRaw(nint pcap);

    [LibraryImport(LibraryName, EntryPoint = "pcap_inject")]
    public static partial int Inject(PcapSafeHandle pcap, byte* data, nuint length);

    [LibraryImport(LibraryName, EntryPoint = "pcap_stats")]
    public static partial int Stats(PcapSafeHandle pcap, Stat* stats);

    [LibraryImport(LibraryName, EntryPoint = "pcap_findalldevs")]
    public static partial int FindAllDevices(Interface** list, byte* errorBuffer);

    [LibraryImport(LibraryName, EntryPoint = "pcap_freealldevs")]
    public static partial void FreeAllDevices(Interface* list);

    [LibraryImport(LibraryName, EntryPoint = "pcap_datalink_val_to_name")]
    public static partial byte* DataLinkName(int dlt);

    /// <summary>struct sock_fprog (linux/filter.h): the classic BPF program SO_ATTACH_FILTER takes; its instructions have bpf_insn's layout.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SocketFilterProgram
    {
        public ushort Length;
        public nint Instructions;
    }

    public const int SolSocket = 1;
    public const int SoAttachFilter = 26;

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSocketOption(int fd, int level, int name, void* value, uint length);

    public static string? ToStringOrNull(byte* s) => s is null ? null : Marshal.PtrToStringUTF8((nint)s);

    /// <summary>The text of a NUL-terminated error buffer.</summary>
    public static string ErrorText(ReadOnlySpan<byte> buffer)
    {
        int end = buffer.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end < 0 ? buffer : buffer[..end]);
    }

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="s"/> (for the few calls that take a C string).</summary>
    public static byte[] Utf8z(string s)
    {
        byte[] bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(s) + 1];
        System.Text.Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
