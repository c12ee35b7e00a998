using Xunit;

namespace UplinkProbe.Tests.Hostile;

internal static class HostileRun
{
    /// <summary>Runs <paramref name="work"/> on its own thread and fails the test when it has not finished in 3 minutes (a hang).</summary>
    public static void Bounded(Action work)
    {
        var task = Task.Factory.StartNew(work, TaskCreationOptions.LongRunning);
        Assert.True(task.Wait(TimeSpan.FromMinutes(3)), "hostile-input run did not finish in 3 minutes: a hang");
        task.GetAwaiter().GetResult();
    }
}
