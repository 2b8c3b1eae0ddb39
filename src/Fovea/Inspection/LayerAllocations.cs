using Fovea.NN;
using ConvScratch = Fovea.Backends.Cpu.ConvScratch;

namespace Fovea.Inspection;

/// <summary>
/// One recorded op's backward as the autograd engine runs it: its closure lends <paramref name="Lends"/> bytes from the
/// step's pool, then the engine gives <paramref name="GivesBack"/> back: the gradient the op consumed (unless the op
/// passed it on as a view), and the gradients it made that were copied into a parameter's <c>Grad</c> or that no input
/// wants.
/// </summary>
internal readonly record struct BackwardOp(long Lends, long GivesBack);

/// <summary>
/// The bytes one layer's ops allocate on the CPU backend, read off the ops in Ops/ and NN/: each rule names the
/// buffers the forward and the backward closures make, and which of them the engine gives back when.
/// Views (flatten, transpose, squeeze) allocate nothing.
/// </summary>
/// <param name="Forward">Training forward: the buffers the step keeps (outputs and what backward needs).</param>
/// <param name="Backward">
/// The layer's recorded ops in the order the engine runs their backwards (the reverse of the forward's); null when the
/// layer records none or passes the gradient on as a view.
/// </param>
/// <param name="InferenceForward">Forward in evaluation mode without gradients.</param>
/// <param name="ForwardScratch">The convolution scratch of each forward pass, in order (buffer lengths in floats).</param>
/// <param name="BackwardScratch">The same for the backward passes, in the order they run.</param>
/// <param name="InferenceScratch">The forward passes' scratch in inference, where it differs from <paramref name="ForwardScratch"/>.</param>
/// <param name="InferenceKept">Bytes an inference forward keeps for the layer from one pass to the next (Winograd's transformed filters, a frozen linear layer's transposed weights).</param>
internal readonly record struct LayerAllocations(long Forward, BackwardOp[]? Backward, long InferenceForward, int[][]? ForwardScratch = null,
    int[][]? BackwardScratch = null, int[][]? InferenceScratch = null, long InferenceKept = 0)
{
    private const long F = sizeof(float);

    /// <summary>Bytes of the largest single scratch pass in training.</summary>
    public long Workspace => F * (ForwardScratch ?? []).Concat(BackwardScratch ?? []).Select(p => p.Sum(x => (long)x)).DefaultIfEmpty().Max();

    /// <summary>The scratch of each inference forward pass, in order.</summary>
    public int[][] InferencePasses => InferenceScratch ?? ForwardScratch ?? [];

    /// <summary>Bytes of the largest inference forward scratch pass, and what inference keeps.</summary>
    public long InferenceWorkspace => F * InferencePasses.Select(p => p.Sum(x => (long)x)).DefaultIfEmpty().Max() + InferenceKept;

    /// <summary>
    /// The allocations of <paramref name="module"/> taking <paramref name="input"/> to <paramref name="output"/>
    /// (batch first); <paramref name="inputNeedsGrad"/> when an earlier layer has parameters, so the input's gradient is made;
    /// <paramref name="previous"/> is the layer before (null for the first), whose last op decides whether an in-place
    /// ReLU may overwrite its output.
    /// </summary>
    public static LayerAllocations Of(Module module, int[] input, int[] output, bool inputNeedsGrad, Module? previous = null)
    {
        long i = MemoryFootprint.Count(input), o = MemoryFootprint.Count(output);
        bool hasParams = module.NamedParameters().Any();
        // An op records a backward only when an input needs a gradient (Recorder.Record); then each elementwise or
        // pooling op's backward makes one gradient the size of its input, and the one it read goes back.
        bool records = inputNeedsGrad || hasParams;
        BackwardOp[]? inputGrad = records ? [new(F * i, F * o)] : null;
        // An elementwise op's backward writes its input's gradient over the one it read, which the engine gives it as
        // spare: from the layer above, made during this backward and read by nothing else.
        BackwardOp[]? inPlaceGrad = records ? [new(0, 0)] : null;
        switch (module)
        {
            case Conv2d c:
                {
                    var (n, h, w) = (input[0], input[2], input[3]);
                    long pad = 0;
                    var pads = c.PadSides;
                    if (c.PaddingMode != PadMode.Zeros && c.Padded)
                    {
                        (h, w) = (h + pads.Top + pads.Bottom, w + pads.Left + pads.Right);
                        pad = (long)n * c.InChannels * h * w;
                        pads = (0, 0, 0, 0);
                    }
                    var g = c.Geometry(n, h, w, pads);
                    return Conv(g, c.Algorithm, inputNeedsGrad, pad, i, o, 0, c.Weight.Storage.Frozen);
                }
            case Conv1d c:
                {
                    var (n, len) = (input[0], input[2]);
                    long pad = 0;
                    var (left, right) = c.PadSides;
                    if (c.PaddingMode != PadMode.Zeros && left + right > 0)
                    {
                        len += left + right;
                        pad = (long)n * c.InChannels * len;
                        (left, right) = (0, 0);
                    }
                    var g = c.Geometry(n, len, (left, right));
                    // The weight reaches the 2-D convolution as a recorded [O, C, 1, K] view, so its gradient cannot go
                    // straight into Grad: the convolution lends it, and the view's backward, which copies it into Grad,
                    // runs only after every earlier layer's (the engine's depth-first order), so it is held to the end.
                    return Conv(g, c.Algorithm, inputNeedsGrad, pad, i, o, F * g.WeightCount, c.Weight.Storage.Frozen);
                }
            case Linear l:
                {
                    // One op, x·Wᵀ with the bias added into it in place. Its backward lends only the input's gradient, when
                    // wanted: dW and db go straight into Grad.
                    long rows = input[^1] == l.InFeatures ? i / l.InFeatures : input[0];
                    long y = F * rows * l.OutFeatures;
                    BackwardOp[] backward = [new(inputNeedsGrad ? F * rows * l.InFeatures : 0, F * o)];
                    // Frozen and large, at one row it runs from a kept transposed copy of the weights, with one scratch
                    // pass (Gemm.FrozenRow).
                    if (rows != 1 || !l.Weight.Storage.Frozen || !Backends.Cpu.Gemm.KeepsRows(l.OutFeatures, l.InFeatures)) return new(y, backward, y);
                    int[][] scratch = [[Backends.Cpu.Gemm.RowsScratch(l.OutFeatures, l.InFeatures)]];
                    return new(y, backward, y, scratch, InferenceKept: F * l.OutFeatures * l.InFeatures);
                }
            case ReLU r:
                {
                    // Recorded, a ReLU keeps a bit an element (int64 words) for its backward, which gives it back.
                    long mask = inputNeedsGrad ? sizeof(long) * (long)Backends.Cpu.ReluMaskKernels.Words((int)o) : 0;
                    long y = r.Inplace && ReluOverwrites(inputNeedsGrad, previous) ? 0 : F * o;
                    return new(y + mask, inputNeedsGrad ? [new(0, mask)] : null, r.Inplace ? 0 : F * o);
                }
            case LeakyReLU or Sigmoid or Tanh:
                return new(F * o, inPlaceGrad, F * o);
            case Softmax or LogSoftmax or MaxPool2d or AdaptiveAvgPool2d or AvgPool2d or SumPool2d:
                // Max pooling keeps no indices: its backward finds each maximum in the input again.
                return new(F * o, inputGrad, F * o);
            case Dropout d:
                // Training: a mask and x·mask. The product's backward makes g·mask for x and g·x for the mask, which wants
                // no gradient, so the latter goes back with the gradient read.
                return d.P == 0 ? default : new(2 * F * i, records ? [new(2 * F * i, F * o + F * i)] : null, 0);
            case LocalResponseNorm:
                // The output and the per-element scale its backward reads.
                return new(2 * F * o, inputGrad, 2 * F * o);
            case BatchNorm b:
                return BatchNormAllocations(b, i, o, records, inputNeedsGrad);
            case Flatten or Identity:
                return default;
            default:
                throw new NotSupportedException($"MemoryFootprint does not model the allocations of {module.TypeName} ({module.GetType().FullName})");
        }
    }

    // Tensor.ReluInPlace overwrites its input when nothing reads it later: always without gradients (no graph), and in
    // training when the input is a leaf that wants none or comes from an op whose backward does not read its output
    // (convolution, linear, batch norm, pooling); otherwise it makes a new tensor.
    private static bool ReluOverwrites(bool inputNeedsGrad, Module? previous) =>
        !inputNeedsGrad || previous is not null && ReadsOwnOutputUntilEnd(previous) is null;

    /// <summary>
    /// Whether <paramref name="module"/>'s output has a buffer of its own; otherwise it is its input's (a view, the
    /// input itself, or a ReLU written over it).
    /// </summary>
    public static bool MakesOwnOutput(Module module, bool inputNeedsGrad, Module? previous) => module switch
    {
        ReLU { Inplace: true } => !ReluOverwrites(inputNeedsGrad, previous),
        Flatten or Identity => false,
        Dropout d => d.P != 0,
        _ => true,
    };

    /// <summary>Whether <paramref name="module"/> records any op: with <paramref name="records"/> (an input or a parameter wants a gradient), all but those that pass their input on.</summary>
    public static bool RecordsOps(Module module, bool records) => records && module is not (Identity or Dropout { P: 0 });

    /// <summary>
    /// Where the backward of <paramref name="module"/> (which made its own output) stops reading that output
    /// (<see cref="Autograd.Node.ReadsOutput"/>): never (null); before its other ops (a 1-D convolution's output is a
    /// view whose backward runs first); or after its op (the elementwise ops, softmax, LRN, dropout).
    /// </summary>
    public static bool? ReadsOwnOutputUntilEnd(Module module) => module switch
    {
        Conv2d or Linear or BatchNorm or MaxPool2d or AvgPool2d or SumPool2d or AdaptiveAvgPool2d or ReLU => null,
        Conv1d => false,
        _ => true,
    };

    /// <summary>Whether <paramref name="module"/>'s recorded backward reads the values of its input (a ReLU keeps a mask instead).</summary>
    public static bool ReadsInput(Module module) => module is not ReLU;

    /// <summary>
    /// Whether <paramref name="module"/>'s backward writes its input's gradient over the input's buffer when it is the
    /// buffer's last reader (<see cref="Autograd.Engine.TryAdopt"/>): a 2-D convolution that makes the gradient and
    /// reads the layer's input itself (no padded copy), and the pools.
    /// </summary>
    public static bool AdoptsInput(Module module, bool inputNeedsGrad) => module switch
    {
        Conv2d c => inputNeedsGrad && (c.PaddingMode == PadMode.Zeros || !c.Padded),
        MaxPool2d or AvgPool2d or SumPool2d => true,
        _ => false,
    };

    // Functional.Conv2d: the output; backward the input's gradient when wanted (the weight's and the bias's go straight
    // into Grad), plus weightGrad when the weight is a view. A padding mode other than zeros first pads a copy
    // (Functional.Pad), whose backward turns the padded input's gradient into the input's. Frozen weights: inference keeps
    // no copy of them beside Winograd's transformed filters.
    private static LayerAllocations Conv(in ConvGeometry g, ConvAlgorithm algorithm, bool inputNeedsGrad, long pad, long i, long o, long weightGrad,
        bool frozen)
    {
        long forward = F * (pad + g.Batch * (long)g.OutputImageSize);
        long dx = inputNeedsGrad ? F * g.Batch * (long)g.InputImageSize : 0;
        var conv = new BackwardOp(dx + weightGrad, F * o);
        // Without an input gradient the pad records no backward: the images need none.
        BackwardOp[] backward = pad > 0 && inputNeedsGrad ? [conv, new(F * i, dx)] : [conv];
        // The filter gradient comes first in the backward closure (its last read of the input), then the data gradient.
        int[][] backwardScratch = inputNeedsGrad ? [ConvScratch.BackwardFilter(g), ConvScratch.BackwardData(g)] : [ConvScratch.BackwardFilter(g)];
        return new(forward, backward, forward, [ConvScratch.Forward(g, algorithm)], backwardScratch, [ConvScratch.Inference(g, algorithm)],
            F * ConvScratch.KeptFloats(g, algorithm, frozen));
    }

    // Functional.BatchNorm. Training: mean, variance and 1/sqrt(var + eps) ([C] each, the last through three ops), the
    // running statistics' two updates (three [C] ops each), the output; backward: dx (made even when the input wants
    // none, and then given straight back), dγ and dβ, which the engine copies into Grad and gives back. Evaluation
    // composes the per-channel affine map from broadcast ops: 1/sqrt(var + eps) (three ops), ·γ, −(mean·scale) (two),
    // +β, then x·scale and + shift over the whole input.
    private static LayerAllocations BatchNormAllocations(BatchNorm b, long i, long o, bool records, bool inputNeedsGrad)
    {
        long c = b.NumFeatures;
        bool affine = b.Weight is not null, running = b.RunningMean is not null;
        long forward = F * (3 * c + 3 * c + (running ? 6 * c : 0) + i);
        long parameterGrads = affine ? 2 * F * c : 0;
        BackwardOp[]? backward = records ? [new(F * i + parameterGrads, F * o + parameterGrads + (inputNeedsGrad ? 0 : F * i))] : null;
        long inference = running ? F * (3 * c + (affine ? 2 * c : 0) + 2 * c + 2 * i) : forward;
        return new(forward, backward, inference);
    }
}
