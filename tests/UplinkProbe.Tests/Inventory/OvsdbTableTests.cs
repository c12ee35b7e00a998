using System.Text;
using UplinkProbe.Analysis.Inventory;
using Xunit;

namespace UplinkProbe.Tests.Inventory;

/// <summary>The ovn-nbctl/ovn-sbctl --format=json table parser on real lab dumps and on broken text.</summary>
public sealed class OvsdbTableTests
{
    private static OvsdbTable Parse(string json, string table = "T") => OvsdbTable.Parse(Encoding.UTF8.GetBytes(json), table, "test.json");

    [Fact]
    public void RealLogicalRouterPortDumpReadsEveryCellType()
    {
        OvsdbTable t = OvsdbTable.Load(InventoryTestData.OvnLabFile("nb-Logical_Router_Port.json"));
        Assert.Equal("Logical_Router_Port", t.Name);
        Assert.Equal(2, t.Rows.Count);
        OvsdbRow ext = t.Rows.Single(r => r.GetString("name") == "lr0-ext");
        Assert.Equal("00:16:3e:aa:00:02", ext.GetString("mac"));
        // networks is a set of strings; ovn-nbctl prints a one-element set as the bare atom.
        Assert.Equal(["203.0.113.10/24"], ext.GetStringSet("networks"));
        Assert.Equal([Guid.Parse("7c235619-c8b0-4f5f-aeed-9e93edcd6e32"), Guid.Parse("e4bdefd2-7b57-4884-8032-d0962d09407e")], ext.GetUuidSet("gateway_chassis"));
        Assert.Null(ext.GetUuid("ha_chassis_group"));
        Assert.Empty(ext.GetStringMap("options"));
        Assert.Equal(Guid.Parse("4312fea0-d626-4ea9-979a-5fe148a79825"), ext.Uuid);
    }

    [Fact]
    public void RealPortBindingDumpReadsIntegersBooleansMapsAndStringSets()
    {
        OvsdbTable t = OvsdbTable.Load(InventoryTestData.OvnLabFile("sb-Port_Binding.json"));
        Assert.Equal(9, t.Rows.Count);
        OvsdbRow cr = t.Rows.Single(r => r.GetString("logical_port") == "cr-lr0-ext");
        Assert.Equal(3L, cr.GetInteger("tunnel_key"));
        Assert.Equal("chassisredirect", cr.GetString("type"));
        Assert.True(cr.GetBoolean("up"));
        Assert.Equal("lr0-ext", cr.GetStringMap("options")["distributed-port"]);
        OvsdbRow patch = t.Rows.Single(r => r.GetString("logical_port") == "ext-lr0");
        Assert.Equal(3, patch.GetStringSet("nat_addresses").Count);
        Assert.False(patch.GetBoolean("up"));
        Assert.Null(patch.GetUuid("chassis"));
    }

    [Fact]
    public void MissingColumnsReadAsEmpty()
    {
        OvsdbTable t = Parse("""{"headings":["name"],"data":[["a"]]}""");
        OvsdbRow row = t.Rows[0];
        Assert.False(t.HasColumn("tunnel_key"));
        Assert.Null(row.GetInteger("tunnel_key"));
        Assert.Null(row.GetString("hostname"));
        Assert.Null(row.Uuid);
        Assert.Empty(row.GetStringSet("networks"));
        Assert.Empty(row.GetStringMap("external_ids"));
        Assert.Null(row["nope"]);
    }

    [Fact]
    public void EmptyStringAndEmptySetAreTold()
    {
        OvsdbTable t = Parse("""{"headings":["a","b","c"],"data":[["",["set",[]],["set",["x","y"]]]]}""");
        Assert.Equal(string.Empty, t.Rows[0].GetString("a"));
        Assert.Null(t.Rows[0].GetNonEmptyString("a"));
        Assert.Null(t.Rows[0].GetString("b"));
        Assert.Equal(["x", "y"], t.Rows[0].GetStringSet("c"));
    }

    [Fact]
    public void RealAndNamedUuidAtomsParse()
    {
        OvsdbTable t = Parse("""{"headings":["r","n"],"data":[[1.5,["named-uuid","row1"]]]}""");
        Assert.Equal(1.5, t.Rows[0]["r"]!.Atoms[0].Real);
        Assert.Equal(OvsdbAtomKind.NamedUuid, t.Rows[0]["n"]!.Atoms[0].Kind);
    }

    [Theory]
    [InlineData("", "invalid JSON")]
    [InlineData("not json", "invalid JSON")]
    [InlineData("[1,2]", "expected a JSON object")]
    [InlineData("""{"data":[]}""", "no \"headings\" array")]
    [InlineData("""{"headings":["a"]}""", "no \"data\" array")]
    [InlineData("""{"headings":[1],"data":[]}""", "heading 1 is not a string")]
    [InlineData("""{"headings":["a","a"],"data":[]}""", "column 'a' appears twice")]
    [InlineData("""{"headings":["a","b"],"data":[["x"]]}""", "row 1 has 1 cells, the headings name 2 columns")]
    [InlineData("""{"headings":["a"],"data":["x"]}""", "row 1 is not an array")]
    [InlineData("""{"headings":["a"],"data":[[["uuid","not-a-uuid"]]]}""", "row 1 column 'a': 'not-a-uuid' is not a UUID")]
    [InlineData("""{"headings":["a"],"data":[[["bogus","x"]]]}""", "unknown OVSDB notation [\"bogus\", ...]")]
    [InlineData("""{"headings":["a"],"data":[[["map",[["k"]]]]]}""", "not a [key, value] pair")]
    [InlineData("""{"headings":["a"],"data":[[null]]}""", "unexpected JSON null")]
    [InlineData("""{"headings":["a"],"data":[[{"x":1}]]}""", "unexpected JSON object")]
    public void MalformedDumpsGiveOneLineErrorsNamingTheFile(string json, string expected)
    {
        var ex = Assert.Throws<InventoryException>(() => Parse(json));
        Assert.StartsWith("test.json: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void DeepNestingIsRejectedNotFollowed()
    {
        string json = new string('[', 5000) + new string(']', 5000);
        var ex = Assert.Throws<InventoryException>(() => Parse(json));
        Assert.Contains("invalid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongCellTypeIsAOneLineErrorAtTheAccessor()
    {
        OvsdbTable t = Parse("""{"headings":["tunnel_key","m"],"data":[["three",["set",["a"]]]]}""", "Port_Binding");
        var ex = Assert.Throws<InventoryException>(() => t.Rows[0].GetInteger("tunnel_key"));
        Assert.Equal("test.json: row 1 column 'tunnel_key': expected an integer", ex.Message);
        ex = Assert.Throws<InventoryException>(() => t.Rows[0].GetStringMap("m"));
        Assert.Equal("test.json: row 1 column 'm': expected a map", ex.Message);
    }

    [Fact]
    public void MissingFileIsAOneLineError()
    {
        var ex = Assert.Throws<InventoryException>(() => OvsdbTable.Load("/nonexistent/nb-NAT.json"));
        Assert.Equal("/nonexistent/nb-NAT.json: no such file or directory", ex.Message);
    }

    [Theory]
    [InlineData("nb-NAT.json", OvnDatabase.Northbound, "NAT")]
    [InlineData("/x/sb-Port_Binding.json", OvnDatabase.Southbound, "Port_Binding")]
    [InlineData("HA_Chassis.json", OvnDatabase.Unknown, "HA_Chassis")]
    public void DumpFileNamesSayDatabaseAndTable(string path, OvnDatabase db, string table)
    {
        Assert.Equal(new OvsdbDumpName(db, table), OvsdbDumpName.Parse(path));
    }
}
