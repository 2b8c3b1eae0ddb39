using Fovea.NN;
using ConvScratch = Fovea.Backends.Cpu.ConvScratch;

namespace Fovea.Inspection;

/// <summary>
/// The bytes one layer's ops allocate on the CPU backend, read off the ops in Ops/ and NN/: each rule names the
/// buffers the forward and the backward closure make. Views (flatten, transpose, squeeze) allocate nothing.
/// </summary>
/// <param name="Forward">Training forward: the buffers the step keeps (outputs and what backward needs).</param>
/// <param name="Backward">Backward closures' buffers.</param>
/// <param name="InferenceForward">Forward in evaluation mode without gradients.</param>
/// <param name="ForwardScratch">The convolution scratch of each forward pass, in order (buffer lengths in floats).</param>
/// <param name="BackwardScratch">The same for the backward passes, in the order they run.</param>
internal readonly record struct LayerAllocations(long Forward, long Backward, long InferenceForward, int[][]? ForwardScratch = null, int[][]? BackwardScratch = null)
{
    private const long F = sizeof(float), L = sizeof(long);

    /// <summary>Bytes of the largest single scratch pass in training.</summary>
    public long Workspace => F * (ForwardScratch ?? []).Concat(BackwardScratch ?? []).Select(p => p.Sum(x => (long)x)).DefaultIfEmpty().Max();

    /// <summary>Bytes of the largest forward scratch pass.</summary>
    public long InferenceWorkspace => F * (ForwardScratch ?? []).Select(p => p.Sum(x => (long)x)).DefaultIfEmpty().Max();

    /// <summary>
    /// The allocations of <paramref name="module"/> taking <paramref name="input"/> to <paramref name="output"/>
    /// (batch first); <paramref name="inputNeedsGrad"/> when an earlier layer has parameters, so the input's gradient is made.
    /// </summary>
    public static LayerAllocations Of(Module module, int[] input, int[] output, bool inputNeedsGrad)
    {
        long i = MemoryFootprint.Count(input), o = MemoryFootprint.Count(output);
        bool hasParams = module.NamedParameters().Any();
        // An op records a backward only when an input needs a gradient (Recorder.Record); then each elementwise or
        // pooling op's backward makes one gradient the size of its input.
        bool records = inputNeedsGrad || hasParams;
        long inputGrad = records ? F * i : 0;
        switch (module)
        {
            case Conv2d c:
                {
                    var (n, h, w) = (input[0], input[2], input[3]);
                    long pad = 0;
                    var pads = (c.Padding.H, c.Padding.W);
                    if (c.PaddingMode != PadMode.Zeros && (c.Padding.H > 0 || c.Padding.W > 0))
                    {
                        // Functional.Pad first makes a padded copy (and its backward a gradient the input's size).
                        (h, w) = (h + 2 * c.Padding.H, w + 2 * c.Padding.W);
                        pad = (long)n * c.InChannels * h * w;
                        pads = (0, 0);
                    }
                    var g = ConvGeometry.Create(n, c.InChannels, h, w, c.OutChannels, c.KernelSize.H, c.KernelSize.W, c.Stride.H, c.Stride.W,
                        pads.Item1, pads.Item2, c.Dilation.H, c.Dilation.W, c.Groups);
                    return Conv(g, c.Algorithm, c.Bias is not null, inputNeedsGrad, F * pad, pad > 0 && inputNeedsGrad ? F * i : 0);
                }
            case Conv1d c:
                {
                    var (n, len) = (input[0], input[2]);
                    long pad = 0;
                    int padding = c.Padding;
                    if (c.PaddingMode != PadMode.Zeros && c.Padding > 0)
                    {
                        len += 2 * c.Padding;
                        pad = (long)n * c.InChannels * len;
                        padding = 0;
                    }
                    var g = ConvGeometry.Create(n, c.InChannels, 1, len, c.OutChannels, 1, c.KernelSize, 1, c.Stride, 0, padding, 1, c.Dilation, c.Groups);
                    return Conv(g, c.Algorithm, c.Bias is not null, inputNeedsGrad, F * pad, pad > 0 && inputNeedsGrad ? F * i : 0);
                }
            case Linear l:
                {
                    // x·Wᵀ (Wᵀ is a view the GEMM reads transposed), then + b. Backward: the bias's gradient is the output
                    // gradient summed over every leading dimension, one Sum(0) at a time; MatMul's backward makes both
                    // g·W and xᵀ·g whatever needs them, the latter per batch matrix and then summed down to [in, out].
                    int[] x = input[^1] == l.InFeatures ? input : [input[0], l.InFeatures];
                    long rows = MemoryFootprint.Count(x.AsSpan(0, x.Length - 1));
                    long y = rows * l.OutFeatures, matrices = rows / x[^2];
                    long forward = F * y * (l.Bias is null ? 1 : 2);
                    long backward = F * rows * l.InFeatures + F * matrices * l.InFeatures * l.OutFeatures
                        + SumDown(x.Length - 2, x, 1L * l.InFeatures * l.OutFeatures);
                    if (l.Bias is not null) backward += SumDown(x.Length - 1, x, l.OutFeatures);
                    return new(forward, backward, forward);
                }
            case ReLU or LeakyReLU or Sigmoid or Tanh or Softmax or LogSoftmax or AdaptiveAvgPool2d or AvgPool2d or SumPool2d:
                return new(F * o, inputGrad, F * o);
            case MaxPool2d:
                // The int64 index of each maximum is made even without gradients.
                return new(F * o + L * o, inputGrad, F * o + L * o);
            case Dropout d:
                // Training: a mask and x·mask; the product's backward makes g·mask and g·x (the mask's, unused).
                return d.P == 0 ? default : new(2 * F * i, records ? 2 * F * i : 0, 0);
            case LocalResponseNorm:
                // The output and the per-element scale its backward reads.
                return new(2 * F * o, inputGrad, 2 * F * o);
            case BatchNorm b:
                return BatchNormAllocations(b, i, records);
            case Flatten or Identity:
                return default;
            default:
                throw new NotSupportedException($"MemoryFootprint does not model the allocations of {module.TypeName} ({module.GetType().FullName})");
        }
    }

    // Functional.Conv2d: the output; backward the input's gradient (when wanted), the weight's and the bias's.
    private static LayerAllocations Conv(in ConvGeometry g, ConvAlgorithm algorithm, bool bias, bool inputNeedsGrad, long padForward, long padBackward)
    {
        long forward = padForward + F * g.Batch * (long)g.OutputImageSize;
        long backward = padBackward + F * (g.WeightCount + (bias ? g.OutChannels : 0));
        if (inputNeedsGrad) backward += F * g.Batch * (long)g.InputImageSize;
        // The data gradient comes first in the backward closure, then the filter's.
        int[][] backwardScratch = inputNeedsGrad ? [ConvScratch.BackwardData(g), ConvScratch.BackwardFilter(g)] : [ConvScratch.BackwardFilter(g)];
        return new(forward, backward, forward, [ConvScratch.Forward(g, algorithm)], backwardScratch);
    }

    // Tensor.SumTo from a gradient of shape lead + tail down to tail: Sum(0) over each of the first `lead` dims, each
    // a new buffer of what remains.
    private static long SumDown(int lead, int[] x, long tail)
    {
        long bytes = 0;
        for (int k = 1; k <= lead; k++) bytes += F * MemoryFootprint.Count(x.AsSpan(k, lead - k)) * tail;
        return bytes;
    }

    // Functional.BatchNorm. Training: mean, variance and 1/sqrt(var + eps) ([C] each, the last through three ops), the
    // running statistics' two updates (three [C] ops each), the output; backward: dx, dγ, dβ. Evaluation composes the
    // per-channel affine map from broadcast ops: 1/sqrt(var + eps) (three ops), ·γ, −(mean·scale) (two), +β, then
    // x·scale and + shift over the whole input.
    private static LayerAllocations BatchNormAllocations(BatchNorm b, long i, bool records)
    {
        long c = b.NumFeatures;
        bool affine = b.Weight is not null, running = b.RunningMean is not null;
        long forward = F * (3 * c + 3 * c + (running ? 6 * c : 0) + i);
        long backward = records ? F * (i + (affine ? 2 * c : 0)) : 0;
        long inference = running ? F * (3 * c + (affine ? 2 * c : 0) + 2 * c + 2 * i) : forward;
        return new(forward, backward, inference);
    }
}
