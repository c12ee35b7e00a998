namespace UplinkProbe.Cli;

/// <summary>The process exit codes every verb uses (documented in README.md).</summary>
public static class ExitCodes
{
    /// <summary>The command did its job (malformed packets inside a readable file do not change this).</summary>
    public const int Ok = 0;

    /// <summary>The work could not be done: an input file could not be read at all, an output could not be written.</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong: unknown verb or option, bad value, missing argument.</summary>
    public const int Usage = 2;
}
