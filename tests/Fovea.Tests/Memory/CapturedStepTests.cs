using Fovea.NN;
using Fovea.Optim;

namespace Fovea.Tests.Memory;

// Serial: one test sets the process-wide thread count and counts every byte the process allocates.
[Collection(Support.SerialCollection.Name)]
public class CapturedStepTests
{
    private const int Batch = 6, Classes = 5;

    // Conv (padded, so Winograd's 3x3 path and the im2col 5x5 one), batch norm, ReLU, max pooling, LRN, dropout and
    // a dense layer: every kind of kernel a CNN's training step calls, with the state a replay must keep right.
    private static Sequential Net(int seed) => new(
        new Conv2d(3, 8, 3, padding: 1, generator: new Generator(seed)), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
        new Conv2d(8, 8, 5, padding: 2, generator: new Generator(seed + 1)), new Fovea.NN.LocalResponseNorm(3), new ReLU(),
        new Flatten(), new Dropout(0.3f, new Generator(seed + 2)), new Linear(8 * 4 * 4, Classes, generator: new Generator(seed + 3)));

    private static (Tensor X, Tensor Y) MakeBatch(int k)
    {
        var g = new Generator(100 + k);
        var labels = new long[Batch];
        for (int i = 0; i < Batch; i++) labels[i] = g.NextInt(Classes);
        return (Tensor.Randn([Batch, 3, 8, 8], g), Tensor.FromArray(labels, [Batch]));
    }

    private static float[] Flat(Module m) => [.. m.Parameters().SelectMany(p => p.ToArray()), .. m.NamedBuffers().SelectMany(b => b.Buffer.ToArray())];

    // Eager training: parameters and running statistics after the last step, with the loss each step read.
    private static (float[] State, float[] Losses) EagerOnly(int steps)
    {
        var net = Net(1);
        var opt = new SGD(net.Parameters(), 0.05f, 0.9f, weightDecay: 1e-3f);
        var lossFn = new CrossEntropyLoss();
        var losses = new float[steps];
        for (int k = 0; k < steps; k++)
        {
            using var step = StepMemory.Begin();
            var (x, y) = MakeBatch(k);
            opt.ZeroGrad();
            var l = lossFn.Forward(net.Forward(x), y);
            losses[k] = l.Item();
            l.Backward();
            opt.Step();
        }
        return (Flat(net), losses);
    }

    // The same training, its first step captured and the rest replayed; with `between`, an eager step of another
    // net runs between replays, borrowing from this thread's pool.
    private static (float[] State, float[] Losses) Replayed(int steps, bool between = false)
    {
        var other = Net(2);
        var otherOpt = new SGD(other.Parameters(), 0.05f);
        var net = Net(1);
        var opt = new SGD(net.Parameters(), 0.05f, 0.9f, weightDecay: 1e-3f);
        var lossFn = new CrossEntropyLoss();
        var (sx, sy) = (Tensor.Zeros([Batch, 3, 8, 8]), Tensor.FromArray(new long[Batch], [Batch]));
        Tensor loss = null!;
        var losses = new float[steps];
        CapturedStep? captured = null;
        for (int k = 0; k < steps; k++)
        {
            var (x, y) = MakeBatch(k);
            sx.CopyFrom(x);
            sy.CopyFrom(y);
            opt.ZeroGrad();
            if (captured is null) captured = CapturedStep.Capture(() => (loss = lossFn.Forward(net.Forward(sx), sy)).Backward());
            else captured.Replay();
            losses[k] = loss.Item();
            opt.Step();
            if (!between) continue;
            using var step = StepMemory.Begin();
            otherOpt.ZeroGrad();
            lossFn.Forward(other.Forward(MakeBatch(k + 10).X), sy).Backward();
            otherOpt.Step();
        }
        return (Flat(net), losses);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReplaysEqualEagerStepsBitForBit(bool eagerStepsBetween)
    {
        var (eagerState, eagerLosses) = EagerOnly(4);
        var (state, losses) = Replayed(4, eagerStepsBetween);
        Assert.Equal(eagerLosses, losses);
        Assert.Equal(eagerState, state);
        // The batches differ, so the losses do too: a replay that read the captured batch again would repeat one.
        Assert.Equal(4, losses.Distinct().Count());
    }

    [Fact]
    public void EachReplayDrawsANewDropoutMask()
    {
        var x = Tensor.Ones([1, 4000]);
        Tensor y = null!;
        var captured = CapturedStep.Capture(() => y = Functional.Dropout(x, 0.5f, training: true, new Generator(7)));
        var first = y.ToArray();
        captured.Replay();
        var second = y.ToArray();
        Assert.NotEqual(first, second);
        Assert.All(second, v => Assert.True(v == 0f || v == 2f, $"{v}"));
        Assert.InRange(second.Count(v => v == 0f), 1700, 2300);
    }

    [Fact]
    public void ReadingAValueInsideTheStepIsRefusedWithAReason()
    {
        var x = Tensor.Randn([3, 4], new Generator(1));
        var e = Assert.Throws<NotSupportedException>(() => CapturedStep.Capture(() => x.Sum().Item()));
        Assert.Contains("read tensor values on the host", e.Message);
        // The thread is left as it was: eager ops work, and another capture may start.
        Assert.Equal(x.ToArray().Sum(), x.Sum().Item(), 4);
        CapturedStep.Capture(() => x.Relu());
    }

    [Fact]
    public void AnOptimiserStepInsideTheStepIsRefusedWithAReason()
    {
        var model = new Linear(4, 2, generator: new Generator(1));
        var opt = new SGD(model.Parameters(), 0.1f);
        var x = Tensor.Randn([3, 4], new Generator(2));
        var e = Assert.Throws<NotSupportedException>(() => CapturedStep.Capture(() =>
        {
            model.Forward(x).Sum().Backward();
            opt.Step();
        }));
        Assert.Contains("Call optimizer.Step() after Replay()", e.Message);
    }

    [Fact]
    public void CapturesDoNotNest()
    {
        var x = Tensor.Ones([2]);
        var e = Assert.Throws<InvalidOperationException>(() => CapturedStep.Capture(() => CapturedStep.Capture(() => x.Relu())));
        Assert.Contains("captures do not nest", e.Message);
    }

    [Fact]
    public void ALabelOutOfRangeInAReplayIsNamed()
    {
        var model = new Linear(4, 3, generator: new Generator(1));
        var x = Tensor.Randn([2, 4], new Generator(2));
        var y = Tensor.FromArray(new long[] { 0, 2 }, [2]);
        var captured = CapturedStep.Capture(() => Functional.CrossEntropy(model.Forward(x), y).Backward());
        y.CopyFrom(Tensor.FromArray(new long[] { 0, 3 }, [2]));
        var e = Assert.ThrowsAny<Exception>(captured.Replay);
        Assert.Contains("index 3 is out of range for a dimension of size 3", (e.InnerException ?? e).Message);
    }

    [Fact]
    public void AWarmReplayAndSgdStepAllocateNothing()
    {
        var net = Net(3);
        var opt = new SGD(net.Parameters(), 0.01f, 0.9f);
        var lossFn = new CrossEntropyLoss();
        // Big enough that the convolutions and the element-wise passes split over both threads.
        var x = Tensor.Randn([64, 3, 8, 8], new Generator(4));
        var y = Tensor.FromArray(new long[64], [64]);
        opt.ZeroGrad();
        var captured = CapturedStep.Capture(() => lossFn.Forward(net.Forward(x), y).Backward());
        opt.Step();
        Assert.Equal(0, Support.Allocations.Least(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                opt.ZeroGrad();
                captured.Replay();
                opt.Step();
            }
        }));
    }
}
