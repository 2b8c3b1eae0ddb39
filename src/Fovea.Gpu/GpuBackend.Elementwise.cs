using ILGPU;
using ILGPU.Runtime;
using Fovea.Gpu.Kernels;

namespace Fovea.Gpu;

// Element-wise ops, strided copies, reductions, gather and scatter: the kernels are in Kernels/ElementwiseKernels.cs
// and Kernels/ReduceKernels.cs.
public sealed partial class GpuBackend
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, StridedIndex, int>? _copyFloat;
    private Action<Index1D, ArrayView<long>, ArrayView<long>, StridedIndex, int>? _copyLong;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, StridedIndex>? _scatter;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, float>? _unary;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>? _unaryBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<long>, int>? _reluMasked;
    private Action<Index1D, ArrayView<long>, ArrayView<float>, ArrayView<float>>? _reluMaskedBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, StridedIndex, StridedIndex, int>? _binary;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, float>? _axpy;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int>? _reduceRows;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>? _reduceLines;
    private Action<Index1D, ArrayView<float>, ArrayView<long>, int, int>? _argMax;
    private Action<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, int, int, int>? _gather;
    private Action<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, int, int, int>? _scatterAdd;

    public void CopyStrided(Storage source, int offset, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, Storage destination, int destinationOffset)
    {
        int n = Shapes.Count(shape);
        if (n == 0) return;
        var index = StridedIndex.Create(shape, strides, offset);
        if (source.DType == DType.Float32)
            Kernel(ref _copyFloat, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, StridedIndex, int>(
                ElementwiseKernels.CopyStrided))(n, F(source), F(destination), index, destinationOffset);
        else
            Kernel(ref _copyLong, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<long>, StridedIndex, int>(
                ElementwiseKernels.CopyStrided))(n, L(source), L(destination), index, destinationOffset);
    }

    public void ScatterStrided(Storage source, ReadOnlySpan<int> shape, Storage destination, int offset, ReadOnlySpan<int> strides)
    {
        int n = Shapes.Count(shape);
        if (n == 0) return;
        Kernel(ref _scatter, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, StridedIndex>(ElementwiseKernels.ScatterStrided))(
            n, F(source), F(destination), StridedIndex.Create(shape, strides, offset));
    }

    public void Unary(UnaryOp op, Storage x, Storage y, int n, float alpha)
    {
        if (n == 0) return;
        Kernel(ref _unary, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float>(ElementwiseKernels.Unary))(
            n, F(x), F(y), (int)op, alpha);
    }

    public void ReluMasked(Storage x, Storage y, Storage mask, int n)
    {
        if (n == 0) return;
        Kernel(ref _reluMasked, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<long>, int>(ElementwiseKernels.ReluMasked))(
            (n + 63) / 64, F(x), F(y), L(mask), n);
    }

    public void ReluMaskedBackward(Storage mask, Storage dy, Storage dx, int n)
    {
        if (n == 0) return;
        Kernel(ref _reluMaskedBackward, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<float>, ArrayView<float>>(
            ElementwiseKernels.ReluMaskedBackward))(n, L(mask), F(dy), F(dx));
    }

    public void UnaryBackward(UnaryOp op, Storage x, Storage y, Storage dy, Storage dx, int n, float alpha)
    {
        if (n == 0) return;
        Kernel(ref _unaryBackward, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(
            ElementwiseKernels.UnaryBackward))(n, F(x), F(y), F(dy), F(dx), (int)op, alpha);
    }

    public void Binary(BinaryOp op, Storage a, int aOffset, ReadOnlySpan<int> aStrides, Storage b, int bOffset, ReadOnlySpan<int> bStrides,
        ReadOnlySpan<int> shape, Storage y)
    {
        int n = Shapes.Count(shape);
        if (n == 0) return;
        Kernel(ref _binary, k => k.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, StridedIndex, StridedIndex, int>(
            ElementwiseKernels.Binary))(n, F(a), F(b), F(y), StridedIndex.Create(shape, aStrides, aOffset), StridedIndex.Create(shape, bStrides, bOffset), (int)op);
    }

    public void Axpy(float alpha, Storage x, Storage y, int n)
    {
        if (n == 0) return;
        Kernel(ref _axpy, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(ElementwiseKernels.Axpy))(n, F(x), F(y), alpha);
    }

    public void Reduce(ReduceOp op, Storage x, int outer, int dim, int inner, Storage y)
    {
        if (outer * inner == 0) return;
        if (inner == 1)
            // A row per group: the row's elements are spread over the group's threads and summed in shared memory.
            Kernel(ref _reduceRows, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(ReduceKernels.Rows))(
                new KernelConfig(outer, ReduceGroup), F(x), F(y), dim, (int)op);
        else
            Kernel(ref _reduceLines, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(ReduceKernels.Lines))(
                outer * inner, F(x), F(y), dim, inner, (int)op);
    }

    public void ArgMax(Storage x, int outer, int dim, int inner, Storage indices)
    {
        if (outer * inner == 0) return;
        Kernel(ref _argMax, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, int, int>(ReduceKernels.ArgMax))(
            outer * inner, F(x), L(indices), dim, inner);
    }

    public void Gather(Storage x, int outer, int dim, int inner, Storage index, int count, Storage y)
    {
        if (outer * count * inner == 0) return;
        Kernel(ref _gather, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, int, int, int>(ReduceKernels.Gather))(
            outer * count * inner, F(x), L(index), F(y), dim, count, inner);
    }

    public void ScatterAddAccumulate(Storage dy, int outer, int dim, int inner, Storage index, int count, Storage dx)
    {
        if (outer * count * inner == 0) return;
        Kernel(ref _scatterAdd, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, int, int, int>(ReduceKernels.ScatterAdd))(
            outer * count * inner, F(dy), L(index), F(dx), dim, count, inner);
    }
}
