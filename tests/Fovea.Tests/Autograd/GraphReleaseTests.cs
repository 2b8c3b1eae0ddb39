using Fovea.NN;
using Fovea.Optim;

namespace Fovea.Tests.Autograd;

[Collection(Support.SerialCollection.Name)]
public class GraphReleaseTests
{
    private static (Sequential Model, SGD Opt, Tensor X, Tensor Y) Setup()
    {
        var model = new Sequential(new Conv2d(1, 4, 3, padding: 1), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 3));
        return (model, new SGD(model.Parameters(), 0.01f, 0.9f), Tensor.Randn([8, 1, 8, 8], new Generator(1)),
            Tensor.FromArray(new long[] { 0, 1, 2, 0, 1, 2, 0, 1 }, [8]));
    }

    private static void Step(Sequential model, SGD opt, Tensor x, Tensor y)
    {
        opt.ZeroGrad();
        Functional.CrossEntropy(model.Forward(x), y).Backward();
        opt.Step();
    }

    [Fact]
    public void MemoryStaysFlatOverALongRun()
    {
        var (model, opt, x, y) = Setup();
        for (int i = 0; i < 50; i++) Step(model, opt, x, y);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < 500; i++) Step(model, opt, x, y);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        // A retained graph would keep every step's activations: 500 steps × several KB each.
        Assert.True(after - before < 256 * 1024, $"live memory grew by {(after - before) / 1024} KB over 500 steps");
    }

    [Fact]
    public void BackwardTwiceThroughTheSameGraphSaysTheGraphWasFreed()
    {
        var (model, _, x, y) = Setup();
        var loss = Functional.CrossEntropy(model.Forward(x), y);
        var mid = model.Forward(x);
        loss.Backward();
        // The loss's own graph is released: calling again is an error that says so, not a silent re-use.
        var e = Record.Exception(() => loss.Backward());
        Assert.IsType<InvalidOperationException>(e);
        Assert.Contains("already freed", e.Message);
        Assert.NotNull(mid.GradFn);
    }

    [Fact]
    public void ReusingAnIntermediateAfterItsGraphWasFreedIsAnError()
    {
        var w = new Parameter(Tensor.FromArray([1f, 2f]));
        var h = w * 2f;
        (h * 3f).Sum().Backward();
        Assert.Throws<InvalidOperationException>(() => (h * 4f).Sum().Backward());
    }

    [Fact]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        var w = new Parameter(Tensor.FromArray([1f, 2f, 3f]));
        (w * 2f).Sum().Backward();
        (w * 3f).Sum().Backward();
        Assert.Equal(new[] { 5f, 5f, 5f }, w.Grad!.ToArray());
    }

    [Fact]
    public void NoGradScopeRecordsNothing()
    {
        var w = new Parameter(Tensor.FromArray([1f, 2f]));
        Tensor y;
        using (GradMode.NoGrad()) y = w * 2f;
        Assert.Null(y.GradFn);
        Assert.False(y.RequiresGrad);
    }
}
