using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

public static partial class Gemm
{
    // Products with at most DirectMaxRows rows of C (vector-matrix products: a batch-of-one linear layer):
    // packing B for an 8-row tile would waste most of the kernel's FMAs, so work straight from the caller's
    // layout with TensorPrimitives' vector loops.
    // op(B) not transposed: C row i accumulates a(i,p)·B row p (axpy along n, unit stride).
    // op(B) transposed: C(i,j) is the dot product of A row i and B row j (both along k, unit stride once A's
    // row is gathered when A is stored transposed).
    [ThreadStatic] private static float[]? t_smallRow;

    private static void Small(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (!transB)
        {
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * ldc, n);
                if (beta == 0f) row.Clear();
                else if (beta != 1f) TensorPrimitives.Multiply(row, beta, row);
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    TensorPrimitives.MultiplyAdd(b.Slice(p * ldb, n), av, row, row);
                }
            }
            return;
        }
        Span<float> gathered = transA ? (t_smallRow is { } buf && buf.Length >= k ? buf : t_smallRow = new float[Math.Max(k, 64)]).AsSpan(0, k) : default;
        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<float> arow;
            if (transA)
            {
                for (int p = 0; p < k; p++) gathered[p] = a[p * lda + i];
                arow = gathered;
            }
            else arow = a.Slice(i * lda, k);
            var crow = c.Slice(i * ldc, n);
            for (int j = 0; j < n; j++)
            {
                float dot = TensorPrimitives.Dot(arow, b.Slice(j * ldb, k));
                crow[j] = beta == 0f ? dot : dot + beta * crow[j];
            }
        }
    }
}
