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

    // w [O, C', 3, 3] (C' = Channels(g): a 5x5 kernel's parts) → U [36, C', O'] for the filters [o0, o1) (lane l of a
    // vector is filter o0 + 16k + l) and the channels [c0, c1), each plane laid out as `to` says; the planes of U lie
    // `plane` floats apart.
    private static unsafe void TransformFilters(in ConvGeometry g, float[] w, int o0, int o1, int c0, int c1, Span<float> u, UPlaneLayout to, int plane)
    {
        nint xiStride = plane, row = (nint)Channels(g) * 9;
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

    /// <summary>
    /// Rows of tiles a vector of tiles takes at once: where 4 or 8 tiles make a row (outputs 13-16 or 29-32 cells
    /// wide: AlexNet's 13x13 layers, VGG-16's 14x14 ones), a vector holds 4 or 2 whole rows, instead of one row and 12
    /// or 8 idle lanes that the transforms compute all the same. Only the permutes load from several rows.
    /// </summary>
    private static int RowsPerVector(int tilesWide) => UsePermutes && tilesWide is 4 or 8 ? Lanes / tilesWide : 1;

    /// <summary>
    /// The tiles of the next vector from (img, ty, tx), advancing past them: the rest of this row of tiles (at most 16)
    /// or, with <paramref name="rowsPerVector"/> above 1 and tx 0, that many whole rows (fewer at the block's end).
    /// Row of tiles q's image and tile row go to images[q] and tileRows[q]; returns the tiles, and rows.
    /// </summary>
    private static unsafe int NextVector(int rowsPerVector, int remaining, ref int img, ref int ty, ref int tx, int th, int tw,
        int* images, int* tileRows, out int rows)
    {
        int tiles = rowsPerVector > 1 && tx == 0 ? Math.Min(Lanes, remaining) : Math.Min(Lanes, Math.Min(tw - tx, remaining));
        rows = 0;
        for (int taken = 0; taken < tiles; rows++)
        {
            images[rows] = img;
            tileRows[rows] = ty;
            int n = Math.Min(tw - tx, tiles - taken);
            NextTiles(ref img, ref ty, ref tx, n, th, tw);
            taken += n;
        }
        return tiles;
    }

    // x [N, C, H, W] → V [36, C', Ld] for the block's tiles [t0, t0 + count) and the channels [c0, c1) of the 3x3 sum:
    // channel q·C + c is input channel c shifted by part q's offset (Parts).
    private static unsafe void TransformInput(in ConvGeometry g, in Plan p, float[] x, int t0, int count, int c0, int c1, float[] v)
    {
        int h = g.InHeight, wd = g.InWidth, th = p.TilesHigh, tw = p.TilesWide, perVector = RowsPerVector(tw);
        nint xiStride = p.VPlane;
        float* stage = stackalloc float[RowSpan];
        float* columns = stackalloc float[Extent * Lanes];
        Vector512<float>* rows = stackalloc Vector512<float>[Points];
        int* images = stackalloc int[Lanes / 4];
        int* tileRows = stackalloc int[Lanes / 4];
        float** planes = stackalloc float*[Lanes / 4];
        int* tops = stackalloc int[Lanes / 4];
        fixed (float* px = x, pv = v)
            for (int ci = c0; ci < c1; ci++)
            {
                // When a vector holds fewer than 16 tiles, the unused lanes are written past its last tile, where the
                // next vector (stored later) or the slack at the end of V's row overwrites or keeps them.
                int img = t0 / (th * tw), ty = t0 / tw % th, tx = t0 % tw;
                int source = ci % g.InChannels, part = ci / g.InChannels;
                int down = PartShift * (part >> 1) - g.PadTop, right = PartShift * (part & 1) - g.PadLeft;
                for (int at = 0; at < count;)
                {
                    int left = Step * tx + right;
                    int tiles = NextVector(perVector, count - at, ref img, ref ty, ref tx, th, tw, images, tileRows, out int tileRowCount);
                    for (int q = 0; q < tileRowCount; q++)
                    {
                        planes[q] = px + ((long)images[q] * g.InChannels + source) * h * wd;
                        tops[q] = Step * tileRows[q] + down;
                    }
                    float* dst = pv + ci * p.Ld + at;
                    if (UsePermutes)
                        InputTilesPermuted(planes, tops, tileRowCount, tileRowCount > 1 ? Step * tw : Step * Lanes, h, wd, left, dst, xiStride, rows);
                    else InputTiles(planes[0], h, wd, tops[0], left, dst, xiStride, rows, stage, columns);
                    at += tiles;
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

    // Bᵀ d B for 16 tiles of `rows` rows of tiles, each `span` input floats wide (64: one row, 16 tiles): lane l
    // belongs to row of tiles q = 4l / span, whose top-left input cell is (tops[q], left + 4l − q·span) of
    // planes[q]. Masked loads read the rows where they exist and zeros in the padding, so the edges need no copy.
    // The 64 floats that 16 tiles start in come as four vectors q0-q3, 16 floats each, from the rows of tiles that
    // they belong to; lanes 0-7 of a column come from q0 and q1, lanes 8-15 from q2 and q3, by the same index, and
    // columns 4 and 5 are columns 0 and 1 of the vectors read four floats on (s0-s3). V_ξ of lane l goes to
    // v[ξ·xiStride + l].
    private static unsafe void InputTilesPermuted(float** planes, int* tops, int rows, int span, int h, int w, int left, float* v,
        nint xiStride, Vector512<float>* results)
    {
        var at = Vector512<int>.Indices + Vector512.Create(left);
        var every4th = Vector512.Create(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
        for (int r = 0; r < Extent; r++) // Bᵀ along each of the six input rows
        {
            InputQuarter(planes, tops, rows, span, 0, r, h, w, left, at, out var q0, out var s0);
            InputQuarter(planes, tops, rows, span, 1, r, h, w, left, at, out var q1, out var s1);
            InputQuarter(planes, tops, rows, span, 2, r, h, w, left, at, out var q2, out var s2);
            InputQuarter(planes, tops, rows, span, 3, r, h, w, left, at, out var q3, out var s3);
            Input1D(EveryFourth(q0, q1, q2, q3, every4th), EveryFourth(q0, q1, q2, q3, every4th + Vector512<int>.One),
                EveryFourth(q0, q1, q2, q3, every4th + Vector512.Create(2)), EveryFourth(q0, q1, q2, q3, every4th + Vector512.Create(3)),
                EveryFourth(s0, s1, s2, s3, every4th), EveryFourth(s0, s1, s2, s3, every4th + Vector512<int>.One),
                out results[r * Extent], out results[r * Extent + 1], out results[r * Extent + 2], out results[r * Extent + 3],
                out results[r * Extent + 4], out results[r * Extent + 5]);
        }
        InputColumns(results, v, xiStride);
    }

    // Quarter k of input row r of the vector's tiles: the 16 floats q from (left + 16k) on in the row of tiles they
    // belong to, and the 16 floats s four further on; zeros where the row lies outside the plane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void InputQuarter(float** planes, int* tops, int rows, int span, int k, int r, int h, int w, int left,
        Vector512<int> at, out Vector512<float> q, out Vector512<float> s)
    {
        int row = Lanes * k / span, offset = Lanes * k % span, ih = row < rows ? tops[row] + r : -1;
        if ((uint)ih >= (uint)h)
        {
            q = s = Vector512<float>.Zero;
            return;
        }
        float* src = planes[row] + (nint)ih * w + left + offset;
        q = Avx512F.MaskLoad(src, Inside(at + Vector512.Create(offset), w), Vector512<float>.Zero);
        s = Avx512F.MaskLoad(src + Step, Inside(at + Vector512.Create(offset + Step), w), Vector512<float>.Zero);
    }

    // Bᵀ d B for the 16 tiles whose top-left input cell is (top, left + 4·lane) of the plane, de-interleaved by scalar
    // copies (the permutes' plain counterpart); V_ξ of lane l goes to v[ξ·xiStride + l].
    private static unsafe void InputTiles(float* plane, int h, int w, int top, int left, float* v, nint xiStride,
        Vector512<float>* rows, float* stage, float* columns)
    {
        bool edge = left < 0 || left + RowSpan > w;
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
        InputColumns(rows, v, xiStride);
    }

    // Bᵀ down each column of the row-transformed tiles: V_ξ for ξ = 6i + k.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void InputColumns(Vector512<float>* rows, float* v, nint xiStride)
    {
        for (int k = 0; k < Extent; k++)
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

    // M [36, o1 − o0, Ld] → y [N, O, OH, OW] for the block's tiles [t0, t0 + count) and the filters [o0, o1), plus the
    // bias, at least floor
    private static unsafe void TransformOutput(in ConvGeometry g, in Plan p, float[] m, int t0, int count, int o0, int o1, float[]? bias, float[] y,
        float floor)
    {
        var low = Vector512.Create(floor);
        int oh = g.OutHeight, ow = g.OutWidth, th = p.TilesHigh, tw = p.TilesWide, perVector = RowsPerVector(tw);
        nint xiStride = p.MPlane;
        float* stage = stackalloc float[Step * Lanes];
        float* columns = stackalloc float[Step * Lanes];
        Vector512<float>* half = stackalloc Vector512<float>[Step * Extent];
        int* images = stackalloc int[Lanes / 4];
        int* tileRows = stackalloc int[Lanes / 4];
        float** planes = stackalloc float*[Lanes / 4];
        int* tops = stackalloc int[Lanes / 4];
        fixed (float* pm = m, py = y)
            for (int oi = o0; oi < o1; oi++)
            {
                var b = Vector512.Create(bias is null ? 0f : bias[oi]);
                int img = t0 / (th * tw), ty = t0 / tw % th, tx = t0 % tw;
                for (int at = 0; at < count;)
                {
                    int left = Step * tx;
                    int tiles = NextVector(perVector, count - at, ref img, ref ty, ref tx, th, tw, images, tileRows, out int tileRowCount);
                    for (int q = 0; q < tileRowCount; q++)
                    {
                        planes[q] = py + ((long)images[q] * g.OutChannels + oi) * oh * ow;
                        tops[q] = Step * tileRows[q];
                    }
                    float* src = pm + (oi - o0) * p.Ld + at;
                    OutputColumns(src, xiStride, half);
                    // Every row of tiles but the last is whole (several rows start at left 0); the last ends at the
                    // vector's last tile, so that no cell of another block's tiles is written.
                    int width = Math.Min(Step * (tiles - (tileRowCount - 1) * tw), ow - left);
                    if (UsePermutes)
                        OutputTilesPermuted(half, b, low, planes, tops, tileRowCount, tileRowCount > 1 ? Step * tw : Step * Lanes, oh, ow, left, width);
                    else OutputTiles(half, b, low, planes[0], oh, ow, tops[0], left, width, stage, columns);
                    at += tiles;
                }
            }
    }

    // Aᵀ down each of the six columns of the vector's tiles, whose M_ξ lie xiStride apart from m on.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void OutputColumns(float* m, nint xiStride, Vector512<float>* half)
    {
        for (int k = 0; k < Extent; k++)
            Output1D(Vector512.Load(m + k * xiStride), Vector512.Load(m + (Extent + k) * xiStride), Vector512.Load(m + (2 * Extent + k) * xiStride),
                Vector512.Load(m + (3 * Extent + k) * xiStride), Vector512.Load(m + (4 * Extent + k) * xiStride), Vector512.Load(m + (5 * Extent + k) * xiStride),
                out half[k], out half[Extent + k], out half[2 * Extent + k], out half[3 * Extent + k]);
    }

    // Aᵀ along each row of the column-transformed tiles, plus the bias, at least low, for 16 tiles of `rows` rows of
    // tiles, each `span` output floats wide (64: one row, 16 tiles): lane l belongs to row of tiles q = 4l / span, whose
    // top-left output cell is (tops[q], left + 4l − q·span) of planes[q]. Written only in the rows inside the output plane, in
    // the first `width` cells from left of the last row of tiles and in the whole width of the others.
    private static unsafe void OutputTilesPermuted(Vector512<float>* half, Vector512<float> bias, Vector512<float> low, float** planes, int* tops,
        int rows, int span, int oh, int ow, int left, int width)
    {
        var at = Vector512<int>.Indices;
        // dst[4l + j] = y_j[l]: pairs first (y0[l], y1[l]) and (y2[l], y3[l]), then the pairs of pairs as 64-bit
        // elements; each of the four results is 16 floats of one row of tiles, stored with a mask.
        var pairs = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var upper = pairs + Vector512.Create(8);
        var quads = Vector512.Create(0L, 8, 1, 9, 2, 10, 3, 11);
        var later = quads + Vector512.Create(4L);
        for (int i = 0; i < Step; i++)
        {
            var row = half + i * Extent;
            Output1D(row[0], row[1], row[2], row[3], row[4], row[5], out var y0, out var y1, out var y2, out var y3);
            y0 = Vector512.Max(y0 + bias, low);
            y1 = Vector512.Max(y1 + bias, low);
            y2 = Vector512.Max(y2 + bias, low);
            y3 = Vector512.Max(y3 + bias, low);
            var a0 = Avx512F.PermuteVar16x32x2(y0, pairs, y1).AsDouble();
            var a1 = Avx512F.PermuteVar16x32x2(y0, upper, y1).AsDouble();
            var b0 = Avx512F.PermuteVar16x32x2(y2, pairs, y3).AsDouble();
            var b1 = Avx512F.PermuteVar16x32x2(y2, upper, y3).AsDouble();
            OutputQuarter(planes, tops, rows, span, 0, i, oh, ow, left, width, at, Avx512F.PermuteVar8x64x2(a0, quads, b0).AsSingle());
            OutputQuarter(planes, tops, rows, span, 1, i, oh, ow, left, width, at, Avx512F.PermuteVar8x64x2(a0, later, b0).AsSingle());
            OutputQuarter(planes, tops, rows, span, 2, i, oh, ow, left, width, at, Avx512F.PermuteVar8x64x2(a1, quads, b1).AsSingle());
            OutputQuarter(planes, tops, rows, span, 3, i, oh, ow, left, width, at, Avx512F.PermuteVar8x64x2(a1, later, b1).AsSingle());
        }
    }

    // Quarter k of output row i of the vector's tiles (lanes 4k to 4k + 3, 16 floats) to the row of tiles it belongs
    // to, in its cells below `width` (the last row of tiles) or ow; nothing where the row lies outside the plane.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void OutputQuarter(float** planes, int* tops, int rows, int span, int k, int i, int oh, int ow, int left, int width,
        Vector512<int> at, Vector512<float> z)
    {
        int row = Lanes * k / span, offset = Lanes * k % span;
        if (row >= rows || tops[row] + i >= oh) return;
        var inside = Inside(at + Vector512.Create(offset), row == rows - 1 ? width : ow);
        Avx512F.MaskStore(planes[row] + (nint)(tops[row] + i) * ow + left + offset, inside, z);
    }

    // Aᵀ along each row of the column-transformed tiles, plus the bias, at least low, for the 16 tiles whose top-left
    // output cell is (top, left + 4·lane), interleaved by scalar copies (the permutes' plain counterpart); written only
    // in the first `width` cells of each row inside the output plane.
    private static unsafe void OutputTiles(Vector512<float>* half, Vector512<float> bias, Vector512<float> low, float* y, int oh, int ow, int top,
        int left, int width, float* stage, float* columns)
    {
        for (int i = 0; i < Step && top + i < oh; i++)
        {
            var row = half + i * Extent;
            Output1D(row[0], row[1], row[2], row[3], row[4], row[5], out var y0, out var y1, out var y2, out var y3);
            Vector512.Max(y0 + bias, low).Store(columns);
            Vector512.Max(y1 + bias, low).Store(columns + Lanes);
            Vector512.Max(y2 + bias, low).Store(columns + 2 * Lanes);
            Vector512.Max(y3 + bias, low).Store(columns + 3 * Lanes);
            for (int l = 0; l < Lanes; l++)
                for (int j = 0; j < Step; j++) stage[Step * l + j] = columns[j * Lanes + l];
            new ReadOnlySpan<float>(stage, width).CopyTo(new Span<float>(y + (nint)(top + i) * ow + left, width));
        }
    }

    // M [36, Ld, FilterChunk] → y [N, O, OH, OW] for the block's tiles [t0, t0 + count) and the filters [o0, o1),
    // plus the bias, at least floor. Here the lanes are 16 filters of one tile, so each result is scattered over 16
    // output planes.
    private static unsafe void TransformOutputByFilters(in ConvGeometry g, in Plan p, float[] m, int t0, int count, int o0, int o1,
        float[]? bias, float[] y, float floor)
    {
        var low = Vector512.Create(floor);
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
                        Vector512.Max(y0 + b, low).Store(cells + (Step * i) * Lanes);
                        Vector512.Max(y1 + b, low).Store(cells + (Step * i + 1) * Lanes);
                        Vector512.Max(y2 + b, low).Store(cells + (Step * i + 2) * Lanes);
                        Vector512.Max(y3 + b, low).Store(cells + (Step * i + 3) * Lanes);
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
