using Fovea.Autograd;

namespace Fovea.Onnx.Tests;

/// <summary>Import → export → import keeps weights and outputs exactly, and the re-export runs in ONNX Runtime.</summary>
public class RoundTripTests
{
    [Theory]
    [InlineData("lenet5")]
    [InlineData("small_vgg")]
    [InlineData("small_alexnet")]
    [InlineData("pad_reflect")]
    [InlineData("view_flatten")]
    public void Import_export_import_is_identical(string name)
    {
        var first = OnnxImporter.Load(Fixtures.Model(name));
        var x = Fixtures.Input(name);
        var bytes = OnnxExporter.ToBytes(first, x.Shape);
        var second = OnnxImporter.Load(bytes, "again.onnx");
        var a = first.StateDict();
        var b = second.StateDict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (k, t) in a) Assert.Equal(t.ToArray(), b[k].ToArray());
        using (GradMode.NoGrad())
        {
            var ya = first.Forward(x).ToArray();
            Assert.Equal(ya, second.Forward(x).ToArray());
            Close.Assert(ya, Ort.Run(bytes, x), $"{name} re-exported, in ONNX Runtime");
        }
    }

    [Fact]
    public void Fine_tuning_an_imported_model_then_exporting_it_matches_onnx_runtime()
    {
        var model = OnnxImporter.Load(Fixtures.Model("small_vgg"));
        var x = Fixtures.Input("small_vgg");
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        model.Train();
        var opt = new Fovea.Optim.SGD(model.Parameters(), lr: 0.1f);
        for (int step = 0; step < 2; step++)
        {
            opt.ZeroGrad();
            Functional.CrossEntropy(model.Forward(x), Tensor.FromArray([1L, 3L], [2])).Backward();
            opt.Step();
        }
        model.Eval();
        var after = model.StateDict();
        Assert.NotEqual(before["features.0.weight"], after["features.0.weight"].ToArray());
        Assert.NotEqual(before["features.1.running_mean"], after["features.1.running_mean"].ToArray()); // batch statistics in training
        Tensor y;
        using (GradMode.NoGrad()) y = model.Forward(x);
        Close.Assert(y.ToArray(), Ort.Run(OnnxExporter.ToBytes(model, x.Shape), x), "fine-tuned small_vgg in ONNX Runtime");
    }

    [Fact]
    public void Fine_tuned_weights_are_exported()
    {
        var model = OnnxImporter.Load(Fixtures.Model("lenet5"));
        var w = model.NamedParameters().First(p => p.Name == "7.weight").Parameter;
        w.CopyFrom(w * 2f);
        var again = OnnxImporter.Load(OnnxExporter.ToBytes(model, [2, 1, 28, 28]), "tuned.onnx");
        Assert.Equal(w.ToArray(), again.StateDict()["7.weight"].ToArray());
    }
}
