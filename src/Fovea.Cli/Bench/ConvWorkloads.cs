using Fovea.NN;

namespace Fovea.Cli.Bench;

/// <summary>
/// One 3x3 convolution, 128 → 128 channels, padding 1, on x [8, 128, 56, 56] (a VGG/ResNet middle layer), with the
/// algorithm the backend picks for the shape (<see cref="ConvAlgorithm.Auto"/>, what a model gets).
/// </summary>
internal static class ConvWorkloads
{
    public const int Batch = 8, Channels = 128, Size = 56;

    public static IEnumerable<BenchWorkload> All()
    {
        yield return new BenchWorkload("conv3x3_128_56_fwd", Batch, BenchUnit.Milliseconds, 0, Heavy: false, () => Setup(backward: false));
        yield return new BenchWorkload("conv3x3_128_56_fwdbwd", Batch, BenchUnit.Milliseconds, 0, Heavy: false, () => Setup(backward: true));
    }

    private static Action Setup(bool backward)
    {
        var g = new Generator(56);
        var x = Tensor.Randn([Batch, Channels, Size, Size], g);
        var w = new Parameter(Tensor.Randn([Channels, Channels, 3, 3], g) * 0.03f);
        var b = new Parameter(Tensor.Randn([Channels], g));
        if (!backward)
        {
            return () =>
            {
                // As Trainer does: the step's buffers come back to the pool when it ends.
                using var step = StepMemory.Begin();
                using var _ = GradMode.NoGrad();
                Functional.Conv2d(x, w, b, padding: (1, 1, 1, 1));
            };
        }
        // Forward, then dX, dW and db through autograd from a fixed upstream gradient.
        x.RequiresGrad = true;
        var dy = Tensor.Randn([Batch, Channels, Size, Size], g);
        return () =>
        {
            // As Trainer does: the step's buffers come back to the pool when it ends.
            using var step = StepMemory.Begin();
            x.ClearGrad();
            w.ClearGrad();
            b.ClearGrad();
            Functional.Conv2d(x, w, b, padding: (1, 1, 1, 1)).Backward(dy);
        };
    }
}
