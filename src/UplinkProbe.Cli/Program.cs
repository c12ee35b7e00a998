using UplinkProbe.Cli;

using Stream stdout = Console.OpenStandardOutput();
return CliApplication.Run(args, stdout, Console.Error);
