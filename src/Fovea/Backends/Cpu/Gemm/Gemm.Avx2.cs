using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

public static partial class Gemm
{
    // 6×16 tile for AVX2+FMA machines: 12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm
    // registers, the largest tile that fits without spills. Two FMA ports × 5-cycle latency need ≥10
    // independent chains; 12 covers it.
    private const int Avx2Mr = 6, Avx2Nr = 16;

    // Same packed layout and beta rule as KernelAvx512, with 16-wide B slivers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelAvx2(int kc, float* a, float* b, float* c, nint ldc, float beta)
    {
        // As in KernelAvx512: fetch the C tile's lines (two or three per 64-byte row) while the k loop runs.
        for (int i = 0; i < Avx2Mr; i++)
        {
            float* row = c + i * ldc;
            Sse.Prefetch0(row);
            Sse.Prefetch0(row + 15);
        }
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var av = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(av, b0, c00);
            c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(av, b0, c10);
            c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(av, b0, c20);
            c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(av, b0, c30);
            c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(av, b0, c40);
            c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(av, b0, c50);
            c51 = Fma.MultiplyAdd(av, b1, c51);
            a += Avx2Mr;
            b += Avx2Nr;
        }
        if (beta == 0f)
        {
            c00.Store(c); c01.Store(c + 8); c += ldc;
            c10.Store(c); c11.Store(c + 8); c += ldc;
            c20.Store(c); c21.Store(c + 8); c += ldc;
            c30.Store(c); c31.Store(c + 8); c += ldc;
            c40.Store(c); c41.Store(c + 8); c += ldc;
            c50.Store(c); c51.Store(c + 8);
        }
        else
        {
            var bv = Vector256.Create(beta);
            Update(c, c00, c01, bv); c += ldc;
            Update(c, c10, c11, bv); c += ldc;
            Update(c, c20, c21, bv); c += ldc;
            Update(c, c30, c31, bv); c += ldc;
            Update(c, c40, c41, bv); c += ldc;
            Update(c, c50, c51, bv);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Update(float* row, Vector256<float> x0, Vector256<float> x1, Vector256<float> bv)
        {
            Fma.MultiplyAdd(bv, Vector256.Load(row), x0).Store(row);
            Fma.MultiplyAdd(bv, Vector256.Load(row + 8), x1).Store(row + 8);
        }
    }
}
