namespace UplinkProbe.Decoding;

/// <summary>Copies ASCII text that a formatter wrote as bytes into a caller's char or byte span.</summary>
internal static class AsciiText
{
    /// <summary>Widens the bytes to chars; false (nothing written) when <paramref name="destination"/> is too short.</summary>
    public static bool TryWiden(ReadOnlySpan<byte> ascii, Span<char> destination, out int charsWritten)
    {
        if (destination.Length < ascii.Length)
        {
            charsWritten = 0;
            return false;
        }

        for (int i = 0; i < ascii.Length; i++)
        {
            destination[i] = (char)ascii[i];
        }

        charsWritten = ascii.Length;
        return true;
    }

    /// <summary>Copies the bytes; false (nothing written) when <paramref name="destination"/> is too short.</summary>
    public static bool TryCopy(ReadOnlySpan<byte> ascii, Span<byte> destination, out int bytesWritten)
    {
        if (destination.Length < ascii.Length)
        {
            bytesWritten = 0;
            return false;
        }

        ascii.CopyTo(destination);
        bytesWritten = ascii.Length;
        return true;
    }
}
