// dotnet run -c Release --project tests/UplinkProbe.Benchmarks -- --filter '*'
// Every benchmark reports per-packet figures (OperationsPerInvoke = packet count).
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
