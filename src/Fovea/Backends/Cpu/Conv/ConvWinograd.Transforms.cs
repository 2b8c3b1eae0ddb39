using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

// The three transforms of F(4x4, 3x3), each a 1-D transform down the columns of a tile and then along its rows:
//   filters U = G g Gᵀ, G  = [[1/4, 0, 0], [−1/6, −1/6, −1/6], [−1/6, 1/6, −1/6], [1/24, 1/12, 1/6], [1/24, −1/12, 1/6], [0, 0, 1]]
//   inputs  V = Bᵀ d B, Bᵀ = [[4, 0, −5, 0, 1, 0], [0, −4, −4, 1, 1, 0], [0, 4, −4, −1, 1, 0], [0, −2, −1, 2, 1, 0],
//                             [0, 2, −1, −2, 1, 0], [0, 4, 0, −5, 0, 1]]
//   outputs Y = Aᵀ m A, Aᵀ = [[1, 1, 1, 1, 1, 0], [0, 1, −1, 2, −2, 0], [0, 1, 1, 4, 4, 0], [0, 1, −1, 8, −8, 1]]
// Every transform works on 16 tiles (or 16 filters) at once, one per vector lane, so each of its 36 results is a
// single contiguous vector of V, M or U. The price is that neighbouring tiles' columns are 4 apart in a row of x
// and of y, so a row of 16 tiles is de-interleaved on the way in and interleaved on the way out.
internal static partial class ConvWinograd
{
    /// <summary>Tiles (or filters) per vector.</summary>
    private const int Lanes = 16;

    /// <summary>Floats of an input row that one vector of tiles reads: 16 tiles 4 apart, plus the last tile's overhang.</summary>
    private const int RowSpan = Step * Lanes + 4;

    /// <summary>Whether AVX-512's two-table permutes (de)interleave the tiles; tests clear it to run the scalar path.</summary>
    internal static bool UsePermutes = Avx512F.IsSupported;

    /// <summary>Input channels whose taps are gathered at once: a run of 8·9 floats per filter, nine 8x8 transposes.</summary>
    private const int TapChannels = 8;

    // w [O, C, 3, 3] → U [36, C, O'] for the filters [o0, o1) (lane l of a vector is filter o0 + 16k + l) and the
    // input channels [c0, c1), each plane laid out as `to` says; the planes of U lie `plane` floats apart.
    private static unsafe void TransformFilters(in ConvGeometry g, float[] w, int o0, int o1, int c0, int c1, float[] u, UPlaneLayout to, int plane)
    {
        nint xiStride = plane, row = (nint)g.InChannels * 9;
        float* taps = stackalloc float[TapChannels * 9 * Lanes];
        Vector512<float>* half = stackalloc Vector512<float>[Extent * 3];
        int* lanes = stackalloc int[Lanes];
        fixed (float* pw = w, pu = u)
            for (int f0 = o0; f0 < o1; f0 += Lanes)
            {
                int filters = Math.Min(Lanes, o1 - f0);
                for (int cb = c0; cb < c1; cb += TapChannels)
                {
                    // taps[(9·cc + e)·16 + l] = w[f0 + l, cb + cc, e]: the 16 filters' runs of taps, transposed so
                    // that each tap of each channel is one vector (a scalar gather cost several times the transform).
                    int channels = Math.Min(TapChannels, c1 - cb), run = 9 * channels;
                    float* src = pw + f0 * row + cb * 9;
                    if (Avx.IsSupported && filters == Lanes && channels == TapChannels)
                        for (int r = 0; r < Lanes; r += 8)
                            for (int q = 0; q < run; q += 8) Gemm.Transpose8x8(src + r * row + q, row, taps + q * Lanes + r, Lanes);
                    else
                        for (int l = 0; l < Lanes; l++)
                            for (int e = 0; e < run; e++) taps[e * Lanes + l] = l < filters ? src[l * row + e] : 0f;
                    for (int cc = 0; cc < channels; cc++)
                    {
                        float* t = taps + cc * 9 * Lanes;
                        for (int k = 0; k < 3; k++) // G down column k of the 3x3 filters
                            Filter1D(Vector512.Load(t + k * Lanes), Vector512.Load(t + (3 + k) * Lanes), Vector512.Load(t + (6 + k) * Lanes),
                                out half[k], out half[3 + k], out half[6 + k], out half[9 + k], out half[12 + k], out half[15 + k]);
                        var at = to.Place(cb + cc, f0 - o0, filters, lanes);
                        float* dst = pu;
                        for (int i = 0; i < Extent; i++, dst += Extent * xiStride) // G along row i of G g: U_ξ for ξ = 6i + k
                        {
                            Filter1D(half[3 * i], half[3 * i + 1], half[3 * i + 2], out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
                            at.Store(u0, dst);
                            at.Store(u1, dst + xiStride);
                            at.Store(u2, dst + 2 * xiStride);
                            at.Store(u3, dst + 3 * xiStride);
                            at.Store(u4, dst + 4 * xiStride);
                            at.Store(u5, dst + 5 * xiStride);
                        }
                    }
                }
            }
    }

    /// <summary>
    /// How one plane of U is laid out: rows of <paramref name="Ld"/> filters per input channel (U_ξ stored as [C, O]),
    /// or, where <paramref name="Packed"/> has a sliver height, packed for the GEMM's kernel as the left operand of
    /// M_ξ = U_ξ·V_ξ, so that no product packs it again.
    /// </summary>
    private readonly record struct UPlaneLayout(int Ld, Gemm.PackedALayout Packed = default)
    {
        /// <summary>Where the vector of filters [f, f + filters) of channel c goes in every plane.</summary>
        public unsafe UVectorPlace Place(int c, int f, int filters, int* lanes)
        {
            if (Packed.Mr == 0) return new UVectorPlace((nint)c * Ld + f, -1, 0, null);
            // Filters come 16 at a time from a multiple of 16, so 8-filter slivers take a vector's halves whole; the
            // upper half's sliver exists only if a filter lies in it.
            if (Packed.Mr == Lanes / 2) return new UVectorPlace(Packed.Offset(f, c), filters > Lanes / 2 ? Packed.Offset(f + Lanes / 2, c) : -1, Lanes / 2, null);
            for (int l = 0; l < filters; l++) lanes[l] = Packed.Offset(f + l, c);
            return new UVectorPlace(0, -1, filters, lanes);
        }
    }

    /// <summary>
    /// A vector of filters' place in a plane of U: the whole vector at low (count 0: a row of U, padded to whole
    /// vectors), its halves at low and high (count 8; high -1: the lower only), or count single lanes at the offsets
    /// lanes holds.
    /// </summary>
    private readonly unsafe struct UVectorPlace(nint low, nint high, int count, int* lanes)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector512<float> v, float* plane)
        {
            if (lanes != null)
                for (int l = 0; l < count; l++) plane[lanes[l]] = v.GetElement(l);
            else if (count == 0) v.Store(plane + low);
            else
            {
                v.GetLower().Store(plane + low);
                if (high >= 0) v.GetUpper().Store(plane + high);
            }
        }
    }

    // x [N, C, H, W] → V [36, C, Ld] for the block's tiles [t0, t0 + count) and the channels [c0, c1)
    private static unsafe void TransformInput(in ConvGeometry g, in Plan p, float[] x, int t0, int count, int c0, int c1, float[] v)
    {
        int h = g.InHeight, wd = g.InWidth, th = p.TilesHigh, tw = p.TilesWide;
        nint xiStride = p.VPlane;
        float* stage = stackalloc float[RowSpan];
        float* columns = stackalloc float[Extent * Lanes];
        Vector512<float>* rows = stackalloc Vector512<float>[Points];
        fixed (float* px = x, pv = v)
            for (int ci = c0; ci < c1; ci++)
            {
                // A vector of tiles never spans two rows of tiles; when a row ends mid-vector, the unused lanes are
                // written past the row's last tile, where the next row's vector (stored later) or the slack at the
                // end of V's row overwrites or keeps them.
                int img = t0 / (th * tw), ty = t0 / tw % th, tx = t0 % tw;
                for (int at = 0; at < count;)
                {
                    float* plane = px + ((long)img * g.InChannels + ci) * h * wd;
                    InputTiles(plane, h, wd, Step * ty - g.PadTop, Step * tx - g.PadLeft, pv + ci * p.Ld + at, xiStride, rows, stage, columns);
                    int tiles = Math.Min(Lanes, Math.Min(tw - tx, count - at));
                    at += tiles;
                    NextTiles(ref img, ref ty, ref tx, tiles, th, tw);
                }
            }
    }

    // Advances (image, tile row, tile column) past `tiles` tiles of the current row of tiles.
    private static void NextTiles(ref int img, ref int ty, ref int tx, int tiles, int th, int tw)
    {
        tx += tiles;
        if (tx < tw) return;
        tx = 0;
        if (++ty < th) return;
        ty = 0;
        img++;
    }

    // Bᵀ d B for the 16 tiles whose top-left input cell is (top, left + 4·lane) of the plane; V_ξ of lane l goes
    // to v[ξ·xiStride + l].
    private static unsafe void InputTiles(float* plane, int h, int w, int top, int left, float* v, nint xiStride,
        Vector512<float>* rows, float* stage, float* columns)
    {
        bool edge = left < 0 || left + RowSpan > w;
        if (UsePermutes)
        {
            // Masked loads read the row where it exists and zeros in the padding, so the edges need no copy. Lanes
            // 0-7 of a column come from the first 32 floats, lanes 8-15 from the next 32, by the same index;
            // columns 4 and 5 are columns 0 and 1 of the row read four floats on.
            var all = Vector512<float>.AllBitsSet;
            Vector512<float> k0 = all, k1 = all, k2 = all, k3 = all, k4 = all, k5 = all, k6 = all, k7 = all;
            if (edge)
            {
                var at = Vector512<int>.Indices + Vector512.Create(left);
                k0 = Inside(at, w);
                k1 = Inside(at + Vector512.Create(16), w);
                k2 = Inside(at + Vector512.Create(32), w);
                k3 = Inside(at + Vector512.Create(48), w);
                k4 = Inside(at + Vector512.Create(4), w);
                k5 = Inside(at + Vector512.Create(20), w);
                k6 = Inside(at + Vector512.Create(36), w);
                k7 = Inside(at + Vector512.Create(52), w);
            }
            var every4th = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
            var zero = Vector512<float>.Zero;
            for (int r = 0; r < Extent; r++) // Bᵀ along each of the six input rows
            {
                Vector512<float>* row = rows + r * Extent;
                int ih = top + r;
                if ((uint)ih >= (uint)h)
                {
                    for (int k = 0; k < Extent; k++) row[k] = zero;
                    continue;
                }
                float* src = plane + (nint)ih * w + left;
                Vector512<float> q0 = Avx512F.MaskLoad(src, k0, zero), q1 = Avx512F.MaskLoad(src + 16, k1, zero);
                Vector512<float> q2 = Avx512F.MaskLoad(src + 32, k2, zero), q3 = Avx512F.MaskLoad(src + 48, k3, zero);
                Vector512<float> s0 = Avx512F.MaskLoad(src + 4, k4, zero), s1 = Avx512F.MaskLoad(src + 20, k5, zero);
                Vector512<float> s2 = Avx512F.MaskLoad(src + 36, k6, zero), s3 = Avx512F.MaskLoad(src + 52, k7, zero);
                Input1D(EveryFourth(q0, q1, q2, q3, every4th), EveryFourth(q0, q1, q2, q3, every4th + Vector512<int>.One),
                    EveryFourth(q0, q1, q2, q3, every4th + Vector512.Create(2)), EveryFourth(q0, q1, q2, q3, every4th + Vector512.Create(3)),
                    EveryFourth(s0, s1, s2, s3, every4th), EveryFourth(s0, s1, s2, s3, every4th + Vector512<int>.One),
                    out row[0], out row[1], out row[2], out row[3], out row[4], out row[5]);
            }
        }
        else
            for (int r = 0; r < Extent; r++)
            {
                Vector512<float>* row = rows + r * Extent;
                int ih = top + r;
                if ((uint)ih >= (uint)h)
                {
                    for (int k = 0; k < Extent; k++) row[k] = Vector512<float>.Zero;
                    continue;
                }
                float* src = plane + (nint)ih * w + left;
                if (edge)
                {
                    // The part of the row that exists, zeros for the padding around it.
                    int a = Math.Clamp(-left, 0, RowSpan), b = Math.Clamp(w - left, a, RowSpan);
                    new Span<float>(stage, a).Clear();
                    new ReadOnlySpan<float>(src + a, b - a).CopyTo(new Span<float>(stage + a, b - a));
                    new Span<float>(stage + b, RowSpan - b).Clear();
                    src = stage;
                }
                for (int j = 0; j < Extent; j++) // d_j[l] = src[4l + j]: column j of each of the 16 tiles
                    for (int l = 0; l < Lanes; l++) columns[j * Lanes + l] = src[Step * l + j];
                Input1D(Vector512.Load(columns), Vector512.Load(columns + Lanes), Vector512.Load(columns + 2 * Lanes),
                    Vector512.Load(columns + 3 * Lanes), Vector512.Load(columns + 4 * Lanes), Vector512.Load(columns + 5 * Lanes),
                    out row[0], out row[1], out row[2], out row[3], out row[4], out row[5]);
            }
        for (int k = 0; k < Extent; k++) // Bᵀ down each column: V_ξ for ξ = 6i + k
        {
            Input1D(rows[k], rows[Extent + k], rows[2 * Extent + k], rows[3 * Extent + k], rows[4 * Extent + k], rows[5 * Extent + k],
                out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
            StoreColumn(v, xiStride, k, v0, v1, v2, v3, v4, v5);
        }
    }

    // The six results of a transform down column k of the 6x6 tile: point ξ = 6i + k of each plane, i = 0..5.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreColumn(float* planes, nint xiStride, int k, Vector512<float> r0, Vector512<float> r1, Vector512<float> r2,
        Vector512<float> r3, Vector512<float> r4, Vector512<float> r5)
    {
        r0.Store(planes + k * xiStride);
        r1.Store(planes + (Extent + k) * xiStride);
        r2.Store(planes + (2 * Extent + k) * xiStride);
        r3.Store(planes + (3 * Extent + k) * xiStride);
        r4.Store(planes + (4 * Extent + k) * xiStride);
        r5.Store(planes + (5 * Extent + k) * xiStride);
    }

    /// <summary>All bits set in the lanes whose column index lies in [0, w).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Inside(Vector512<int> column, int w) =>
        Vector512.LessThan(column.AsUInt32(), Vector512.Create((uint)w)).AsSingle();

    /// <summary>
    /// (q0‖q1‖q2‖q3)[index[l] + 32·(l / 8)]: with index j, j+4, …, j+28 twice over, column j of 16 tiles 4 floats apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> EveryFourth(Vector512<float> q0, Vector512<float> q1, Vector512<float> q2, Vector512<float> q3, Vector512<int> index) =>
        Vector512.ConditionalSelect(Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1).AsSingle(),
            Avx512F.PermuteVar16x32x2(q2, index, q3), Avx512F.PermuteVar16x32x2(q0, index, q1));

    // M [36, o1 − o0, Ld] → y [N, O, OH, OW] for the block's tiles [t0, t0 + count) and the filters [o0, o1), plus the bias
    private static unsafe void TransformOutput(in ConvGeometry g, in Plan p, float[] m, int t0, int count, int o0, int o1, float[]? bias, float[] y)
    {
        int oh = g.OutHeight, ow = g.OutWidth, th = p.TilesHigh, tw = p.TilesWide;
        nint xiStride = p.MPlane;
        float* stage = stackalloc float[Step * Lanes];
        float* columns = stackalloc float[Step * Lanes];
        Vector512<float>* half = stackalloc Vector512<float>[Step * Extent];
        fixed (float* pm = m, py = y)
            for (int oi = o0; oi < o1; oi++)
            {
                var b = Vector512.Create(bias is null ? 0f : bias[oi]);
                int img = t0 / (th * tw), ty = t0 / tw % th, tx = t0 % tw;
                for (int at = 0; at < count;)
                {
                    int tiles = Math.Min(Lanes, Math.Min(tw - tx, count - at));
                    float* plane = py + ((long)img * g.OutChannels + oi) * oh * ow;
                    OutputTiles(pm + (oi - o0) * p.Ld + at, xiStride, b, plane, oh, ow, Step * ty, Step * tx, tiles, half, stage, columns);
                    at += tiles;
                    NextTiles(ref img, ref ty, ref tx, tiles, th, tw);
                }
            }
    }

    // Aᵀ m A + bias for 16 tiles whose top-left output cell is (top, left + 4·lane), written only where the tile
    // is one of the first `tiles` and inside the output plane.
    private static unsafe void OutputTiles(float* m, nint xiStride, Vector512<float> bias, float* y, int oh, int ow, int top, int left,
        int tiles, Vector512<float>* half, float* stage, float* columns)
    {
        for (int k = 0; k < Extent; k++) // Aᵀ down each of the six columns
            Output1D(Vector512.Load(m + k * xiStride), Vector512.Load(m + (Extent + k) * xiStride), Vector512.Load(m + (2 * Extent + k) * xiStride),
                Vector512.Load(m + (3 * Extent + k) * xiStride), Vector512.Load(m + (4 * Extent + k) * xiStride), Vector512.Load(m + (5 * Extent + k) * xiStride),
                out half[k], out half[Extent + k], out half[2 * Extent + k], out half[3 * Extent + k]);
        int width = Math.Min(Step * tiles, ow - left);
        bool full = width == Step * Lanes;
        var at = Vector512<int>.Indices;
        Vector512<float> k0 = Inside(at, width), k1 = Inside(at + Vector512.Create(16), width);
        Vector512<float> k2 = Inside(at + Vector512.Create(32), width), k3 = Inside(at + Vector512.Create(48), width);
        for (int i = 0; i < Step && top + i < oh; i++) // Aᵀ along each row that lies inside the output
        {
            var row = half + i * Extent;
            Output1D(row[0], row[1], row[2], row[3], row[4], row[5], out var y0, out var y1, out var y2, out var y3);
            y0 += bias;
            y1 += bias;
            y2 += bias;
            y3 += bias;
            float* dst = y + (nint)(top + i) * ow + left;
            if (UsePermutes)
            {
                // dst[4l + j] = y_j[l]: pairs first (y0[l], y1[l]) and (y2[l], y3[l]), then the pairs of pairs as
                // 64-bit elements; masked stores leave the cells past the row's end alone.
                var pairs = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
                var upper = pairs + Vector512.Create(8);
                var a0 = Avx512F.PermuteVar16x32x2(y0, pairs, y1).AsDouble();
                var a1 = Avx512F.PermuteVar16x32x2(y0, upper, y1).AsDouble();
                var b0 = Avx512F.PermuteVar16x32x2(y2, pairs, y3).AsDouble();
                var b1 = Avx512F.PermuteVar16x32x2(y2, upper, y3).AsDouble();
                var quads = Vector512.Create(0L, 8, 1, 9, 2, 10, 3, 11);
                var later = quads + Vector512.Create(4L);
                var z0 = Avx512F.PermuteVar8x64x2(a0, quads, b0).AsSingle();
                var z1 = Avx512F.PermuteVar8x64x2(a0, later, b0).AsSingle();
                var z2 = Avx512F.PermuteVar8x64x2(a1, quads, b1).AsSingle();
                var z3 = Avx512F.PermuteVar8x64x2(a1, later, b1).AsSingle();
                if (full)
                {
                    z0.Store(dst);
                    z1.Store(dst + 16);
                    z2.Store(dst + 32);
                    z3.Store(dst + 48);
                }
                else
                {
                    Avx512F.MaskStore(dst, k0, z0);
                    Avx512F.MaskStore(dst + 16, k1, z1);
                    Avx512F.MaskStore(dst + 32, k2, z2);
                    Avx512F.MaskStore(dst + 48, k3, z3);
                }
                continue;
            }
            y0.Store(columns);
            y1.Store(columns + Lanes);
            y2.Store(columns + 2 * Lanes);
            y3.Store(columns + 3 * Lanes);
            for (int l = 0; l < Lanes; l++)
                for (int j = 0; j < Step; j++) stage[Step * l + j] = columns[j * Lanes + l];
            new ReadOnlySpan<float>(stage, width).CopyTo(new Span<float>(dst, width));
        }
    }

    // M [36, Ld, FilterChunk] → y [N, O, OH, OW] for the block's tiles [t0, t0 + count) and the filters [o0, o1),
    // plus the bias. Here the lanes are 16 filters of one tile, so each result is scattered over 16 output planes.
    private static unsafe void TransformOutputByFilters(in ConvGeometry g, in Plan p, float[] m, int t0, int count, int o0, int o1,
        float[]? bias, float[] y)
    {
        int oh = g.OutHeight, ow = g.OutWidth, th = p.TilesHigh, tw = p.TilesWide, plane = oh * ow;
        nint xiStride = p.MPlane;
        Vector512<float>* half = stackalloc Vector512<float>[Step * Extent];
        float* cells = stackalloc float[Step * Step * Lanes];
        float* biases = stackalloc float[Lanes];
        fixed (float* pm = m, py = y)
            for (int f0 = o0; f0 < o1; f0 += Lanes)
            {
                int filters = Math.Min(Lanes, o1 - f0);
                for (int l = 0; l < Lanes; l++) biases[l] = bias is null || l >= filters ? 0f : bias[f0 + l];
                var b = Vector512.Load(biases);
                int img = t0 / (th * tw), ty = t0 / tw % th, tx = t0 % tw;
                for (int at = 0; at < count; at++)
                {
                    float* src = pm + (nint)at * p.FilterChunk + (f0 - o0);
                    for (int k = 0; k < Extent; k++) // Aᵀ down each of the six columns
                        Output1D(Vector512.Load(src + k * xiStride), Vector512.Load(src + (Extent + k) * xiStride),
                            Vector512.Load(src + (2 * Extent + k) * xiStride), Vector512.Load(src + (3 * Extent + k) * xiStride),
                            Vector512.Load(src + (4 * Extent + k) * xiStride), Vector512.Load(src + (5 * Extent + k) * xiStride),
                            out half[k], out half[Extent + k], out half[2 * Extent + k], out half[3 * Extent + k]);
                    for (int i = 0; i < Step; i++) // Aᵀ along each row
                    {
                        var row = half + i * Extent;
                        Output1D(row[0], row[1], row[2], row[3], row[4], row[5], out var y0, out var y1, out var y2, out var y3);
                        (y0 + b).Store(cells + (Step * i) * Lanes);
                        (y1 + b).Store(cells + (Step * i + 1) * Lanes);
                        (y2 + b).Store(cells + (Step * i + 2) * Lanes);
                        (y3 + b).Store(cells + (Step * i + 3) * Lanes);
                    }
                    int top = Step * ty, left = Step * tx, rows = Math.Min(Step, oh - top), cols = Math.Min(Step, ow - left);
                    float* dst = py + ((long)img * g.OutChannels + f0) * plane + (nint)top * ow + left;
                    for (int l = 0; l < filters; l++, dst += plane)
                        for (int i = 0; i < rows; i++)
                            for (int j = 0; j < cols; j++) dst[i * ow + j] = cells[(Step * i + j) * Lanes + l];
                    NextTiles(ref img, ref ty, ref tx, 1, th, tw);
                }
            }
    }

    // (u0..u5) = G (g0, g1, g2)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Filter1D(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, out Vector512<float> u0, out Vector512<float> u1,
        out Vector512<float> u2, out Vector512<float> u3, out Vector512<float> u4, out Vector512<float> u5)
    {
        var quarter = g0 * 0.25f;
        var outer = g0 + g2;
        var near = quarter + g2; // g0/4 + g2, so that rows 3 and 4 are (g0/4 ± g1/2 + g2) / 6
        var halfMiddle = g1 * 0.5f;
        u0 = quarter;
        u1 = (outer + g1) * (-1f / 6);
        u2 = (outer - g1) * (-1f / 6);
        u3 = (near + halfMiddle) * (1f / 6);
        u4 = (near - halfMiddle) * (1f / 6);
        u5 = g2;
    }

    // (r0..r5) = Bᵀ (d0..d5)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Input1D(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4,
        Vector512<float> d5, out Vector512<float> r0, out Vector512<float> r1, out Vector512<float> r2, out Vector512<float> r3,
        out Vector512<float> r4, out Vector512<float> r5)
    {
        Vector512<float> four = Vector512.Create(4f), two = Vector512.Create(2f);
        var d42 = d4 - d2;
        var d31 = d3 - d1;
        r0 = Vector512.MultiplyAddEstimate(d0 - d2, four, d42);
        r1 = Vector512.MultiplyAddEstimate(d1 + d2, -four, d3 + d4);
        r2 = Vector512.MultiplyAddEstimate(d1 - d2, four, d4 - d3);
        r3 = Vector512.MultiplyAddEstimate(d31, two, d42);
        r4 = Vector512.MultiplyAddEstimate(d31, -two, d42);
        r5 = Vector512.MultiplyAddEstimate(d1 - d3, four, d5 - d3);
    }

    // (s0..s3) = Aᵀ (m0..m5)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output1D(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4,
        Vector512<float> m5, out Vector512<float> s0, out Vector512<float> s1, out Vector512<float> s2, out Vector512<float> s3)
    {
        var sum12 = m1 + m2;
        var diff12 = m1 - m2;
        var sum34 = m3 + m4;
        var diff34 = m3 - m4;
        s0 = m0 + sum12 + sum34;
        s1 = Vector512.MultiplyAddEstimate(diff34, Vector512.Create(2f), diff12);
        s2 = Vector512.MultiplyAddEstimate(sum34, Vector512.Create(4f), sum12);
        s3 = Vector512.MultiplyAddEstimate(diff34, Vector512.Create(8f), diff12 + m5);
    }
}
