using Fovea.Backends.Cpu;
using Fovea.NN;
using Fovea.Optim;
using static Fovea.Tests.Support.Threads;

namespace Fovea.Tests.NN;

// Module.Freeze: the promise that weights will not change, what it refuses, and what kernels keep because of it.
// Serial: the memory test measures the scratch pool and sets the pool's thread count.
[Collection(Support.SerialCollection.Name)]
public class FreezeTests
{
    [Fact]
    public void RefusesFoveasOwnWritesUntilUnfrozen()
    {
        var layer = new Linear(6, 3, generator: new Generator(1));
        var before = layer.Weight.ToArray();
        layer.Freeze();
        Assert.False(layer.Weight.RequiresGrad);
        Assert.True(layer.Weight.Storage.Frozen);
        var copy = Assert.Throws<InvalidOperationException>(() => layer.Weight.CopyFrom(Tensor.Zeros(3, 6)));
        Assert.Contains("frozen", copy.Message);
        Assert.Contains("Unfreeze", copy.Message);
        // Only the weight is frozen here: the load names it and copies nothing, the bias included.
        var biasBefore = layer.Bias!.ToArray();
        layer.Bias!.Storage.SetFrozen(false);
        layer.Bias!.RequiresGrad = true;
        var load = Assert.Throws<InvalidOperationException>(() => layer.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["weight"] = Tensor.Zeros(3, 6),
            ["bias"] = Tensor.Ones(3),
        }));
        Assert.Contains("weight", load.Message);
        Assert.DoesNotContain("bias", load.Message);
        Assert.Equal(biasBefore, layer.Bias!.ToArray());
        Assert.Throws<InvalidOperationException>(() => layer.Weight.ZeroInPlace());
        Assert.Throws<InvalidOperationException>(() => Init.Normal(layer.Weight, g: new Generator(2)));
        Assert.Throws<InvalidOperationException>(() => Init.Constant(layer.Weight, 1f));
        Assert.Throws<InvalidOperationException>(() => layer.Weight.RequiresGrad = true);
        // An in-place ReLU of a frozen tensor makes a new one instead of writing over it.
        var relu = layer.Weight.ReluInPlace();
        Assert.NotSame(layer.Weight.Storage, relu.Storage);
        Assert.Equal(before, layer.Weight.ToArray());

        layer.Unfreeze();
        Assert.True(layer.Weight.RequiresGrad);
        layer.Weight.ZeroInPlace();
        Assert.All(layer.Weight.ToArray(), v => Assert.Equal(0f, v));
    }

    /// <summary>A frozen backbone under a trained head: the optimiser moves the head only.</summary>
    [Fact]
    public void AFrozenPartStaysPutWhileTheRestTrains()
    {
        var gen = new Generator(2);
        var backbone = new Linear(5, 4, generator: gen);
        var head = new Linear(4, 2, generator: gen);
        var net = new Sequential(backbone, new ReLU(), head);
        backbone.Freeze();
        var frozen = backbone.Weight.ToArray();
        var headBefore = head.Weight.ToArray();
        var sgd = new SGD(net.Parameters(), 0.1f);
        var x = Tensor.Randn([8, 5], new Generator(3));
        var loss = new CrossEntropyLoss().Forward(net.Forward(x), Tensor.FromArray(new long[] { 0, 1, 0, 1, 1, 0, 0, 1 }, [8]));
        loss.Backward();
        sgd.Step();
        Assert.Null(backbone.Weight.Grad);
        Assert.Equal(frozen, backbone.Weight.ToArray());
        Assert.NotEqual(headBefore, head.Weight.ToArray());
    }

    /// <summary>
    /// A large frozen linear layer at batch 1 runs from its kept transposed copy (where the machine has AVX-512) and
    /// gives the unfrozen layer's output; unfrozen, changed and frozen again, it follows the new weights.
    /// </summary>
    [Fact]
    public void AFrozenLinearLayerFollowsItsWeightsAcrossFreezes()
    {
        var layer = new Linear(2048, 1024, generator: new Generator(4));
        var w = ((CpuStorage)layer.Weight.Storage).Floats;
        bool keeps = Gemm.KeepsRows(1024, 2048);
        // A ReLU's output: about half the inputs are zero.
        var x = Tensor.Randn([1, 2048], new Generator(5)).Relu();
        Tensor Forward()
        {
            using (GradMode.NoGrad()) return layer.Forward(x);
        }
        var unfrozen = Forward().ToArray();
        Assert.Equal(0, Gemm.KeptBytes(w));
        layer.Freeze();
        AssertClose(unfrozen, Forward().ToArray());
        Assert.Equal(keeps ? 4L * 2048 * 1024 : 0, Gemm.KeptBytes(w));

        layer.Unfreeze();
        Assert.Equal(0, Gemm.KeptBytes(w));
        Negate(layer.Weight);
        layer.Freeze();
        var negated = Forward().ToArray();
        for (int j = 0; j < negated.Length; j++) negated[j] = 2 * layer.Bias!.ToArray()[j] - negated[j];
        AssertClose(unfrozen, negated);
    }

    /// <summary>
    /// A frozen convolution's kept Winograd filters (inference by blocks: 160 tiles) give the unfrozen output and keep
    /// no copy of the weights; after unfreezing, a change of weights is followed once frozen again.
    /// </summary>
    [Fact]
    public void AFrozenConvolutionKeepsOnlyItsTransformedFilters()
    {
        var conv = new Conv2d(32, 32, 3, padding: 1, generator: new Generator(6));
        var g = ConvGeometry.Create(40, 32, 8, 8, 32, 3, 3, padH: 1, padW: 1);
        Assert.Equal(ConvAlgorithm.Winograd, ConvAlgorithmChooser.Choose(g, inference: true));
        var w = ((CpuStorage)conv.Weight.Storage).Floats;
        var x = Tensor.Randn([40, 32, 8, 8], new Generator(7));
        Tensor Forward()
        {
            using (GradMode.NoGrad()) return conv.Forward(x);
        }
        var unfrozen = Forward().ToArray();
        long keptUnfrozen = ConvWinograd.KeptBytes(w);
        Assert.Equal(4 * ConvWinograd.KeptFloats(g), keptUnfrozen);
        conv.Freeze();
        Assert.Equal(0, ConvWinograd.KeptBytes(w));
        AssertClose(unfrozen, Forward().ToArray());
        Assert.Equal(4 * ConvWinograd.KeptFloats(g, frozen: true), ConvWinograd.KeptBytes(w));
        Assert.Equal(keptUnfrozen - 4 * g.WeightCount, ConvWinograd.KeptBytes(w));

        conv.Unfreeze();
        Negate(conv.Weight);
        conv.Freeze();
        var negated = Forward().ToArray();
        var bias = conv.Bias!.ToArray();
        for (int i = 0; i < negated.Length; i++) negated[i] = 2 * bias[i / 64 % 32] - negated[i];
        AssertClose(unfrozen, negated);
    }

    /// <summary>The inference memory estimate of a frozen model counts what freezing keeps, as the measured pass does.</summary>
    [Fact]
    public void InferenceEstimateCountsWhatFrozenLayersKeep()
    {
        // One thread, where the scratch is exact.
        OnThreads(1, () =>
        {
            var gen = new Generator(8);
            var conv = new Conv2d(32, 32, 3, padding: 1, generator: gen);
            var fc = new Linear(32 * 8 * 8, 1024, generator: gen);
            var net = new Sequential(conv, new ReLU(), new Flatten(), fc, new ReLU(), new Linear(1024, 10, generator: gen));
            net.Freeze();
            var estimate = Inspection.MemoryFootprint.Estimate(net, [32, 8, 8], 1);
            var measured = Inspection.MeasuredStep.Inference(net, Tensor.Randn([1, 32, 8, 8], new Generator(9)));
            Assert.Equal(estimate.InferenceBytes, measured.TotalBytes);
            var w = ((CpuStorage)fc.Weight.Storage).Floats;
            Assert.Equal(Gemm.KeepsRows(1024, 2048) ? 4L * 1024 * 2048 : 0, Gemm.KeptBytes(w));
        });
    }

    private static void Negate(Tensor t) => t.CopyFrom(Tensor.FromArray(t.ToArray().Select(v => -v).ToArray(), t.Shape));

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-4f + 1e-4f * MathF.Abs(expected[i]), $"at {i}: {actual[i]}, expected {expected[i]}");
    }
}
