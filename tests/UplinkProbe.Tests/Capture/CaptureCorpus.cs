using UplinkProbe.Capture;

namespace UplinkProbe.Tests.Capture;

/// <summary>Columns 1-8 of one oracle row, typed for the reader tests.</summary>
internal sealed record OracleRow(int No, string Epoch, string If, string Dir, string Flags, string Len, string CapLen, string Protocols)
{
    /// <summary>tshark 4.0 lists pcapng custom blocks as records with protocols "data" and no interface.</summary>
    public bool IsCustomBlock => Protocols == "data" && If.Length == 0;

    public static List<OracleRow> All(UplinkProbe.Tests.Support.OracleFile oracle) =>
        oracle.Rows.Select(r => new OracleRow(
            int.Parse(oracle.Get(r, "no"), System.Globalization.CultureInfo.InvariantCulture),
            oracle.Get(r, "epoch"), oracle.Get(r, "if"), oracle.Get(r, "dir"), oracle.Get(r, "flags"),
            oracle.Get(r, "len"), oracle.Get(r, "caplen"), oracle.Get(r, "protocols"))).ToList();
}

/// <summary>Helpers to run a reader over bytes and collect what it returns.</summary>
internal static class CaptureTestIo
{
    public static CaptureReader Open(byte[] bytes, CaptureFileOptions? options = null) => CaptureFile.Open(bytes, options);

    public static List<(CaptureRecord Record, byte[] Data, string? Comment)> ReadAll(CaptureReader reader)
    {
        var list = new List<(CaptureRecord, byte[], string?)>();
        while (reader.TryReadNext(out CaptureRecord r, out ReadOnlySpan<byte> d))
        {
            ReadOnlySpan<byte> c = reader.CurrentComment;
            list.Add((r, d.ToArray(), c.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(c)));
        }

        return list;
    }

    public static long Position(CaptureReader reader) => reader switch
    {
        PcapReader p => p.Position,
        PcapNgReader n => n.Position,
        _ => throw new ArgumentException("not a file reader", nameof(reader)),
    };

    internal static CaptureBuffer Buffer(CaptureReader reader) => reader switch
    {
        PcapReader p => p.Buffer,
        PcapNgReader n => n.Buffer,
        _ => throw new ArgumentException("not a file reader", nameof(reader)),
    };
}
