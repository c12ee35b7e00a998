using System.Reflection;
using UplinkProbe.Cli;
using UplinkProbe.Decoding;
using Xunit;

namespace UplinkProbe.Tests.Cli;

/// <summary>The start-up warm-up must cover every per-packet method that ReadyToRun leaves to the JIT, and compile them.</summary>
public sealed class HotPathWarmUpTests
{
    [Fact]
    public void StatsWarmUpCoversTheRecordLoop()
    {
        string[] names = HotPathWarmUp.HotMethods(analysis: false).Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToArray();

        Assert.Contains("DecodeRunner.CountAll", names);
        Assert.Contains("PcapReader.TryReadNext", names);
        Assert.Contains("PacketDecoder.Decode", names);
        Assert.Contains("PacketDecoder.TryDecodeCommon", names);
        Assert.Contains("DecodeStatistics.Add", names);
        Assert.DoesNotContain(names, n => n.Contains("Analyzer", StringComparison.Ordinal));
    }

    /// <summary>The straight-line path is generic over whether it writes layer positions: both closed forms, which
    /// <c>decode</c>/<c>analyze</c> and <c>stats</c> run, are compiled, and nothing is left open.</summary>
    [Fact]
    public void StatsWarmUpClosesTheStraightLinePathOverBothRecordingModes()
    {
        MethodInfo[] common = HotPathWarmUp.HotMethods(analysis: false).Where(m => m.Name == "TryDecodeCommon").ToArray();

        Assert.Equal(["ChainOnly", "RecordLayers"], common.Select(m => m.GetGenericArguments().Single().Name).Order());
        Assert.DoesNotContain(HotPathWarmUp.HotMethods(analysis: true), m => m.ContainsGenericParameters);
    }

    /// <summary>A method marked for full optimization in a type the warm-up does not list would be compiled at the first packet again.</summary>
    [Fact]
    public void EveryFullyOptimizedMethodOfTheLibraryIsWarmedUpForAnalyze()
    {
        const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var hot = typeof(PacketDecoder).Assembly.GetTypes()
            .Where(t => !t.ContainsGenericParameters)
            .SelectMany(t => t.GetMethods(Declared))
            .Where(HotPathWarmUp.IsHot)
            .ToHashSet();
        var warmed = HotPathWarmUp.HotMethods(analysis: true).Select(m => m.IsGenericMethod ? m.GetGenericMethodDefinition() : m).ToHashSet();

        Assert.True(hot.Count >= 8, $"only {hot.Count} fully optimized methods found");
        Assert.Empty(hot.Except(warmed).Select(m => $"{m.DeclaringType!.Name}.{m.Name}"));
    }

    [Fact]
    public void PrepareCompilesEveryMethodItLists()
    {
        Assert.Equal(HotPathWarmUp.HotMethods(analysis: true).Count(), HotPathWarmUp.Prepare(analysis: true));
    }
}
