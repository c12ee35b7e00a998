using System.Text;
using UplinkProbe.Analysis.Inventory;
using Xunit;

namespace UplinkProbe.Tests.Inventory;

/// <summary>
/// Corrupted inventory inputs (deterministic byte and line mutations of the real lab dumps, of an inventory file
/// and of LXD texts): each one either loads or fails with a one-line <see cref="InventoryException"/>, never
/// anything else.
/// </summary>
public sealed class InventoryHostileInputTests
{
    private static IEnumerable<byte[]> Mutants(byte[] original, int count, int seed)
    {
        var random = new Random(seed);
        byte[] interesting = "{}[]\",:0-9\n\t #&*!|>'\\u"u8.ToArray();
        for (int i = 0; i < count; i++)
        {
            byte[] m = (byte[])original.Clone();
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits && m.Length > 0; e++)
            {
                int at = random.Next(m.Length);
                switch (random.Next(4))
                {
                    case 0:
                        m[at] = interesting[random.Next(interesting.Length)];
                        break;
                    case 1:
                        m[at] = (byte)random.Next(256);
                        break;
                    case 2:
                        m = m[..at];
                        break;
                    default:
                        int len = Math.Min(m.Length - at, 1 + random.Next(40));
                        m = [.. m[..at], .. m.AsSpan(at, len).ToArray(), .. m[at..]];
                        break;
                }
            }

            yield return m;
        }
    }

    private static void AssertLoadsOrOneLineError(Action load)
    {
        try
        {
            load();
        }
        catch (InventoryException ex)
        {
            Assert.DoesNotContain('\n', ex.Message);
            Assert.NotEmpty(ex.Message);
        }
    }

    [Theory]
    [InlineData("sb-Port_Binding.json")]
    [InlineData("nb-Logical_Router_Port.json")]
    [InlineData("nb-NAT.json")]
    [InlineData("sb-Chassis.json")]
    public void CorruptedDumpsNeverEscapeAsOtherExceptions(string file)
    {
        byte[] original = File.ReadAllBytes(InventoryTestData.OvnLabFile(file));
        OvsdbDumpName name = OvsdbDumpName.Parse(file);
        var others = new List<OvsdbTable>();
        foreach (string f in Directory.EnumerateFiles(InventoryTestData.OvnLab, "*-*.json").Where(f => !f.EndsWith(file, StringComparison.Ordinal)))
        {
            others.Add(OvsdbTable.Load(f));
        }

        foreach (byte[] mutant in Mutants(original, 1500, file.Length))
        {
            AssertLoadsOrOneLineError(() =>
            {
                var reader = new OvnInventoryReader();
                foreach (OvsdbTable t in others)
                {
                    reader.Add(t, OvsdbDumpName.Parse(t.Source).Database);
                }

                reader.Add(OvsdbTable.Parse(mutant, name.Table, file), name.Database);
                reader.Build();
            });
        }
    }

    [Fact]
    public void CorruptedInventoryFilesNeverEscapeAsOtherExceptions()
    {
        CloudInventory lab = CloudInventory.Merge(OvnInventoryReader.ReadDirectory(InventoryTestData.OvnLab), LabManifest.Load(InventoryTestData.OvnLabFile("lab.json")));
        foreach (InventoryFormat format in new[] { InventoryFormat.Yaml, InventoryFormat.Json })
        {
            byte[] original = Encoding.UTF8.GetBytes(InventoryFile.ToString(lab, format));
            foreach (byte[] mutant in Mutants(original, 1500, (int)format + 7))
            {
                AssertLoadsOrOneLineError(() => InventoryFile.Parse(Encoding.UTF8.GetString(mutant), "x"));
            }
        }
    }

    [Fact]
    public void CorruptedLxdTextsNeverEscapeAsOtherExceptions()
    {
        foreach (byte[] mutant in Mutants(Encoding.UTF8.GetBytes(LxdNetworkTests.OvnShow), 1500, 3))
        {
            AssertLoadsOrOneLineError(() => LxdNetworkConfig.Parse(Encoding.UTF8.GetString(mutant), "x"));
        }

        foreach (byte[] mutant in Mutants(Encoding.UTF8.GetBytes(LxdNetworkTests.OvnInfo), 1500, 4))
        {
            AssertLoadsOrOneLineError(() => LxdInventory.Build("n", LxdNetworkInfo.Parse(Encoding.UTF8.GetString(mutant), "x"), null));
        }

        foreach (byte[] mutant in Mutants(File.ReadAllBytes(InventoryTestData.OvnLabFile("lab.json")), 1500, 5))
        {
            AssertLoadsOrOneLineError(() => LabManifest.Parse(mutant, "x"));
        }
    }
}
