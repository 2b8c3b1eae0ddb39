using Fovea.NN;
using Fovea.Optim;
using ConvWinograd = Fovea.Backends.Cpu.ConvWinograd;
using ScratchPool = Fovea.Backends.Cpu.ScratchPool;

namespace Fovea.Inspection;

/// <summary>
/// What one real training step allocated on the CPU backend, to hold a <see cref="MemoryFootprint"/> against:
/// the same parts, measured instead of worked out.
/// </summary>
/// <param name="ParametersBytes">The model's state dict: parameters and buffers.</param>
/// <param name="GradientsBytes">Every parameter's <c>Grad</c> after the step.</param>
/// <param name="OptimizerBytes">The optimiser's state tensors after the step.</param>
/// <param name="InputBytes">The images and labels.</param>
/// <param name="StepBytes">The most bytes the step's pool lent at once (<see cref="StepMemory.PeakLentBytes"/>).</param>
/// <param name="WorkspaceBytes">
/// The most convolution scratch in existence at once: lent, or kept idle by the scratch pool for later passes; in
/// inference, also the transformed filters kept for the model's weights.
/// </param>
/// <param name="WorkspaceLentBytes">
/// The most scratch lent at once, counting whole buffers: the pool may hand a small request a large idle buffer, so
/// this can exceed what the passes ask for.
/// </param>
public sealed record MeasuredStep(long ParametersBytes, long GradientsBytes, long OptimizerBytes, long InputBytes, long StepBytes, long WorkspaceBytes,
    long WorkspaceLentBytes)
{
    /// <summary>The step's peak: every part at once.</summary>
    public long TotalBytes => ParametersBytes + GradientsBytes + OptimizerBytes + InputBytes + StepBytes + WorkspaceBytes;

    /// <summary>
    /// Runs one training step of <paramref name="model"/> on this thread, as the trainer does (zero the gradients,
    /// forward, cross-entropy, backward, <paramref name="optimizer"/>'s step, all inside <see cref="StepMemory.Begin"/>)
    /// and reports what it allocated. Idle convolution scratch is dropped first, so the scratch is measured as in a
    /// fresh process rather than served from larger buffers that earlier work left behind. Call it outside any step.
    /// </summary>
    /// <param name="model">The model, on the CPU; it is put in training mode and its parameters are updated.</param>
    /// <param name="images">A batch of inputs [N, ...].</param>
    /// <param name="labels">int64 class labels [N].</param>
    /// <param name="optimizer">The optimiser over <paramref name="model"/>'s parameters.</param>
    public static MeasuredStep Training(Module model, Tensor images, Tensor labels, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (StepMemory.IsActive) throw new InvalidOperationException("MeasuredStep.Training must run outside a step scope: it opens its own");
        model.Train();
        ScratchPool.Clear();
        ScratchPool.ResetPeak();
        StepMemory.ResetPeakLentBytes();
        using (StepMemory.Begin())
        {
            optimizer.ZeroGrad();
            Functional.CrossEntropy(model.Forward(images), labels).Backward();
            optimizer.Step();
        }
        return new MeasuredStep(
            model.StateDict().Values.Sum(Bytes),
            model.Parameters().Sum(p => p.Grad is { } g ? Bytes(g) : 0),
            optimizer.StateDict().Where(e => e.Key != "step").Sum(e => Bytes(e.Value)),
            Bytes(images) + Bytes(labels),
            StepMemory.PeakLentBytes,
            ScratchPool.PeakHeldBytes,
            ScratchPool.PeakLentBytes);
    }

    /// <summary>
    /// Runs one inference batch of <paramref name="model"/> on this thread as evaluation does (evaluation mode, no
    /// gradients, inside <see cref="StepMemory.Begin"/>) and reports what it allocated; gradients and optimiser state
    /// are zero. Idle convolution scratch is dropped first, as for <see cref="Training"/>. Call it outside any step.
    /// </summary>
    /// <param name="model">The model, on the CPU; it is left in evaluation mode.</param>
    /// <param name="images">A batch of inputs [N, ...].</param>
    public static MeasuredStep Inference(Module model, Tensor images)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        if (StepMemory.IsActive) throw new InvalidOperationException("MeasuredStep.Inference must run outside a step scope: it opens its own");
        model.Eval();
        ScratchPool.Clear();
        ScratchPool.ResetPeak();
        StepMemory.ResetPeakLentBytes();
        using (GradMode.NoGrad())
        using (StepMemory.Begin())
            _ = model.Forward(images);
        long kept = model.Parameters().Sum(p => p.Storage is CpuStorage s && s.DType == DType.Float32
            ? ConvWinograd.KeptBytes(s.Floats) + Backends.Cpu.Gemm.KeptBytes(s.Floats) : 0);
        return new MeasuredStep(model.StateDict().Values.Sum(Bytes), 0, 0, Bytes(images), StepMemory.PeakLentBytes,
            ScratchPool.PeakHeldBytes + kept, ScratchPool.PeakLentBytes);
    }

    private static long Bytes(Tensor t) => (long)t.NumEl * (t.DType == DType.Int64 ? sizeof(long) : sizeof(float));
}
