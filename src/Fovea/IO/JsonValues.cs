using System.Collections;
using System.Text;
using System.Text.Json;

namespace Fovea.IO;

/// <summary>
/// Plain values (null, strings, booleans, numbers, enums, <see cref="JsonElement"/>s, and arrays, lists and
/// string-keyed dictionaries of them) as JSON, written with <see cref="Utf8JsonWriter"/> rather than the reflection
/// serializer: no code is generated at run time, so it works in a Native AOT build and costs a JIT build no start-up.
/// The output is what <see cref="JsonSerializer"/> writes with default options.
/// </summary>
public static class JsonValues
{
    /// <summary>The value as compact JSON text; another type is an <see cref="ArgumentException"/> naming it.</summary>
    public static string Serialize(object? value)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer)) Write(w, value);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The value as a <see cref="JsonElement"/> that outlives no document (a clone).</summary>
    public static JsonElement ToElement(object? value)
    {
        if (value is JsonElement e) return e.Clone();
        using var doc = JsonDocument.Parse(Serialize(value));
        return doc.RootElement.Clone();
    }

    /// <summary>Writes the value to <paramref name="w"/>.</summary>
    public static void Write(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case char c: w.WriteStringValue(c.ToString()); break;
            case bool b: w.WriteBooleanValue(b); break;
            case JsonElement e: e.WriteTo(w); break;
            case Enum en: w.WriteNumberValue(Convert.ToInt64(en, System.Globalization.CultureInfo.InvariantCulture)); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            case float f: w.WriteNumberValue(f); break;
            case double d: w.WriteNumberValue(d); break;
            case decimal m: w.WriteNumberValue(m); break;
            case short or sbyte or byte or ushort: w.WriteNumberValue(Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)); break;
            case uint u: w.WriteNumberValue(u); break;
            case ulong ul: w.WriteNumberValue(ul); break;
            case IDictionary dict:
                w.WriteStartObject();
                foreach (DictionaryEntry kv in dict)
                {
                    w.WritePropertyName(kv.Key as string ?? throw new ArgumentException($"JSON object keys must be strings, not {kv.Key.GetType().Name}"));
                    Write(w, kv.Value);
                }
                w.WriteEndObject();
                break;
            case IEnumerable items:
                w.WriteStartArray();
                foreach (var item in items) Write(w, item);
                w.WriteEndArray();
                break;
            default:
                throw new ArgumentException($"{value.GetType().Name} has no plain JSON form: give a string, number, boolean, array or string-keyed dictionary");
        }
    }
}
