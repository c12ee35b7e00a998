namespace UplinkProbe.Reporting;

/// <summary>A reusable char buffer for building output lines without allocating.</summary>
public sealed class LineBuilder
{
    private char[] _buffer = new char[512];
    private int _length;

    public ReadOnlySpan<char> Span => _buffer.AsSpan(0, _length);

    public int Length => _length;

    public void Clear() => _length = 0;

    public LineBuilder Append(char c)
    {
        Ensure(1);
        _buffer[_length++] = c;
        return this;
    }

    public LineBuilder Append(ReadOnlySpan<char> text)
    {
        Ensure(text.Length);
        text.CopyTo(_buffer.AsSpan(_length));
        _length += text.Length;
        return this;
    }

    public LineBuilder Append<T>(T value, ReadOnlySpan<char> format = default)
        where T : ISpanFormattable
    {
        int written;
        while (!value.TryFormat(_buffer.AsSpan(_length), out written, format, null))
        {
            Grow(64);
        }

        _length += written;
        return this;
    }

    /// <summary>Appends <c>0x</c> and the value in lower-case hex with <paramref name="digits"/> digits.</summary>
    public LineBuilder AppendHex(uint value, int digits)
    {
        Append("0x");
        return Append(value, digits switch { 2 => "x2", 4 => "x4", 6 => "x6", _ => "x8" });
    }

    public override string ToString() => new(Span);

    private void Ensure(int extra)
    {
        if (_length + extra > _buffer.Length)
        {
            Grow(extra);
        }
    }

    private void Grow(int extra) => Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + extra));
}
