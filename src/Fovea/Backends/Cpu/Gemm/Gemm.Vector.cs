using System.Numerics;
using System.Runtime.CompilerServices;

namespace Fovea.Backends.Cpu;

public static partial class Gemm
{
    // Portable tile for machines without AVX2+FMA (Arm NEON, older x86): 4 rows × two Vector<float> wide.
    // Eight accumulators fit the 16 registers of SSE and the 32 of NEON alike; width follows the hardware.
    private const int VectorMr = 4;
    private static int VectorNr => 2 * Vector<float>.Count;

    // Same packed layout and beta rule as KernelAvx512, with 2·Vector<float>.Count-wide B slivers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelVector(int kc, float* a, float* b, float* c, nint ldc, float beta)
    {
        int w = Vector<float>.Count, nr = 2 * w;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector.Load(b);
            var b1 = Vector.Load(b + w);
            var av = new Vector<float>(a[0]);
            c00 = Vector.FusedMultiplyAdd(av, b0, c00);
            c01 = Vector.FusedMultiplyAdd(av, b1, c01);
            av = new Vector<float>(a[1]);
            c10 = Vector.FusedMultiplyAdd(av, b0, c10);
            c11 = Vector.FusedMultiplyAdd(av, b1, c11);
            av = new Vector<float>(a[2]);
            c20 = Vector.FusedMultiplyAdd(av, b0, c20);
            c21 = Vector.FusedMultiplyAdd(av, b1, c21);
            av = new Vector<float>(a[3]);
            c30 = Vector.FusedMultiplyAdd(av, b0, c30);
            c31 = Vector.FusedMultiplyAdd(av, b1, c31);
            a += VectorMr;
            b += nr;
        }
        var bv = new Vector<float>(beta);
        Put(c, c00, c01, w, beta, bv); c += ldc;
        Put(c, c10, c11, w, beta, bv); c += ldc;
        Put(c, c20, c21, w, beta, bv); c += ldc;
        Put(c, c30, c31, w, beta, bv);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Put(float* row, Vector<float> x0, Vector<float> x1, int w, float beta, Vector<float> bv)
        {
            if (beta != 0f)
            {
                x0 = Vector.FusedMultiplyAdd(bv, Vector.Load(row), x0);
                x1 = Vector.FusedMultiplyAdd(bv, Vector.Load(row + w), x1);
            }
            x0.Store(row);
            x1.Store(row + w);
        }
    }
}
