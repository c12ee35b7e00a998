using System.Diagnostics;

namespace UplinkProbe.Tests.Support;

/// <summary>Runs a program the tests need (ip, cc, a compiled yardstick) and collects what it wrote.</summary>
internal static class ChildProcess
{
    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="args"/> to its end, reading both streams; a run that outlasts
    /// <paramref name="timeout"/> is killed with its children and throws.
    /// </summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout.TotalSeconds:0} s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
