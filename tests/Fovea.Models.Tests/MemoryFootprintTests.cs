using Fovea.Inspection;
using Fovea.NN;
using Fovea.Optim;
using Xunit.Abstractions;

namespace Fovea.Models.Tests;

/// <summary>The memory estimate against the sums worked out by hand and against what a real step allocates.</summary>
[Collection(MeasurementCollection.Name)]
public class MemoryFootprintTests(ITestOutputHelper output)
{
    // conv 1→2 3x3, ReLU, max pool 2, flatten, linear 18→4, on 1x8x8 images at batch 2.
    private static Sequential SmallNet() =>
        new(new Conv2d(1, 2, 3, generator: new Generator(1)), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(18, 4, generator: new Generator(2)));

    [Fact]
    public void SmallNetFootprintIsWorkedOutFromItsShapes()
    {
        var m = MemoryFootprint.Estimate(SmallNet(), [1, 8, 8], 2);

        // Floats: the conv's 2·1·3·3 weights + 2 biases, the linear's 18·4 + 4; each has a gradient and a momentum buffer.
        long parameters = 4 * (18 + 2 + 18 * 4 + 4);
        Assert.Equal(parameters, m.ParametersBytes);
        Assert.Equal(parameters, m.GradientsBytes);
        Assert.Equal(parameters, m.OptimizerBytes);
        // Forward: conv out 2·2·6·6 = 144, ReLU out 144 and its mask (144 bits in three int64 words), pool out
        // 2·2·3·3 = 36 (no indices: its backward finds the maxima again), flatten a view, x·Wᵀ + b 2·4 (the bias added
        // in place).
        long forward = 4 * (144 + 144 + 36 + 8) + 8 * 3;
        Assert.Equal(forward, m.ActivationsBytes);
        // Cross-entropy over [2, 4]: log-softmax 8, gather 2, negation 2, mean 1.
        Assert.Equal(4 * (8 + 2 + 2 + 1), m.LossBytes);
        // Backward, each gradient given back once read and each activation the Sequential passed on once its last reader
        // has run. The loss leaves the seed and the mean's scaled gradient (1 each) lent, and log-softmax's gradient (8)
        // for the linear layer, whose dx is 2·18 (dW and db go into Grad): 46, the peak. The flatten view was the pool
        // output's last reader, so those 36 go back (2 over the forward). The pool is the only reader of the ReLU's
        // output (the ReLU reads its mask), so its dx takes that buffer and it lends nothing; it gives the linear layer's
        // dx back. The ReLU writes its dx over that and gives its mask back; the conv's output, which no backward reads,
        // goes back after it; the conv's input (the images) needs no gradient. Below the forward's sum from the pool on: 0.
        Assert.Equal(new long[] { 0, 0, 4 * 2, 4 * 38, 4 * 46 }, m.Layers.Select(l => l.BackwardBytes));
        long backward = 4 * 46;
        Assert.Equal(backward, m.BackwardBytes);
        // The conv sums 1·3·3 products per output, few enough to read them straight from the unpadded images (no
        // column matrix), and is too small to split its filter gradient over threads: no workspace.
        Assert.Equal(0, m.WorkspaceBytes);
        long images = 4 * 2 * 64, labels = 8 * 2;
        Assert.Equal(3 * parameters + images + labels + forward + m.LossBytes + backward, m.TrainingBytes);
        // Inference keeps no mask, and the ReLU runs inside the convolution (Sequential fuses them): no output of its own.
        Assert.Equal(0, m.Layers[1].InferenceActivationsBytes);
        Assert.Equal(parameters + images + 4 * (144 + 36 + 8), m.InferenceBytes);
    }

    [Fact]
    public void SmallNetEstimateEqualsWhatAStepAllocates()
    {
        var net = SmallNet();
        var estimate = MemoryFootprint.Estimate(net, [1, 8, 8], 2);
        var measured = Measure(net, [1, 8, 8], 2, 4);
        Assert.Equal(estimate.StepBytes, measured.StepBytes);
        Assert.Equal(estimate.WorkspaceBytes, measured.WorkspaceBytes);
        Assert.Equal(estimate.TrainingBytes, measured.TotalBytes);
        Assert.Equal(estimate.InferenceBytes, MeasuredStep.Inference(net, Tensor.Randn([2, 1, 8, 8], new Generator(8))).TotalBytes);
    }

    // Every layer kind the estimate models, in the places that change what its backward makes: batch norm and padded
    // convolutions first (the images want no gradient) and later, with and without affine parameters, parameter-free
    // layers ahead of the first weights, dropout, 1-D convolutions (whose weight gradient waits for the end of the backward).
    public static TheoryData<string> Nets() => new() { "batchnorm", "padded", "same", "parameter-free start", "conv1d", "same 1-d", "in-place relu" };

    private static (Module Net, int[] Shape) Net(string name)
    {
        var g = new Generator(11);
        return name switch
        {
            "batchnorm" => (new Sequential(new BatchNorm2d(3), new Conv2d(3, 4, 3, padding: 1, generator: g), new BatchNorm2d(4), new ReLU(),
                new LocalResponseNorm(3), new MaxPool2d(2), new Conv2d(4, 4, 3, padding: 1, generator: g), new BatchNorm2d(4, affine: false),
                new LeakyReLU(), new AvgPool2d(2), new Flatten(), new Dropout(0.5f, g), new Linear(16, 8, generator: g), new BatchNorm1d(8),
                new Tanh(), new Dropout(0.5f, g), new Linear(8, 5, generator: g)), [3, 8, 8]),
            "padded" => (new Sequential(new Conv2d(3, 4, 3, padding: 1, paddingMode: PadMode.Reflect, generator: g), new Sigmoid(),
                new Conv2d(4, 4, 3, padding: 2, dilation: 2, paddingMode: PadMode.Replicate, generator: g), new SumPool2d(2),
                new AdaptiveAvgPool2d((3, 2)), new Flatten(), new Linear(24, 6, generator: g), new Softmax()), [3, 9, 9]),
            // "same" with even kernels: one more row and column after than before, padded by a mode or by the convolution.
            "same" => (new Sequential(new Conv2d(3, 4, 4, "same", paddingMode: PadMode.Reflect, generator: g), new ReLU(),
                new Conv2d(4, 4, (2, 3), "same", generator: g), new Flatten(), new Linear(4 * 7 * 6, 3, generator: g)), [3, 7, 6]),
            "same 1-d" => (new Sequential(new Conv1d(2, 3, 4, "same", paddingMode: PadMode.Circular, generator: g), new ReLU(),
                new Conv1d(3, 4, 2, "same", generator: g), new Flatten(), new Linear(40, 3, generator: g)), [2, 10]),
            "parameter-free start" => (new Sequential(new MaxPool2d(2), new Dropout(0.25f, g), new ReLU(), new Conv2d(2, 3, 3, generator: g),
                new Identity(), new Flatten(), new Linear(12, 4, bias: false, generator: g), new LogSoftmax()), [2, 8, 8]),
            // Overwrites the images, a convolution's output, batch norm's and linear's; after a pool and a tanh, whose
            // outputs a backward may read, it makes new tensors.
            "in-place relu" => (new Sequential(new ReLU(inplace: true), new Conv2d(2, 4, 3, padding: 1, generator: g), new ReLU(inplace: true),
                new MaxPool2d(2), new ReLU(inplace: true), new Conv2d(4, 4, 3, padding: 1, generator: g), new BatchNorm2d(4),
                new ReLU(inplace: true), new Tanh(), new ReLU(inplace: true), new Flatten(), new Linear(64, 6, generator: g),
                new ReLU(inplace: true), new Linear(6, 3, generator: g)), [2, 8, 8]),
            _ => (new Sequential(new Conv1d(2, 3, 3, padding: 1, paddingMode: PadMode.Circular, generator: g), new ReLU(),
                new Conv1d(3, 4, 3, padding: 1, paddingMode: PadMode.Reflect, generator: g), new Conv1d(4, 4, 3, stride: 2, generator: g),
                new Flatten(), new Linear(16, 3, generator: g)), [2, 10]),
        };
    }

    [Theory]
    [MemberData(nameof(Nets))]
    public void StepPoolEstimateEqualsWhatAStepLends(string name)
    {
        var (net, shape) = Net(name);
        var estimate = MemoryFootprint.Estimate(net, shape, 3);
        Assert.Equal(estimate.StepBytes, Measure(net, shape, 3, 3).StepBytes);
        var inference = MeasuredStep.Inference(net, Tensor.Randn([3, .. shape], new Generator(8)));
        Assert.Equal(estimate.Layers.Sum(l => l.InferenceActivationsBytes), inference.StepBytes);
    }

    // Batch 1 runs every pass on one thread, so the scratch is exact; at 64 the estimate counts a pass's chunks as
    // running side by side, which they may not, and the scratch is then a small part of the total.
    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    public void LeNet5EstimateIsWithinTenPercentOfAStep(int batch) => Compare(new LeNet5(generator: new Generator(3)), "lenet5", [1, 28, 28], batch, 10);

    [Fact]
    [Trait("Category", "Slow")]
    public void AlexNetEstimateIsWithinTenPercentOfAStep() => Compare(new AlexNet(generator: new Generator(4)), "alexnet", [3, 224, 224], 2, 1000);

    [Fact]
    [Trait("Category", "Slow")]
    public void Vgg16EstimateIsWithinTenPercentOfAStep() => Compare(new VGG(16, generator: new Generator(5)), "vgg16", [3, 224, 224], 1, 1000);

    [Fact]
    public void LargestBatchIsTheLastThatFits()
    {
        var net = new LeNet5(generator: new Generator(6));
        long budget = MemoryFootprint.Estimate(net, [1, 28, 28], 37).TrainingBytes + 100;
        int b = MemoryFootprint.LargestBatch(net, [1, 28, 28], budget);
        Assert.Equal(37, b);
        Assert.True(MemoryFootprint.Estimate(net, [1, 28, 28], b).TrainingBytes <= budget);
        Assert.True(MemoryFootprint.Estimate(net, [1, 28, 28], b + 1).TrainingBytes > budget);
        Assert.Equal(0, MemoryFootprint.LargestBatch(net, [1, 28, 28], MemoryFootprint.Estimate(net, [1, 28, 28], 1).TrainingBytes - 1));
        Assert.Equal(64, MemoryFootprint.LargestBatch(net, [1, 28, 28], 1L << 40, maxBatch: 64)); // the search stops at its limit
    }

    [Fact]
    public void AdamKeepsTwiceTheParametersAndPlainSgdNone()
    {
        var net = SmallNet();
        long parameters = MemoryFootprint.Estimate(net, [1, 8, 8], 2).ParametersBytes;
        Assert.Equal(2 * parameters, MemoryFootprint.Estimate(net, [1, 8, 8], 2, FootprintOptimizer.Adam).OptimizerBytes);
        Assert.Equal(0, MemoryFootprint.Estimate(net, [1, 8, 8], 2, FootprintOptimizer.Sgd).OptimizerBytes);
    }

    private void Compare(Module model, string name, int[] shape, int batch, int classes)
    {
        var estimate = MemoryFootprint.Estimate(model, shape, batch);
        var measured = Measure(model, shape, batch, classes);
        double error = (double)(estimate.TrainingBytes - measured.TotalBytes) / measured.TotalBytes;
        output.WriteLine($"{name} b{batch}: estimated {estimate.TrainingBytes:N0} B (step {estimate.StepBytes:N0}, workspace {estimate.WorkspaceBytes:N0}), " +
            $"measured {measured.TotalBytes:N0} B (step {measured.StepBytes:N0}, workspace {measured.WorkspaceBytes:N0}, lent {measured.WorkspaceLentBytes:N0}), {error:P2}");
        Assert.True(Math.Abs(error) <= 0.10, $"{name} at batch {batch}: estimated {estimate.TrainingBytes:N0} B, measured {measured.TotalBytes:N0} B ({error:P1})");

        var inference = MeasuredStep.Inference(model, Tensor.Randn([batch, .. shape], new Generator(8)));
        double inferenceError = (double)(estimate.InferenceBytes - inference.TotalBytes) / inference.TotalBytes;
        output.WriteLine($"{name} b{batch} inference: estimated {estimate.InferenceBytes:N0} B, measured {inference.TotalBytes:N0} B, {inferenceError:P2}");
        Assert.True(Math.Abs(inferenceError) <= 0.10,
            $"{name} inference at batch {batch}: estimated {estimate.InferenceBytes:N0} B, measured {inference.TotalBytes:N0} B ({inferenceError:P1})");
    }

    private static MeasuredStep Measure(Module model, int[] shape, int batch, int classes)
    {
        var x = Tensor.Randn([batch, .. shape], new Generator(7));
        var y = Tensor.FromArray(Enumerable.Range(0, batch).Select(i => (long)(i % classes)).ToArray(), [batch]);
        // A zero learning rate keeps the weights as they are; momentum makes the SGD keep its buffer.
        return MeasuredStep.Training(model, x, y, new SGD(model.Parameters(), 0f, momentum: 0.9f));
    }
}

/// <summary>Measurements read process-wide scratch counters, so they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasurementCollection
{
    public const string Name = "memory measurements";
}
