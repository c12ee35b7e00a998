using System.CommandLine;
using System.CommandLine.Parsing;

namespace UplinkProbe.Cli;

/// <summary>Builds the <c>uplinkprobe</c> command tree and runs it; callable in-process by tests.</summary>
public static class CliApplication
{
    public static RootCommand BuildRootCommand(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand(
            "uplinkprobe: shows from packets which host really emits an OVN router's uplink traffic.\n" +
            "Exit codes: 0 ok, 1 the work could not be done (e.g. a file could not be read), 2 usage error.");
        return root;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        RootCommand root = BuildRootCommand(stdout, stderr);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (ParseError error in parse.Errors)
            {
                stderr.WriteLine($"uplinkprobe: {error.Message.Replace(Environment.NewLine, " ").Replace('\t', ' ')}");
            }

            string verb = parse.CommandResult.Command == root ? string.Empty : " " + parse.CommandResult.Command.Name;
            stderr.WriteLine($"Try 'uplinkprobe{verb} --help'.");
            return ExitCodes.Usage;
        }

        var config = new InvocationConfiguration { Output = stdout, Error = stderr };
        return parse.Invoke(config);
    }

    /// <summary>Rejects arguments that look like options the verb does not have (System.CommandLine would take them as file names).</summary>
    internal static bool RejectUnknownOptions(IEnumerable<string> files, TextWriter stderr, string verb)
    {
        foreach (string f in files)
        {
            if (f.Length > 1 && f[0] == '-' && !File.Exists(f))
            {
                stderr.WriteLine($"uplinkprobe: unknown option '{f}'");
                stderr.WriteLine($"Try 'uplinkprobe {verb} --help'.");
                return true;
            }
        }

        return false;
    }
}
