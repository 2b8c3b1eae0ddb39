using Fovea.NN;
using Fovea.Optim;

namespace Fovea.Tests.Memory;

[Collection(Support.SerialCollection.Name)]
public class StepMemoryTests
{
    private static (Sequential, SGD) Net()
    {
        var m = new Sequential(new Conv2d(1, 6, 5, padding: 2), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(6 * 14 * 14, 10));
        return (m, new SGD(m.Parameters(), 0.05f, 0.9f));
    }

    private static void Step(Sequential m, SGD opt, Tensor x, Tensor y, bool pooled)
    {
        using var scope = pooled ? StepMemory.Begin() : (StepMemory.Scope?)null;
        opt.ZeroGrad();
        Functional.CrossEntropy(m.Forward(x), y).Backward();
        opt.Step();
    }

    [Fact]
    public void PooledStepsTrainExactlyAsUnpooledOnesAndStopAllocatingBuffers()
    {
        var x = Tensor.Randn([16, 1, 28, 28], new Generator(3));
        var y = Tensor.FromArray(Enumerable.Range(0, 16).Select(i => (long)(i % 10)).ToArray(), [16]);
        var (a, optA) = Net();
        var (b, optB) = Net();
        b.LoadStateDict(a.StateDict());
        for (int i = 0; i < 5; i++)
        {
            Step(a, optA, x, y, pooled: false);
            Step(b, optB, x, y, pooled: true);
        }
        foreach (var ((name, pa), (_, pb)) in a.NamedParameters().Zip(b.NamedParameters()))
            Assert.True(pa.ToArray().SequenceEqual(pb.ToArray()), $"{name} differs between pooled and unpooled training");

        // Once warm, a step's buffers all come from the pool: the thread allocates little beyond small objects.
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Step(b, optB, x, y, pooled: true);
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        long activations = 4L * 16 * 6 * 28 * 28;
        Assert.True(perStep < activations / 2, $"a pooled step allocated {perStep / 1024} KB; one conv activation alone is {activations / 1024} KB");
        Assert.True(StepMemory.PooledBytes >= activations, "the pool should hold at least the conv activation");
    }

    [Fact]
    public void GradientsAndOptimizerStateOutliveTheStep()
    {
        var (m, opt) = Net();
        var x = Tensor.Randn([4, 1, 28, 28], new Generator(4));
        var y = Tensor.FromArray(new long[] { 1, 2, 3, 4 }, [4]);
        Step(m, opt, x, y, pooled: true);
        var grads = m.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        // Another pooled step that allocates the same sizes must not overwrite what the first one kept.
        using (StepMemory.Begin()) _ = m.Forward(Tensor.Randn([4, 1, 28, 28], new Generator(5)));
        Assert.Equal(grads, m.Parameters().Select(p => p.Grad!.ToArray()).ToList());
    }

    [Fact]
    public void PeakLentBytesCountsWhatIsLentAtOnceNotWhatThePoolKeeps()
    {
        using (StepMemory.Begin()) _ = Tensor.Zeros([5000]); // leaves an idle buffer in the pool
        StepMemory.ResetPeakLentBytes();
        using (StepMemory.Begin())
        {
            _ = Tensor.Zeros([100]);
            using (StepMemory.Begin())
            {
                _ = Tensor.Zeros([300]);
                _ = Tensor.Zeros([1, 4]).ArgMax(1); // 4 floats in, 1 int64 index out
            }
            _ = Tensor.Zeros([200]);
        }
        // 100 floats, then 300 + 4 floats and 1 index in the inner scope (given back at its end), then 200 floats.
        Assert.Equal(4L * (100 + 300 + 4) + 8L, StepMemory.PeakLentBytes);
        Assert.True(StepMemory.PooledBytes >= 4L * 5000, "the idle buffer stays in the pool");
    }
}
