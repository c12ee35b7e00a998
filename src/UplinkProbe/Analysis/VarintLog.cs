namespace UplinkProbe.Analysis;

/// <summary>
/// An append-only sequence of 64-bit integers, each kept as a zigzag LEB128 varint (one byte for −64..63, at most ten),
/// read back in order. Closed activity runs are written as differences from the run before, so a long capture's runs
/// take about a tenth of the memory of a list of structs.
/// </summary>
internal sealed class VarintLog
{
    private const int MaxBytesPerValue = 10;

    private byte[] _bytes = new byte[16];

    /// <summary>Bytes used.</summary>
    public int Length { get; private set; }

    public void Write(long value)
    {
        if (Length + MaxBytesPerValue > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Length + MaxBytesPerValue));
        }

        ulong zigzag = (ulong)((value << 1) ^ (value >> 63));
        while (zigzag >= 0x80)
        {
            _bytes[Length++] = (byte)(zigzag | 0x80);
            zigzag >>= 7;
        }

        _bytes[Length++] = (byte)zigzag;
    }

    /// <summary>Drops the first <paramref name="bytes"/> bytes (whole values, as a reader's <see cref="Reader.Position"/> gives): the rest moves to the front.</summary>
    public void RemoveFirst(int bytes)
    {
        _bytes.AsSpan(bytes, Length - bytes).CopyTo(_bytes);
        Length -= bytes;
    }

    /// <summary>A reader from the first value; it sees the values written before it was made.</summary>
    public Reader Read() => new(_bytes, Length);

    internal struct Reader(byte[] bytes, int length)
    {
        private int _position;

        public readonly bool AtEnd => _position >= length;

        /// <summary>Bytes read so far.</summary>
        public readonly int Position => _position;

        public long Next()
        {
            ulong zigzag = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = bytes[_position++];
                zigzag |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
                }
            }
        }
    }
}
