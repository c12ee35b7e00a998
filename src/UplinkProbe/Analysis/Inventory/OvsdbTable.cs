using System.Globalization;
using System.Text.Json;

namespace UplinkProbe.Analysis.Inventory;

/// <summary>An inventory input could not be read, obtained or understood. The message is one line and names the input.</summary>
public sealed class InventoryException : Exception
{
    public InventoryException(string message)
        : base(message.ReplaceLineEndings(" "))
    {
    }

    public InventoryException(string message, Exception inner)
        : base(message.ReplaceLineEndings(" "), inner)
    {
    }
}

/// <summary>The kind of one OVSDB atom (RFC 7047 section 5.1).</summary>
public enum OvsdbAtomKind
{
    String,
    Integer,
    Real,
    Boolean,
    Uuid,

    /// <summary>["named-uuid", name]: only inside transactions, accepted for completeness.</summary>
    NamedUuid,
}

/// <summary>One OVSDB atom: a string, integer, real, boolean or UUID.</summary>
public readonly record struct OvsdbAtom(OvsdbAtomKind Kind, string? Text, long Integer, double Real, bool Boolean, Guid Uuid)
{
    public static OvsdbAtom FromString(string s) => new(OvsdbAtomKind.String, s, 0, 0, false, default);

    public override string ToString() => Kind switch
    {
        OvsdbAtomKind.String or OvsdbAtomKind.NamedUuid => Text ?? string.Empty,
        OvsdbAtomKind.Integer => Integer.ToString(CultureInfo.InvariantCulture),
        OvsdbAtomKind.Real => Real.ToString("R", CultureInfo.InvariantCulture),
        OvsdbAtomKind.Boolean => Boolean ? "true" : "false",
        _ => Uuid.ToString(),
    };
}

/// <summary>
/// One cell of an OVSDB table: a set of atoms or a map of atom pairs. An atom on its own is a one-element set
/// (RFC 7047 section 5.1: a set of exactly one element may be written as the bare atom).
/// </summary>
public sealed class OvsdbDatum
{
    private static readonly OvsdbDatum EmptySet = new([], null);

    private OvsdbDatum(IReadOnlyList<OvsdbAtom> atoms, IReadOnlyList<KeyValuePair<OvsdbAtom, OvsdbAtom>>? pairs)
    {
        Atoms = atoms;
        Pairs = pairs;
    }

    /// <summary>The elements of a set (empty for a map).</summary>
    public IReadOnlyList<OvsdbAtom> Atoms { get; }

    /// <summary>The pairs of a map, null when the cell is a set or an atom.</summary>
    public IReadOnlyList<KeyValuePair<OvsdbAtom, OvsdbAtom>>? Pairs { get; }

    public bool IsMap => Pairs is not null;

    public bool IsEmpty => Atoms.Count == 0 && (Pairs is null || Pairs.Count == 0);

    internal static OvsdbDatum Set(IReadOnlyList<OvsdbAtom> atoms) => atoms.Count == 0 ? EmptySet : new(atoms, null);

    internal static OvsdbDatum Map(IReadOnlyList<KeyValuePair<OvsdbAtom, OvsdbAtom>> pairs) => new([], pairs);
}

/// <summary>
/// A table as printed by <c>ovn-nbctl --format=json list TABLE</c> / <c>ovn-sbctl --format=json list TABLE</c>:
/// <c>{"headings":[column...],"data":[[cell...]...]}</c>. Cells use the OVSDB JSON notation of RFC 7047
/// section 5.1. Missing columns read as empty; malformed files raise <see cref="InventoryException"/>.
/// </summary>
public sealed class OvsdbTable
{
    private readonly Dictionary<string, int> _columns;

    private OvsdbTable(string name, string source, IReadOnlyList<string> headings, IReadOnlyList<OvsdbRow> rows, Dictionary<string, int> columns)
    {
        Name = name;
        Source = source;
        Headings = headings;
        Rows = rows;
        _columns = columns;
    }

    /// <summary>The table name, e.g. "Port_Binding".</summary>
    public string Name { get; }

    /// <summary>Where the table came from (a file path or a command), used in error messages and fact sources.</summary>
    public string Source { get; }

    public IReadOnlyList<string> Headings { get; }

    public IReadOnlyList<OvsdbRow> Rows { get; }

    public bool HasColumn(string column) => _columns.ContainsKey(column);

    internal int ColumnIndex(string column) => _columns.TryGetValue(column, out int i) ? i : -1;

    /// <summary>Reads a dump file. The table name is taken from the file name (<c>nb-NAT.json</c>, <c>NAT.json</c>) unless given.</summary>
    public static OvsdbTable Load(string path, string? tableName = null)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InventoryException($"{path}: {InventoryText.Describe(ex)}", ex);
        }

        return Parse(bytes, tableName ?? OvsdbDumpName.Parse(path).Table, path);
    }

    /// <summary>Parses the JSON text of one table. Throws <see cref="InventoryException"/> with a one-line reason.</summary>
    public static OvsdbTable Parse(ReadOnlySpan<byte> utf8Json, string tableName, string source)
    {
        if (!TryParse(utf8Json, tableName, source, out OvsdbTable? table, out string? error))
        {
            throw new InventoryException(error);
        }

        return table;
    }

    public static bool TryParse(ReadOnlySpan<byte> utf8Json, string tableName, string source,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OvsdbTable? table,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        table = null;
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            error = $"{source}: not an OVSDB table dump: not valid UTF-8 text";
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            error = $"{source}: not an OVSDB table dump: invalid JSON ({InventoryText.JsonReason(ex)})";
            return false;
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = $"{source}: not an OVSDB table dump: expected a JSON object with \"headings\" and \"data\"";
                return false;
            }

            if (!root.TryGetProperty("headings", out JsonElement headingsElement) || headingsElement.ValueKind != JsonValueKind.Array)
            {
                error = $"{source}: not an OVSDB table dump: no \"headings\" array";
                return false;
            }

            if (!root.TryGetProperty("data", out JsonElement dataElement) || dataElement.ValueKind != JsonValueKind.Array)
            {
                error = $"{source}: not an OVSDB table dump: no \"data\" array";
                return false;
            }

            var headings = new List<string>();
            var columns = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (JsonElement h in headingsElement.EnumerateArray())
            {
                if (h.ValueKind != JsonValueKind.String)
                {
                    error = $"{source}: heading {headings.Count + 1} is not a string";
                    return false;
                }

                string name = h.GetString()!;
                if (!columns.TryAdd(name, headings.Count))
                {
                    error = $"{source}: column '{name}' appears twice in \"headings\"";
                    return false;
                }

                headings.Add(name);
            }

            var rows = new List<OvsdbRow>();
            table = new OvsdbTable(tableName, source, headings, rows, columns);
            int rowNumber = 0;
            foreach (JsonElement r in dataElement.EnumerateArray())
            {
                rowNumber++;
                if (r.ValueKind != JsonValueKind.Array)
                {
                    error = $"{source}: row {rowNumber} is not an array";
                    table = null;
                    return false;
                }

                if (r.GetArrayLength() != headings.Count)
                {
                    error = $"{source}: row {rowNumber} has {r.GetArrayLength()} cells, the headings name {headings.Count} columns";
                    table = null;
                    return false;
                }

                var cells = new OvsdbDatum[headings.Count];
                int c = 0;
                foreach (JsonElement cell in r.EnumerateArray())
                {
                    if (!TryParseDatum(cell, out cells[c], out string? why))
                    {
                        error = $"{source}: row {rowNumber} column '{headings[c]}': {why}";
                        table = null;
                        return false;
                    }

                    c++;
                }

                rows.Add(new OvsdbRow(table, rowNumber, cells));
            }

            error = null;
            return true;
        }
    }

    private static bool TryParseDatum(JsonElement cell, out OvsdbDatum datum, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        datum = OvsdbDatum.Set([]);
        if (cell.ValueKind == JsonValueKind.Array && cell.GetArrayLength() == 2 && cell[0].ValueKind == JsonValueKind.String)
        {
            string tag = cell[0].GetString()!;
            if (tag == "set")
            {
                if (cell[1].ValueKind != JsonValueKind.Array)
                {
                    error = "[\"set\", ...] without an array of elements";
                    return false;
                }

                var atoms = new List<OvsdbAtom>(cell[1].GetArrayLength());
                foreach (JsonElement e in cell[1].EnumerateArray())
                {
                    if (!TryParseAtom(e, out OvsdbAtom atom, out error))
                    {
                        return false;
                    }

                    atoms.Add(atom);
                }

                datum = OvsdbDatum.Set(atoms);
                error = null;
                return true;
            }

            if (tag == "map")
            {
                if (cell[1].ValueKind != JsonValueKind.Array)
                {
                    error = "[\"map\", ...] without an array of pairs";
                    return false;
                }

                var pairs = new List<KeyValuePair<OvsdbAtom, OvsdbAtom>>(cell[1].GetArrayLength());
                foreach (JsonElement p in cell[1].EnumerateArray())
                {
                    if (p.ValueKind != JsonValueKind.Array || p.GetArrayLength() != 2)
                    {
                        error = "a map element is not a [key, value] pair";
                        return false;
                    }

                    if (!TryParseAtom(p[0], out OvsdbAtom key, out error) || !TryParseAtom(p[1], out OvsdbAtom value, out error))
                    {
                        return false;
                    }

                    pairs.Add(new(key, value));
                }

                datum = OvsdbDatum.Map(pairs);
                error = null;
                return true;
            }
        }

        if (!TryParseAtom(cell, out OvsdbAtom single, out error))
        {
            return false;
        }

        datum = OvsdbDatum.Set([single]);
        return true;
    }

    private static bool TryParseAtom(JsonElement e, out OvsdbAtom atom, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        atom = default;
        error = null;
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                atom = OvsdbAtom.FromString(e.GetString()!);
                return true;
            case JsonValueKind.True:
            case JsonValueKind.False:
                atom = new OvsdbAtom(OvsdbAtomKind.Boolean, null, 0, 0, e.ValueKind == JsonValueKind.True, default);
                return true;
            case JsonValueKind.Number:
                if (e.TryGetInt64(out long l))
                {
                    atom = new OvsdbAtom(OvsdbAtomKind.Integer, null, l, l, false, default);
                    return true;
                }

                atom = new OvsdbAtom(OvsdbAtomKind.Real, null, 0, e.GetDouble(), false, default);
                return true;
            case JsonValueKind.Array when e.GetArrayLength() == 2 && e[0].ValueKind == JsonValueKind.String && e[1].ValueKind == JsonValueKind.String:
                string tag = e[0].GetString()!;
                string value = e[1].GetString()!;
                if (tag == "uuid")
                {
                    if (!Guid.TryParseExact(value, "D", out Guid g))
                    {
                        error = $"'{InventoryText.Clip(value)}' is not a UUID";
                        return false;
                    }

                    atom = new OvsdbAtom(OvsdbAtomKind.Uuid, null, 0, 0, false, g);
                    return true;
                }

                if (tag == "named-uuid")
                {
                    atom = new OvsdbAtom(OvsdbAtomKind.NamedUuid, value, 0, 0, false, default);
                    return true;
                }

                error = $"unknown OVSDB notation [\"{InventoryText.Clip(tag)}\", ...]";
                return false;
            default:
                error = $"unexpected JSON {e.ValueKind.ToString().ToLowerInvariant()} where an OVSDB value was expected";
                return false;
        }
    }
}

/// <summary>One row of an <see cref="OvsdbTable"/>, with typed accessors that read a missing column as empty.</summary>
public sealed class OvsdbRow
{
    private readonly OvsdbTable _table;
    private readonly OvsdbDatum[] _cells;

    internal OvsdbRow(OvsdbTable table, int number, OvsdbDatum[] cells)
    {
        _table = table;
        Number = number;
        _cells = cells;
    }

    /// <summary>1-based row number in the dump (for messages).</summary>
    public int Number { get; }

    public OvsdbTable Table => _table;

    /// <summary>The row's own UUID (column _uuid), when the dump has it.</summary>
    public Guid? Uuid => GetUuid("_uuid");

    /// <summary>The raw cell, or null when the dump has no such column.</summary>
    public OvsdbDatum? this[string column] => _table.ColumnIndex(column) is int i and >= 0 ? _cells[i] : null;

    /// <summary>A string column; null when the column is missing or the optional value is absent (empty set).</summary>
    public string? GetString(string column) => Single(column, OvsdbAtomKind.String, "a string")?.Text;

    /// <summary>A string column that is empty when missing, absent or "".</summary>
    public string? GetNonEmptyString(string column) => GetString(column) is { Length: > 0 } s ? s : null;

    public long? GetInteger(string column) => Single(column, OvsdbAtomKind.Integer, "an integer")?.Integer;

    public bool? GetBoolean(string column) => Single(column, OvsdbAtomKind.Boolean, "a boolean")?.Boolean;

    public Guid? GetUuid(string column) => Single(column, OvsdbAtomKind.Uuid, "a UUID")?.Uuid;

    public IReadOnlyList<string> GetStringSet(string column) => Set(column, OvsdbAtomKind.String, "strings", a => a.Text!);

    public IReadOnlyList<Guid> GetUuidSet(string column) => Set(column, OvsdbAtomKind.Uuid, "UUIDs", a => a.Uuid);

    public IReadOnlyList<long> GetIntegerSet(string column) => Set(column, OvsdbAtomKind.Integer, "integers", a => a.Integer);

    /// <summary>A string-to-string map (external_ids, options); empty when the column is missing.</summary>
    public IReadOnlyDictionary<string, string> GetStringMap(string column)
    {
        OvsdbDatum? d = this[column];
        if (d is null || d.IsEmpty)
        {
            return EmptyMap;
        }

        if (!d.IsMap)
        {
            throw Mismatch(column, "a map");
        }

        var map = new Dictionary<string, string>(d.Pairs!.Count, StringComparer.Ordinal);
        foreach (KeyValuePair<OvsdbAtom, OvsdbAtom> p in d.Pairs!)
        {
            if (p.Key.Kind != OvsdbAtomKind.String)
            {
                throw Mismatch(column, "a map with string keys");
            }

            map[p.Key.Text!] = p.Value.ToString();
        }

        return map;
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyMap = new Dictionary<string, string>();

    private OvsdbAtom? Single(string column, OvsdbAtomKind kind, string what)
    {
        OvsdbDatum? d = this[column];
        if (d is null || d.IsEmpty)
        {
            return null;
        }

        if (d.IsMap || d.Atoms.Count != 1 || d.Atoms[0].Kind != kind)
        {
            throw Mismatch(column, what);
        }

        return d.Atoms[0];
    }

    private IReadOnlyList<T> Set<T>(string column, OvsdbAtomKind kind, string what, Func<OvsdbAtom, T> select)
    {
        OvsdbDatum? d = this[column];
        if (d is null || d.IsEmpty)
        {
            return [];
        }

        if (d.IsMap)
        {
            throw Mismatch(column, "a set of " + what);
        }

        var list = new List<T>(d.Atoms.Count);
        foreach (OvsdbAtom a in d.Atoms)
        {
            if (a.Kind != kind)
            {
                throw Mismatch(column, "a set of " + what);
            }

            list.Add(select(a));
        }

        return list;
    }

    private InventoryException Mismatch(string column, string what) =>
        new($"{_table.Source}: row {Number} column '{column}': expected {what}");
}

/// <summary>The database and table a dump file name stands for: <c>nb-NAT.json</c>, <c>sb-Chassis.json</c>, <c>NAT.json</c>.</summary>
public readonly record struct OvsdbDumpName(OvnDatabase Database, string Table)
{
    public static OvsdbDumpName Parse(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        if (name.StartsWith("nb-", StringComparison.OrdinalIgnoreCase))
        {
            return new(OvnDatabase.Northbound, name[3..]);
        }

        if (name.StartsWith("sb-", StringComparison.OrdinalIgnoreCase))
        {
            return new(OvnDatabase.Southbound, name[3..]);
        }

        return new(OvnDatabase.Unknown, name);
    }
}

/// <summary>Which OVN database a table comes from.</summary>
public enum OvnDatabase
{
    /// <summary>Not said by the file name; decided from the table's name and columns.</summary>
    Unknown,
    Northbound,
    Southbound,
}

internal static class InventoryText
{
    public static string Clip(string s, int max = 60) => s.Length <= max ? s.ReplaceLineEndings(" ") : s[..max].ReplaceLineEndings(" ") + "...";

    public static string JsonReason(JsonException ex)
    {
        string m = ex.Message;
        int cut = m.IndexOf(" Path:", StringComparison.Ordinal);
        string reason = (cut > 0 ? m[..cut] : m).TrimEnd('.');
        return ex.LineNumber is long line ? $"{reason} at line {line + 1}" : reason;
    }

    /// <summary>Loads YAML text; any parser failure becomes a one-line <see cref="InventoryException"/> naming the source.</summary>
    public static YamlDotNet.RepresentationModel.YamlStream LoadYaml(string text, string source)
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new InventoryException($"{source}: invalid YAML at line {ex.Start.Line}: {YamlReason(ex)}", ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            // YamlDotNet throws these on some malformed input instead of a YamlException.
            throw new InventoryException($"{source}: invalid YAML ({ex.Message})", ex);
        }

        return stream;
    }

    public static string YamlReason(YamlDotNet.Core.YamlException ex)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 1, Idx: 20) - (Line: ...): "; keep the reason.
        string m = ex.Message;
        int cut = m.LastIndexOf("): ", StringComparison.Ordinal);
        return (cut >= 0 ? m[(cut + 3)..] : m).ReplaceLineEndings(" ").Trim();
    }

    public static string Describe(Exception ex) => ex switch
    {
        FileNotFoundException => "no such file",
        DirectoryNotFoundException => "no such file or directory",
        UnauthorizedAccessException => "permission denied",
        _ => ex.Message,
    };
}
