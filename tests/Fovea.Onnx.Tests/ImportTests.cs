using Fovea.Autograd;

namespace Fovea.Onnx.Tests;

/// <summary>Every fixture exported by PyTorch, imported and run by Fovea, against PyTorch's own output.</summary>
public class ImportTests
{
    [Theory]
    [MemberData(nameof(Fixtures.Names), MemberType = typeof(Fixtures))]
    public void Imported_model_matches_pytorch(string name)
    {
        var model = OnnxImporter.Load(Fixtures.Model(name));
        Tensor y;
        using (GradMode.NoGrad()) y = model.Forward(Fixtures.Input(name));
        Close.Assert(Fixtures.Output(name), y.ToArray(), name);
    }

    [Fact]
    public void Initializers_are_parameters_under_state_dict_names()
    {
        var model = OnnxImporter.Load(Fixtures.Model("small_vgg"));
        var names = model.NamedParameters().Select(p => p.Name).ToList();
        Assert.Contains("features.0.weight", names);
        Assert.Contains("features.1.weight", names);
        Assert.Contains("classifier.3.bias", names);
        var buffers = model.NamedBuffers().Select(b => b.Name).ToList();
        Assert.Contains("features.1.running_mean", buffers);
        Assert.DoesNotContain("features.1.running_mean", names);
    }

    [Fact]
    public void Shape_arithmetic_is_folded_at_load()
    {
        // x.view(x.size(0), -1) exports Shape, Gather, Unsqueeze, Concat, Reshape around the real work.
        var model = OnnxImporter.Load(Fixtures.Model("view_flatten"));
        Assert.Equal(3, model.NodeCount); // Conv, Reshape, Gemm remain; the Shape chain is folded for the static shape
    }

    [Fact]
    public void Gradients_flow_through_an_imported_model()
    {
        var model = OnnxImporter.Load(Fixtures.Model("lenet5"));
        model.Train();
        var y = model.Forward(Fixtures.Input("lenet5"));
        y.Sum().Backward();
        foreach (var (n, p) in model.NamedParameters())
        {
            Assert.NotNull(p.Grad);
            Assert.True(p.Grad!.ToArray().Any(v => v != 0), $"{n}: gradient is all zeros");
        }
    }
}
