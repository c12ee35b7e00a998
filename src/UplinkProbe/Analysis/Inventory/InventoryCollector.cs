using System.Diagnostics;
using System.Text;

namespace UplinkProbe.Analysis.Inventory;

/// <summary>
/// Collects an inventory by running the cloud's own CLIs: <c>ovn-nbctl</c>/<c>ovn-sbctl</c> (OpenStack, plain OVN)
/// or <c>microovn.ovn-nbctl</c>/<c>microovn.ovn-sbctl</c> (MicroOVN), and <c>lxc network info/show</c> (LXD,
/// MicroCloud). Read-only commands only. Tools are looked up on a PATH-style search path; the OVN tools find their
/// databases as they do for a person (OVN_NB_DB / OVN_SB_DB or the default sockets).
/// </summary>
public sealed class InventoryCollector
{
    private readonly string[] _searchPath;
    private readonly TimeSpan _timeout;

    /// <param name="searchPath">Directories separated by ':' (default: the PATH environment variable).</param>
    /// <param name="timeout">Per command (default 30 s).</param>
    public InventoryCollector(string? searchPath = null, TimeSpan? timeout = null)
    {
        _searchPath = (searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
    }

    /// <summary>The full path of an executable on the search path, or null.</summary>
    public string? FindExecutable(string name)
    {
        foreach (string dir in _searchPath)
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The OVN CLIs to use: plain ovn-nbctl/ovn-sbctl first, then MicroOVN's; null when neither pair exists.</summary>
    public (string Nbctl, string Sbctl)? FindOvnTools()
    {
        foreach ((string nb, string sb) in new[] { ("ovn-nbctl", "ovn-sbctl"), ("microovn.ovn-nbctl", "microovn.ovn-sbctl") })
        {
            if (FindExecutable(nb) is { } nbPath && FindExecutable(sb) is { } sbPath)
            {
                return (nbPath, sbPath);
            }
        }

        return null;
    }

    public string? FindLxc() => FindExecutable("lxc");

    /// <summary>Runs <c>list</c> on every table <see cref="OvnInventoryReader"/> uses and builds the inventory.</summary>
    public CloudInventory CollectOvn()
    {
        (string nbctl, string sbctl) = FindOvnTools()
            ?? throw new InventoryException("neither ovn-nbctl/ovn-sbctl nor microovn.ovn-nbctl/microovn.ovn-sbctl is on PATH");
        var reader = new OvnInventoryReader();
        var skipped = new List<string>();
        foreach ((string tool, OvnDatabase db, IReadOnlyList<string> tables) in new[]
        {
            (nbctl, OvnDatabase.Northbound, OvnInventoryReader.NorthboundTables),
            (sbctl, OvnDatabase.Southbound, OvnInventoryReader.SouthboundTables),
        })
        {
            foreach (string table in tables)
            {
                string command = $"{Path.GetFileName(tool)} --format=json list {table}";
                (int exit, string stdout, string stderr) = Run(tool, "--format=json", "list", table);
                if (exit != 0)
                {
                    // Tables that an older or newer schema lacks (SB Gateway_Chassis went away in OVN 20.06).
                    if (stderr.Contains("unknown table", StringComparison.OrdinalIgnoreCase))
                    {
                        skipped.Add($"{command}: no such table in this OVN version; skipped");
                        continue;
                    }

                    throw new InventoryException($"{command}: exit {exit}: {FirstLine(stderr)}");
                }

                if (stdout.Trim().Length == 0)
                {
                    continue;
                }

                reader.Add(OvsdbTable.Parse(Encoding.UTF8.GetBytes(stdout), table, command), db);
            }
        }

        CloudInventory inv = reader.Build();
        inv.Warnings.AddRange(skipped);
        return inv;
    }

    /// <summary>
    /// Runs <c>lxc network info NET</c> and <c>lxc network show NET</c>, then, for each cluster member the network is
    /// on, <c>lxc network info UPLINK --target MEMBER</c> for the member's uplink NIC MAC (failures there are warnings).
    /// </summary>
    public CloudInventory CollectLxd(string network)
    {
        string lxc = FindLxc() ?? throw new InventoryException("lxc is not on PATH");
        LxdNetworkInfo info = LxdNetworkInfo.Parse(RunOrThrow(lxc, "network", "info", network), $"lxc network info {network}");
        LxdNetworkConfig config = LxdNetworkConfig.Parse(RunOrThrow(lxc, "network", "show", network), $"lxc network show {network}");
        var uplinks = new List<(string, LxdNetworkInfo)>();
        var warnings = new List<string>();
        if (config.UplinkNetwork is { } uplink)
        {
            List<string?> members = config.Locations.Count > 1 ? [.. config.Locations] : [config.Locations.FirstOrDefault()];
            foreach (string? member in members)
            {
                string[] args = member is not null && config.Locations.Count > 1 ? ["network", "info", uplink, "--target", member] : ["network", "info", uplink];
                string command = "lxc " + string.Join(' ', args);
                (int exit, string stdout, string stderr) = Run(lxc, args);
                if (exit != 0)
                {
                    warnings.Add($"{command}: exit {exit}: {FirstLine(stderr)}");
                    continue;
                }

                try
                {
                    uplinks.Add((member ?? Environment.MachineName, LxdNetworkInfo.Parse(stdout, command)));
                }
                catch (InventoryException ex)
                {
                    warnings.Add(ex.Message);
                }
            }
        }

        CloudInventory inv = LxdInventory.Build(network, info, config, uplinks);
        inv.Warnings.AddRange(warnings);
        return inv;
    }

    private string RunOrThrow(string exe, params string[] args)
    {
        (int exit, string stdout, string stderr) = Run(exe, args);
        return exit == 0 ? stdout : throw new InventoryException($"{Path.GetFileName(exe)} {string.Join(' ', args)}: exit {exit}: {FirstLine(stderr)}");
    }

    internal (int Exit, string Stdout, string Stderr) Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // lxc translates its labels; the parsers read the untranslated ones.
        psi.Environment["LC_ALL"] = "C";
        psi.Environment["LANG"] = "C";
        string command = $"{Path.GetFileName(exe)} {string.Join(' ', args)}";
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InventoryException($"{command}: could not be started");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InventoryException($"{command}: could not be started: {ex.Message}", ex);
        }

        using (process)
        {
            process.StandardInput.Close();
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(_timeout))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // It ended meanwhile.
                }

                throw new InventoryException($"{command}: no answer within {_timeout.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} s");
            }

            process.WaitForExit();
            return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
        }
    }

    private static string FirstLine(string text)
    {
        string line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "(no message)";
        return InventoryText.Clip(line, 200);
    }
}
