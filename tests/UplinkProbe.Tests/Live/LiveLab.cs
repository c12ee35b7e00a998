using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using UplinkProbe.Tests.Support;
using Xunit.Abstractions;

namespace UplinkProbe.Tests.Live;

/// <summary>
/// A network namespace of the test's own with one veth pair (va, vb) inside, both up, IPv6 off so the kernel sends
/// nothing on its own. Names are <c>uplive-PID-RANDOM</c>; namespaces of that prefix whose PID is gone (a crashed
/// run) are removed the first time a lab is made. Dispose deletes the namespace and with it the veths.
/// </summary>
internal sealed partial class LiveLab : IDisposable
{
    public const string Prefix = "uplive-";
    public const string A = "va";
    public const string B = "vb";

    private static readonly Lazy<bool> LeftoversCleaned = new(CleanLeftovers);

    private LiveLab(string name) => Name = name;

    public string Name { get; }

    public static bool InCi => Corpus.InCi;

    /// <summary>
    /// True when the live tests can run (root, ip, namespaces). Otherwise writes why and returns false, except in CI,
    /// where the tests must run and this throws.
    /// </summary>
    public static bool Available(ITestOutputHelper output)
    {
        string? why = null;
        if (Environment.UserName != "root" && geteuid() != 0)
        {
            why = "live capture tests need root (network namespaces, veths, packet sockets)";
        }
        else if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip"))
        {
            why = "live capture tests need iproute2 (ip)";
        }

        if (why is null)
        {
            return true;
        }

        if (InCi)
        {
            throw new InvalidOperationException(why + " (required in CI)");
        }

        output.WriteLine(why + "; test skipped");
        return false;
    }

    /// <summary>Creates the namespace and the veth pair.</summary>
    public static LiveLab Create()
    {
        _ = LeftoversCleaned.Value;
        string name = $"{Prefix}{Environment.ProcessId}-{Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 4).ToLowerInvariant()}";
        var lab = new LiveLab(name);
        try
        {
            Ip("netns", "add", name);
            Run("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
            Ip("-n", name, "link", "add", A, "address", "02:00:5e:00:53:0a", "type", "veth", "peer", "name", B, "address", "02:00:5e:00:53:0b");
            Ip("-n", name, "link", "set", A, "up");
            Ip("-n", name, "link", "set", B, "up");
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    public void Dispose() => NetNamespaces.Delete(Name);

    /// <summary>Runs <paramref name="work"/> on a dedicated thread that has entered this namespace (setns(2)); sockets it opens stay in it.</summary>
    public T Inside<T>(Func<T> work) => NetNamespaces.Inside(Name, work);

    public void Inside(Action work) => Inside(() =>
    {
        work();
        return 0;
    });

    /// <summary>Starts <c>dotnet uplinkprobe.dll ARGS</c> inside the namespace, optionally under a wrapper (setpriv …).</summary>
    public CliProcess StartCli(IEnumerable<string> args, IEnumerable<string>? wrapper = null, IDictionary<string, string>? environment = null) =>
        NetNamespaces.StartCli(Name, args, wrapper, environment);

    public static void Ip(params string[] args) => Run("ip", args);

    /// <summary>Runs a command to its end; throws with its stderr when it fails.</summary>
    public static string Run(string file, params string[] args)
    {
        (int exit, string stdout, string stderr) = ChildProcess.Run(file, args, TimeSpan.FromSeconds(30));
        if (exit != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {exit}: {stderr.Trim()}");
        }

        return stdout;
    }

    private static bool CleanLeftovers()
    {
        NetNamespaces.CleanLeftovers(Prefix);
        return true;
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();
}

/// <summary>A running <c>uplinkprobe</c> child process whose output is collected; killed by PID on dispose if still running.</summary>
internal sealed partial class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public CliProcess(ProcessStartInfo psi)
    {
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stdout)
                {
                    _stdout.Append(e.Data).Append('\n');
                }
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.Append(e.Data).Append('\n');
                }
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The CLI next to the test assembly (the test project references it), run by the dotnet host that runs the tests.</summary>
    public static void AddDotnetCli(ProcessStartInfo psi, IEnumerable<string> args, IDictionary<string, string>? environment)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "uplinkprobe.dll");
        psi.ArgumentList.Add(DotnetHost);
        psi.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach ((string k, string v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
    }

    public static string DotnetHost =>
        Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>Waits until stderr contains <paramref name="text"/>; false when the process ended or the time ran out first.</summary>
    public bool WaitForStderr(string text, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (Stderr.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            if (_process.HasExited)
            {
                _process.WaitForExit();
                return Stderr.Contains(text, StringComparison.Ordinal);
            }

            Thread.Sleep(20);
        }

        return false;
    }

    public void Signal(int signal)
    {
        if (kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed");
        }
    }

    /// <summary>Waits for the exit and returns the exit code; kills the process (by PID) and throws when it takes too long.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"uplinkprobe did not exit in {timeout}; stderr: {Stderr}");
        }

        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    public const int SigInt = 2;
    public const int SigTerm = 15;

    [LibraryImport("libc")]
    private static partial int kill(int pid, int signal);
}
