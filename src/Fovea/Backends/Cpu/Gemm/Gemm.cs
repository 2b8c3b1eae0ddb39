using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>Single-precision matrix product on the CPU: the entry point every kernel uses.</summary>
public static class Gemm
{
    // C[m,n] = op(A)[m,k]·op(B)[k,n] + beta·C; row-major with leading dimensions.
    // Row-at-a-time axpy form: simple and vectorised along n; the packed, blocked version replaces the body.
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        float[]? bt = null;
        if (transB)
        {
            bt = new float[k * n];
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++) bt[p * n + j] = b[j * ldb + p];
            b = bt;
            ldb = n;
        }
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(row, beta, row);
            for (int p = 0; p < k; p++)
            {
                float av = transA ? a[p * lda + i] : a[i * lda + p];
                if (av != 0f) TensorPrimitives.MultiplyAdd(b.Slice(p * ldb, n), av, row, row);
            }
        }
    }
}
