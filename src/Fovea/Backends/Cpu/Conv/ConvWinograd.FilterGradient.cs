using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fovea.Backends.Cpu;

// The filter gradient by the forward's own tiles. Each output tile is y_t = Aᵀ[(G w Gᵀ) ⊙ (Bᵀ d_t B)]A, bilinear in
// w and d_t; moving the transforms across the inner product Σ_t ⟨dy_t, y_t⟩ gives
//   ∂L/∂w[o, c] = Gᵀ [ Σ_t (A dy_t[o] Aᵀ) ⊙ (Bᵀ d_t[c] B) ] G,
// the same B, A and G read the other way round: the input transform V is the forward's, dy's 4x4 tiles are
// spread to 6x6 by A, and the 36 element-wise sums over tiles are GEMMs S_ξ [O, C] += Z_ξ [O, T] · V_ξ [C, T]ᵀ
// whose long side is the tiles. 36 products per tile and channel pair instead of 144. dy is zero past the output's
// edge, where the forward's tiles overhang it, so those cells add nothing.
internal static partial class ConvWinograd
{
    /// <summary>
    /// Most floats of one chunk's sums S [36, O, C]: every chunk of blocks running at once keeps its own, so that
    /// no two threads add into one. 2^22 (16 MB) takes 256 → 256 channels (9.4 MB) and leaves 512-channel layers to
    /// im2col, whose scratch is a band of the column matrix.
    /// </summary>
    private const int FilterSumBudget = 1 << 22;

    /// <summary>
    /// Whether the filter gradient by Winograd applies and pays: where the forward would take it, with enough tiles
    /// to run blocks side by side, and sums that fit <see cref="FilterSumBudget"/>.
    /// </summary>
    internal static bool TakesFilterGradient(in ConvGeometry g)
    {
        // The filter gradient is F(4x4, 3x3)'s alone: a 5x5 kernel's parts are not summed back into its taps.
        if (!Supports(g) || Parts(g) > 1) return false;
        var p = MakePlan(g, byFilters: false);
        return p.Tiles >= CpuParallel.Threads * MinParallelBlockTiles && (long)Points * g.OutChannels * SumRow(g) <= FilterSumBudget;
    }

    /// <summary>S's rows are whole vectors of channels, so that its transform reads 16 channels at a time.</summary>
    private static int SumRow(in ConvGeometry g) => DivUp(g.InChannels, Lanes) * Lanes;

    private static int SumPlane(in ConvGeometry g) => PlaneStride(g.OutChannels * SumRow(g));

    /// <summary>How many chunks of blocks run at once, each with its own V, Z and S.</summary>
    private static int GradientChunks(in ConvGeometry g, in Plan p) => CpuParallel.Concurrency(p.Blocks, BlockWork(g, p.BlockTiles));

    /// <summary>The <see cref="ScratchPool"/> buffers the filter gradient holds at once: per chunk its V, Z and S.</summary>
    internal static int[] FilterScratch(in ConvGeometry g)
    {
        var p = MakePlan(g, byFilters: false);
        if (p.Tiles == 0) return [];
        var buffers = new List<int>();
        for (int k = GradientChunks(g, p); k > 0; k--)
        {
            buffers.Add(Points * p.VPlane);
            buffers.Add(Points * p.MPlane);
            buffers.Add(Points * SumPlane(g));
        }
        return [.. buffers];
    }

    // x [N, C, H, W], dy [N, O, OH, OW] → dw [O, C, 3, 3], db [O] when not null
    public static void BackwardFilter(in ConvGeometry g, float[] x, float[] dy, float[] dw, float[]? db)
    {
        if (Unsupported(g) is { } why) throw new ArgumentException(why);
        if (Parts(g) > 1) throw new ArgumentException($"Winograd's filter gradient needs a 3x3 kernel, got {g.KernelHeight}x{g.KernelWidth}");
        var p = MakePlan(g, byFilters: false);
        int c = g.InChannels, o = g.OutChannels, ldS = SumRow(g), sPlane = SumPlane(g);
        if (p.Tiles == 0)
        {
            dw.AsSpan(0, (int)g.WeightCount).Clear();
            if (db is not null) ConvIm2col.BiasGradient(g, dy, db);
            return;
        }
        // Each chunk of blocks sums into its own S; the sums are added in chunk order, so the result does not depend
        // on thread timing.
        int chunks = GradientChunks(g, p);
        var sums = ScratchPool.RentSlots(chunks);
        CpuParallel.For(chunks, BlockWork(g, p.BlockTiles) * p.Blocks / chunks, new GradientSums(g, p, x, dy, chunks, sums));
        var total = sums[0];
        for (int k = 1; k < chunks; k++)
        {
            TensorPrimitives.Add(total.AsSpan(0, Points * sPlane), sums[k].AsSpan(0, Points * sPlane), total.AsSpan(0, Points * sPlane));
            ScratchPool.Return(sums[k]);
        }
        ScratchPool.ReturnSlots(sums);
        CpuParallel.For(o, (long)Points * c, new SumTransforms(g, total, ldS, sPlane, dw));
        ScratchPool.Return(total);
        if (db is not null) ConvIm2col.BiasGradient(g, dy, db);
    }

    /// <summary>Chunk k of the blocks: each block's V and Z, and their 36 products summed into the chunk's own S.</summary>
    private readonly struct GradientSums(ConvGeometry g, Plan p, float[] x, float[] dy, int chunks, float[][] sums) : CpuParallel.IItems
    {
        public void Run(int k)
        {
            int c = g.InChannels, o = g.OutChannels, ldS = SumRow(g), sPlane = SumPlane(g);
            var (b0, b1) = CpuParallel.Part(p.Blocks, k, chunks);
            var v = ScratchPool.Rent(Points * p.VPlane);
            var z = ScratchPool.Rent(Points * p.MPlane);
            var s = ScratchPool.Rent(Points * sPlane);
            for (int b = b0; b < b1; b++)
            {
                int t0 = b * p.BlockTiles, count = Math.Min(p.BlockTiles, p.Tiles - t0);
                TransformInput(g, p, x, t0, count, 0, c, v);
                TransformGradient(g, p, dy, t0, count, z);
                for (int xi = 0; xi < Points; xi++)
                    Gemm.SgemmOneThread(false, true, o, c, count, z.AsSpan(xi * p.MPlane), p.Ld, v.AsSpan(xi * p.VPlane), p.Ld,
                        b == b0 ? 0f : 1f, s.AsSpan(xi * sPlane), ldS);
            }
            ScratchPool.Return(v);
            ScratchPool.Return(z);
            sums[k] = s;
        }
    }

    /// <summary>Filter oi's gradient from the summed S.</summary>
    private readonly struct SumTransforms(ConvGeometry g, float[] s, int ldS, int sPlane, float[] dw) : CpuParallel.IItems
    {
        public void Run(int oi) => TransformSums(g, s, ldS, sPlane, oi, dw);
    }

    // dy [N, O, OH, OW] → Z [36, O, Ld] for the block's tiles [t0, t0 + count), laid out as V is.
    private static unsafe void TransformGradient(in ConvGeometry g, in Plan p, float[] dy, int t0, int count, float[] z)
    {
        int oh = g.OutHeight, ow = g.OutWidth, th = p.TilesHigh, tw = p.TilesWide;
        float* stage = stackalloc float[Step * Lanes];
        float* columns = stackalloc float[Step * Lanes];
        Vector512<float>* rows = stackalloc Vector512<float>[Step * Extent];
        fixed (float* pdy = dy, pz = z)
            for (int oi = 0; oi < g.OutChannels; oi++)
            {
                int img = t0 / (th * tw), ty = t0 / tw % th, tx = t0 % tw;
                for (int at = 0; at < count;)
                {
                    float* plane = pdy + ((long)img * g.OutChannels + oi) * oh * ow;
                    GradientTiles(plane, oh, ow, Step * ty, Step * tx, pz + oi * p.Ld + at, p.MPlane, rows, stage, columns);
                    int tiles = Math.Min(Lanes, Math.Min(tw - tx, count - at));
                    at += tiles;
                    NextTiles(ref img, ref ty, ref tx, tiles, th, tw);
                }
            }
    }

    // A dy Aᵀ for the 16 tiles whose top-left output cell is (top, left + 4·lane), zero past the plane's edges;
    // Z_ξ of lane l goes to z[ξ·xiStride + l].
    private static unsafe void GradientTiles(float* plane, int oh, int ow, int top, int left, float* z, nint xiStride,
        Vector512<float>* rows, float* stage, float* columns)
    {
        const int span = Step * Lanes;
        int width = Math.Min(span, ow - left);
        for (int r = 0; r < Step; r++) // A along each of the four rows of dy
        {
            Vector512<float>* row = rows + r * Extent;
            if (top + r >= oh)
            {
                for (int k = 0; k < Extent; k++) row[k] = Vector512<float>.Zero;
                continue;
            }
            float* src = plane + (nint)(top + r) * ow + left;
            if (width < span)
            {
                new ReadOnlySpan<float>(src, width).CopyTo(new Span<float>(stage, width));
                new Span<float>(stage + width, span - width).Clear();
                src = stage;
            }
            Vector512<float> d0, d1, d2, d3;
            if (UsePermutes)
            {
                Vector512<float> q0 = Vector512.Load(src), q1 = Vector512.Load(src + 16), q2 = Vector512.Load(src + 32), q3 = Vector512.Load(src + 48);
                var every4th = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
                d0 = EveryFourth(q0, q1, q2, q3, every4th);
                d1 = EveryFourth(q0, q1, q2, q3, every4th + Vector512<int>.One);
                d2 = EveryFourth(q0, q1, q2, q3, every4th + Vector512.Create(2));
                d3 = EveryFourth(q0, q1, q2, q3, every4th + Vector512.Create(3));
            }
            else
            {
                for (int j = 0; j < Step; j++) // d_j[l] = src[4l + j]: column j of each of the 16 tiles
                    for (int l = 0; l < Lanes; l++) columns[j * Lanes + l] = src[Step * l + j];
                d0 = Vector512.Load(columns);
                d1 = Vector512.Load(columns + Lanes);
                d2 = Vector512.Load(columns + 2 * Lanes);
                d3 = Vector512.Load(columns + 3 * Lanes);
            }
            Gradient1D(d0, d1, d2, d3, out row[0], out row[1], out row[2], out row[3], out row[4], out row[5]);
        }
        for (int k = 0; k < Extent; k++) // A down each column: Z_ξ for ξ = 6i + k
        {
            Gradient1D(rows[k], rows[Extent + k], rows[2 * Extent + k], rows[3 * Extent + k],
                out var z0, out var z1, out var z2, out var z3, out var z4, out var z5);
            StoreColumn(z, xiStride, k, z0, z1, z2, z3, z4, z5);
        }
    }

    // S [36, O, ldS] → dw[oi, :, 3, 3] = Gᵀ S_oi G, sixteen input channels at a time.
    private static unsafe void TransformSums(in ConvGeometry g, float[] s, int ldS, int sPlane, int oi, float[] dw)
    {
        int c = g.InChannels;
        Vector512<float>* half = stackalloc Vector512<float>[3 * Extent];
        float* taps = stackalloc float[9 * Lanes];
        fixed (float* ps = s, pw = dw)
            for (int c0 = 0; c0 < c; c0 += Lanes)
            {
                float* src = ps + (nint)oi * ldS + c0;
                for (int k = 0; k < Extent; k++) // Gᵀ down each of the six columns
                    FilterGradient1D(Vector512.Load(src + k * sPlane), Vector512.Load(src + (Extent + k) * sPlane),
                        Vector512.Load(src + (2 * Extent + k) * sPlane), Vector512.Load(src + (3 * Extent + k) * sPlane),
                        Vector512.Load(src + (4 * Extent + k) * sPlane), Vector512.Load(src + (5 * Extent + k) * sPlane),
                        out half[k], out half[Extent + k], out half[2 * Extent + k]);
                for (int i = 0; i < 3; i++) // Gᵀ along each row
                {
                    var row = half + i * Extent;
                    FilterGradient1D(row[0], row[1], row[2], row[3], row[4], row[5], out var r0, out var r1, out var r2);
                    r0.Store(taps + 3 * i * Lanes);
                    r1.Store(taps + (3 * i + 1) * Lanes);
                    r2.Store(taps + (3 * i + 2) * Lanes);
                }
                float* dst = pw + ((nint)oi * c + c0) * 9;
                for (int l = 0; l < Math.Min(Lanes, c - c0); l++)
                    for (int e = 0; e < 9; e++) dst[l * 9 + e] = taps[e * Lanes + l];
            }
    }

    // (z0..z5) = A (d0..d3), A = (Aᵀ)ᵀ: rows (1, 0, 0, 0), (1, 1, 1, 1), (1, −1, 1, −1), (1, 2, 4, 8), (1, −2, 4, −8), (0, 0, 0, 1)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Gradient1D(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3,
        out Vector512<float> z0, out Vector512<float> z1, out Vector512<float> z2, out Vector512<float> z3, out Vector512<float> z4, out Vector512<float> z5)
    {
        var even = d0 + d2;
        var odd = d1 + d3;
        var evenFar = Vector512.MultiplyAddEstimate(d2, Vector512.Create(4f), d0);
        var oddFar = Vector512.MultiplyAddEstimate(d3, Vector512.Create(8f), d1 + d1);
        z0 = d0;
        z1 = even + odd;
        z2 = even - odd;
        z3 = evenFar + oddFar;
        z4 = evenFar - oddFar;
        z5 = d3;
    }

    // (r0, r1, r2) = Gᵀ (m0..m5), Gᵀ = [[1/4, −1/6, −1/6, 1/24, 1/24, 0], [0, −1/6, 1/6, 1/12, −1/12, 0], [0, −1/6, −1/6, 1/6, 1/6, 1]]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterGradient1D(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4,
        Vector512<float> m5, out Vector512<float> r0, out Vector512<float> r1, out Vector512<float> r2)
    {
        var sum12 = m1 + m2;
        var sum34 = m3 + m4;
        var diff21 = m2 - m1;
        var diff34 = m3 - m4;
        r0 = Vector512.MultiplyAddEstimate(m0, Vector512.Create(0.25f), Vector512.MultiplyAddEstimate(sum34, Vector512.Create(1f / 24), sum12 * (-1f / 6)));
        r1 = Vector512.MultiplyAddEstimate(diff21, Vector512.Create(1f / 6), diff34 * (1f / 12));
        r2 = Vector512.MultiplyAddEstimate(sum34 - sum12, Vector512.Create(1f / 6), m5);
    }
}
