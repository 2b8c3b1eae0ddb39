using System.Runtime.CompilerServices;
using Fovea.Models;
using Fovea.NN;
using Fovea.Optim;

namespace Fovea.Cli.Bench;

/// <summary>
/// Whole models from the zoo on random data fixed per run: inference (eval mode, no grad) and training steps
/// (zero grad, forward, cross-entropy, backward, SGD with momentum 0.9). On the CPU a step is captured once and
/// replayed (<see cref="CapturedStep"/>), as a training loop that allocates nothing runs it; <see cref="Eager"/>
/// runs every op through the autograd front instead.
/// </summary>
internal static class ModelWorkloads
{
    public const float LearningRate = 0.01f, Momentum = 0.9f;

    /// <summary>Where the model workloads run (<c>fovea bench --device</c>); the GEMM and convolution kernels always time the CPU.</summary>
    public static Device Device { get; set; } = Device.Cpu;

    /// <summary>Run each step through the autograd front, tape and all, instead of replaying a captured one (<c>--eager</c>).</summary>
    public static bool Eager { get; set; }

    private static bool Captures => !Eager && Device.Equals(Device.Cpu);

    // A GPU queues kernels and returns at once: a timed step must end when its kernels have finished.
    private static void Finish()
    {
        // Never true in a Native AOT build, which has no GPU backend (DeviceChoice): the test keeps ILGPU out of it.
        if (RuntimeFeature.IsDynamicCodeSupported && Device.Backend is Gpu.GpuBackend gpu) gpu.Synchronize();
    }

    /// <summary>
    /// Inference: eval mode, the weights frozen (<see cref="Module.Freeze"/>, as a model deployed for inference has
    /// them, and as an ONNX Runtime session holds them), no autograd tape; one forward of a batch.
    /// </summary>
    public static Action Inference(string model, int batch)
    {
        var (net, x, _) = Build(model, batch);
        net.Eval().Freeze();
        if (Captures)
        {
            var forward = CapturedStep.Capture(() =>
            {
                using (GradMode.NoGrad()) net.Forward(x);
            });
            return forward.Replay;
        }
        return () =>
        {
            // As Trainer does: the step's buffers come back to the pool when it ends.
            using var step = StepMemory.Begin();
            using (GradMode.NoGrad()) net.Forward(x);
            Finish();
        };
    }

    /// <summary>One training step: zero grad, forward, cross-entropy, backward, SGD momentum step.</summary>
    public static Action Training(string model, int batch)
    {
        var (net, x, y) = Build(model, batch);
        net.Train();
        var loss = new CrossEntropyLoss();
        var opt = new SGD(net.Parameters(), LearningRate, Momentum);
        if (Captures)
        {
            opt.ZeroGrad();
            var step = CapturedStep.Capture(() => loss.Forward(net.Forward(x), y).Backward());
            opt.Step();
            return () =>
            {
                opt.ZeroGrad();
                step.Replay();
                opt.Step();
            };
        }
        return () =>
        {
            // As Trainer does: the step's buffers come back to the pool when it ends.
            using var step = StepMemory.Begin();
            opt.ZeroGrad();
            loss.Forward(net.Forward(x), y).Backward();
            opt.Step();
            Finish();
        };
    }

    /// <summary>The zoo model, a random batch and labels, the same for every run (seed 5); on <see cref="Device"/>.</summary>
    internal static (Module Net, Tensor X, Tensor Y) Build(string model, int batch)
    {
        var g = new Generator(5);
        var shape = ModelZoo.DefaultInputShape(model);
        int classes = ModelZoo.DefaultNumClasses(model);
        var net = ModelZoo.Create(model, classes, shape, g).To(Device);
        var x = Tensor.Randn([batch, .. shape], g, Device);
        var labels = new long[batch];
        for (int i = 0; i < batch; i++) labels[i] = g.NextInt(classes);
        return (net, x, Tensor.FromArray(labels, [batch], Device));
    }
}
