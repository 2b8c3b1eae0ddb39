using Fovea.NN;

using Fovea.Tests.Support;

namespace Fovea.Tests.Memory;

/// <summary>
/// The outputs a <see cref="Sequential"/> passes between its layers go back to the step's pool once the backward has
/// read them. Released buffers are filled with NaN here, so any read after release shows in the gradients.
/// </summary>
[Collection(Support.SerialCollection.Name)]
public class TransientActivationTests
{
    // Every kind of layer whose backward reads its input, its output, or neither, with in-place ReLUs over a
    // convolution's, batch norm's, a pool's and a linear layer's outputs, and views (Flatten) between them.
    private static Sequential Net()
    {
        var g = new Generator(21);
        return new Sequential(
            new Conv2d(3, 6, 3, padding: 1, paddingMode: PadMode.Reflect, generator: g), new BatchNorm2d(6), new ReLU(inplace: true),
            new LocalResponseNorm(3), new MaxPool2d(2), new ReLU(inplace: true),
            new Sequential(new Conv2d(6, 6, 3, padding: 1, generator: g), new Sigmoid(), new AvgPool2d(2)),
            new Conv2d(6, 4, 1, generator: g), new LeakyReLU(), new Flatten(), new Dropout(0.3f, new Generator(22)),
            new Linear(16, 12, generator: g), new ReLU(inplace: true), new Tanh(), new Linear(12, 5, generator: g), new LogSoftmax());
    }

    private static (float[][] Grads, float[] Output) Step(bool inStep)
    {
        var net = Net();
        net.Train();
        var x = Tensor.Randn([3, 3, 8, 8], new Generator(23));
        var labels = Tensor.FromArray(new long[] { 0, 3, 4 }, [3]);
        using (inStep ? StepMemory.Begin() : default(StepMemory.Scope?))
        {
            var y = net.Forward(x);
            Functional.NllLoss(y, labels).Backward();
            return (net.Parameters().Select(p => p.Grad!.ToArray()).ToArray(), y.ToArray());
        }
    }

    [Fact]
    public void GradientsAreTheSameWhenTheActivationsGoBackEarly()
    {
        var (expected, expectedOutput) = Step(inStep: false);
        StepMemory.PoisonReleased = true;
        try
        {
            var (grads, output) = Step(inStep: true);
            // The caller's output (log-softmax's, read after the backward) was not given back.
            Assert.Equal(expectedOutput, output);
            Assert.Equal(expected.Length, grads.Length);
            for (int i = 0; i < grads.Length; i++) Close.Assert(expected[i], grads[i], $"parameter {i}");
        }
        finally { StepMemory.PoisonReleased = false; }
    }

    [Fact]
    public void TheBackwardGivesTheForwardsBuffersBack()
    {
        var net = new Sequential(new Linear(256, 1024, generator: new Generator(24)), new ReLU(), new Linear(1024, 1024, generator: new Generator(25)),
            new ReLU(), new Linear(1024, 4, generator: new Generator(26)));
        var x = Tensor.Randn([64, 256], new Generator(27));
        using (StepMemory.Begin())
        {
            var loss = net.Forward(x).Sum();
            StepMemory.ResetPeakLentBytes();
            long afterForward = StepMemory.PeakLentBytes;
            loss.Backward();
            StepMemory.ResetPeakLentBytes();
            long afterBackward = StepMemory.PeakLentBytes;
            // Four 256 KiB activations (two linear outputs, two ReLU outputs) are passed between layers; all go back, and
            // every gradient too, leaving the last layer's output (1 KiB), the sum and the backward's seed.
            Assert.True(afterForward > 4L * 4 * 64 * 1024, $"the forward lent {afterForward} bytes");
            Assert.True(afterBackward <= 1024 + 4 + 4, $"after the backward the step still lends {afterBackward} bytes of the forward's {afterForward}");
        }
    }

    // Two VGG-style blocks: conv, in-place ReLU, conv, in-place ReLU, max pool, then a conv with a plain ReLU.
    private static Sequential Blocks(Generator g) => new(
        new Conv2d(3, 8, 3, padding: 1, generator: g), new ReLU(inplace: true), new Conv2d(8, 8, 3, padding: 1, generator: g),
        new ReLU(inplace: true), new MaxPool2d(2), new Conv2d(8, 16, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2),
        new Flatten(), new Linear(16 * 4 * 4, 10, generator: g));

    /// <summary>
    /// The ReLUs keep masks, so each conv's and pool's input buffer is read by that layer alone: the backward writes
    /// each input gradient over the activation it replaces (Engine.TryAdopt) and lends nothing the size of an
    /// activation, with the same gradients as without a step scope (where nothing is adopted).
    /// </summary>
    [Fact]
    public void ABlocksBackwardRunsInItsForwardsBuffers()
    {
        var x = Tensor.Randn([4, 3, 16, 16], new Generator(32));
        var reference = Blocks(new Generator(31));
        reference.Forward(x).Sum().Backward();
        var net = Blocks(new Generator(31));
        using (StepMemory.Begin())
        {
            var loss = net.Forward(x).Sum();
            StepMemory.ResetPeakLentBytes();
            long afterForward = StepMemory.PeakLentBytes;
            loss.Backward();
            long backward = StepMemory.PeakLentBytes - afterForward;
            // The seed, the sum's gradient [4, 10] and the linear layer's input gradient (4·256 floats), no more; the
            // smallest activation is 4·16·8·8 floats.
            Assert.True(backward <= 4 * (1 + 4 * 10 + 4 * 256), $"the backward lent {backward} bytes over the forward's {afterForward}");
        }
        var expected = reference.Parameters().Select(p => p.Grad!.ToArray()).ToArray();
        var grads = net.Parameters().Select(p => p.Grad!.ToArray()).ToArray();
        for (int i = 0; i < grads.Length; i++) Close.Assert(expected[i], grads[i], $"parameter {i}");
    }

    // y = body(x) + s·x with a learnt scale s: the block's input is read by the body's first conv and by the
    // product's backward (for s's gradient).
    private sealed class Residual : Module
    {
        private readonly Sequential _body;
        private readonly Parameter _scale;

        public Residual(Sequential body)
        {
            _body = RegisterModule("body", body);
            _scale = RegisterParameter("scale", Tensor.FromArray([0.5f], [1]))!;
        }

        public override Tensor Forward(Tensor input)
        {
            var skip = input * _scale;
            return _body.Forward(input) + skip;
        }
    }

    /// <summary>
    /// A buffer with a reader still to run is never taken for a gradient: a residual block's first conv is not its
    /// input's last reader (the skip's product reads it too), and the gradients, with released buffers poisoned with
    /// NaN, equal those outside a step scope.
    /// </summary>
    [Fact]
    public void AnInputWithAnotherReaderIsNotWrittenOver()
    {
        Sequential Make()
        {
            var g = new Generator(41);
            return new Sequential(new Conv2d(2, 4, 3, padding: 1, generator: g), new ReLU(inplace: true),
                new Residual(new Sequential(new Conv2d(4, 4, 3, padding: 1, generator: g), new ReLU(), new Conv2d(4, 4, 3, padding: 1, generator: g))),
                new ReLU(inplace: true), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 3, generator: g));
        }
        var x = Tensor.Randn([2, 2, 8, 8], new Generator(42));
        var reference = Make();
        reference.Forward(x).Sum().Backward();
        var net = Make();
        StepMemory.PoisonReleased = true;
        try
        {
            using (StepMemory.Begin()) net.Forward(x).Sum().Backward();
        }
        finally { StepMemory.PoisonReleased = false; }
        var expected = reference.Parameters().Select(p => p.Grad!.ToArray()).ToArray();
        var grads = net.Parameters().Select(p => p.Grad!.ToArray()).ToArray();
        for (int i = 0; i < grads.Length; i++) Close.Assert(expected[i], grads[i], $"parameter {i}");
    }

    // The last layer's output shares an earlier layer's buffer (a ReLU written over a linear layer's output, a Flatten of
    // a convolution's): that buffer is the caller's and keeps its values.
    public static TheoryData<string> Endings() => new() { "in-place relu", "flatten" };

    [Theory]
    [MemberData(nameof(Endings))]
    public void TheCallersOutputIsNeverGivenBack(string ending)
    {
        var g = new Generator(28);
        var net = ending == "flatten"
            ? new Sequential(new Conv2d(2, 3, 3, generator: g), new ReLU(), new Conv2d(3, 2, 3, generator: g), new Flatten())
            : new Sequential(new Flatten(), new Linear(72, 8, generator: g), new ReLU(inplace: true));
        StepMemory.PoisonReleased = true;
        try
        {
            using (StepMemory.Begin())
            {
                var x = Tensor.Randn([2, 2, 6, 6], new Generator(29));
                var y = net.Forward(x);
                var before = y.ToArray();
                var inputBefore = x.ToArray();
                (y * y).Sum().Backward();
                Assert.Equal(before, y.ToArray());
                Assert.Equal(inputBefore, x.ToArray());
            }
        }
        finally { StepMemory.PoisonReleased = false; }
    }
}
