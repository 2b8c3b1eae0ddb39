using Fovea.NN;

namespace Fovea.Tests.NN;

/// <summary>
/// Sequential runs a Conv2d and the ReLU after it as one op when no gradient is recorded: the same values as the
/// layers one by one, one backend call fewer, and nothing fused where a gradient is recorded or a subclass has its
/// own Forward.
/// </summary>
public class SequentialFusionTests
{
    private static Sequential Net(Generator g, Conv2d second) => new(
        new Conv2d(3, 32, 3, padding: 1, generator: g), new ReLU(),
        second, new ReLU(inplace: true),
        new MaxPool2d(2),
        new Conv2d(32, 8, 1, generator: g), new ReLU());

    private static Tensor OneByOne(Sequential net, Tensor x)
    {
        foreach (var layer in net.Layers) x = layer.Forward(x);
        return x;
    }

    [Fact]
    public void ConvThenReluFusesInInferenceWithTheSameValues()
    {
        var g = new Generator(3);
        // 5x5 on 32 channels, padded, 32 outputs: the AVX-512 channel-rows kernel where the machine has it; the 1x1 is a GEMM.
        var net = Net(g, new Conv2d(32, 32, 5, padding: 2, generator: g));
        var x = Tensor.Randn([2, 3, 12, 12], g, Device.Cpu);
        using (GradMode.NoGrad())
        {
            var expected = OneByOne(net, x).ToArray();
            Assert.Contains(expected, v => v == 0f);
            Assert.Contains(expected, v => v > 0f);
            Assert.Equal(expected, net.Forward(x).ToArray());
            // Three ReLUs fused: three calls fewer than the seven layers' (the pool is one).
            Assert.Equal(4, CapturedStep.Capture(() => net.Forward(x)).Calls);
        }
    }

    [Fact]
    public void NothingFusesWhereAGradientIsRecorded()
    {
        var g = new Generator(4);
        var net = Net(g, new Conv2d(32, 32, 3, padding: 1, generator: g));
        var x = Tensor.Randn([2, 3, 8, 8], g, Device.Cpu);
        var y = net.Forward(x);
        Assert.NotNull(y.GradFn);
        Assert.Equal(OneByOne(net, x).ToArray(), y.ToArray());
        y.Sum().Backward();
        Assert.NotNull(net.Parameters().First().Grad);
    }

    private sealed class Doubled(int channels, Generator g) : Conv2d(channels, channels, 3, padding: 1, generator: g)
    {
        public override Tensor Forward(Tensor input) => base.Forward(input) * 2f;
    }

    [Fact]
    public void ASubclassOfConv2dKeepsItsOwnForward()
    {
        var g = new Generator(5);
        var net = Net(g, new Doubled(32, g));
        var x = Tensor.Randn([1, 3, 8, 8], g, Device.Cpu);
        using (GradMode.NoGrad())
            Assert.Equal(OneByOne(net, x).ToArray(), net.Forward(x).ToArray());
    }
}
