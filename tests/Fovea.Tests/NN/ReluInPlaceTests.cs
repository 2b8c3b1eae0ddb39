using Fovea.NN;

namespace Fovea.Tests.NN;

public class ReluInPlaceTests
{
    private static (Tensor y, float[] dx, float[] dw) ConvRelu(bool inplace)
    {
        var conv = new Conv2d(3, 4, 3, padding: 1, generator: new Generator(1));
        var x = Tensor.Randn([2, 3, 5, 5], new Generator(2));
        x.RequiresGrad = true;
        var c = conv.Forward(x);
        var y = new ReLU(inplace).Forward(c);
        if (inplace) Assert.Same(c.Storage, y.Storage); // the convolution's output buffer now holds the ReLU's
        else Assert.NotSame(c.Storage, y.Storage);
        (y * Tensor.Randn(y.Shape, new Generator(3))).Sum().Backward();
        return (y, x.Grad!.ToArray(), conv.Weight.Grad!.ToArray());
    }

    [Fact]
    public void AfterAConvolutionItOverwritesTheOutputAndGivesTheSameValuesAndGradients()
    {
        var (y0, dx0, dw0) = ConvRelu(inplace: false);
        var (y1, dx1, dw1) = ConvRelu(inplace: true);
        Assert.Equal(y0.ToArray(), y1.ToArray());
        Assert.Equal(dx0, dx1);
        Assert.Equal(dw0, dw1);
    }

    [Fact]
    public void AfterAnOpWhoseBackwardReadsItsOutputItMakesANewTensor()
    {
        float[] Run(bool inplace)
        {
            var x = Tensor.Randn([40], new Generator(4));
            x.RequiresGrad = true;
            var t = x.Tanh(); // tanh's backward reads tanh(x), negative half of which a ReLU would zero
            var y = inplace ? t.ReluInPlace() : t.Relu();
            if (inplace) Assert.NotSame(t.Storage, y.Storage);
            (y * 3f).Sum().Backward();
            return x.Grad!.ToArray();
        }
        Assert.Equal(Run(false), Run(true));
    }

    [Fact]
    public void ALeafThatWantsAGradientIsNotOverwritten()
    {
        var x = Tensor.FromArray([-1f, 2f, -3f, 4f], [4]);
        x.RequiresGrad = true;
        var y = x.ReluInPlace();
        Assert.Equal([-1f, 2f, -3f, 4f], x.ToArray());
        Assert.Equal([0f, 2f, 0f, 4f], y.ToArray());
    }

    [Fact]
    public void WithoutGradientsItOverwritesItsInputAsPyTorchDoes()
    {
        var x = Tensor.FromArray([-1f, 2f, -3f, 4f], [4]);
        var y = x.ReluInPlace();
        Assert.Same(x.Storage, y.Storage);
        Assert.Equal([0f, 2f, 0f, 4f], x.ToArray());
    }
}
