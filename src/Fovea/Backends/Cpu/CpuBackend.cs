namespace Fovea.Backends.Cpu;

/// <summary>
/// The managed CPU backend: unwraps storages to spans and calls the kernels in the folders beside this file.
/// Split by family (this file: memory, element-wise, reductions, optimisers; the others: convolution, pooling
/// and normalisation).
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    public static CpuBackend Instance { get; } = new();

    private CpuBackend() { }

    public string Name => "cpu";

    internal static float[] F(Storage s) => ((CpuStorage)s).Floats;
    internal static long[] L(Storage s) => ((CpuStorage)s).Longs;

    public Storage Allocate(DType dtype, int length)
    {
        if (dtype == DType.Int64) return new CpuStorage(StepMemory.RentLongs(length) ?? new long[length]);
        return new CpuStorage(StepMemory.RentFloats(length) ?? new float[length]);
    }

    public Storage AllocateUninitialized(DType dtype, int length)
    {
        if (dtype == DType.Int64) return new CpuStorage(StepMemory.RentLongs(length, clear: false) ?? GC.AllocateUninitializedArray<long>(length));
        return new CpuStorage(StepMemory.RentFloats(length, clear: false) ?? GC.AllocateUninitializedArray<float>(length));
    }

    public Storage FromHost(float[] data) => new CpuStorage(data);
    public Storage FromHost(long[] data) => new CpuStorage(data);

    public void ToHost(Storage source, int offset, Span<float> destination) => F(source).AsSpan(offset, destination.Length).CopyTo(destination);
    public void ToHost(Storage source, int offset, Span<long> destination) => L(source).AsSpan(offset, destination.Length).CopyTo(destination);

    public void Fill(Storage destination, float value)
    {
        if (destination.DType == DType.Float32) F(destination).AsSpan().Fill(value);
        else L(destination).AsSpan().Fill((long)value);
    }

    public void CopyStrided(Storage source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Storage destination, int destinationOffset)
    {
        if (source.DType == DType.Float32) StridedCopy.Run<float>(F(source), offset, shape, strides, F(destination).AsSpan(destinationOffset));
        else StridedCopy.Run<long>(L(source), offset, shape, strides, L(destination).AsSpan(destinationOffset));
    }

    public void ScatterStrided(Storage source, ReadOnlySpan<int> shape, Storage destination, int offset, ReadOnlySpan<int> strides) =>
        StridedCopy.Scatter(F(source), shape, F(destination), offset, strides);

    // Element-wise passes stream memory: a large one is split into contiguous chunks over the threads (each element
    // is computed alone, so the result does not depend on the split).
    public void Unary(UnaryOp op, Storage x, Storage y, int n, float alpha) =>
        CpuParallel.ForChunks(n, UnaryKernels.WorkPerElement, new UnaryChunks(op, F(x), F(y), alpha));

    private readonly struct UnaryChunks(UnaryOp op, float[] x, float[] y, float alpha) : CpuParallel.IChunks
    {
        public void Run(int s, int e) => UnaryKernels.Forward(op, x.AsSpan(s, e - s), y.AsSpan(s, e - s), alpha);
    }

    public void UnaryBackward(UnaryOp op, Storage x, Storage y, Storage dy, Storage dx, int n, float alpha) =>
        CpuParallel.ForChunks(n, UnaryKernels.WorkPerElement, new UnaryBackwardChunks(op, F(x), F(y), F(dy), F(dx), alpha));

    private readonly struct UnaryBackwardChunks(UnaryOp op, float[] x, float[] y, float[] dy, float[] dx, float alpha) : CpuParallel.IChunks
    {
        public void Run(int s, int e) =>
            UnaryKernels.Backward(op, x.AsSpan(s, e - s), y.AsSpan(s, e - s), dy.AsSpan(s, e - s), dx.AsSpan(s, e - s), alpha);
    }

    // Split by whole mask words, so that no two threads write bits of one word.
    public void ReluMasked(Storage x, Storage y, Storage mask, int n) =>
        CpuParallel.ForChunks(ReluMaskKernels.Words(n), ReluMaskKernels.Bits * UnaryKernels.WorkPerElement,
            new ReluMaskedWords(F(x), F(y), L(mask), n));

    // Words [s, e) of the mask and the elements they cover.
    private readonly struct ReluMaskedWords(float[] x, float[] y, long[] mask, int n) : CpuParallel.IChunks
    {
        public void Run(int s, int e)
        {
            int from = s * ReluMaskKernels.Bits, to = Math.Min(n, e * ReluMaskKernels.Bits);
            ReluMaskKernels.Forward(x.AsSpan(from, to - from), y.AsSpan(from, to - from), mask.AsSpan(s, e - s));
        }
    }

    public void ReluMaskedBackward(Storage mask, Storage dy, Storage dx, int n) =>
        CpuParallel.ForChunks(ReluMaskKernels.Words(n), ReluMaskKernels.Bits * UnaryKernels.WorkPerElement,
            new ReluMaskedBackwardWords(L(mask), F(dy), F(dx), n));

    private readonly struct ReluMaskedBackwardWords(long[] mask, float[] dy, float[] dx, int n) : CpuParallel.IChunks
    {
        public void Run(int s, int e)
        {
            int from = s * ReluMaskKernels.Bits, to = Math.Min(n, e * ReluMaskKernels.Bits);
            ReluMaskKernels.Backward(mask.AsSpan(s, e - s), dy.AsSpan(from, to - from), dx.AsSpan(from, to - from));
        }
    }

    public void Binary(BinaryOp op, Storage a, int aOffset, ReadOnlySpan<int> aStrides, Storage b, int bOffset, ReadOnlySpan<int> bStrides,
        ReadOnlySpan<int> shape, Storage y) =>
        BinaryKernels.Run(op, F(a), aOffset, aStrides, F(b), bOffset, bStrides, shape, F(y));

    public void Axpy(float alpha, Storage x, Storage y, int n)
    {
        var ys = F(y).AsSpan(0, n);
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(F(x).AsSpan(0, n), alpha, ys, ys);
    }

    public void Reduce(ReduceOp op, Storage x, int outer, int dim, int inner, Storage y) =>
        Reductions.Reduce(op, F(x), outer, dim, inner, F(y));

    public void ArgMax(Storage x, int outer, int dim, int inner, Storage indices) =>
        Reductions.ArgMax(F(x), outer, dim, inner, L(indices));

    public void Gather(Storage x, int outer, int dim, int inner, Storage index, int count, Storage y) =>
        Reductions.Gather(F(x), outer, dim, inner, L(index), count, F(y));

    public void ScatterAddAccumulate(Storage dy, int outer, int dim, int inner, Storage index, int count, Storage dx) =>
        Reductions.ScatterAdd(F(dy), outer, dim, inner, L(index), count, F(dx));

    public void DropoutMask(Storage mask, int n, float p, Generator generator) =>
        OptimizerKernels.DropoutMask(F(mask).AsSpan(0, n), p, generator.NextUInt64());

    public void SgdStep(Storage param, Storage grad, Storage? momentumBuffer, int n, float lr, float momentum, float dampening,
        bool nesterov, float weightDecay, bool firstStep) =>
        OptimizerKernels.Sgd(F(param), F(grad), momentumBuffer is null ? null : F(momentumBuffer), n,
            lr, momentum, dampening, nesterov, weightDecay, firstStep);

    public void AdamStep(Storage param, Storage grad, Storage m, Storage v, int n, float lr, float beta1, float beta2, float eps,
        float weightDecay, bool decoupled, int step) =>
        OptimizerKernels.Adam(F(param).AsSpan(0, n), F(grad).AsSpan(0, n), F(m).AsSpan(0, n), F(v).AsSpan(0, n),
            lr, beta1, beta2, eps, weightDecay, decoupled, step);
}
