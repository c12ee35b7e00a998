using System.Diagnostics;
using System.Runtime.InteropServices;
using UplinkProbe.Tests.Live;

namespace UplinkProbe.Tests.Support;

/// <summary>
/// Network namespaces the tests create (names <c>PREFIX PID-…</c>): enter one on a thread, run the CLI inside one, and
/// remove those a crashed test run (its PID gone) left behind. Shared by the live capture and l2test labs.
/// </summary>
internal static partial class NetNamespaces
{
    /// <summary>True when /run/netns holds <paramref name="name"/>.</summary>
    public static bool Exists(string name) =>
        File.Exists(Path.Combine("/var/run/netns", name)) || File.Exists(Path.Combine("/run/netns", name));

    /// <summary>Deletes the namespace (and with it every interface inside) if it exists.</summary>
    public static void Delete(string name)
    {
        if (Exists(name))
        {
            LiveLab.Run("ip", "netns", "del", name);
        }
    }

    /// <summary>Removes namespaces named <paramref name="prefix"/>PID-… whose PID is no longer running (never this process's).</summary>
    public static void CleanLeftovers(string prefix)
    {
        string list;
        try
        {
            list = LiveLab.Run("ip", "netns", "list");
        }
        catch (Exception)
        {
            return;
        }

        foreach (string line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string name = line.Split(' ')[0];
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            string[] parts = name[prefix.Length..].Split('-');
            if (parts.Length >= 2 && int.TryParse(parts[0], out int pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
            {
                try
                {
                    LiveLab.Run("ip", "netns", "del", name);
                }
                catch (InvalidOperationException)
                {
                }
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> on a dedicated thread that has entered namespace <paramref name="name"/> (setns(2)); sockets it opens stay in it.</summary>
    public static T Inside<T>(string name, Func<T> work)
    {
        T? result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using Microsoft.Win32.SafeHandles.SafeFileHandle ns = File.OpenHandle(Path.Combine("/var/run/netns", name));
                if (setns((int)ns.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({name}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                result = work();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }

        return result!;
    }

    /// <summary>Starts <c>dotnet uplinkprobe.dll ARGS</c> inside namespace <paramref name="name"/>, optionally under a wrapper (setpriv …).</summary>
    public static CliProcess StartCli(string name, IEnumerable<string> args, IEnumerable<string>? wrapper = null, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "netns", "exec", name })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (string a in wrapper ?? [])
        {
            psi.ArgumentList.Add(a);
        }

        CliProcess.AddDotnetCli(psi, args, environment);
        return new CliProcess(psi);
    }

    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);
}
