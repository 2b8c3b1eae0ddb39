using Fovea.IO;

namespace Fovea.Onnx.Tests;

/// <summary>The cases written by tools/fixtures/make_onnx_fixtures.py: NAME/model.onnx, input.npy, output.npy.</summary>
public static class Fixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static string Model(string name) => Path.Combine(Root, name, "model.onnx");

    public static Tensor Input(string name) => Npy.Load(Path.Combine(Root, name, "input.npy"));

    public static double[] Output(string name) => Npy.Read(Path.Combine(Root, name, "output.npy")).Doubles!;

    public static IEnumerable<object[]> Names() =>
        Directory.EnumerateDirectories(Root).Select(Path.GetFileName).Order().Select(n => new object[] { n! });
}
