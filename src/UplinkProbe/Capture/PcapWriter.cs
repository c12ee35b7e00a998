using System.Buffers.Binary;
using UplinkProbe.Decoding;

namespace UplinkProbe.Capture;

/// <summary>
/// Writes classic pcap (version 2.4, little-endian, microsecond or nanosecond magic). Used by tests and the
/// traffic generator; recordings of live captures use pcapng, which keeps interfaces and direction.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    private const int FileHeaderLength = 24;
    private const int RecordHeaderLength = 16;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly bool _nanoseconds;
    private readonly uint _snapLength;
    private readonly byte[] _header = new byte[RecordHeaderLength];

    public PcapWriter(Stream stream, LinkType linkType, uint snapLength = 262144, bool nanoseconds = true, bool ownsStream = true)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _nanoseconds = nanoseconds;
        _snapLength = snapLength;
        Span<byte> h = stackalloc byte[FileHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(h, nanoseconds ? 0xa1b23c4du : 0xa1b2c3d4u);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)linkType);
        _stream.Write(h);
    }

    public static PcapWriter Create(string path, LinkType linkType, uint snapLength = 262144, bool nanoseconds = true) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20), linkType, snapLength, nanoseconds);

    /// <summary>Writes one record; <paramref name="originalLength"/> defaults to the data length.</summary>
    public void Write(long timestampNs, ReadOnlySpan<byte> data, int originalLength = -1)
    {
        int captured = (int)Math.Min((uint)data.Length, _snapLength);
        long seconds = Math.DivRem(timestampNs, 1_000_000_000L, out long fraction);
        if (fraction < 0)
        {
            seconds--;
            fraction += 1_000_000_000L;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_header, (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(_header.AsSpan(4), (uint)(_nanoseconds ? fraction : fraction / 1000));
        BinaryPrimitives.WriteInt32LittleEndian(_header.AsSpan(8), captured);
        BinaryPrimitives.WriteInt32LittleEndian(_header.AsSpan(12), originalLength < 0 ? data.Length : originalLength);
        _stream.Write(_header);
        _stream.Write(data[..captured]);
    }

    public void Flush() => _stream.Flush();

    public void Dispose()
    {
        _stream.Flush();
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }
}
