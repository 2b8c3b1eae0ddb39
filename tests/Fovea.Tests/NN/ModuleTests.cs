using Fovea.NN;

namespace Fovea.Tests.NN;

public class ModuleTests
{
    private sealed class Net : Module
    {
        public Net()
        {
            RegisterModule("features", new Sequential(new Conv2d(3, 4, 3), new ReLU(), new BatchNorm2d(4)));
            RegisterModule("classifier", new Sequential(new Dropout(), new Linear(8, 2)));
        }

        public override Tensor Forward(Tensor input) => input;
    }

    [Fact]
    public void NamedParametersUsePyTorchsDottedStateDictNames()
    {
        var names = new Net().StateDict().Keys.ToList();
        Assert.Equal(new[]
        {
            "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias", "classifier.1.weight", "classifier.1.bias",
            "features.2.running_mean", "features.2.running_var",
        }, names);
    }

    [Fact]
    public void TrainAndEvalReachEveryDescendant()
    {
        var n = new Net();
        n.Eval();
        Assert.All(n.NamedModules(), m => Assert.False(m.Module.Training));
        n.Train();
        Assert.All(n.NamedModules(), m => Assert.True(m.Module.Training));
    }

    [Fact]
    public void BadHyperParametersAreRejectedWhenTheLayerIsMade()
    {
        Assert.Contains("groups=3", Assert.Throws<ArgumentException>(() => new Conv2d(4, 6, 3, groups: 3)).Message);
        Assert.Contains("stride", Assert.Throws<ArgumentException>(() => new Conv2d(3, 6, 3, stride: -1)).Message);
        Assert.Contains("probability", Assert.Throws<ArgumentException>(() => new Dropout(1.5f)).Message);
    }

    [Fact]
    public void ShapeMismatchInForwardNamesTheLayerAndBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new Linear(8, 2).Forward(Tensor.Zeros(4, 7)));
        Assert.Contains("Linear(8, 2)", e.Message);
        Assert.Contains("[..., 8]", e.Message);
        Assert.Contains("[4, 7]", e.Message);
        var c = Assert.Throws<ArgumentException>(() => new Conv2d(3, 4, 3).Forward(Tensor.Zeros(1, 1, 8, 8)));
        Assert.Contains("Conv2d(3, 4, kernel_size=3)", c.Message);
        Assert.Contains("[1, 1, 8, 8]", c.Message);
    }

    [Fact]
    public void ReflectPaddingWiderThanTheInputIsRejectedAtFirstForward()
    {
        var conv = new Conv2d(1, 1, 3, padding: 4, paddingMode: PadMode.Reflect);
        var e = Assert.Throws<ArgumentException>(() => conv.Forward(Tensor.Zeros(1, 1, 3, 3)));
        Assert.Contains("reflect padding", e.Message);
    }

    [Fact]
    public void DefaultInitMatchesPyTorchsBound()
    {
        // kaiming_uniform(a=√5) gives U(±1/√fan_in); fan_in = 3·5·5 = 75.
        var w = new Conv2d(3, 64, 5).Weight.ToArray();
        float bound = 1f / MathF.Sqrt(75);
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        Assert.True(w.Max() > 0.9f * bound && w.Min() < -0.9f * bound, "weights should fill the interval");
    }

    [Fact]
    public void KaimingAndXavierHaveTheirVariances()
    {
        var t = Tensor.Zeros(256, 128);
        Init.KaimingNormal(t, nonlinearity: "relu", g: new Generator(3));
        double var = t.ToArray().Select(v => (double)v * v).Average();
        Assert.InRange(var, 2.0 / 128 * 0.95, 2.0 / 128 * 1.05);
        Init.XavierUniform(t, g: new Generator(4));
        var = t.ToArray().Select(v => (double)v * v).Average();
        Assert.InRange(var, 2.0 / (128 + 256) * 0.95, 2.0 / (128 + 256) * 1.05);
    }

    [Fact]
    public void ARefusedLoadCopiesNothing()
    {
        var layer = new Linear(4, 2, generator: new Generator(1));
        var before = layer.Weight.ToArray();
        // The weight comes first and fits; the bias does not.
        var e = Assert.Throws<ArgumentException>(() => layer.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["weight"] = Tensor.Zeros(2, 4),
            ["bias"] = Tensor.Zeros(3),
        }));
        Assert.Contains("bias", e.Message);
        Assert.Equal(before, layer.Weight.ToArray());
    }
}
