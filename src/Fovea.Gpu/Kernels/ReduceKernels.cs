using ILGPU;
using ILGPU.Algorithms;

namespace Fovea.Gpu.Kernels;

/// <summary>
/// Reductions over the middle axis of x viewed as [outer, dim, inner], arg-max, and gather / scatter-add. A
/// contiguous row (inner = 1) is reduced by one thread group through shared memory; otherwise each thread walks one
/// (outer, inner) line, which is coalesced across threads because neighbours differ in the inner index.
/// </summary>
internal static class ReduceKernels
{
    // x [rows, dim] → y [rows]; one group per row.
    public static void Rows(ArrayView<float> x, ArrayView<float> y, int dim, int op)
    {
        var shared = SharedMemory.Allocate<float>(GroupSum.MaxGroup);
        int row = Grid.IdxX, t = Group.IdxX, size = Group.DimX;
        float acc = Identity(op);
        for (int d = t; d < dim; d += size) acc = Combine(op, acc, x[row * dim + d]);
        shared[t] = acc;
        Group.Barrier();
        for (int half = size / 2; half > 0; half /= 2)
        {
            if (t < half) shared[t] = Combine(op, shared[t], shared[t + half]);
            Group.Barrier();
        }
        if (t == 0) y[row] = op == (int)ReduceOp.Mean ? shared[0] / dim : shared[0];
    }

    // x [outer, dim, inner] → y [outer, inner]; one thread per output.
    public static void Lines(Index1D i, ArrayView<float> x, ArrayView<float> y, int dim, int inner, int op)
    {
        int o = i / inner, k = i % inner;
        float acc = Identity(op);
        for (int d = 0; d < dim; d++) acc = Combine(op, acc, x[(o * dim + d) * inner + k]);
        y[i] = op == (int)ReduceOp.Mean ? acc / dim : acc;
    }

    private static float Identity(int op) => op == (int)ReduceOp.Max ? float.NegativeInfinity : op == (int)ReduceOp.Min ? float.PositiveInfinity : 0f;

    private static float Combine(int op, float a, float b)
    {
        if (op == (int)ReduceOp.Max) return XMath.IsNaN(a) || XMath.IsNaN(b) ? float.NaN : a > b ? a : b;
        if (op == (int)ReduceOp.Min) return XMath.IsNaN(a) || XMath.IsNaN(b) ? float.NaN : a < b ? a : b;
        return a + b;
    }

    // x [outer, dim, inner] → indices [outer, inner]: the first maximum; a NaN wins over numbers.
    public static void ArgMax(Index1D i, ArrayView<float> x, ArrayView<long> indices, int dim, int inner)
    {
        int o = i / inner, k = i % inner, best = 0;
        float bv = x[o * dim * inner + k];
        for (int d = 1; d < dim; d++)
        {
            float v = x[(o * dim + d) * inner + k];
            if (v > bv || XMath.IsNaN(v) && !XMath.IsNaN(bv)) { bv = v; best = d; }
        }
        indices[i] = best;
    }

    // y [outer, count, inner] = x[o, index[o, j, i], i]; an index out of range gives NaN, since a kernel cannot throw.
    public static void Gather(Index1D at, ArrayView<float> x, ArrayView<long> index, ArrayView<float> y, int dim, int count, int inner)
    {
        int o = at / (count * inner), k = at % inner;
        long j = index[at];
        y[at] = j >= 0 && j < dim ? x[(o * dim + (int)j) * inner + k] : float.NaN;
    }

    // dx[o, index[o, j, i], i] += dy[o, j, i]: atomics, since several j may pick the same row.
    public static void ScatterAdd(Index1D at, ArrayView<float> dy, ArrayView<long> index, ArrayView<float> dx, int dim, int count, int inner)
    {
        int o = at / (count * inner), k = at % inner;
        long j = index[at];
        if (j >= 0 && j < dim) Atomic.Add(ref dx[(o * dim + (int)j) * inner + k], dy[at]);
    }
}
