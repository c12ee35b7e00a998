using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace UplinkProbe.Decoding;

/// <summary>
/// Unchecked big-endian reads for the decoder's hot loop, used only where a length check that dominates the read
/// has already proved the bytes are there (the header readers' TryRead). Everything public keeps checked reads.
/// </summary>
internal static class Wire
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref byte Start(ReadOnlySpan<byte> data) => ref MemoryMarshal.GetReference(data);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte U8(ref byte start, int offset) => Unsafe.Add(ref start, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort U16(ref byte start, int offset)
    {
        ushort v = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref start, offset));
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(v) : v;
    }

    /// <summary>The bytes [offset, end) of <paramref name="packet"/>; the caller guarantees 0 ≤ offset ≤ end ≤ packet.Length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> Window(ReadOnlySpan<byte> packet, int offset, int end)
    {
        System.Diagnostics.Debug.Assert((uint)offset <= (uint)end && (uint)end <= (uint)packet.Length, "decoder window outside the packet");
        return MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref MemoryMarshal.GetReference(packet), offset), end - offset);
    }
}
