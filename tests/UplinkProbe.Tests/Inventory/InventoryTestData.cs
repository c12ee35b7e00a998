using UplinkProbe.Tests.Support;

namespace UplinkProbe.Tests.Inventory;

/// <summary>Paths of the committed inventory test data (read from the source tree, not copied to the output).</summary>
internal static class InventoryTestData
{
    /// <summary>tests/UplinkProbe.Tests/Inventory/TestData/ovn-lab: real OVN 23.03 dumps from our lab (cp/99-end) and its trimmed lab.json.</summary>
    public static string OvnLab => Path.Combine(Corpus.RepositoryRoot, "tests", "UplinkProbe.Tests", "Inventory", "TestData", "ovn-lab");

    public static string OvnLabFile(string name) => Path.Combine(OvnLab, name);

    /// <summary>A fresh temporary directory, deleted by the returned handle.</summary>
    public static TempDir NewTempDir() => new(Directory.CreateTempSubdirectory("uplinkprobe-inv-").FullName);

    public sealed class TempDir(string path) : IDisposable
    {
        public string Path { get; } = path;

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public string Write(string name, string text)
        {
            string p = File(name);
            System.IO.File.WriteAllText(p, text);
            return p;
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
