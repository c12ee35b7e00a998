using System.Buffers.Binary;

namespace UplinkProbe.Tests.Capture;

/// <summary>
/// Seeded structure-aware mutations of pcap/pcapng files, for fuzz-style tests of the readers (and later of the
/// decoders: feed each mutated file through <see cref="CaptureTestIo.Open"/> and decode what comes out).
/// Deterministic: the same file, seed and index give the same bytes, so a failure can be reproduced from its description.
/// </summary>
internal static class CaptureMutator
{
    private static readonly uint[] HostileLengths =
    [
        0, 1, 3, 4, 7, 8, 11, 12, 15, 16, 20, 0xFFFF, 0x10000, 262_143, 262_144, 262_145, (1 << 20) - 4, (1 << 20) + 4,
        (64 << 20) + 4, 0x7FFF_FFFC, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFF0, 0xFFFF_FFFC, 0xFFFF_FFFF,
    ];

    /// <summary>One mutated copy of a file, with a description of what was changed.</summary>
    internal readonly record struct Mutant(byte[] Bytes, string Description);

    /// <summary>Yields <paramref name="count"/> mutated copies of <paramref name="original"/>; mutant i depends only on (seed, i).</summary>
    public static IEnumerable<Mutant> Mutate(byte[] original, int seed, int count)
    {
        Layout layout = Layout.Of(original);
        for (int i = 0; i < count; i++)
        {
            // Not HashCode.Combine: its seed changes with every process, which made the mutants differ from run to run.
            var rng = new Random(unchecked((((seed * 1_000_003) + i) * 1_000_003) + original.Length));
            yield return MutateOnce(original, layout, rng, $"seed {seed} mutant {i}");
        }
    }

    private static Mutant MutateOnce(byte[] original, Layout layout, Random rng, string prefix)
    {
        byte[] b = (byte[])original.Clone();
        var what = new List<string>();
        int steps = 1 + (rng.Next(4) == 0 ? rng.Next(1, 3) : 0);
        for (int s = 0; s < steps; s++)
        {
            switch (rng.Next(10))
            {
                case 0:
                case 1:
                    what.Add(FlipBits(b, rng));
                    break;
                case 2:
                    b = Truncate(b, rng, what);
                    break;
                case 3:
                case 4:
                    what.Add(SetLength(b, layout.RecordLengthFields, layout, rng, "record length"));
                    break;
                case 5:
                case 6:
                    what.Add(SetLength(b, layout.BlockLengthFields, layout, rng, "block length"));
                    break;
                case 7:
                case 8:
                    what.Add(SetOptionLength(b, layout, rng));
                    break;
                default:
                    what.Add(Overwrite(b, rng));
                    break;
            }
        }

        return new Mutant(b, $"{prefix}: {string.Join("; ", what)}");
    }

    private static string FlipBits(byte[] b, Random rng)
    {
        if (b.Length == 0)
        {
            return "no bits to flip";
        }

        int n = rng.Next(1, 9);
        var at = new List<int>();
        for (int i = 0; i < n; i++)
        {
            int pos = rng.Next(b.Length);
            b[pos] ^= (byte)(1 << rng.Next(8));
            at.Add(pos);
        }

        return $"flipped bits at {string.Join(",", at)}";
    }

    private static byte[] Truncate(byte[] b, Random rng, List<string> what)
    {
        int keep = rng.Next(b.Length + 1);
        what.Add($"truncated to {keep}");
        return b[..keep];
    }

    private static string SetLength(byte[] b, IReadOnlyList<(int Offset, bool BigEndian)> fields, Layout layout, Random rng, string name)
    {
        if (fields.Count == 0)
        {
            return FlipBits(b, rng);
        }

        (int offset, bool be) = fields[rng.Next(fields.Count)];
        if (offset + 4 > b.Length)
        {
            return $"{name} at {offset} already cut off";
        }

        uint old = be ? BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(offset)) : BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(offset));
        uint value = rng.Next(3) switch
        {
            0 => HostileLengths[rng.Next(HostileLengths.Length)],
            1 => (uint)(old + rng.Next(-16, 17)),
            _ => (uint)rng.Next(),
        };
        if (be)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(offset), value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(offset), value);
        }

        return $"{name} at {offset}: {old} -> {value}";
    }

    private static string SetOptionLength(byte[] b, Layout layout, Random rng)
    {
        if (layout.OptionLengthFields.Count == 0)
        {
            return SetLength(b, layout.BlockLengthFields, layout, rng, "block length");
        }

        (int offset, bool be) = layout.OptionLengthFields[rng.Next(layout.OptionLengthFields.Count)];
        if (offset + 2 > b.Length)
        {
            return $"option length at {offset} already cut off";
        }

        ushort old = be ? BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(offset)) : BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(offset));
        ushort value = rng.Next(3) switch
        {
            0 => (ushort)new[] { 0, 1, 2, 3, 5, 0x7FFF, 0xFFFF, 0xFFFC }[rng.Next(8)],
            1 => (ushort)(old + rng.Next(-8, 9)),
            _ => (ushort)rng.Next(0x10000),
        };
        if (be)
        {
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(offset), value);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(offset), value);
        }

        return $"option length at {offset}: {old} -> {value}";
    }

    private static string Overwrite(byte[] b, Random rng)
    {
        if (b.Length == 0)
        {
            return "nothing to overwrite";
        }

        int at = rng.Next(b.Length);
        int n = Math.Min(b.Length - at, rng.Next(1, 17));
        byte fill = (byte)(rng.Next(2) == 0 ? 0xFF : rng.Next(256));
        b.AsSpan(at, n).Fill(fill);
        return $"filled {n} bytes at {at} with 0x{fill:x2}";
    }

    /// <summary>Where the length fields are in the original file (found by walking it, stopping at the first inconsistency).</summary>
    private sealed class Layout
    {
        public List<(int Offset, bool BigEndian)> RecordLengthFields { get; } = new();

        public List<(int Offset, bool BigEndian)> BlockLengthFields { get; } = new();

        public List<(int Offset, bool BigEndian)> OptionLengthFields { get; } = new();

        public static Layout Of(byte[] f)
        {
            var layout = new Layout();
            if (f.Length < 24)
            {
                return layout;
            }

            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(f);
            if (magic == 0x0A0D0D0A)
            {
                layout.WalkPcapNg(f);
            }
            else
            {
                bool be = magic is 0xd4c3b2a1 or 0x4d3cb2a1;
                for (int o = 24; o + 16 <= f.Length;)
                {
                    layout.RecordLengthFields.Add((o + 8, be));
                    layout.RecordLengthFields.Add((o + 12, be));
                    uint cap = Read32(f, o + 8, be);
                    if (cap > (uint)(f.Length - o - 16))
                    {
                        break;
                    }

                    o += 16 + (int)cap;
                }
            }

            return layout;
        }

        private void WalkPcapNg(byte[] f)
        {
            bool be = false;
            int o = 0;
            while (o + 12 <= f.Length)
            {
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(o));
                if (type == 0x0A0D0D0A)
                {
                    be = BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(o + 8)) == 0x1A2B3C4D;
                }
                else
                {
                    type = Read32(f, o, be);
                }

                uint len = Read32(f, o + 4, be);
                if (len < 12 || len % 4 != 0 || len > (uint)(f.Length - o))
                {
                    break;
                }

                BlockLengthFields.Add((o + 4, be));
                BlockLengthFields.Add((o + (int)len - 4, be));
                int options = type switch
                {
                    0x0A0D0D0A => 24,
                    1 => 16,
                    5 => 20,
                    6 or 2 when len >= 32 => 28 + (int)((Read32(f, o + 20, be) + 3) & ~3u),
                    _ => -1,
                };
                int end = o + (int)len - 4;
                if (type is 6 or 2 && len >= 32)
                {
                    // The packet block's captured length is a length field too.
                    RecordLengthFields.Add((o + 20, be));
                    RecordLengthFields.Add((o + 24, be));
                }

                for (int p = o + options; options > 0 && p + 4 <= end;)
                {
                    ushort code = be ? BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(p)) : BinaryPrimitives.ReadUInt16LittleEndian(f.AsSpan(p));
                    ushort olen = be ? BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(p + 2)) : BinaryPrimitives.ReadUInt16LittleEndian(f.AsSpan(p + 2));
                    OptionLengthFields.Add((p + 2, be));
                    if (code == 0)
                    {
                        break;
                    }

                    p += 4 + ((olen + 3) & ~3);
                }

                o += (int)len;
            }
        }

        private static uint Read32(byte[] f, int o, bool be) =>
            be ? BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(o)) : BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(o));
    }
}
