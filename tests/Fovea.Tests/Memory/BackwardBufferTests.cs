using Fovea.NN;

using Fovea.Tests.Support;

namespace Fovea.Tests.Memory;

/// <summary>
/// What a backward holds from the step's pool: each activation gradient goes back once its consumer has read it, and
/// convolution and linear layers write their parameters' gradients straight into <see cref="Tensor.Grad"/>.
/// </summary>
[Collection(Support.SerialCollection.Name)]
public class BackwardBufferTests
{
    private const int Rows = 256, Cols = 1024;
    private const long Buffer = 4L * Rows * Cols;

    // Eight element-wise ops in a chain: without early return the backward would hold eight 1 MiB gradients at once.
    private static Tensor Chain(Tensor x)
    {
        var h = x;
        for (int i = 0; i < 8; i++) h = (h * 1.5f).Tanh();
        return h.Sum();
    }

    [Fact]
    public void ABackwardHoldsAFewGradientsAtATimeAndGetsTheSameOnes()
    {
        var x0 = Tensor.Randn([Rows, Cols], new Generator(1));
        var expected = x0.Clone();
        expected.RequiresGrad = true;
        Chain(expected).Backward();

        var x = x0.Clone();
        x.RequiresGrad = true;
        using (StepMemory.Begin())
        {
            var loss = Chain(x);
            StepMemory.ResetPeakLentBytes();
            long forward = StepMemory.PeakLentBytes;
            loss.Backward();
            long backward = StepMemory.PeakLentBytes - forward;
            // Each op's backward reads the incoming gradient and makes one or two of the input's size (tanh's and the
            // product's), so a few are alive at once; all sixteen would be 16 MiB.
            Assert.True(backward <= 3 * Buffer, $"the backward lent {backward / 1024} KiB at its peak, over three 1 MiB gradients");
        }
        Assert.Equal(expected.Grad!.ToArray(), x.Grad!.ToArray());
    }

    public static TheoryData<string> Layers() => new() { "linear", "conv" };

    private static (Module layer, Tensor input) Layer(string kind) => kind == "linear"
        ? (new Linear(1024, 512, generator: new Generator(2)), Tensor.Randn([2, 1024], new Generator(3)))
        : (new Conv2d(128, 128, 3, padding: 1, generator: new Generator(2)), Tensor.Randn([1, 128, 4, 4], new Generator(3)));

    [Theory]
    [MemberData(nameof(Layers))]
    public void WeightGradientsGoIntoGradWithoutAStepCopyAndReuseItsBuffer(string kind)
    {
        var (layer, x) = Layer(kind);
        var weight = layer.Parameters().First();
        long weightBytes = 4L * weight.NumEl;
        float[] firstGrad;
        using (StepMemory.Begin())
        {
            StepMemory.ResetPeakLentBytes();
            long before = StepMemory.PeakLentBytes;
            layer.Forward(x).Sum().Backward();
            long lent = StepMemory.PeakLentBytes - before;
            Assert.True(lent < weightBytes / 4, $"{kind}: the step lent {lent} bytes, a weight gradient is {weightBytes}");
            firstGrad = weight.Grad!.ToArray();
        }
        var buffer = weight.Grad!.Storage;

        // Without clearing, a second backward adds to the gradient, as in PyTorch.
        using (StepMemory.Begin()) layer.Forward(x).Sum().Backward();
        var twice = weight.Grad!.ToArray();
        for (int i = 0; i < twice.Length; i++) Assert.Equal(2 * firstGrad[i], twice[i], 1e-4f * (1 + Math.Abs(twice[i])));

        // After zero_grad the next backward fills the same buffer again.
        layer.ZeroGrad();
        using (StepMemory.Begin()) layer.Forward(x).Sum().Backward();
        Assert.Same(buffer, weight.Grad!.Storage);
        Assert.Equal(firstGrad, weight.Grad!.ToArray());
    }

    [Fact]
    public void LinearMatchesTheProductItReplacesForwardAndBackward()
    {
        var layer = new Linear(37, 19, generator: new Generator(4));
        var x = Tensor.Randn([3, 5, 37], new Generator(5));
        x.RequiresGrad = true;
        var y = layer.Forward(x);
        var dy = Tensor.Randn(y.Shape, new Generator(6));
        y.Backward(dy);

        var w = layer.Weight.Detach().Clone();
        var b = layer.Bias!.Detach().Clone();
        w.RequiresGrad = b.RequiresGrad = true;
        var x2 = x.Detach().Clone();
        x2.RequiresGrad = true;
        var y2 = x2.MatMul(w.T) + b;
        y2.Backward(dy);

        Close.Assert(y2.ToArray(), y.ToArray(), "y");
        Close.Assert(x2.Grad!.ToArray(), x.Grad!.ToArray(), "dx");
        Close.Assert(w.Grad!.ToArray(), layer.Weight.Grad!.ToArray(), "dW");
        Close.Assert(b.Grad!.ToArray(), layer.Bias!.Grad!.ToArray(), "db");
    }
}
