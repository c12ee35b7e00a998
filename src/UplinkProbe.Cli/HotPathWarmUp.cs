using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using UplinkProbe.Analysis;
using UplinkProbe.Capture;
using UplinkProbe.Decoding;

namespace UplinkProbe.Cli;

/// <summary>
/// Compiles the per-packet methods of <c>stats</c>, <c>decode</c> and <c>analyze</c> on a second core while the main thread
/// starts up.
/// </summary>
/// <remarks>
/// The per-packet methods (record reader, decoder, counters, analyzers, the loops that call them) are marked
/// <see cref="MethodImplOptions.AggressiveOptimization"/>, which ReadyToRun does not precompile: without this, the runtime
/// compiles them at the first packet on the thread that reads it, about 25 ms for <c>stats</c> before any packet is
/// counted. Started first thing in <c>Main</c>, a background thread has them compiled
/// (<see cref="RuntimeHelpers.PrepareMethod(RuntimeMethodHandle)"/>) while the command line is parsed and the files are
/// opened; a thread that needs one still being compiled waits for it rather than compiling it again. Measured on the
/// 25 KB lab capture, <c>stats</c>, medians of 30 interleaved runs: 125 → 101 ms. Skipped on one core and with
/// <see cref="ReportWarmUp.DisableVariable"/> set to 1; a failure is ignored (it only costs the time it saves).
/// </remarks>
internal static class HotPathWarmUp
{
    public static void StartFor(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("stats" or "decode" or "analyze") || Environment.ProcessorCount < 2
            || Environment.GetEnvironmentVariable(ReportWarmUp.DisableVariable) == "1")
        {
            return;
        }

        bool analyze = args[0] == "analyze";
        new Thread(() => Prepare(analyze)) { IsBackground = true, Name = "uplinkprobe hot-path warm-up" }.Start();
    }

    /// <summary>Compiles the hot methods of decoding (and analysis); returns how many (tests).</summary>
    internal static int Prepare(bool analysis)
    {
        int prepared = 0;
        try
        {
            foreach (MethodInfo method in HotMethods(analysis))
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
                prepared++;
            }
        }
        catch (Exception)
        {
            // Nothing depends on it.
        }

        return prepared;
    }

    /// <summary>The types whose per-packet methods a verb runs: capture and decoding, and the analyzers for <c>analyze</c>.</summary>
    internal static Type[] HotTypes(bool analysis) => analysis
        ? [typeof(PcapReader), typeof(PacketDecoder), typeof(DecodeStatistics), typeof(DecodeRunner), typeof(AnalysisSession),
            typeof(TunnelAnalyzer), typeof(GatewayEmitterAnalyzer), typeof(AnnouncementAnalyzer), typeof(L2EvidenceAnalyzer)]
        : [typeof(PcapReader), typeof(PacketDecoder), typeof(DecodeStatistics), typeof(DecodeRunner)];

    /// <summary>The methods of <see cref="HotTypes(bool)"/> marked for full optimization; a generic one once per value type of
    /// its assembly that meets its constraints (<c>PacketDecoder.TryDecodeCommon</c> with and without layer positions).</summary>
    /// <remarks>The published build trims only the framework (<c>TrimMode=partial</c>), so the project's own types keep
    /// every method; were one trimmed away, it would only not be compiled ahead of its first call.</remarks>
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "The project's own types, which the partial trim keeps whole")]
    internal static IEnumerable<MethodInfo> HotMethods(bool analysis) =>
        HotTypes(analysis).SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(IsHot)
            .SelectMany(m => m.IsGenericMethodDefinition ? Instantiations(m) : [m]);

    internal static bool IsHot(MethodInfo method) =>
        (method.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0 && !method.IsAbstract
        && (!method.ContainsGenericParameters || method.IsGenericMethodDefinition);

    /// <summary>A one-parameter generic method closed over each value type of its assembly that implements every interface
    /// its parameter is constrained to.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The project's own assembly, which the partial trim keeps whole")]
    [UnconditionalSuppressMessage("Trimming", "IL2060", Justification = "Closed over the project's own value types, which the partial trim keeps whole")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Closed over the project's own value types, which the ReadyToRun image holds")]
    private static IEnumerable<MethodInfo> Instantiations(MethodInfo method)
    {
        Type[] parameters = method.GetGenericArguments();
        if (parameters.Length != 1)
        {
            return [];
        }

        Type[] constraints = parameters[0].GetGenericParameterConstraints();
        return method.DeclaringType!.Assembly.GetTypes()
            .Where(t => t.IsValueType && !t.ContainsGenericParameters && constraints.All(c => c == typeof(ValueType) || c.IsAssignableFrom(t)))
            .Select(t => method.MakeGenericMethod(t));
    }
}
