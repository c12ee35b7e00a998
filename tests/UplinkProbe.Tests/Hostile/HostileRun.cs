using Xunit;

namespace UplinkProbe.Tests.Hostile;

internal static class HostileRun
{
    /// <summary>The seed of every mutation; <c>UPLINKPROBE_FUZZ_SEED</c> changes it.</summary>
    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("UPLINKPROBE_FUZZ_SEED"), out int s) ? s : 20_261_121;

    /// <summary>Runs <paramref name="work"/> on its own thread and fails the test when it has not finished in 3 minutes (a hang).</summary>
    public static void Bounded(Action work)
    {
        var task = Task.Factory.StartNew(work, TaskCreationOptions.LongRunning);
        Assert.True(task.Wait(TimeSpan.FromMinutes(3)), "hostile-input run did not finish in 3 minutes: a hang");
        task.GetAwaiter().GetResult();
    }
}
