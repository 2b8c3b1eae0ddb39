using Fovea.Autograd;
using Fovea.Models;
using Fovea.NN;

namespace Fovea.Onnx.Tests;

/// <summary>Fovea modules exported to ONNX, run by ONNX Runtime, against Fovea's own forward.</summary>
public class ExportTests
{
    private static float[] FoveaForward(Module m, Tensor x)
    {
        m.Eval();
        using (GradMode.NoGrad()) return m.Forward(x).ToArray();
    }

    private static void AssertOrtMatches(Module model, int[] inputShape, string what, int opset = 13)
    {
        var x = Tensor.Randn(inputShape, new Generator(7));
        var expected = FoveaForward(model, x);
        var bytes = OnnxExporter.ToBytes(model, inputShape, opset);
        Close.Assert(expected, Ort.Run(bytes, x), what);
    }

    public static IEnumerable<object[]> Layers()
    {
        var g = new Generator(3);
        yield return ["conv", new Sequential(new Conv2d(3, 4, 3, stride: 2, padding: 1, generator: g)), new[] { 2, 3, 9, 9 }];
        yield return ["conv_groups_dilation", new Sequential(new Conv2d(4, 6, 3, dilation: 2, groups: 2, padding: 2, generator: g)), new[] { 2, 4, 9, 9 }];
        yield return ["conv_reflect", new Sequential(new Conv2d(3, 4, 3, padding: 1, paddingMode: PadMode.Reflect, generator: g)), new[] { 2, 3, 8, 8 }];
        yield return ["conv_replicate", new Sequential(new Conv2d(3, 4, 3, padding: 2, paddingMode: PadMode.Replicate, generator: g)), new[] { 2, 3, 8, 8 }];
        yield return ["conv_circular", new Sequential(new Conv2d(3, 4, 3, padding: (2, 1), paddingMode: PadMode.Circular, generator: g)), new[] { 2, 3, 8, 8 }];
        // "same" padding with even kernels: one more cell after than before, which ONNX's pads (and Pad) say side by side.
        yield return ["conv_same", new Sequential(new Conv2d(3, 4, 4, "same", generator: g)), new[] { 2, 3, 8, 7 }];
        yield return ["conv_same_reflect", new Sequential(new Conv2d(3, 4, (2, 4), "same", paddingMode: PadMode.Reflect, generator: g)), new[] { 2, 3, 8, 7 }];
        yield return ["conv_same_circular", new Sequential(new Conv2d(3, 4, (4, 2), "same", paddingMode: PadMode.Circular, generator: g)), new[] { 2, 3, 8, 7 }];
        yield return ["pools", new Sequential(new MaxPool2d(3, 2, padding: 1), new AvgPool2d(2, ceilMode: true), new AvgPool2d(3, 1, 1, countIncludePad: false)), new[] { 2, 3, 11, 11 }];
        yield return ["maxpool_ceil", new Sequential(new MaxPool2d(3, 2, ceilMode: true)), new[] { 2, 3, 10, 10 }];
        yield return ["adaptive", new Sequential(new AdaptiveAvgPool2d((2, 3))), new[] { 2, 3, 8, 9 }];
        yield return ["adaptive_global", new Sequential(new AdaptiveAvgPool2d(1), new Flatten()), new[] { 2, 3, 5, 5 }];
        yield return ["bn_lrn", new Sequential(new BatchNorm2d(3), new LocalResponseNorm(3, 1e-3f, 0.75f, 2f)), new[] { 2, 3, 5, 5 }];
        yield return ["activations", new Sequential(new ReLU(), new LeakyReLU(0.2f), new Sigmoid(), new Tanh()), new[] { 2, 3, 4, 4 }];
        yield return ["head", new Sequential(new Flatten(), new Linear(48, 10, generator: g), new Dropout(), new Linear(10, 5, bias: false, generator: g), new LogSoftmax(1)), new[] { 2, 3, 4, 4 }];
        yield return ["softmax", new Sequential(new Linear(6, 4, generator: g), new Softmax(1)), new[] { 3, 6 }];
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Exported_layers_run_in_onnx_runtime(string what, Module model, int[] inputShape)
    {
        if (model.NamedModules().Select(t => t.Module).OfType<BatchNorm>().FirstOrDefault() is { } bn)
        {
            bn.RunningMean!.CopyFrom(Tensor.FromArray([0.1f, -0.2f, 0.3f]));
            bn.RunningVar!.CopyFrom(Tensor.FromArray([0.5f, 1.5f, 2f]));
        }
        AssertOrtMatches(model, inputShape, what);
    }

    [Fact]
    public void Circular_padding_uses_pad_wrap_from_opset_19()
    {
        AssertOrtMatches(new Sequential(new Conv2d(3, 4, 3, padding: 1, paddingMode: PadMode.Circular, generator: new Generator(1))), [1, 3, 6, 6], "wrap", 19);
        AssertOrtMatches(new Sequential(new Conv2d(3, 4, (4, 2), "same", paddingMode: PadMode.Circular, generator: new Generator(1))), [1, 3, 6, 6],
            "wrap, same", 19);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(11)]
    [InlineData(17)]
    [InlineData(21)]
    public void Other_opsets_run_in_onnx_runtime_and_import_back(int opset)
    {
        var g = new Generator(4);
        var model = new Sequential(
            new Conv2d(3, 4, 3, padding: 1, paddingMode: PadMode.Replicate, generator: g), new BatchNorm2d(4), new ReLU(),
            new MaxPool2d(2), new Conv2d(4, 4, 3, padding: 1, paddingMode: PadMode.Circular, generator: g), new LeakyReLU(0.1f),
            new AdaptiveAvgPool2d(2), new Flatten(), new Linear(16, 5, generator: g), new LogSoftmax(1));
        int[] shape = [2, 3, 8, 8];
        AssertOrtMatches(model, shape, $"opset {opset}", opset);
        var x = Tensor.Randn(shape, new Generator(9));
        var back = OnnxImporter.Load(OnnxExporter.ToBytes(model, shape, opset), $"opset{opset}.onnx");
        Assert.Equal(opset, back.Opset);
        Close.Assert(FoveaForward(model, x), FoveaForward(back, x), $"opset {opset} imported back");
    }

    [Fact]
    public void Lenet5_runs_in_onnx_runtime()
    {
        var model = ModelZoo.Create("lenet5", generator: new Generator(5));
        AssertOrtMatches(model, [2, .. ModelZoo.DefaultInputShape("lenet5")], "lenet5");
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("alexnet")]
    [InlineData("alexnet_2012")]
    [InlineData("zfnet")]
    [InlineData("zfnet_512")]
    [InlineData("vgg11")]
    [InlineData("vgg11_bn")]
    [InlineData("vgg13")]
    [InlineData("vgg16")]
    [InlineData("vgg16_bn")]
    [InlineData("vgg19")]
    [InlineData("vgg19_bn")]
    public void Zoo_model_runs_in_onnx_runtime(string name)
    {
        var model = ModelZoo.Create(name, generator: new Generator(5));
        AssertOrtMatches(model, [1, .. ModelZoo.DefaultInputShape(name)], name);
    }

    [Fact]
    public void Initializer_names_are_state_dict_names()
    {
        var model = ModelZoo.Create("lenet5", generator: new Generator(5));
        var path = Path.Combine(Path.GetTempPath(), $"fovea-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExporter.Save(model, [1, 1, 28, 28], path);
            var back = OnnxImporter.Load(path);
            Assert.Equal(model.StateDict().Keys.Order(), back.StateDict().Keys.Order());
            foreach (var (name, t) in model.StateDict()) Assert.Equal(t.ToArray(), back.StateDict()[name].ToArray());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Export_leaves_the_training_mode_as_it_was()
    {
        var model = new Sequential(new Conv2d(1, 2, 3), new Dropout(), new Flatten(), new Linear(8, 2));
        model.Train();
        OnnxExporter.ToBytes(model, [1, 1, 4, 4]);
        Assert.All(model.NamedModules(), t => Assert.True(t.Module.Training));
    }

    [Fact]
    public void Unsupported_layer_is_named()
    {
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.ToBytes(new Sequential(new SumPool2d(2)), [1, 1, 4, 4]));
        Assert.Contains("SumPool2d", e.Message);
        Assert.Contains("'0'", e.Message);
    }
}
