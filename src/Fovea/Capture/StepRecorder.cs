namespace Fovea;

/// <summary>
/// Stands in for the CPU backend while a step is captured: runs every call at once, as the step needs its results
/// to go on, and keeps a closure that makes the same call on the same buffers, for <see cref="CapturedStep.Replay"/>.
/// Spans the caller may reuse (shapes, strides) are copied; everything else the closures hold is what the call was
/// given, so a replay reads the step's inputs as they are then, and writes the same buffers the capture wrote.
/// </summary>
internal sealed class StepRecorder(IBackend backend) : IBackend
{
    private readonly List<Action> _calls = [];

    /// <summary>The calls recorded so far, in the order they ran.</summary>
    public Action[] Calls => [.. _calls];

    public string Name => backend.Name;

    // The pool lends a zeroed buffer, and some kernels add into theirs (a scatter, a filter gradient), so a replay
    // zeroes it where the capture was lent it: the buffer may have held another activation of the step until then.
    public Storage Allocate(DType dtype, int length)
    {
        var s = backend.Allocate(dtype, length);
        _calls.Add(() => backend.Fill(s, 0));
        return s;
    }

    // What the step wrote there is written again by the same kernel on replay, so there is nothing to replay.
    public Storage AllocateUninitialized(DType dtype, int length) => backend.AllocateUninitialized(dtype, length);

    // The storage wraps the array it is given, which a later op of the step may write over (an engine's spare
    // gradient): a replay puts the values back.
    public Storage FromHost(float[] data)
    {
        float[] values = [.. data];
        _calls.Add(() => values.CopyTo(data, 0));
        return backend.FromHost(data);
    }

    public Storage FromHost(long[] data)
    {
        long[] values = [.. data];
        _calls.Add(() => values.CopyTo(data, 0));
        return backend.FromHost(data);
    }

    public void ToHost(Storage source, int offset, Span<float> destination) => throw HostRead();
    public void ToHost(Storage source, int offset, Span<long> destination) => throw HostRead();

    private static NotSupportedException HostRead() => new(
        "a captured step cannot read tensor values on the host (Item, ToArray, or an op computed on the host): a replay " +
        "runs only the recorded kernels and would not repeat the read. Read the step's outputs after Replay(), or run " +
        "this step without capturing it");

    public void Fill(Storage destination, float value)
    {
        backend.Fill(destination, value);
        _calls.Add(() => backend.Fill(destination, value));
    }

    public void CopyStrided(Storage source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Storage destination, int destinationOffset)
    {
        backend.CopyStrided(source, offset, shape, strides, destination, destinationOffset);
        int[] sh = shape.ToArray(), st = strides.ToArray();
        _calls.Add(() => backend.CopyStrided(source, offset, sh, st, destination, destinationOffset));
    }

    public void ScatterStrided(Storage source, ReadOnlySpan<int> shape, Storage destination, int offset, ReadOnlySpan<int> strides)
    {
        backend.ScatterStrided(source, shape, destination, offset, strides);
        int[] sh = shape.ToArray(), st = strides.ToArray();
        _calls.Add(() => backend.ScatterStrided(source, sh, destination, offset, st));
    }

    public void Unary(UnaryOp op, Storage x, Storage y, int n, float alpha) =>
        Run(() => backend.Unary(op, x, y, n, alpha));

    public void UnaryBackward(UnaryOp op, Storage x, Storage y, Storage dy, Storage dx, int n, float alpha) =>
        Run(() => backend.UnaryBackward(op, x, y, dy, dx, n, alpha));

    public void ReluMasked(Storage x, Storage y, Storage mask, int n) => Run(() => backend.ReluMasked(x, y, mask, n));

    public void ReluMaskedBackward(Storage mask, Storage dy, Storage dx, int n) => Run(() => backend.ReluMaskedBackward(mask, dy, dx, n));

    public void Binary(BinaryOp op, Storage a, int aOffset, ReadOnlySpan<int> aStrides, Storage b, int bOffset, ReadOnlySpan<int> bStrides,
        ReadOnlySpan<int> shape, Storage y)
    {
        int[] sa = aStrides.ToArray(), sb = bStrides.ToArray(), sh = shape.ToArray();
        Run(() => backend.Binary(op, a, aOffset, sa, b, bOffset, sb, sh, y));
    }

    public void Axpy(float alpha, Storage x, Storage y, int n) => Run(() => backend.Axpy(alpha, x, y, n));

    public void Reduce(ReduceOp op, Storage x, int outer, int dim, int inner, Storage y) =>
        Run(() => backend.Reduce(op, x, outer, dim, inner, y));

    public void ArgMax(Storage x, int outer, int dim, int inner, Storage indices) =>
        Run(() => backend.ArgMax(x, outer, dim, inner, indices));

    public void Gather(Storage x, int outer, int dim, int inner, Storage index, int count, Storage y) =>
        Run(() => backend.Gather(x, outer, dim, inner, index, count, y));

    public void ScatterAddAccumulate(Storage dy, int outer, int dim, int inner, Storage index, int count, Storage dx) =>
        Run(() => backend.ScatterAddAccumulate(dy, outer, dim, inner, index, count, dx));

    public void Gemm(bool transA, bool transB, int batch, int m, int n, int k, Storage a, int aOffset, int lda, int strideA,
        Storage b, int bOffset, int ldb, int strideB, float beta, Storage c, int cOffset, int ldc, int strideC) =>
        Run(() => backend.Gemm(transA, transB, batch, m, n, k, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, beta, c, cOffset, ldc, strideC));

    public void Conv2d(in ConvGeometry g, ConvAlgorithm algorithm, Storage x, Storage w, Storage? bias, Storage y, bool relu = false, bool inference = false)
    {
        var geo = g;
        Run(() => backend.Conv2d(geo, algorithm, x, w, bias, y, relu, inference));
    }

    public void Conv2dBackwardData(in ConvGeometry g, Storage dy, Storage w, Storage dx)
    {
        var geo = g;
        Run(() => backend.Conv2dBackwardData(geo, dy, w, dx));
    }

    public void Conv2dBackwardFilter(in ConvGeometry g, Storage x, Storage dy, Storage dw, Storage? dbias)
    {
        var geo = g;
        Run(() => backend.Conv2dBackwardFilter(geo, x, dy, dw, dbias));
    }

    public ConvAlgorithm ChooseConvAlgorithm(in ConvGeometry g, bool inference = false) => backend.ChooseConvAlgorithm(g, inference);

    public void Pad2d(in PadGeometry g, Storage x, Storage y)
    {
        var geo = g;
        Run(() => backend.Pad2d(geo, x, y));
    }

    public void Pad2dBackward(in PadGeometry g, Storage dy, Storage dx)
    {
        var geo = g;
        Run(() => backend.Pad2dBackward(geo, dy, dx));
    }

    public void Pool2d(in PoolGeometry g, PoolKind kind, Storage x, Storage y)
    {
        var geo = g;
        Run(() => backend.Pool2d(geo, kind, x, y));
    }

    public void Pool2dBackward(in PoolGeometry g, PoolKind kind, Storage x, Storage dy, Storage dx)
    {
        var geo = g;
        Run(() => backend.Pool2dBackward(geo, kind, x, dy, dx));
    }

    public void AdaptiveAvgPool2d(int planes, int inH, int inW, int outH, int outW, Storage x, Storage y) =>
        Run(() => backend.AdaptiveAvgPool2d(planes, inH, inW, outH, outW, x, y));

    public void AdaptiveAvgPool2dBackward(int planes, int inH, int inW, int outH, int outW, Storage dy, Storage dx) =>
        Run(() => backend.AdaptiveAvgPool2dBackward(planes, inH, inW, outH, outW, dy, dx));

    public void Softmax(bool log, Storage x, int outer, int dim, int inner, Storage y) =>
        Run(() => backend.Softmax(log, x, outer, dim, inner, y));

    public void SoftmaxBackward(bool log, Storage y, Storage dy, int outer, int dim, int inner, Storage dx) =>
        Run(() => backend.SoftmaxBackward(log, y, dy, outer, dim, inner, dx));

    public void BatchNormStatistics(Storage x, int n, int c, int s, Storage mean, Storage variance) =>
        Run(() => backend.BatchNormStatistics(x, n, c, s, mean, variance));

    public void BatchNormApply(Storage x, int n, int c, int s, Storage mean, Storage invStd, Storage? gamma, Storage? beta, Storage y) =>
        Run(() => backend.BatchNormApply(x, n, c, s, mean, invStd, gamma, beta, y));

    public void BatchNormBackward(Storage x, Storage dy, int n, int c, int s, Storage mean, Storage invStd, Storage? gamma,
        Storage dx, Storage? dgamma, Storage? dbeta) =>
        Run(() => backend.BatchNormBackward(x, dy, n, c, s, mean, invStd, gamma, dx, dgamma, dbeta));

    public void LocalResponseNorm(Storage x, int n, int c, int s, int size, float alpha, float beta, float k, Storage y, Storage scale) =>
        Run(() => backend.LocalResponseNorm(x, n, c, s, size, alpha, beta, k, y, scale));

    public void LocalResponseNormBackward(Storage x, Storage y, Storage scale, Storage dy, int n, int c, int s, int size, float alpha,
        float beta, Storage dx) =>
        Run(() => backend.LocalResponseNormBackward(x, y, scale, dy, n, c, s, size, alpha, beta, dx));

    // The generator, not a seed drawn from it, is what the closure keeps: each replay draws a new mask.
    public void DropoutMask(Storage mask, int n, float p, Generator generator) => Run(() => backend.DropoutMask(mask, n, p, generator));

    public void SgdStep(Storage param, Storage grad, Storage? momentumBuffer, int n, float lr, float momentum, float dampening,
        bool nesterov, float weightDecay, bool firstStep) => throw OptimizerStep();

    public void AdamStep(Storage param, Storage grad, Storage m, Storage v, int n, float lr, float beta1, float beta2, float eps,
        float weightDecay, bool decoupled, int step) => throw OptimizerStep();

    private static NotSupportedException OptimizerStep() => new(
        "an optimiser's step cannot be captured: its learning rate, step count and first-step rule change from step to " +
        "step, and a replay would repeat the values of the capture. Call optimizer.Step() after Replay()");

    private void Run(Action call)
    {
        call();
        _calls.Add(call);
    }
}
