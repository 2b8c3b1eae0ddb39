using System.Text.Json;
using Fovea.IO;

namespace Fovea.Tests.Support;

/// <summary>One fixture folder written by tools/fixtures/make_fixtures.py (format in tools/fixtures/README.md).</summary>
public sealed class Fixture
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public Fixture(string group, string name)
    {
        Name = name;
        Dir = Path.Combine(Root, group, name);
        Case = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "case.json"))).RootElement;
    }

    public string Name { get; }
    public string Dir { get; }
    public JsonElement Case { get; }

    public static IEnumerable<object[]> Cases(string group) =>
        Directory.GetDirectories(Path.Combine(Root, group)).Select(d => new object[] { Path.GetFileName(d) }).OrderBy(c => (string)c[0]);

    public bool Has(string file) => File.Exists(Path.Combine(Dir, file + ".npy"));
    public NpyArray Array(string file) => Npy.Read(Path.Combine(Dir, file + ".npy"));
    public Tensor Tensor(string file) => Array(file).ToTensor();
    public double[] Doubles(string file) => Array(file).Doubles!;

    /// <summary>Names X of the files "{prefix}X.npy".</summary>
    public IEnumerable<string> Names(string prefix) =>
        Directory.GetFiles(Dir, prefix + "*.npy").Select(f => Path.GetFileNameWithoutExtension(f)[prefix.Length..]).Order();
}
