using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

public static partial class Gemm
{
    // 8×32 tile: 16 zmm accumulators + 2 B vectors + 1 broadcast = 19 of the 32 zmm registers, so nothing
    // spills. Per k step it issues 16 FMAs against 2 vector loads and 8 scalar broadcasts; Zen 5 retires two
    // 512-bit FMAs per cycle (the measured peak, 64 flops a cycle), so 16 independent chains cover the
    // 4-cycle FMA latency twice over and the 10 loads stay under the load ports' limit. Eight rows rather than the
    // classic six: CNN channel counts (m in the im2col products) are multiples of 8, so m = 128 fills 16
    // tiles exactly where 6 rows would leave a 2-row edge tile (measured ~5% faster on 128×3136×1152, equal
    // on 2048³). Row-major C means the 32 columns are two contiguous vectors per row: no shuffles to store.
    private const int Avx512Mr = 8, Avx512Nr = 32;

    // a: MR-tall sliver, k-major (a[p·8 + i]); b: NR-wide sliver, k-major (b[p·32 + j]).
    // beta == 0 overwrites C without reading it (old contents may be NaN); otherwise C = acc + beta·C.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelAvx512(int kc, float* a, float* b, float* c, nint ldc, float beta)
    {
        // C sits in L3 or memory with rows a whole leading dimension apart, where the hardware prefetcher does
        // not follow; ask for its lines now so they arrive while the k loop runs, not when the tile is stored.
        // Three lines per row because a 128-byte row of an unaligned C straddles three.
        for (int i = 0; i < Avx512Mr; i++)
        {
            float* row = c + i * ldc;
            Sse.Prefetch0(row);
            Sse.Prefetch0(row + 16);
            Sse.Prefetch0(row + 31);
        }
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(av, b0, c60);
            c61 = Avx512F.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(av, b0, c70);
            c71 = Avx512F.FusedMultiplyAdd(av, b1, c71);
            a += Avx512Mr;
            b += Avx512Nr;
        }
        if (beta == 0f)
        {
            c00.Store(c); c01.Store(c + 16); c += ldc;
            c10.Store(c); c11.Store(c + 16); c += ldc;
            c20.Store(c); c21.Store(c + 16); c += ldc;
            c30.Store(c); c31.Store(c + 16); c += ldc;
            c40.Store(c); c41.Store(c + 16); c += ldc;
            c50.Store(c); c51.Store(c + 16); c += ldc;
            c60.Store(c); c61.Store(c + 16); c += ldc;
            c70.Store(c); c71.Store(c + 16);
        }
        else
        {
            var bv = Vector512.Create(beta);
            Update(c, c00, c01, bv); c += ldc;
            Update(c, c10, c11, bv); c += ldc;
            Update(c, c20, c21, bv); c += ldc;
            Update(c, c30, c31, bv); c += ldc;
            Update(c, c40, c41, bv); c += ldc;
            Update(c, c50, c51, bv); c += ldc;
            Update(c, c60, c61, bv); c += ldc;
            Update(c, c70, c71, bv);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Update(float* row, Vector512<float> x0, Vector512<float> x1, Vector512<float> bv)
        {
            Avx512F.FusedMultiplyAdd(bv, Vector512.Load(row), x0).Store(row);
            Avx512F.FusedMultiplyAdd(bv, Vector512.Load(row + 16), x1).Store(row + 16);
        }
    }

    // 8×16 tile for the last B sliver when 16 or fewer columns are left (n = 196 or 784, the 14² and 28²
    // feature maps, end in 4 and 16 columns): half the work of running the 32-wide tile on zero padding.
    // Eight accumulator chains still cover the FMA latency; the packed sliver is 16 wide.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelAvx512Half(int kc, float* a, float* b, float* c, nint ldc, float beta)
    {
        for (int i = 0; i < Avx512Mr; i++)
        {
            float* row = c + i * ldc;
            Sse.Prefetch0(row);
            Sse.Prefetch0(row + 15);
        }
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            a += Avx512Mr;
            b += Avx512Nr / 2;
        }
        if (beta == 0f)
        {
            c0.Store(c); c += ldc;
            c1.Store(c); c += ldc;
            c2.Store(c); c += ldc;
            c3.Store(c); c += ldc;
            c4.Store(c); c += ldc;
            c5.Store(c); c += ldc;
            c6.Store(c); c += ldc;
            c7.Store(c);
        }
        else
        {
            var bv = Vector512.Create(beta);
            Avx512F.FusedMultiplyAdd(bv, Vector512.Load(c), c0).Store(c); c += ldc;
            Avx512F.FusedMultiplyAdd(bv, Vector512.Load(c), c1).Store(c); c += ldc;
            Avx512F.FusedMultiplyAdd(bv, Vector512.Load(c), c2).Store(c); c += ldc;
            Avx512F.FusedMultiplyAdd(bv, Vector512.Load(c), c3).Store(c); c += ldc;
            Avx512F.FusedMultiplyAdd(bv, Vector512.Load(c), c4).Store(c); c += ldc;
            Avx512F.FusedMultiplyAdd(bv, Vector512.Load(c), c5).Store(c); c += ldc;
            Avx512F.FusedMultiplyAdd(bv, Vector512.Load(c), c6).Store(c); c += ldc;
            Avx512F.FusedMultiplyAdd(bv, Vector512.Load(c), c7).Store(c);
        }
    }
}
