using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

// Inference with too few tiles for blocks side by side (VGG-16's 28x28 layers at batch 1), its transformed filters kept.
internal static partial class ConvWinograd
{
    /// <summary>
    /// Filters per sliver of a kept U run by filters (<see cref="TransformEveryFilter"/> writes them): two vectors, the
    /// width of <see cref="Tile8x32"/>.
    /// </summary>
    private const int KeptSliver = 32;

    /// <summary>
    /// How far ahead (floats) <see cref="Tile8x32"/> touches its sliver of U, which comes from memory once per call.
    /// 1x384x13x13 → 256 at 2 threads, products alone: 256 floats 60 GFMA/s a thread, 1024 and 2048 70-77.
    /// </summary>
    private const int SliverAhead = 1024;

    /// <summary>
    /// Fewest tiles an inference plan runs by kept slivers; with fewer it runs by filters, transforming them on every
    /// call, and the chooser leaves such layers to the training rules. Kept slivers against the direct kernel (ms, 2
    /// threads, alternated call by call): at 49 tiles 1x512x28x28 → 512 10.4-10.9 → 7.5-7.9, 1x256x28x28 → 512
    /// 5.1-5.2 → 3.8-4.1; at 64 4x512x14x14 → 512 10.6-10.9 → 8.5-8.6; but at 16 1x512x14x14 → 512 2.8-3.0 →
    /// 3.3-3.4 and AlexNet's 13x13 layers 0.6-1.7 → 0.9-2.7, where the weight check and the input transform weigh
    /// as much as the products. Whole AlexNet forwards, each way captured once and alternated: at batch 4 (64 tiles)
    /// 21.0 → 19.5 and 19.9 → 18.5 ms, at batch 2 (32) 13.3 → 13.8 and 12.8 → 12.5, even, so 32 tiles stay direct
    /// and do not hold U. 5x5 kernels (four parts, 4x the channels) stay out: AlexNet's at batch 1 (49 tiles) took
    /// 1.4-1.5 ms direct against 1.9-2.2 from slivers.
    /// </summary>
    private const int MinSliverTiles = 48;

    /// <summary>Whether an inference plan with few tiles keeps its filters as slivers: the kernel needs AVX-512.</summary>
    private static bool KeepsSlivers => Avx512F.IsSupported;

    // Each thread takes a run of the filter chunks: it transforms the block's input itself, streams its slivers of the
    // kept U once from memory through the products, and transforms its outputs. With U transformed on every call
    // (ForwardByFilters) these shapes lost to the direct kernel; kept, the products read 4x the weights' bytes but do
    // 2.25-4x fewer multiply-adds. V is the thread's own: shared, both cores read all of it, and the next call's
    // transform waited for its lines to come back (1x384x13x13: 0.34 ms on two threads against 0.11 on one).
    private static void ForwardByKeptSlivers(in ConvGeometry g, Plan p, float[] x, float[] w, float[]? bias, float[] y, float floor, bool frozen)
    {
        var u = KeptTransform(g, p, w, frozen);
        for (int b = 0; b < p.Blocks; b++)
        {
            int t0 = b * p.BlockTiles, count = Math.Min(p.BlockTiles, p.Tiles - t0);
            CpuParallel.ForChunks(p.FilterChunks, ChunkWork(g, p, count), new KeptSliverChunks(g, p, x, u, t0, count, bias, y, floor));
        }
    }

    /// <summary>Filter chunks [start, end) for the block's tiles [t0, t0 + count), on one thread.</summary>
    private readonly struct KeptSliverChunks(ConvGeometry g, Plan p, float[] x, float[] u, int t0, int count, float[]? bias, float[] y, float floor)
        : CpuParallel.IChunks
    {
        public void Run(int start, int end)
        {
            var v = ScratchPool.Rent(Points * p.VPlane);
            var m = ScratchPool.Rent(Points * p.MPlane);
            TransformInput(g, p, x, t0, count, 0, Channels(g), v);
            for (int k = start; k < end; k++)
            {
                int o0 = k * p.FilterChunk, o1 = Math.Min(g.OutChannels, o0 + p.FilterChunk);
                SliverProducts(p, Channels(g), o0, o1, count, u, v, m);
                TransformOutputByFilters(g, p, m, t0, count, o0, o1, bias, y, floor);
            }
            ScratchPool.Return(v);
            ScratchPool.Return(m);
        }
    }

    // M_ξᵀ [count, filters] = V_ξᵀ · U_ξ for the 36 ξ and the filters [o0, o1) (M [36, Ld, FilterChunk], a tile per
    // row): each 32-filter sliver of U meets 8 tiles at a time. The first 8 bring it from memory; the later ones find
    // it in cache. The extra tiles of a last group of 8 read V's columns past the block's tiles, whatever they hold,
    // into rows of M that are never read (each row of M comes from its own column of V).
    private static unsafe void SliverProducts(in Plan p, int c, int o0, int o1, int count, float[] u, float[] v, float[] m)
    {
        fixed (float* pu = u, pv = v, pm = m)
            for (int xi = 0; xi < Points; xi++)
            {
                float* vx = pv + (nint)xi * p.VPlane, mx = pm + (nint)xi * p.MPlane;
                for (int f = o0; f < o1; f += KeptSliver)
                {
                    float* sliver = pu + (nint)xi * p.UPlane + (nint)f * c;
                    for (int t = 0; t < count; t += 8) Tile8x32(c, vx + t, p.Ld, sliver, mx + (nint)t * p.FilterChunk + (f - o0), p.FilterChunk);
                }
            }
    }

    // 8 tiles by 32 filters over the c channels: 16 accumulators, each broadcast tile value feeding two multiply-adds.
    // With 16 tiles by 8 filters (one broadcast a multiply-add) the products ran at half this kernel's speed.
    // v: the 8 tiles of channel k at v[k·ldv]; u: the sliver, u[32k + j] for filter j; m: 8 rows ldm apart.
    // The GEMM's 8x32 kernel (Gemm.Avx512.cs) has the same register tile, but reads A packed 8 floats a step, where
    // here the tiles are read in place from V's rows, and B from cache, where here the sliver streams from memory and
    // is touched ahead (without that, 55-60 GFMA/s a thread against 70-77).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile8x32(int c, float* v, nint ldv, float* u, float* m, nint ldm)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < c; k++, u += KeptSliver, v += ldv)
        {
            Sse.Prefetch0(u + SliverAhead);
            Sse.Prefetch0(u + SliverAhead + 16);
            var b0 = Vector512.Load(u);
            var b1 = Vector512.Load(u + 16);
            var a = Vector512.Create(v[0]);
            c00 = Avx512F.FusedMultiplyAdd(a, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(a, b1, c01);
            a = Vector512.Create(v[1]);
            c10 = Avx512F.FusedMultiplyAdd(a, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(a, b1, c11);
            a = Vector512.Create(v[2]);
            c20 = Avx512F.FusedMultiplyAdd(a, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(a, b1, c21);
            a = Vector512.Create(v[3]);
            c30 = Avx512F.FusedMultiplyAdd(a, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(a, b1, c31);
            a = Vector512.Create(v[4]);
            c40 = Avx512F.FusedMultiplyAdd(a, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(a, b1, c41);
            a = Vector512.Create(v[5]);
            c50 = Avx512F.FusedMultiplyAdd(a, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(a, b1, c51);
            a = Vector512.Create(v[6]);
            c60 = Avx512F.FusedMultiplyAdd(a, b0, c60);
            c61 = Avx512F.FusedMultiplyAdd(a, b1, c61);
            a = Vector512.Create(v[7]);
            c70 = Avx512F.FusedMultiplyAdd(a, b0, c70);
            c71 = Avx512F.FusedMultiplyAdd(a, b1, c71);
        }
        c00.Store(m); c01.Store(m + 16); m += ldm;
        c10.Store(m); c11.Store(m + 16); m += ldm;
        c20.Store(m); c21.Store(m + 16); m += ldm;
        c30.Store(m); c31.Store(m + 16); m += ldm;
        c40.Store(m); c41.Store(m + 16); m += ldm;
        c50.Store(m); c51.Store(m + 16); m += ldm;
        c60.Store(m); c61.Store(m + 16); m += ldm;
        c70.Store(m); c71.Store(m + 16);
    }
}
