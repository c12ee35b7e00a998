using System.Text.Json;

namespace UplinkProbe.Reporting;

/// <summary>The few Utf8JsonWriter shapes every report writer needs.</summary>
internal static class JsonWriterExtensions
{
    /// <summary>Writes the property only when there is a value.</summary>
    public static void WriteOptionalString(this Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    public static void WriteStringArray(this Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    /// <summary>An object of named counts, e.g. <c>{"hv1": 12, "hv2": 3}</c>.</summary>
    public static void WriteCounts(this Utf8JsonWriter w, string name, IEnumerable<KeyValuePair<string, long>> counts)
    {
        w.WriteStartObject(name);
        foreach ((string key, long n) in counts)
        {
            w.WriteNumber(key, n);
        }

        w.WriteEndObject();
    }
}
