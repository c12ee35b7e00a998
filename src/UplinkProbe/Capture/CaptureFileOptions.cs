namespace UplinkProbe.Capture;

/// <summary>Limits for <see cref="CaptureFile"/> readers. The defaults suit every capture tcpdump or Wireshark writes.</summary>
public sealed class CaptureFileOptions
{
    /// <summary>Default read buffer: 1 MiB, reused for the whole file.</summary>
    public const int DefaultBufferSize = 1 << 20;

    /// <summary>Default cap on one pcapng block: 64 MiB.</summary>
    public const int DefaultMaxBlockLength = 64 << 20;

    /// <summary>Default cap on one classic pcap record: 262144 bytes, libpcap's and Wireshark's maximum snapshot length.</summary>
    public const int DefaultMaxPcapRecordLength = 262_144;

    public static CaptureFileOptions Default { get; } = new();

    /// <summary>Size of the read buffer (at least 64 KiB). Records are handed out as spans into it.</summary>
    public int BufferSize { get; init; } = DefaultBufferSize;

    /// <summary>
    /// Largest pcapng block the reader accepts (at least 64 bytes). A block bigger than the buffer makes the buffer grow (pooled) up to
    /// this size; a block length above it stops reading with <see cref="CaptureReader.Error"/> set, so a hostile length field
    /// cannot make the reader allocate more than this. The buffer never exceeds
    /// max(<see cref="BufferSize"/>, this value) rounded up to a power of two.
    /// </summary>
    public int MaxBlockLength { get; init; } = DefaultMaxBlockLength;

    /// <summary>
    /// Largest captured length of a classic pcap record. A record header claiming more stops reading with
    /// <see cref="CaptureReader.Error"/> set (tshark and libpcap treat the file as damaged there too).
    /// Capped at <see cref="MaxBlockLength"/>.
    /// </summary>
    public int MaxPcapRecordLength { get; init; } = DefaultMaxPcapRecordLength;

    /// <summary>
    /// Read the file on a background thread into a ring of <see cref="CaptureFileOptions.BufferSize"/> chunks (four), so that
    /// reading overlaps decoding. Null (the default): for files of at least four buffers on a machine with more than one core.
    /// Only files opened by path are read ahead; streams are read on the caller's thread.
    /// </summary>
    public bool? ReadAhead { get; init; }

    /// <summary>
    /// Read a big classic pcap file that is read in parts (<see cref="CaptureFileParts"/>) in place from a memory mapping
    /// rather than copying it into buffers. Null (the default): on Linux unless <c>UPLINKPROBE_NO_MMAP=1</c> is set. A file
    /// cut shorter by another process is noticed when a reader moves to its next window; one cut while a window is being
    /// read ends the process (SIGBUS, see <see cref="MappedFile"/>); false avoids that.
    /// </summary>
    public bool? MemoryMap { get; init; }

    /// <summary>
    /// Bytes of a mapping a reader looks at before it moves on (without copying): one slow-path call per window. Tests make
    /// it small so that records straddle many window ends.
    /// </summary>
    /// <remarks>Each move gives the pages behind back (<c>MADV_DONTNEED</c>), and the TLB shootdown that comes with it
    /// interrupts the other cores running this process (on a VM, an exit on each): 4 MiB windows put 5–7% of <c>stats</c>'
    /// samples there on the 10M-packet benchmark file, 8 MiB 1.3–2.3%, for 4 MiB more resident per part.</remarks>
    internal int MappedWindow { get; init; } = 8 << 20;

    internal int EffectiveBufferSize => Math.Max(BufferSize, 1 << 16);

    internal int EffectiveMaxBlockLength => Math.Max(MaxBlockLength, 64);

    internal int EffectiveMaxPcapRecordLength => Math.Clamp(MaxPcapRecordLength, 16, EffectiveMaxBlockLength - 16);

    /// <summary>The largest array the read buffer can ever use.</summary>
    internal int BufferCap => (int)Math.Min(1u << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(EffectiveBufferSize, EffectiveMaxBlockLength)));
}
