namespace UplinkProbe.Capture;

/// <summary>What a reader saw besides the packets it returned. Nothing is skipped without being counted here.</summary>
public sealed class CaptureReaderStatistics
{
    /// <summary>Packet records returned.</summary>
    public long Packets { get; internal set; }

    /// <summary>Records whose captured length was cut to the bytes their block holds (see <see cref="CaptureRecord.CaptureLengthClamped"/>).</summary>
    public long ClampedRecords { get; internal set; }

    /// <summary>Records whose captured length exceeds the snap length or the original length, returned as written.</summary>
    public long InconsistentLengthRecords { get; internal set; }

    /// <summary>pcapng blocks whose option list was malformed (an option running past the block, a bad if_tsresol); the rest of the block was used.</summary>
    public long MalformedOptions { get; internal set; }

    /// <summary>Sum of the drop counts of obsolete pcapng Packet Blocks (packets lost before each one; 0xFFFF = unknown is left out).</summary>
    public long DroppedPackets { get; internal set; }

    /// <summary>A last record cut short by the end of the file (its bytes were not returned).</summary>
    public long TruncatedRecords { get; internal set; }

    /// <summary>Timestamps whose fraction was out of range (µs ≥ 10^6, ns ≥ 10^9) or that overflowed 64-bit nanoseconds.</summary>
    public long InvalidTimestamps { get; internal set; }

    /// <summary>pcapng sections (SHBs) read.</summary>
    public int Sections { get; internal set; }

    /// <summary>pcapng blocks that are not packets and were skipped, by block type (NRB, ISB, DSB, custom, unknown).</summary>
    public Dictionary<uint, long> SkippedBlocks { get; } = new();

    /// <summary>Adds the counts of a reader of a later part of the same file (<see cref="CaptureFileParts"/>).</summary>
    internal void Add(CaptureReaderStatistics other)
    {
        Packets += other.Packets;
        ClampedRecords += other.ClampedRecords;
        InconsistentLengthRecords += other.InconsistentLengthRecords;
        MalformedOptions += other.MalformedOptions;
        DroppedPackets += other.DroppedPackets;
        TruncatedRecords += other.TruncatedRecords;
        InvalidTimestamps += other.InvalidTimestamps;
        Sections += other.Sections;
        foreach ((uint type, long count) in other.SkippedBlocks)
        {
            SkippedBlocks[type] = SkippedBlocks.GetValueOrDefault(type) + count;
        }
    }

    internal void CountSkipped(uint blockType)
    {
        SkippedBlocks.TryGetValue(blockType, out long n);
        SkippedBlocks[blockType] = n + 1;
    }
}
