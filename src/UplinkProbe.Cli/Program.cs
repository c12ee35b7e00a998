using UplinkProbe.Cli;

HotPathWarmUp.StartFor(args);
using Stream stdout = Console.OpenStandardOutput();
return CliApplication.Run(args, stdout, Console.Error);
