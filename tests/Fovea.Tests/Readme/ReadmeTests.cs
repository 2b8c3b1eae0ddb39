namespace Fovea.Tests.Readme;

public class ReadmeTests
{
    private static string RepoFile(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, name)) && File.Exists(Path.Combine(d.FullName, "Fovea.slnx"))) return Path.Combine(d.FullName, name);
        throw new FileNotFoundException($"{name} not found above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void ReadmeShowsTheCompiledExampleVerbatim()
    {
        var source = File.ReadAllLines(RepoFile("tests/Fovea.Tests/Readme/ReadmeExample.cs"));
        int a = Array.FindIndex(source, l => l.Contains("readme-begin")), b = Array.FindIndex(source, l => l.Contains("readme-end"));
        var expected = source[(a + 1)..b].Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        var readme = File.ReadAllText(RepoFile("README.md"));
        int start = readme.IndexOf("```csharp", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no ```csharp block");
        int end = readme.IndexOf("```", start + 9, StringComparison.Ordinal);
        var shown = readme[(start + 9)..end].Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("using ")).ToList();
        Assert.Equal(expected, shown);
    }

    [Fact]
    public void ReadmeExampleTrainsAndTheLossFalls()
    {
        var losses = ReadmeExample.Run(steps: 5);
        Assert.All(losses, l => Assert.True(float.IsFinite(l)));
        Assert.True(losses[^1] < losses[0] * 0.5f, $"loss should fall on a fixed batch: {string.Join(", ", losses)}");
    }
}
