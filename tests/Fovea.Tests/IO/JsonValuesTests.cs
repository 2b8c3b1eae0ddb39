using System.Text.Json;
using Fovea.IO;

namespace Fovea.Tests.IO;

public class JsonValuesTests
{
    // The checkpoint config, the metrics lines and 'fovea wordnet --json' were written by the reflection serializer;
    // JsonValues replaces it (Native AOT has none) and must write the same text.
    [Fact]
    public void WritesWhatTheReflectionSerializerWrites()
    {
        var value = new Dictionary<string, object?>
        {
            ["model"] = "lenet5 <\"ü\">",
            ["classes"] = 10,
            ["bytes"] = 1L << 40,
            ["lr"] = 0.05f,
            ["loss"] = 0.123456,
            ["rounded"] = Math.Round(1234.5678, 1),
            ["flag"] = true,
            ["none"] = null,
            ["input_shape"] = new[] { 1, 28, 28 },
            ["mean"] = new[] { 0.1307f },
            ["names"] = new List<string> { "0", "1" },
            ["paths"] = new[] { new[] { "a", "b" } },
            ["nested"] = new[] { new Dictionary<string, string> { ["wnid"] = "n1" } },
            ["element"] = JsonDocument.Parse("{\"x\":[1,2.5]}").RootElement,
            ["kind"] = DayOfWeek.Tuesday,
        };
        Assert.Equal(JsonSerializer.Serialize(value), JsonValues.Serialize(value));
        Assert.Equal(JsonSerializer.SerializeToElement(value).GetRawText(), JsonValues.ToElement(value).GetRawText());
    }

    [Fact]
    public void AnObjectWithoutAPlainFormIsAnErrorNamingItsType()
    {
        var e = Assert.Throws<ArgumentException>(() => JsonValues.Serialize(new Dictionary<string, object> { ["x"] = new Uri("http://x") }));
        Assert.Contains("Uri", e.Message);
    }
}
