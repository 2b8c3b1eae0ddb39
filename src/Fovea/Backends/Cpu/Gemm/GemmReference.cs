namespace Fovea.Backends.Cpu;

/// <summary>The plain triple loop, in double precision: the oracle the fast GEMM is tested against.</summary>
public static class GemmReference
{
    // C[m,n] = Σ_k op(A)[m,k]·op(B)[k,n] + beta·C[m,n]; row-major with leading dimensions.
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    s += (double)av * bv;
                }
                c[i * ldc + j] = (float)(s + (beta == 0f ? 0 : (double)beta * c[i * ldc + j]));
            }
    }
}
