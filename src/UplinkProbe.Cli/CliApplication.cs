using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;

namespace UplinkProbe.Cli;

/// <summary>Builds the <c>uplinkprobe</c> command tree and runs it; callable in-process by tests.</summary>
public static class CliApplication
{
    internal static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    public static RootCommand BuildRootCommand(CliOutput output)
    {
        var root = new RootCommand(
            "uplinkprobe: shows from packets which host really emits an OVN router's uplink traffic.\n" +
            "Exit codes: 0 ok, 1 the work could not be done (e.g. a file could not be read), 2 usage error.");
        root.Subcommands.Add(DecodeCommand.Build(output));
        root.Subcommands.Add(StatsCommand.Build(output));
        root.Subcommands.Add(AnalyzeCommand.Build(output));
        root.Subcommands.Add(InventoryCommand.Build(output));
        root.Subcommands.Add(MergeCommand.Build(output));
        root.Subcommands.Add(CaptureCommand.Build(output));
        root.Subcommands.Add(WatchCommand.Build(output));
        root.Subcommands.Add(L2TestCommand.Build(output));
        return root;
    }

    /// <summary>Runs the command line; bulk output goes to <paramref name="stdout"/>, diagnostics to <paramref name="stderr"/>.</summary>
    public static int Run(string[] args, Stream stdout, TextWriter stderr)
    {
        using var output = new CliOutput(stdout, stderr);
        RootCommand root = BuildRootCommand(output);
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

        var config = new InvocationConfiguration { Output = output.Text, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            return parse.Invoke(config);
        }
        catch (IOException ex) when (IsBrokenPipe(ex))
        {
            // The reader of our output went away (e.g. `| head`): not an error of ours.
            return ExitCodes.Ok;
        }
        finally
        {
            output.Flush();
        }
    }

    /// <summary>Rejects arguments that look like options the verb does not have (System.CommandLine would take them as file names).</summary>
    /// <summary><c>--threads/-j N</c>: threads that read one big classic pcap file in parts (default: one per core).</summary>
    internal static Option<int> ThreadsOption()
    {
        var threads = new Option<int>("--threads", "-j")
        {
            Description = "threads that read one classic pcap file of at least 16 MiB in parts, with the result of one thread (default: one per core; 1: one thread)",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        threads.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--threads must be at least 1");
            }
        });
        return threads;
    }

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

    private static bool IsBrokenPipe(IOException ex) => ex.HResult == 32 || ex.Message.Contains("Broken pipe", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The process's outputs: a UTF-8 byte stream for bulk output (with a text view over it) and stderr.</summary>
public sealed class CliOutput : IDisposable
{
    public CliOutput(Stream stdout, TextWriter stderr)
    {
        Stream = new BufferedStream(stdout, 1 << 16);
        Text = new StreamWriter(Stream, CliApplication.Utf8, 1 << 14, leaveOpen: true) { AutoFlush = false };
        Error = stderr;
    }

    /// <summary>Buffered stdout for raw UTF-8 (JSON Lines). Flush <see cref="Text"/> before writing here.</summary>
    public Stream Stream { get; }

    public TextWriter Text { get; }

    public TextWriter Error { get; }

    public void Flush()
    {
        Text.Flush();
        Stream.Flush();
    }

    public void Dispose()
    {
        Text.Dispose();
        Stream.Dispose();
    }
}
