using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

/// <summary>Single-precision matrix product on the CPU: the entry point every kernel uses.</summary>
/// <remarks>
/// Products go through a BLIS-style blocked loop nest (Gemm.Blocked.cs) around a register-tile
/// micro-kernel chosen once for the machine: AVX-512 (8×32), AVX2+FMA (6×16) or portable
/// <see cref="System.Numerics.Vector{T}"/> (4×2V). Products with only a few rows of C take a direct
/// vectorised path (Gemm.Small.cs).
/// <see cref="GemmReference"/> is the oracle the tests hold every path to.
/// </remarks>
public static partial class Gemm
{
    // Packing pays even for tiny products (8³: 5 vs 3 GFLOP/s, 31³: 46 vs 6, against TensorPrimitives row
    // loops), except when C has only a few rows: packing then reads and writes all of B, which for a linear
    // layer at a small batch is the weight matrix and the whole cost, and an 8-row tile spends most of its FMAs
    // on zero padding. The direct path (Gemm.Small.cs) streams B once instead. Measured at 2 threads (ms,
    // packed → direct): 8×4096×9216 Bᵀ 11.3-11.8 → 5.2-6.4; 8×9216×4096 15.8-17.0 → 8.5-10.1; at 16 rows the
    // direct path loses on B as it lies (16×9216×4096: 15-18 → 43-55, C's 16 rows alias in L1), so 8 is the
    // limit there; on Bᵀ (dot products, nothing written until the end) 16 rows still win (12-14 → 9.3) and 32 lose
    // (15-16 → 20), but only over long dot products: with 16 rows and k = 100 (LeNet-5's second filter gradient, per
    // image) packed took 4.7 µs against 10.0, at k = 512 27 against 32, at k = 1024 75 against 61 (one thread).
    // With few columns as well the direct path's per-call overhead wins out, so those stay packed.
    private const int DirectMaxRows = 8, DirectMaxRowsBt = 16, DirectMinDepthBt = 1024, DirectMinColumns = 16;

    /// <summary>The micro-kernel families; the best the hardware has is the default, tests force the others.</summary>
    internal enum Isa { Vector, Avx2, Avx512 }

    /// <summary>Best kernel family this machine supports.</summary>
    internal static readonly Isa BestIsa = Avx512F.IsSupported ? Isa.Avx512
        : Fma.IsSupported && Avx2.IsSupported ? Isa.Avx2 : Isa.Vector;

    private static Isa _isa = BestIsa;

    /// <summary>Kernel family in use; tests set it to exercise the fallbacks. Throws if the CPU lacks it.</summary>
    internal static Isa ActiveIsa
    {
        get => _isa;
        set
        {
            if (value > BestIsa) throw new PlatformNotSupportedException($"this CPU cannot run the {value} GEMM kernel");
            _isa = value;
        }
    }

    // C[m,n] = op(A)[m,k]·op(B)[k,n] + beta·C[m,n]; row-major, op(X) = Xᵀ when its flag is set
    // (transA: A is stored k×m with leading dimension lda; transB: B is stored n×k with leading dimension ldb).
    // beta == 0 overwrites C without reading it, so stale NaNs there do not leak through.
    /// <summary>
    /// C = op(A)·op(B) + beta·C for row-major single-precision matrices with leading dimensions
    /// <paramref name="lda"/>, <paramref name="ldb"/>, <paramref name="ldc"/>.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc) =>
        Sgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, parallel: true);

    /// <summary>
    /// <see cref="Sgemm(bool, bool, int, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int)"/>
    /// on the calling thread only, for callers that already run one product per pool thread (a nested split would
    /// only add hand-offs).
    /// </summary>
    internal static void SgemmOneThread(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc) =>
        Sgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, parallel: false);

    private static unsafe void Sgemm(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, bool parallel)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"GEMM sizes must be non-negative, got m={m} n={n} k={k}");
        if (m == 0 || n == 0) return;
        CheckOperand("C", c.Length, m, n, ldc);
        if (k == 0)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        CheckOperand("A", a.Length, transA ? k : m, transA ? m : k, lda);
        CheckOperand("B", b.Length, transB ? n : k, transB ? k : n, ldb);

        fixed (float* pa = a, pb = b, pc = c)
        {
            if ((m <= DirectMaxRows || transB && m <= DirectMaxRowsBt && k >= DirectMinDepthBt) && n >= DirectMinColumns)
                Small(transA, transB, m, n, k, pa, lda, pb, ldb, beta, pc, ldc, parallel);
            else if (parallel) BlockedParallel(Config(_isa), transA, transB, m, n, k, pa, lda, pb, ldb, beta, pc, ldc);
            else Blocked(Config(_isa), transA, transB, m, n, k, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }

    private static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (ld < cols) throw new ArgumentException($"GEMM: leading dimension of {name} is {ld}, less than its {cols} columns");
        long need = (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"GEMM: {name} ({rows}×{cols}, leading dimension {ld}) needs {need} elements, got {length}");
    }

    // k == 0: the product is empty and only the beta term is left.
    private static void ScaleC(int m, int n, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }
}
