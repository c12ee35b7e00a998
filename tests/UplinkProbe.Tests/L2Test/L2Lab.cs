using UplinkProbe.Tests.Live;
using UplinkProbe.Tests.Support;

namespace UplinkProbe.Tests.L2Test;

/// <summary>
/// Nodes on one Linux bridge, each in its own namespace: a "switch" namespace holds bridge br0 with one veth port per
/// node (<c>p-hvN</c>); node hvN's namespace holds the other end as <c>eth0</c> (MAC 02:00:5e:00:53:0N). IPv6 is off
/// everywhere, so the kernels send nothing on their own. Names are <c>upl2-PID-RANDOM-…</c>; leftovers of crashed runs
/// are removed on the first create. Dispose deletes every namespace, hence every interface.
/// </summary>
internal sealed class L2Lab : IDisposable
{
    public const string Prefix = "upl2-";
    public const string Nic = "eth0";

    private static readonly Lazy<bool> LeftoversCleaned = new(() =>
    {
        NetNamespaces.CleanLeftovers(Prefix);
        return true;
    });

    private readonly List<string> _namespaces = [];

    private L2Lab(string baseName, IReadOnlyList<string> nodes)
    {
        BaseName = baseName;
        Nodes = nodes;
    }

    public string BaseName { get; }

    public IReadOnlyList<string> Nodes { get; }

    public string Switch => BaseName + "-sw";

    public string NamespaceOf(string node) => $"{BaseName}-{node}";

    public static string PortOf(string node) => "p-" + node;

    public static string MacOf(int index) => $"02:00:5e:00:53:{index + 1:x2}";

    /// <summary>Creates the switch with <paramref name="count"/> nodes (hv1…); multicast snooping set explicitly.</summary>
    public static L2Lab Create(int count, bool multicastSnooping)
    {
        _ = LeftoversCleaned.Value;
        string baseName = $"{Prefix}{Environment.ProcessId}-{Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 3).ToLowerInvariant()}";
        var lab = new L2Lab(baseName, Enumerable.Range(1, count).Select(i => $"hv{i}").ToArray());
        try
        {
            lab.AddNamespace(lab.Switch);
            LiveLab.Ip("-n", lab.Switch, "link", "add", "br0", "type", "bridge", "mcast_snooping", multicastSnooping ? "1" : "0", "stp_state", "0");
            LiveLab.Ip("-n", lab.Switch, "link", "set", "br0", "up");
            for (int i = 0; i < count; i++)
            {
                string node = lab.Nodes[i];
                string ns = lab.NamespaceOf(node);
                lab.AddNamespace(ns);
                LiveLab.Ip("-n", lab.Switch, "link", "add", PortOf(node), "address", $"02:00:5e:10:00:{i + 1:x2}", "type", "veth",
                    "peer", "name", Nic, "netns", ns, "address", MacOf(i));
                LiveLab.Ip("-n", lab.Switch, "link", "set", PortOf(node), "master", "br0", "up");
                LiveLab.Ip("-n", ns, "link", "set", Nic, "up");
            }

            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>Runs <c>bridge ARGS</c> in the switch namespace (e.g. <c>link set dev p-hv3 mcast_flood off</c>).</summary>
    public void Bridge(params string[] args) => LiveLab.Run("ip", ["netns", "exec", Switch, "bridge", .. args]);

    /// <summary>Starts <c>uplinkprobe ARGS</c> inside <paramref name="node"/>'s namespace.</summary>
    public CliProcess StartCli(string node, IEnumerable<string> args) => NetNamespaces.StartCli(NamespaceOf(node), args);

    public T Inside<T>(string node, Func<T> work) => NetNamespaces.Inside(NamespaceOf(node), work);

    public void Dispose()
    {
        foreach (string ns in Enumerable.Reverse(_namespaces))
        {
            try
            {
                NetNamespaces.Delete(ns);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    private void AddNamespace(string name)
    {
        LiveLab.Ip("netns", "add", name);
        _namespaces.Add(name);
        LiveLab.Run("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
    }
}
