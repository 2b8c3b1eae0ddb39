using Fovea.NN;
using ScratchPoolSimulation = Fovea.Backends.Cpu.ScratchPoolSimulation;

namespace Fovea.Inspection;

/// <summary>
/// How many bytes a model needs on the CPU backend for one training step (forward, cross-entropy loss, backward,
/// optimiser step) and for inference at a given batch, per layer and in total, worked out from the layers' shapes
/// and what Fovea's ops really allocate (nothing runs).
/// </summary>
/// <remarks>
/// <para><b>A step keeps its forward until the backward has read it, and its backward's gradients only while they
/// are read.</b> Inside <see cref="StepMemory.Begin"/> every buffer the forward and the loss lend (activations, what
/// the ops keep for backward) stays lent until the step ends, except the outputs a <see cref="Sequential"/> passes
/// between its layers, which go back once their last reader's backward has run. The autograd engine gives each
/// activation gradient back once its consumers have read it, element-wise ops write their input's gradient over the
/// one they read, and convolution and linear layers write their parameters' gradients straight into <c>Grad</c>. So
/// the training peak is the forward's sum plus the most the backward holds at once over it, found by playing the
/// backward's ops in the engine's order (the loss, then the layers in reverse) with a running total. In inference
/// under a step scope every layer's output stays until the batch is done, so that is a sum.</para>
/// <para><b>Outside the step's pool</b> live the parameters and buffers, the gradients (<c>Grad</c>, made under
/// <see cref="StepMemory.Persistent"/>), the optimiser's state, the input batch, and the convolution kernels' scratch,
/// which comes from a pool of its own: each pass's buffers are sized by the kernels' own chunking and banding
/// (<c>Backends/Cpu/Conv/ConvScratch</c>) and played through the pool's rules, since the pool keeps buffers across
/// passes. Where a pass's chunks may run side by side, they are counted as if they do.</para>
/// <para>Layers are visited as <see cref="ModelSummary"/> visits them, so the same limits apply (forward order of
/// Sequential-style models; a Flatten in Forward is a view). <see cref="LocalContrastNorm"/> is not modelled.</para>
/// </remarks>
public sealed class MemoryFootprint
{
    private MemoryFootprint(int batch, FootprintOptimizer optimizer, IReadOnlyList<LayerMemory> layers, long inputBytes, long labelBytes, long lossBytes,
        long backwardBytes, long workspaceBytes, long inferenceWorkspaceBytes)
    {
        BackwardBytes = backwardBytes;
        WorkspaceBytes = workspaceBytes;
        InferenceWorkspaceBytes = inferenceWorkspaceBytes;
        Batch = batch;
        Optimizer = optimizer;
        Layers = layers;
        InputBytes = inputBytes;
        LabelBytes = labelBytes;
        LossBytes = lossBytes;
    }

    /// <summary>The batch the estimate is for.</summary>
    public int Batch { get; }

    /// <summary>The optimiser whose state is counted.</summary>
    public FootprintOptimizer Optimizer { get; }

    /// <summary>Every leaf layer in forward order.</summary>
    public IReadOnlyList<LayerMemory> Layers { get; }

    /// <summary>The input images (float32).</summary>
    public long InputBytes { get; }

    /// <summary>The int64 labels of a training batch.</summary>
    public long LabelBytes { get; }

    /// <summary>The cross-entropy loss's forward buffers, which stay lent through the backward (its gradients count in <see cref="BackwardBytes"/>).</summary>
    public long LossBytes { get; }

    /// <summary>Sum of the layers' parameters and buffers.</summary>
    public long ParametersBytes => Layers.Sum(l => l.ParametersBytes);

    /// <summary>Sum of the layers' gradients.</summary>
    public long GradientsBytes => Layers.Sum(l => l.GradientsBytes);

    /// <summary>Sum of the optimiser's state.</summary>
    public long OptimizerBytes => Layers.Sum(l => l.OptimizerBytes);

    /// <summary>Sum of the training forward's buffers.</summary>
    public long ActivationsBytes => Layers.Sum(l => l.ActivationsBytes);

    /// <summary>
    /// The most the backward (the loss's and the layers') holds from the step's pool at once, over the forward's
    /// buffers: the largest of the layers' <see cref="LayerMemory.BackwardBytes"/> and the loss's own.
    /// </summary>
    public long BackwardBytes { get; }

    /// <summary>
    /// What the convolution scratch pool holds at its peak over a training step's passes (forward in order, then
    /// backward in reverse), lent or kept idle, starting from an empty pool: at least the largest single pass, more
    /// when the pool keeps earlier passes' buffers that later ones cannot use.
    /// </summary>
    public long WorkspaceBytes { get; }

    /// <summary>
    /// The same over inference's forward passes, plus what they keep from one pass to the next: Winograd's transformed
    /// filters and the copy of the weights they are checked against (5x the layer's weights; 4x frozen), and a frozen
    /// large linear layer's transposed weights at batch 1.
    /// </summary>
    public long InferenceWorkspaceBytes { get; }

    /// <summary>The most one training step's pool lends at once: the forward's and the loss's buffers, and the backward's peak.</summary>
    public long StepBytes => ActivationsBytes + LossBytes + BackwardBytes;

    /// <summary>The peak of a training step: everything above at once.</summary>
    public long TrainingBytes => ParametersBytes + GradientsBytes + OptimizerBytes + InputBytes + LabelBytes + StepBytes + WorkspaceBytes;

    /// <summary>The peak of inference: parameters, the input, every layer's output and the largest scratch.</summary>
    public long InferenceBytes => ParametersBytes + InputBytes + Layers.Sum(l => l.InferenceActivationsBytes) + InferenceWorkspaceBytes;

    /// <summary>
    /// Estimates <paramref name="model"/> for inputs of shape <paramref name="inputShape"/> (C, H, W without the batch)
    /// at <paramref name="batch"/>, training with <paramref name="optimizer"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A bad shape or batch, as for <see cref="ModelSummary.Compute"/>.</exception>
    /// <exception cref="NotSupportedException">A layer whose allocations are not modelled.</exception>
    public static MemoryFootprint Estimate(Module model, int[] inputShape, int batch, FootprintOptimizer optimizer = FootprintOptimizer.SgdMomentum)
    {
        var summary = ModelSummary.Compute(model, inputShape, batch);
        var modules = model.NamedModules().Where(m => !m.Module.NamedChildren().Any()).Select(m => m.Module).ToList();
        int stateTensors = optimizer switch { FootprintOptimizer.SgdMomentum => 1, FootprintOptimizer.Adam => 2, _ => 0 };
        var allocations = new List<LayerAllocations>(modules.Count);
        int[] shape = summary.InputShape;
        bool inputNeedsGrad = false; // the images need none; everything after a layer with parameters does
        // Which buffer each layer's output lives in (the index of the layer that made it; -1: the images), whether the
        // output carries a graph, whether the layer records ops, whether its input wants a gradient, and the output's bytes.
        var owner = new int[modules.Count];
        var graph = new bool[modules.Count];
        var recordsOps = new bool[modules.Count];
        var needsGrad = new bool[modules.Count];
        var outputBytes = new long[modules.Count];
        for (int i = 0; i < modules.Count; i++)
        {
            var previous = i > 0 ? modules[i - 1] : null;
            bool hasParams = modules[i].NamedParameters().Any();
            allocations.Add(LayerAllocations.Of(modules[i], shape, summary.Layers[i].OutputShape, inputNeedsGrad, previous));
            owner[i] = LayerAllocations.MakesOwnOutput(modules[i], inputNeedsGrad, previous) ? i : i > 0 ? owner[i - 1] : -1;
            recordsOps[i] = LayerAllocations.RecordsOps(modules[i], inputNeedsGrad || hasParams);
            needsGrad[i] = inputNeedsGrad;
            inputNeedsGrad |= hasParams;
            graph[i] = inputNeedsGrad;
            outputBytes[i] = 4 * Count(summary.Layers[i].OutputShape);
            shape = summary.Layers[i].OutputShape;
        }
        var (releasedBefore, releasedAfter, adopted) = TransientReleases(model, modules, owner, graph, recordsOps, needsGrad, outputBytes);
        // In inference a Sequential runs a Conv2d and the ReLU after it as one op, so that ReLU makes no output of its own.
        var fused = model.NamedModules().Select(m => m.Module).OfType<Sequential>()
            .SelectMany(s => Enumerable.Range(0, s.Count).Where(s.FusesRelu).Select(i => s[i + 1])).ToHashSet(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < modules.Count; i++)
            if (fused.Contains(modules[i])) allocations[i] = allocations[i] with { InferenceForward = 0 };

        // The backward in the engine's order, from the forward's buffers: what each op lends on top of what is held,
        // then what goes back after it, and the activations whose last reader has run.
        long held = 0, peak = 0;
        long Run(BackwardOp op)
        {
            long top = held + op.Lends;
            peak = Math.Max(peak, top);
            held = top - op.GivesBack;
            return top;
        }
        foreach (var op in CrossEntropyBackward(summary.OutputShape)) Run(op);
        var backward = new long[modules.Count];
        for (int i = modules.Count - 1; i >= 0; i--)
        {
            held -= releasedBefore[i];
            backward[i] = held;
            bool first = true;
            foreach (var op in allocations[i].Backward ?? [])
            {
                // The op that takes its input's buffer for the input's gradient lends none for it.
                backward[i] = Math.Max(backward[i], Run(first ? op with { Lends = op.Lends - adopted[i] } : op));
                first = false;
            }
            held -= releasedAfter[i];
        }

        var layers = new List<LayerMemory>(modules.Count);
        for (int i = 0; i < modules.Count; i++)
        {
            var module = modules[i];
            var a = allocations[i];
            long paramFloats = module.NamedParameters().Sum(p => (long)Shapes.Count(p.Parameter.Shape));
            long bufferFloats = module.NamedBuffers().Sum(b => (long)Shapes.Count(b.Buffer.Shape));
            layers.Add(new LayerMemory(summary.Layers[i].Name, summary.Layers[i].Type, 4 * (paramFloats + bufferFloats), 4 * paramFloats,
                4 * stateTensors * paramFloats, a.Forward, Math.Max(0, backward[i]), a.Workspace, a.InferenceForward, a.InferenceWorkspace));
        }
        var training = new ScratchPoolSimulation();
        var inference = new ScratchPoolSimulation();
        foreach (var pass in allocations.SelectMany(a => a.ForwardScratch ?? [])) training.Pass(pass);
        foreach (var pass in Enumerable.Reverse(allocations).SelectMany(a => a.BackwardScratch ?? [])) training.Pass(pass);
        foreach (var pass in allocations.SelectMany(a => a.InferencePasses)) inference.Pass(pass);
        long images = 4 * Count(summary.InputShape);
        return new MemoryFootprint(batch, optimizer, layers, images, 8L * batch, CrossEntropyForwardBytes(summary.OutputShape),
            peak, 4 * training.PeakHeldFloats, 4 * inference.PeakHeldFloats + allocations.Sum(a => a.InferenceKept));
    }

    /// <summary>
    /// The outputs a <see cref="Sequential"/> passes between its layers go back to the step's pool once the backward has
    /// read them (<see cref="StepMemory.MarkTransient"/>): plays each Sequential's marking as its Forward does, innermost
    /// first, and returns the bytes given back before and after each layer's backward ops, and the bytes each layer's
    /// first op takes over for its input's gradient. A buffer goes back after its lowest reader: the layer that made it
    /// when that layer's backward reads its output, otherwise the first later layer on it whose backward reads its input;
    /// with no reader, after the last layer on it that records an op (a ReLU, which keeps a mask). When its only reader is
    /// a layer that adopts its input (<see cref="LayerAllocations.AdoptsInput"/>), that layer's input gradient takes it
    /// instead: it is then given back as a gradient, once read.
    /// </summary>
    private static (long[] Before, long[] After, long[] Adopted) TransientReleases(Module model, List<Module> leaves, int[] owner, bool[] graph,
        bool[] recordsOps, bool[] needsGrad, long[] outputBytes)
    {
        var index = new Dictionary<Module, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < leaves.Count; i++) index.TryAdd(leaves[i], i);
        var marked = new HashSet<int>();
        (int First, int Last) Walk(Module m)
        {
            if (index.TryGetValue(m, out int leaf)) return (leaf, leaf);
            var children = m.NamedChildren().Select(c => Walk(c.Module)).Where(r => r.Last >= 0).ToList();
            if (children.Count == 0) return (int.MaxValue, -1);
            int first = children[0].First, last = children[^1].Last;
            if (m is Sequential)
            {
                int input = first > 0 ? owner[first - 1] : -1;
                foreach (var (_, childLast) in children.Take(children.Count - 1))
                    if (graph[childLast] && owner[childLast] >= 0 && owner[childLast] != input) marked.Add(owner[childLast]);
                if (owner[last] != input) marked.Remove(owner[last]); // the caller's output, which may share a layer's buffer
            }
            return (first, last);
        }
        Walk(model);

        var before = new long[leaves.Count];
        var after = new long[leaves.Count];
        var adopted = new long[leaves.Count];
        foreach (int p in marked)
        {
            if (recordsOps[p] && LayerAllocations.ReadsOwnOutputUntilEnd(leaves[p]) is { } toEnd)
            {
                (toEnd ? after : before)[p] += outputBytes[p];
                continue;
            }
            int firstReader = -1, readers = 0, lastHolder = recordsOps[p] ? p : -1;
            for (int j = p + 1; j < leaves.Count && owner[j - 1] == p; j++)
            {
                if (!recordsOps[j]) continue;
                lastHolder = j;
                if (!LayerAllocations.ReadsInput(leaves[j])) continue;
                readers++;
                if (firstReader < 0) firstReader = j;
            }
            if (readers == 1 && LayerAllocations.AdoptsInput(leaves[firstReader], needsGrad[firstReader])) adopted[firstReader] += outputBytes[p];
            else if (firstReader >= 0) after[firstReader] += outputBytes[p];
            else if (lastHolder >= 0) after[lastHolder] += outputBytes[p];
        }
        return (before, after, adopted);
    }

    /// <summary>The largest batch <see cref="LargestBatch"/> tries unless told otherwise.</summary>
    public const int DefaultMaxBatch = 1 << 20;

    /// <summary>
    /// The largest batch whose training step fits in <paramref name="budgetBytes"/> (0 when not even one image does),
    /// searched on the estimate, which grows with the batch; at most <paramref name="maxBatch"/> (which then means
    /// "this or more").
    /// </summary>
    public static int LargestBatch(Module model, int[] inputShape, long budgetBytes, FootprintOptimizer optimizer = FootprintOptimizer.SgdMomentum,
        int maxBatch = DefaultMaxBatch)
    {
        bool Fits(int b) => Estimate(model, inputShape, b, optimizer).TrainingBytes <= budgetBytes;
        if (!Fits(1)) return 0;
        int lo = 1, hi = 2; // Fits(lo); grow hi until it does not
        while (hi <= maxBatch && Fits(hi)) (lo, hi) = (hi, 2 * hi);
        if (hi > maxBatch)
        {
            if (Fits(maxBatch)) return maxBatch;
            hi = maxBatch;
        }
        while (hi - lo > 1)
        {
            int mid = lo + (hi - lo) / 2;
            if (Fits(mid)) lo = mid; else hi = mid;
        }
        return lo;
    }

    // Functional.CrossEntropy on logits [N, C, ...] with mean reduction. Forward: log-softmax [N, C, ...], the gathered
    // [N, 1, ...], its negation [N, ...], the mean (1).
    private static long CrossEntropyForwardBytes(int[] logits)
    {
        long all = Count(logits), picked = all / logits[1];
        return 4 * (all + 2 * picked + 1);
    }

    // Its backward, op by op: the seed (1, never given back) and the mean's scaled gradient (1) expanded to a dense
    // [N, ...], a copy unless that is one element (then the view is already dense and the scaled buffer is the
    // gradient; otherwise no gradient the engine sees, so it stays lent); the negation's [N, ...]; the gather's scatter
    // [N, C, ...]; log-softmax's [N, C, ...], which the last layer reads. Each gives back the gradient it read.
    private static BackwardOp[] CrossEntropyBackward(int[] logits)
    {
        long all = Count(logits), picked = all / logits[1];
        return [new(4 * (2 + (picked > 1 ? picked : 0)), 0), new(4 * picked, 4 * picked), new(4 * all, 4 * picked), new(4 * all, 4 * all)];
    }

    internal static long Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }
}
