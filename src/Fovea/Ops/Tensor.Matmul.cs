using Fovea.Autograd;

namespace Fovea;

public partial class Tensor
{
    /// <summary>
    /// Matrix product: [m,k]·[k,n], or batched [..., m, k]·[..., k, n] where either side may be a single matrix
    /// shared by the batch.
    /// </summary>
    public Tensor MatMul(Tensor other)
    {
        RequireFloat("MatMul");
        other.RequireFloat("MatMul");
        if (Rank < 2 || other.Rank < 2)
            throw new ArgumentException($"matmul needs tensors of rank 2 or more, got {ShapeString} and {other.ShapeString}");
        int m = _shape[^2], k = _shape[^1], k2 = other._shape[^2], n = other._shape[^1];
        if (k != k2) throw new ArgumentException($"matmul: inner dimensions differ, {ShapeString} · {other.ShapeString}");
        int batchA = NumEl / (m * Math.Max(k, 1)), batchB = other.NumEl / (k * Math.Max(n, 1));
        if (batchA != batchB && batchA != 1 && batchB != 1)
            throw new ArgumentException($"matmul: batch sizes differ, {ShapeString} · {other.ShapeString}");
        int batch = Math.Max(batchA, batchB);
        var outShape = (batchA >= batchB ? _shape[..^2] : other._shape[..^2]).Concat(new[] { m, n }).ToArray();

        // A transposed view of a dense matrix is read in place by the GEMM's trans flag rather than copied.
        var (a, ta) = AsGemmOperand(this);
        var (b, tb) = AsGemmOperand(other);
        // The product overwrites y (beta 0), so it starts uninitialised.
        var y = new Tensor(Backend.AllocateUninitialized(DType.Float32, batch * m * n), outShape);
        Backend.Gemm(ta, tb, batch, m, n, k,
            a.Storage, a.Offset, ta ? m : k, batchA == 1 ? 0 : m * k,
            b.Storage, b.Offset, tb ? k : n, batchB == 1 ? 0 : k * n,
            0f, y.Storage, 0, n, m * n);
        var self = this;
        return Recorder.Record(y, "matmul", [this, other], g =>
        {
            var ga = g.MatMul(other.Transpose(-1, -2));
            var gb = self.Transpose(-1, -2).MatMul(g);
            return [ga.SumTo(self.Shape), gb.SumTo(other.Shape)];
        });
    }

    private static (Tensor t, bool transposed) AsGemmOperand(Tensor x)
    {
        if (x.IsContiguous) return (x, false);
        int r = x.Rank;
        // Dense in memory with the last two dims swapped?
        if (x._strides[r - 2] == 1 && x._strides[r - 1] == x._shape[r - 2] && (r == 2 || x.NumEl == x._shape[r - 1] * x._shape[r - 2]))
            return (x, true);
        return (x.Dense(), false);
    }
}
