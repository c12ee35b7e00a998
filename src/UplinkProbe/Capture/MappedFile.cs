using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace UplinkProbe.Capture;

/// <summary>
/// A whole file mapped read-only into memory (Linux <c>mmap</c>), read in place by the parts of a big classic pcap file
/// (<see cref="CaptureFileParts"/>) instead of being copied out of the page cache by <c>read()</c>.
/// </summary>
/// <remarks>
/// <para>Why: on a file in page cache, <c>read()</c>'s copy is the biggest single cost of decoding (about 0.55 CPU-s for the
/// 5.5 GB benchmark file on this class of machine), and it is work the decoding core cannot overlap with anything. Read
/// in place, the same bytes cost memory stalls instead, which software prefetch (<see cref="CaptureBuffer"/>) hides
/// behind the decoding of the packets before them. Recent kernels keep large files in huge page-cache folios, which are
/// mapped with few page faults.</para>
/// <para>Resident memory stays bounded: each reader gives back the mapped pages behind it
/// (<see cref="Release(long, long)"/>, <c>MADV_DONTNEED</c>: the pages stay in the page cache, only this process's
/// mapping of them goes), so the mapping adds a few MiB per part to the resident set whatever the file size.</para>
/// <para>The price: if another process truncates the file while it is being read, touching a page past the new end
/// raises SIGBUS, which the runtime turns into a fatal AccessViolationException (exit 134). The readers check the
/// file's length each time they move to the next window of the mapping (<see cref="CaptureFileOptions.MappedWindow"/>)
/// and stop at a shorter end as <c>read()</c> would, with a cut record; only a cut made while a window is being read
/// gets through. Set <c>UPLINKPROBE_NO_MMAP=1</c> (or <see cref="CaptureFileOptions.MemoryMap"/> = false) to read files
/// that may be truncated under the reader.</para>
/// </remarks>
internal sealed unsafe partial class MappedFile : IDisposable
{
    private const int ProtRead = 0x1;
    private const int MapShared = 0x01;
    private const int MadviseDontNeed = 4;
    private const int MadviseHugePage = 14;

    /// <summary>Smallest unit given back to the kernel: a huge page, so that a huge mapping is dropped whole.</summary>
    internal const long ReleaseUnit = 2 << 20;

    private byte* _pointer;

    private MappedFile(byte* pointer, long length)
    {
        _pointer = pointer;
        Length = length;
    }

    /// <summary>First byte of the mapping (the file's first byte).</summary>
    public byte* Pointer => _pointer;

    /// <summary>Bytes mapped: the file's length when it was mapped.</summary>
    public long Length { get; }

    /// <summary>Whether files are memory-mapped at all: Linux on 64 bits, and not turned off with <c>UPLINKPROBE_NO_MMAP=1</c>.</summary>
    public static bool IsAvailable =>
        OperatingSystem.IsLinux() && Environment.Is64BitProcess && Environment.GetEnvironmentVariable("UPLINKPROBE_NO_MMAP") != "1";

    /// <summary>Maps the first <paramref name="length"/> bytes of <paramref name="handle"/>'s file; false (read it instead) when the kernel refuses.</summary>
    public static bool TryMap(SafeFileHandle handle, long length, out MappedFile? mapped)
    {
        mapped = null;
        if (!IsAvailable || length <= 0 || handle.IsInvalid || handle.IsClosed)
        {
            return false;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            nint result = Mmap(0, (nuint)length, ProtRead, MapShared, (int)handle.DangerousGetHandle(), 0);
            if (result == -1 || result == 0)
            {
                return false;
            }

            // Huge page-cache folios are mapped whole only in a huge-page VMA when transparent huge pages are in "madvise" mode.
            _ = Madvise(result, (nuint)length, MadviseHugePage);
            mapped = new MappedFile((byte*)result, length);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Drops this process's mapping of the whole <see cref="ReleaseUnit"/>s inside [<paramref name="from"/>,
    /// <paramref name="to"/>) (file offsets), and of the last, partial unit too when <paramref name="to"/> reaches the
    /// end; the file's data is untouched and is mapped again if read again.
    /// </summary>
    public void Release(long from, long to)
    {
        long start = (from + ReleaseUnit - 1) / ReleaseUnit * ReleaseUnit;
        long end = to >= Length ? Length : to / ReleaseUnit * ReleaseUnit;
        if (_pointer is not null && end > start)
        {
            _ = Madvise((nint)(_pointer + start), (nuint)(end - start), MadviseDontNeed);
        }
    }

    public void Dispose()
    {
        if (_pointer is not null)
        {
            _ = Munmap((nint)_pointer, (nuint)Length);
            _pointer = null;
        }
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);
}
