using System.CommandLine;
using UplinkProbe.Analysis.Inventory;

namespace UplinkProbe.Cli;

/// <summary>
/// <c>uplinkprobe inventory [--from-dir DIR]... [--from FILE]... [--ovn] [--lxd NETWORK]... [-o FILE] [--format json|yaml|text]</c>:
/// collects what the cloud says about nodes, gateway ports and floating IPs into one inventory file (docs/inventory.md).
/// </summary>
internal static class InventoryCommand
{
    public static Command Build(CliOutput output)
    {
        var fromDir = new Option<string[]>("--from-dir") { Description = "a directory of OVN table dumps (nb-<Table>.json / sb-<Table>.json / <Table>.json from 'ovn-nbctl --format=json list TABLE')", Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
        var from = new Option<string[]>("--from") { Description = "an inventory file (JSON/YAML), a single OVN table dump, a dump directory or the OVN lab's lab.json; merged last, so its facts win", Arity = ArgumentArity.OneOrMore };
        var ovn = new Option<bool>("--ovn") { Description = "run ovn-nbctl/ovn-sbctl (or MicroOVN's microovn.ovn-nbctl/-sbctl) here; they find their databases as usual (OVN_NB_DB, OVN_SB_DB)" };
        var lxd = new Option<string[]>("--lxd") { Description = "an LXD OVN network to ask 'lxc network info/show' about (repeatable)", Arity = ArgumentArity.OneOrMore };
        var outputFile = new Option<string?>("--output", "-o") { Description = "write the inventory to this file instead of stdout" };
        var format = new Option<string?>("--format", "-F") { Description = "json (default), yaml (the default when -o ends in .yaml/.yml) or text (a summary for people)" };
        format.AcceptOnlyFromAmong("json", "yaml", "text");

        var command = new Command("inventory",
            "Collect the cloud's inventory (nodes, gateway ports with their candidate and active chassis, distributed floating IPs, tunnel keys) " +
            "from OVN dumps, the OVN and LXD command-line tools, and hand-written files, and write it as one inventory file. " +
            "Inputs are merged in this order, later ones winning for single facts: --from-dir, --ovn, --lxd, --from.")
        {
            fromDir, from, ovn, lxd, outputFile, format,
        };
        command.SetAction(parse =>
        {
            string[] dirs = parse.GetValue(fromDir) ?? [];
            string[] files = parse.GetValue(from) ?? [];
            string[] networks = parse.GetValue(lxd) ?? [];
            bool runOvn = parse.GetValue(ovn);
            if (dirs.Length == 0 && files.Length == 0 && networks.Length == 0 && !runOvn)
            {
                output.Error.WriteLine("uplinkprobe: inventory: give at least one input: --from-dir DIR, --from FILE, --ovn or --lxd NETWORK");
                output.Error.WriteLine("Try 'uplinkprobe inventory --help'.");
                return ExitCodes.Usage;
            }

            string? outPath = parse.GetValue(outputFile);
            InventoryFormat fmt = parse.GetValue(format) switch
            {
                "yaml" => InventoryFormat.Yaml,
                "text" => InventoryFormat.Text,
                "json" => InventoryFormat.Json,
                _ => outPath is not null && (outPath.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || outPath.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                    ? InventoryFormat.Yaml : InventoryFormat.Json,
            };

            return Run(dirs, files, runOvn, networks, outPath, fmt, output, new InventoryCollector());
        });
        return command;
    }

    internal static int Run(string[] dirs, string[] files, bool runOvn, string[] networks, string? outPath, InventoryFormat format, CliOutput output, InventoryCollector collector)
    {
        var parts = new List<CloudInventory>();
        try
        {
            foreach (string dir in dirs)
            {
                if (!Directory.Exists(dir))
                {
                    throw new InventoryException(File.Exists(dir) ? $"{dir}: not a directory (use --from for a file)" : $"{dir}: no such directory");
                }

                parts.Add(OvnInventoryReader.ReadDirectory(dir));
            }

            if (runOvn)
            {
                parts.Add(collector.CollectOvn());
            }

            foreach (string network in networks)
            {
                parts.Add(collector.CollectLxd(network));
            }

            foreach (string file in files)
            {
                parts.Add(InventoryLoader.Load(file));
            }
        }
        catch (InventoryException ex)
        {
            output.Error.WriteLine($"uplinkprobe: {ex.Message}");
            return ExitCodes.Failure;
        }

        CloudInventory inventory = parts.Count == 1 ? parts[0] : CloudInventory.Merge(parts);
        foreach (string warning in inventory.Warnings)
        {
            output.Error.WriteLine($"uplinkprobe: warning: {warning}");
        }

        if (outPath is null)
        {
            output.Flush();
            InventoryFile.Write(inventory, output.Stream, format);
            output.Stream.Flush();
            return ExitCodes.Ok;
        }

        try
        {
            InventoryFile.Save(inventory, outPath, format);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string reason = ex switch
            {
                DirectoryNotFoundException => "no such directory",
                UnauthorizedAccessException => "permission denied",
                _ => ex.Message.ReplaceLineEndings(" "),
            };
            output.Error.WriteLine($"uplinkprobe: {outPath}: cannot write: {reason}");
            return ExitCodes.Failure;
        }

        output.Error.WriteLine($"uplinkprobe: inventory written to {outPath}: {inventory.Nodes.Count} nodes, {inventory.GatewayPorts.Count} gateway ports, {inventory.DistributedFloatingIps.Count} distributed floating IPs");
        return ExitCodes.Ok;
    }
}
