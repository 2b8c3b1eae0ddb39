using Fovea.Autograd;

namespace Fovea;

// Reductions over one dimension (or all), arg-max and top-k.
public partial class Tensor
{
    private (int outer, int dim, int inner) Split(int d)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < d; i++) outer *= _shape[i];
        for (int i = d + 1; i < Rank; i++) inner *= _shape[i];
        return (outer, _shape[d], inner);
    }

    private int[] ReducedShape(int d, bool keepDim)
    {
        var s = new List<int>(_shape);
        if (keepDim) s[d] = 1; else s.RemoveAt(d);
        return [.. s];
    }

    private Tensor ReduceDim(ReduceOp op, int dim, bool keepDim)
    {
        RequireFloat(OpNames.Of(op));
        int d = Shapes.NormalizeDim(dim, Rank);
        var x = Dense();
        var (outer, size, inner) = x.Split(d);
        var y = x.NewLike(x.ReducedShape(d, keepDim));
        x.Backend.Reduce(op, x.Storage, outer, size, inner, y.Storage);
        var kept = x.ReducedShape(d, true);
        var inShape = x.Shape;
        return Recorder.Record(y, OpNames.Of(op), [x], g =>
        {
            var gk = g.Reshape(kept);
            return op switch
            {
                ReduceOp.Sum => [gk.Expand(inShape).Contiguous()],
                ReduceOp.Mean => [(gk * (1f / size)).Expand(inShape).Contiguous()],
                // The gradient goes to every position equal to the extreme (as torch.amax does, split evenly).
                _ => [ExtremeGrad(x, y.Reshape(kept), gk)],
            };
        });
    }

    private static Tensor ExtremeGrad(Tensor x, Tensor yk, Tensor gk)
    {
        var shape = x.Shape;
        var xv = x.ToArray();
        var yv = yk.Expand(shape).ToArray();
        var m = new float[xv.Length];
        for (int i = 0; i < m.Length; i++) m[i] = xv[i] == yv[i] ? 1f : 0f;
        var mask = FromArray(m, shape, x.Device);
        var count = mask.SumTo(yk.Shape);
        return mask * (gk / count).Expand(shape);
    }

    /// <summary>Sum over <paramref name="dim"/>.</summary>
    public Tensor Sum(int dim, bool keepDim = false) => ReduceDim(ReduceOp.Sum, dim, keepDim);
    /// <summary>Mean over <paramref name="dim"/>.</summary>
    public Tensor Mean(int dim, bool keepDim = false) => ReduceDim(ReduceOp.Mean, dim, keepDim);
    /// <summary>Maximum values over <paramref name="dim"/>.</summary>
    public Tensor Max(int dim, bool keepDim = false) => ReduceDim(ReduceOp.Max, dim, keepDim);
    public Tensor Min(int dim, bool keepDim = false) => ReduceDim(ReduceOp.Min, dim, keepDim);

    /// <summary>Sum of all elements, as a scalar tensor.</summary>
    public Tensor Sum() => Reshape(NumEl).Sum(0);
    public Tensor Mean() => Reshape(NumEl).Mean(0);
    public Tensor Max() => Reshape(NumEl).Max(0);
    public Tensor Min() => Reshape(NumEl).Min(0);

    /// <summary>Index of the maximum along <paramref name="dim"/>, as int64.</summary>
    public Tensor ArgMax(int dim, bool keepDim = false)
    {
        RequireFloat("ArgMax");
        int d = Shapes.NormalizeDim(dim, Rank);
        var x = Dense();
        var (outer, size, inner) = x.Split(d);
        var y = new Tensor(Backend.Allocate(DType.Int64, outer * inner), x.ReducedShape(d, keepDim));
        x.Backend.ArgMax(x.Storage, outer, size, inner, y.Storage);
        return y;
    }

    /// <summary>The k largest values along <paramref name="dim"/> (sorted, largest first) and their int64 indices.</summary>
    public (Tensor Values, Tensor Indices) TopK(int k, int dim = -1)
    {
        int d = Shapes.NormalizeDim(dim, Rank);
        if (k < 1 || k > _shape[d]) throw new ArgumentException($"top-k needs 1 <= k <= {_shape[d]}, got k={k}");
        var moved = Transpose(d, Rank - 1).Contiguous();
        var v = moved.Detach().ToArray();
        int size = _shape[d], rows = v.Length / size;
        var idx = new long[rows * k];
        var order = new int[size];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < size; i++) order[i] = i;
            int off = r * size;
            // Stable: equal values keep their original order, as in torch.topk on CPU.
            Array.Sort(order, (p, q) => v[off + q].CompareTo(v[off + p]) is var c && c != 0 ? c : p.CompareTo(q));
            for (int j = 0; j < k; j++) idx[r * k + j] = order[j];
        }
        var outShape = moved.Shape;
        outShape[^1] = k;
        var indices = FromArray(idx, outShape, Device);
        var values = moved.Gather(Rank - 1, indices);
        return (values.Transpose(d, Rank - 1).Contiguous(), indices.Transpose(d, Rank - 1).Contiguous());
    }

    /// <summary>torch.gather: picks elements along <paramref name="dim"/> at int64 <paramref name="index"/>.</summary>
    public Tensor Gather(int dim, Tensor index)
    {
        int d = Shapes.NormalizeDim(dim, Rank);
        if (index.DType != DType.Int64) throw new ArgumentException($"gather needs an int64 index, got {index.DType}");
        if (index.Rank != Rank) throw new ArgumentException($"gather index of rank {index.Rank} for a tensor of rank {Rank}");
        for (int i = 0; i < Rank; i++)
            if (i != d && index._shape[i] != _shape[i])
                throw new ArgumentException($"gather index shape {index.ShapeString} does not match {ShapeString} outside dim {d}");
        var x = Dense();
        var ix = index.Dense();
        var (outer, size, inner) = x.Split(d);
        int count = ix._shape[d];
        var y = x.NewLike(ix.Shape);
        x.Backend.Gather(x.Storage, outer, size, inner, ix.Storage, count, y.Storage);
        var inShape = x.Shape;
        return Recorder.Record(y, "gather", [x], g =>
        {
            var dx = Zeros(inShape, g.Device);
            x.Backend.ScatterAddAccumulate(g.Dense().Storage, outer, size, inner, ix.Storage, count, dx.Storage);
            return [dx];
        });
    }

    /// <summary>Joins tensors along <paramref name="dim"/>.</summary>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("cat needs at least one tensor");
        var first = tensors[0];
        int d = Shapes.NormalizeDim(dim, first.Rank);
        var shape = first.Shape;
        int total = 0;
        foreach (var t in tensors)
        {
            if (t.Rank != first.Rank) throw new ArgumentException($"cat: rank {t.Rank} differs from {first.Rank}");
            for (int i = 0; i < first.Rank; i++)
                if (i != d && t._shape[i] != shape[i])
                    throw new ArgumentException($"cat: shape {t.ShapeString} does not match {first.ShapeString} outside dim {d}");
            total += t._shape[d];
        }
        shape[d] = total;
        var y = new Tensor(first.Backend.Allocate(first.DType, Shapes.Count(shape)), shape);
        int at = 0;
        foreach (var t in tensors)
        {
            var window = new Tensor(y.Storage, t.Shape, y.Strides, at * y._strides[d]);
            var td = t.Dense();
            if (t.DType == DType.Float32) y.Backend.ScatterStrided(td.Storage, window._shape, y.Storage, window.Offset, window._strides);
            else
            {
                // int64 tensors are small (labels): move them through the host.
                var src = td.ToLongArray();
                var dst = y.ToLongArray();
                int[] strides = window._strides;
                var idx = new int[t.Rank];
                for (int i = 0; i < src.Length; i++)
                {
                    int o = window.Offset;
                    for (int k = 0; k < idx.Length; k++) o += idx[k] * strides[k];
                    dst[o] = src[i];
                    for (int k = idx.Length - 1; k >= 0; k--) { if (++idx[k] < t._shape[k]) break; idx[k] = 0; }
                }
                y = FromArray(dst, shape, first.Device);
            }
            at += t._shape[d];
        }
        var sizes = tensors.Select(t => t._shape[d]).ToArray();
        return Recorder.Record(y, "cat", [.. tensors], g =>
        {
            var grads = new Tensor?[sizes.Length];
            int s = 0;
            for (int i = 0; i < sizes.Length; i++) { grads[i] = g.Narrow(d, s, sizes[i]).Contiguous(); s += sizes[i]; }
            return grads;
        });
    }
}
