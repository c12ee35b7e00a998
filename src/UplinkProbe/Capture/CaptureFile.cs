using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace UplinkProbe.Capture;

/// <summary>
/// Opens capture files. The format is recognised from the first four bytes, never from the file name:
/// classic pcap (a1b2c3d4 / a1b23c4d in either byte order) or pcapng (0a0d0d0a).
/// </summary>
public static class CaptureFile
{
    internal const uint PcapMagicMicroseconds = 0xa1b2c3d4;
    internal const uint PcapMagicNanoseconds = 0xa1b23c4d;
    internal const uint PcapNgSectionHeader = 0x0a0d0d0a;

    /// <summary>
    /// Opens <paramref name="path"/> and reads its file header (pcap) or first section header (pcapng). The file is read
    /// with positional reads into one reused buffer (1 MiB by default); a file still being written is read up to the
    /// length it had when it was opened.
    /// </summary>
    /// <exception cref="CaptureFileException">The file is empty, not a capture, of an unsupported version, or its header is unreadable.</exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public static CaptureReader Open(string path, CaptureFileOptions? options = null)
    {
        options ??= CaptureFileOptions.Default;
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        return Open(CaptureBuffer.ForFile(handle, options), path, options);
    }

    /// <summary>
    /// Opens a capture held in a stream, read sequentially from its current position. <paramref name="name"/> is used in
    /// error messages; the stream is disposed with the reader unless <paramref name="leaveOpen"/>.
    /// </summary>
    public static CaptureReader Open(Stream stream, CaptureFileOptions? options = null, bool leaveOpen = false, string name = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= CaptureFileOptions.Default;
        return Open(CaptureBuffer.ForStream(stream, leaveOpen, options), name, options);
    }

    /// <summary>Opens a capture held in memory (the bytes are read, not copied beyond the read buffer).</summary>
    public static CaptureReader Open(byte[] bytes, CaptureFileOptions? options = null, string name = "memory") =>
        Open(new MemoryStream(bytes, writable: false), options, leaveOpen: false, name);

    /// <summary>Like <see cref="Open(string, CaptureFileOptions?)"/>, with a one-line error instead of an exception.</summary>
    public static bool TryOpen(string path, [NotNullWhen(true)] out CaptureReader? reader, out string error, CaptureFileOptions? options = null)
    {
        try
        {
            reader = Open(path, options);
            error = string.Empty;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            reader = null;
            error = e is CaptureFileException ? e.Message : $"{path}: {e.Message}";
            return false;
        }
    }

    internal static CaptureReader Open(CaptureBuffer buffer, string name, CaptureFileOptions options)
    {
        try
        {
            if (!buffer.Ensure(4))
            {
                throw new CaptureFileException(name, 0, buffer.Available == 0
                    ? "file is empty"
                    : $"file is {buffer.Available} bytes long, too short for a capture file header");
            }

            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(buffer.Span(0, 4));
            uint swapped = BinaryPrimitives.ReverseEndianness(magic);
            if (magic == PcapNgSectionHeader)
            {
                return new PcapNgReader(buffer, name, options);
            }

            if (magic is PcapMagicMicroseconds or PcapMagicNanoseconds || swapped is PcapMagicMicroseconds or PcapMagicNanoseconds)
            {
                return new PcapReader(buffer, name, options);
            }

            throw new CaptureFileException(name, 0, $"not a pcap or pcapng file (magic 0x{BinaryPrimitives.ReverseEndianness(magic):x8})");
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }
}
