using System.Buffers.Binary;
using System.Text;

namespace UplinkProbe.Tests.Capture;

/// <summary>Builds pcapng bytes by hand, block by block, in either byte order (independent of PcapNgWriter).</summary>
internal sealed class PcapNgBytes
{
    private readonly List<byte> _bytes = new();

    public bool BigEndian { get; private set; }

    public int Length => _bytes.Count;

    public byte[] ToArray() => _bytes.ToArray();

    /// <summary>Sets the byte order for the options built next (before a <see cref="Section"/> call that takes them).</summary>
    public PcapNgBytes Order(bool bigEndian)
    {
        BigEndian = bigEndian;
        return this;
    }

    public PcapNgBytes Section(bool bigEndian = false, ushort major = 1, ushort minor = 0, params byte[][] options)
    {
        BigEndian = bigEndian;
        var body = new List<byte>();
        body.AddRange(U32(0x1A2B3C4D));
        body.AddRange(U16(major));
        body.AddRange(U16(minor));
        body.AddRange(U64(ulong.MaxValue));
        body.AddRange(Options(options));
        return Block(0x0A0D0D0A, body.ToArray());
    }

    public PcapNgBytes Interface(ushort linkType, uint snapLength, params byte[][] options)
    {
        var body = new List<byte>();
        body.AddRange(U16(linkType));
        body.AddRange(U16(0));
        body.AddRange(U32(snapLength));
        body.AddRange(Options(options));
        return Block(1, body.ToArray());
    }

    public PcapNgBytes Epb(uint interfaceId, ulong ticks, byte[] data, uint? originalLength = null, uint? capturedLength = null, params byte[][] options)
    {
        var body = new List<byte>();
        body.AddRange(U32(interfaceId));
        body.AddRange(U32((uint)(ticks >> 32)));
        body.AddRange(U32((uint)ticks));
        body.AddRange(U32(capturedLength ?? (uint)data.Length));
        body.AddRange(U32(originalLength ?? (uint)data.Length));
        body.AddRange(Padded(data));
        body.AddRange(Options(options));
        return Block(6, body.ToArray());
    }

    public PcapNgBytes Pb(ushort interfaceId, ushort drops, ulong ticks, byte[] data, params byte[][] options)
    {
        var body = new List<byte>();
        body.AddRange(U16(interfaceId));
        body.AddRange(U16(drops));
        body.AddRange(U32((uint)(ticks >> 32)));
        body.AddRange(U32((uint)ticks));
        body.AddRange(U32((uint)data.Length));
        body.AddRange(U32((uint)data.Length));
        body.AddRange(Padded(data));
        body.AddRange(Options(options));
        return Block(2, body.ToArray());
    }

    public PcapNgBytes Spb(uint originalLength, byte[] data)
    {
        var body = new List<byte>();
        body.AddRange(U32(originalLength));
        body.AddRange(Padded(data));
        return Block(3, body.ToArray());
    }

    /// <summary>A block with correct leading and trailing lengths.</summary>
    public PcapNgBytes Block(uint type, byte[] body)
    {
        uint length = (uint)(12 + body.Length);
        _bytes.AddRange(U32(type));
        _bytes.AddRange(U32(length));
        _bytes.AddRange(body);
        _bytes.AddRange(U32(length));
        return this;
    }

    public PcapNgBytes Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] Opt(ushort code, byte[] value)
    {
        var o = new List<byte>();
        o.AddRange(U16(code));
        o.AddRange(U16((ushort)value.Length));
        o.AddRange(Padded(value));
        return o.ToArray();
    }

    public byte[] Opt(ushort code, string value) => Opt(code, Encoding.UTF8.GetBytes(value));

    public byte[] OptU32(ushort code, uint value) => Opt(code, U32(value));

    public byte[] OptU64(ushort code, ulong value) => Opt(code, U64(value));

    public byte[] U16(ushort v)
    {
        var b = new byte[2];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        }

        return b;
    }

    public byte[] U32(uint v)
    {
        var b = new byte[4];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        }

        return b;
    }

    public byte[] U64(ulong v)
    {
        var b = new byte[8];
        if (BigEndian)
        {
            BinaryPrimitives.WriteUInt64BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        }

        return b;
    }

    private byte[] Options(byte[][] options)
    {
        if (options.Length == 0)
        {
            return Array.Empty<byte>();
        }

        return options.SelectMany(o => o).Concat(new byte[4]).ToArray();
    }

    private static byte[] Padded(byte[] data) => data.Concat(new byte[(4 - (data.Length % 4)) % 4]).ToArray();
}

/// <summary>Builds classic pcap bytes by hand (independent of PcapWriter).</summary>
internal sealed class PcapBytes
{
    private readonly List<byte> _bytes = new();
    private readonly bool _bigEndian;

    public PcapBytes(bool bigEndian = false, bool nanoseconds = false, ushort major = 2, ushort minor = 4, uint snapLength = 262144, uint linkType = 1)
    {
        _bigEndian = bigEndian;
        Add(nanoseconds ? 0xa1b23c4du : 0xa1b2c3d4u);
        Add16(major);
        Add16(minor);
        Add(0);
        Add(0);
        Add(snapLength);
        Add(linkType);
    }

    public int Length => _bytes.Count;

    public PcapBytes Record(uint seconds, uint fraction, byte[] data, uint? capturedLength = null, uint? originalLength = null)
    {
        Add(seconds);
        Add(fraction);
        Add(capturedLength ?? (uint)data.Length);
        Add(originalLength ?? (uint)data.Length);
        _bytes.AddRange(data);
        return this;
    }

    public PcapBytes Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();

    private void Add(uint v)
    {
        var b = new byte[4];
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        }

        _bytes.AddRange(b);
    }

    private void Add16(ushort v)
    {
        var b = new byte[2];
        if (_bigEndian)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b, v);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        }

        _bytes.AddRange(b);
    }
}

/// <summary>A read-only stream that hides its length and returns at most a few bytes per read, like a pipe.</summary>
internal sealed class TrickleStream : Stream
{
    private readonly byte[] _data;
    private readonly int _chunk;
    private int _pos;

    public TrickleStream(byte[] data, int chunk = 4093)
    {
        _data = data;
        _chunk = chunk;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = Math.Min(Math.Min(count, _chunk), _data.Length - _pos);
        Array.Copy(_data, _pos, buffer, offset, n);
        _pos += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
