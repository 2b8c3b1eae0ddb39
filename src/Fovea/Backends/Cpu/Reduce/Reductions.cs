using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>Reductions, arg-max, gather and scatter over the middle axis of x viewed as [outer, dim, inner].</summary>
internal static class Reductions
{
    public static void Reduce(ReduceOp op, float[] x, int outer, int dim, int inner, float[] y)
    {
        if (inner == 1)
        {
            // Rows are contiguous: one SIMD reduction per row.
            for (int o = 0; o < outer; o++)
            {
                var row = x.AsSpan(o * dim, dim);
                y[o] = op switch
                {
                    ReduceOp.Sum => TensorPrimitives.Sum(row),
                    ReduceOp.Mean => TensorPrimitives.Sum(row) / dim,
                    ReduceOp.Max => TensorPrimitives.Max(row),
                    ReduceOp.Min => TensorPrimitives.Min(row),
                    _ => throw new ArgumentOutOfRangeException(nameof(op)),
                };
            }
            return;
        }
        // Accumulate whole inner rows at a time so the loads stay sequential.
        for (int o = 0; o < outer; o++)
        {
            var acc = y.AsSpan(o * inner, inner);
            x.AsSpan(o * dim * inner, inner).CopyTo(acc);
            for (int d = 1; d < dim; d++)
            {
                var row = x.AsSpan((o * dim + d) * inner, inner);
                switch (op)
                {
                    case ReduceOp.Sum or ReduceOp.Mean: TensorPrimitives.Add(acc, row, acc); break;
                    case ReduceOp.Max: TensorPrimitives.Max(acc, row, acc); break;
                    case ReduceOp.Min: TensorPrimitives.Min(acc, row, acc); break;
                }
            }
            if (op == ReduceOp.Mean) TensorPrimitives.Multiply(acc, 1f / dim, acc);
        }
    }

    public static void ArgMax(float[] x, int outer, int dim, int inner, long[] indices)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bv = x[o * dim * inner + i];
                for (int d = 1; d < dim; d++)
                {
                    float v = x[(o * dim + d) * inner + i];
                    if (v > bv || float.IsNaN(v) && !float.IsNaN(bv)) { bv = v; best = d; }
                }
                indices[o * inner + i] = best;
            }
    }

    public static void Gather(float[] x, int outer, int dim, int inner, long[] index, int count, float[] y)
    {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < count; j++)
                for (int i = 0; i < inner; i++)
                {
                    int at = (o * count + j) * inner + i;
                    long k = index[at];
                    if ((ulong)k >= (ulong)dim) throw new ArgumentException($"index {k} is out of range for a dimension of size {dim}");
                    y[at] = x[(o * dim + (int)k) * inner + i];
                }
    }

    public static void ScatterAdd(float[] dy, int outer, int dim, int inner, long[] index, int count, float[] dx)
    {
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < count; j++)
                for (int i = 0; i < inner; i++)
                {
                    int at = (o * count + j) * inner + i;
                    dx[(o * dim + (int)index[at]) * inner + i] += dy[at];
                }
    }
}
