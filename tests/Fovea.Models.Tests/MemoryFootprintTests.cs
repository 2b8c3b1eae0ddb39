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
    public void SmallNetFootprintIsTheSumOfItsShapes()
    {
        var m = MemoryFootprint.Estimate(SmallNet(), [1, 8, 8], 2);

        // Floats: the conv's 2·1·3·3 weights + 2 biases, the linear's 18·4 + 4; each has a gradient and a momentum buffer.
        long parameters = 4 * (18 + 2 + 18 * 4 + 4);
        Assert.Equal(parameters, m.ParametersBytes);
        Assert.Equal(parameters, m.GradientsBytes);
        Assert.Equal(parameters, m.OptimizerBytes);
        // Forward: conv out 2·2·6·6 = 144, ReLU out 144, pool out 2·2·3·3 = 36 and as many int64 indices, flatten a
        // view, x·Wᵀ 2·4 and + b 2·4.
        long forward = 4 * (144 + 144 + 36 + 8 + 8) + 8 * 36;
        Assert.Equal(forward, m.ActivationsBytes);
        // Backward: conv dW 18 and db 2 (the images need no gradient), ReLU's dx 144, the pool's dx 144, linear's
        // db 4, dx 2·18 and dWᵀ 18·4.
        long backward = 4 * (18 + 2 + 144 + 144 + 4 + 2 * 18 + 18 * 4);
        Assert.Equal(backward, m.BackwardBytes);
        // Cross-entropy over [2, 4]: forward log-softmax 8, gather 2, negation 2, mean 1; backward seed 1, mean 1,
        // its dense expansion 2, negation 2, scatter 8, log-softmax 8.
        Assert.Equal(4 * (8 + 2 + 2 + 1) + 4 * (1 + 1 + 2 + 2 + 8 + 8), m.LossBytes);
        // The conv is too small to split over threads: one column matrix of 1·3·3 rows by 6·6 outputs per pass.
        long workspace = 4 * 9 * 36;
        Assert.Equal(workspace, m.WorkspaceBytes);
        long images = 4 * 2 * 64, labels = 8 * 2;
        Assert.Equal(3 * parameters + images + labels + forward + m.LossBytes + backward + workspace, m.TrainingBytes);
        Assert.Equal(parameters + images + forward + workspace, m.InferenceBytes);
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
