using System.CommandLine;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;
using UplinkProbe.Reporting;

namespace UplinkProbe.Cli;

/// <summary>
/// <c>uplinkprobe merge -w OUT.pcapng [--node NAME=FILE]... [--tx-node NAME=FILE]... [FILE...]</c>: one pcapng from the
/// captures of several nodes, in time order, with one interface per node and input interface (node= in
/// if_description) and the direction of every packet in epb_flags — so a single file carries the proof of who sent what.
/// </summary>
internal static class MergeCommand
{
    public static Command Build(CliOutput output)
    {
        var files = new Argument<string[]>("FILE") { Arity = ArgumentArity.ZeroOrMore, Description = "captures whose node is already named in their pcapng interfaces" };
        var nodes = new Option<string[]>("--node", "-n") { Description = "NAME=FILE: a capture of NAME's NIC (direction from pcapng epb_flags or SLL/SLL2)" };
        var txNodes = new Option<string[]>("--tx-node") { Description = "NAME=FILE: a transmit-only capture of NAME (tcpdump -Q out): every packet is marked outbound" };
        var write = new Option<string>("--write", "-w") { Description = "the pcapng file to write", Required = true };
        var command = new Command("merge", "Merge per-node captures into one pcapng that keeps each packet's node and direction.") { files, nodes, txNodes, write };
        command.SetAction(parse =>
        {
            var inputs = new List<(string Path, string? Node, bool Tx)>();
            foreach ((string[] values, bool tx) in new[] { (parse.GetValue(nodes) ?? [], false), (parse.GetValue(txNodes) ?? [], true) })
            {
                foreach (string value in values)
                {
                    int eq = value.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0 || eq == value.Length - 1 || !CaptureInterface.IsValidNodeName(value[..eq]))
                    {
                        output.Error.WriteLine($"uplinkprobe: --{(tx ? "tx-node" : "node")} expects NAME=FILE (NAME without spaces or ';'), got '{value}'");
                        return ExitCodes.Usage;
                    }

                    inputs.Add((value[(eq + 1)..], value[..eq], tx));
                }
            }

            string[] paths = parse.GetValue(files) ?? [];
            if (CliApplication.RejectUnknownOptions(paths, output.Error, "merge"))
            {
                return ExitCodes.Usage;
            }

            inputs.AddRange(paths.Select(p => (p, (string?)null, false)));
            if (inputs.Count == 0)
            {
                output.Error.WriteLine("uplinkprobe: merge needs at least one capture");
                output.Error.WriteLine("Try 'uplinkprobe merge --help'.");
                return ExitCodes.Usage;
            }

            return Merge(inputs, parse.GetValue(write)!, output);
        });
        return command;
    }

    private static int Merge(List<(string Path, string? Node, bool Tx)> inputs, string outPath, CliOutput output)
    {
        var streams = new List<InputStream>();
        try
        {
            foreach ((string path, string? node, bool tx) in inputs)
            {
                try
                {
                    streams.Add(new InputStream(CaptureFile.Open(path), path, node, tx));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    output.Error.WriteLine($"uplinkprobe: {ex.Message.ReplaceLineEndings(" ")}");
                    return ExitCodes.Failure;
                }
            }

            string comment = "merged by uplinkprobe from " + string.Join(", ", inputs.Select(i => (i.Node is null ? string.Empty : i.Node + "=") + Path.GetFileName(i.Path) + (i.Tx ? " (transmit-only)" : string.Empty)));
            long written = 0;
            using (var writer = PcapNgWriter.Create(outPath, comment))
            {
                var decoder = new PacketDecoder();
                var decoded = new DecodedPacket();
                foreach (InputStream s in streams)
                {
                    s.Advance();
                }

                // k-way merge by timestamp: each input is already in time order (records without a timestamp keep their place).
                while (streams.Where(s => s.HasCurrent).MinBy(s => s.Current.TimestampNs) is { } next)
                {
                    CaptureRecord record = next.Current;
                    ReadOnlySpan<byte> data = next.Data;
                    decoder.Decode(data, record.LinkType, decoded, record.OriginalLength);
                    PacketDirection direction = next.TransmitOnly ? PacketDirection.Outbound : PacketFacts.DirectionOf(record, data, decoded);
                    writer.WritePacket(next.InterfaceId(writer, record), record.TimestampNs, data, direction, record.OriginalLength);
                    written++;
                    next.Advance();
                }

                foreach (InputStream s in streams.Where(s => s.Reader.Error is not null))
                {
                    output.Error.WriteLine($"uplinkprobe: {s.Path}: warning: reading stopped {s.Reader.Error}");
                }
            }

            output.Error.WriteLine($"uplinkprobe: wrote {written} packets from {streams.Count} captures to {outPath}");
            return ExitCodes.Ok;
        }
        catch (IOException ex)
        {
            output.Error.WriteLine($"uplinkprobe: {outPath}: {ex.Message.ReplaceLineEndings(" ")}");
            return ExitCodes.Failure;
        }
        finally
        {
            foreach (InputStream s in streams)
            {
                s.Reader.Dispose();
            }
        }
    }

    /// <summary>One input with its current record copied out of the reader's buffer (readers reuse it on the next read).</summary>
    private sealed class InputStream(CaptureReader reader, string path, string? node, bool transmitOnly)
    {
        private readonly Dictionary<int, int> _interfaceIds = new();
        private byte[] _buffer = new byte[65536];
        private int _length;

        public CaptureReader Reader { get; } = reader;

        public string Path { get; } = path;

        public bool TransmitOnly { get; } = transmitOnly;

        public bool HasCurrent { get; private set; }

        public CaptureRecord Current { get; private set; }

        public ReadOnlySpan<byte> Data => _buffer.AsSpan(0, _length);

        public void Advance()
        {
            HasCurrent = Reader.TryReadNext(out CaptureRecord record, out ReadOnlySpan<byte> data);
            if (!HasCurrent)
            {
                return;
            }

            if (data.Length > _buffer.Length)
            {
                _buffer = new byte[data.Length];
            }

            data.CopyTo(_buffer);
            _length = data.Length;
            Current = record;
        }

        /// <summary>The output interface for this input interface, created on first use with the node and the original interface's name.</summary>
        public int InterfaceId(PcapNgWriter writer, in CaptureRecord record)
        {
            if (_interfaceIds.TryGetValue(record.InterfaceIndex, out int id))
            {
                return id;
            }

            CaptureInterface? source = record.InterfaceIndex < Reader.Interfaces.Count ? Reader.Interfaces[record.InterfaceIndex] : null;
            string name = source?.Name ?? System.IO.Path.GetFileNameWithoutExtension(Path);
            string? nodeName = node ?? source?.Node;
            string description = $"from {System.IO.Path.GetFileName(Path)}" + (TransmitOnly ? " (transmit-only)" : string.Empty);
            id = writer.AddInterface(name, record.LinkType, source?.SnapLength ?? 0, description, nodeName, source?.Filter);
            _interfaceIds[record.InterfaceIndex] = id;
            return id;
        }
    }
}
