using System.Buffers;
using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Winograd's minimal filtering F(2x2, 3x3) for 3x3 kernels at unit stride and dilation, one group, any zero
/// padding. Each 4x4 input tile d gives a 2x2 output tile Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A: 16 multiplies instead of
/// 36. Summed over channels the element-wise products become 16 independent GEMMs
/// M_ξ [O, T] = U_ξ [O, C] · V_ξ [C, T] over the T tiles of an image. Forward only: backward uses im2col.
/// </summary>
internal static class ConvWinograd
{
    /// <summary>Why Winograd cannot compute this geometry, or null when it can.</summary>
    internal static string? Unsupported(in ConvGeometry g) =>
        g.KernelHeight == 3 && g.KernelWidth == 3 && g.IsUnitStrideDense ? null
            : $"Winograd F(2x2,3x3) needs a 3x3 kernel with stride 1, dilation 1 and groups 1, got {g.KernelHeight}x{g.KernelWidth} stride {g.StrideH}x{g.StrideW}, dilation {g.DilationH}x{g.DilationW}, groups {g.Groups}";

    /// <summary>Chunks of images run side by side: a whole image per thread when there are enough, else one.</summary>
    private static int ImageChunks(in ConvGeometry g) =>
        CpuParallel.Threads > 1 && g.Batch >= CpuParallel.Threads ? CpuParallel.Threads : 1;

    /// <summary>
    /// The <see cref="ScratchPool"/> buffers the forward holds at once: the transformed filters U [16, O, C], and per
    /// running chunk the transformed tiles V [16, C, T] and the products M [16, O, T].
    /// </summary>
    internal static int[] Scratch(in ConvGeometry g)
    {
        int t = ((g.OutHeight + 1) / 2) * ((g.OutWidth + 1) / 2), chunks = ImageChunks(g);
        var buffers = new List<int> { 16 * g.OutChannels * g.InChannels };
        for (int k = CpuParallel.Concurrency(chunks, g.Macs / chunks); k > 0; k--)
        {
            buffers.Add(16 * g.InChannels * t);
            buffers.Add(16 * g.OutChannels * t);
        }
        return [.. buffers];
    }

    // x [N, C, H, W], w [O, C, 3, 3], bias [O] or null → y [N, O, OH, OW]
    public static void Forward(in ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y)
    {
        if (Unsupported(g) is { } why) throw new ArgumentException(why);
        var geo = g;
        int c = g.InChannels, o = g.OutChannels, oh = g.OutHeight, ow = g.OutWidth;
        int th = (oh + 1) / 2, tw = (ow + 1) / 2, t = th * tw;
        var u = ScratchPool.Rent(16 * o * c);
        try
        {
            TransformFilters(g, w, u);
            // With at least a whole image per thread, images are split over the pool; with fewer, the images run
            // one after another and each one's transforms and 16 GEMMs are split instead (a single 16-way split
            // of independent products parallelises better than each product alone).
            int chunks = ImageChunks(g);
            bool inner = chunks == 1;
            CpuParallel.For(chunks, g.Macs / chunks, k =>
            {
                int start = (int)((long)geo.Batch * k / chunks), end = (int)((long)geo.Batch * (k + 1) / chunks);
                var v = ScratchPool.Rent(16 * c * t);
                var m = ScratchPool.Rent(16 * o * t);
                for (int n = start; n < end; n++)
                {
                    Run(inner, c, 16L * t, ci => TransformInput(geo, x, n * geo.InputImageSize + ci * geo.InHeight * geo.InWidth, ci, th, tw, v));
                    Run(inner, 16, (long)o * t * c, xi =>
                        Gemm.Sgemm(false, false, o, t, c, u.AsSpan(xi * o * c), c, v.AsSpan(xi * c * t), t, 0f, m.AsSpan(xi * o * t), t));
                    Run(inner, o, 24L * t, oi => TransformOutput(geo, m, oi, th, tw, bias is null ? 0f : bias[oi],
                        y.AsSpan(n * geo.OutputImageSize + oi * oh * ow, oh * ow)));
                }
                ScratchPool.Return(v);
                ScratchPool.Return(m);
            });
        }
        finally
        {
            ScratchPool.Return(u);
        }
    }

    private static void Run(bool parallel, int count, long work, Action<int> body)
    {
        if (parallel) CpuParallel.For(count, work, body);
        else
            for (int i = 0; i < count; i++) body(i);
    }

    // U_ξ[o, c] = (G g Gᵀ)_ξ with G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]]
    private static void TransformFilters(in ConvGeometry g, float[] w, float[] u)
    {
        int c = g.InChannels, oc = g.OutChannels * c;
        CpuParallel.For(g.OutChannels, 64L * c, oi =>
        {
            Span<float> t = stackalloc float[12];
            for (int i = oi * c; i < (oi + 1) * c; i++)
            {
                var f = w.AsSpan(i * 9, 9);
                for (int col = 0; col < 3; col++) // t = G g  (4x3)
                {
                    float g0 = f[col], g1 = f[3 + col], g2 = f[6 + col];
                    t[col] = g0;
                    t[3 + col] = 0.5f * (g0 + g1 + g2);
                    t[6 + col] = 0.5f * (g0 - g1 + g2);
                    t[9 + col] = g2;
                }
                for (int r = 0; r < 4; r++) // u = t Gᵀ  (4x4)
                {
                    float a = t[r * 3], b = t[r * 3 + 1], d = t[r * 3 + 2];
                    u[(r * 4 + 0) * oc + i] = a;
                    u[(r * 4 + 1) * oc + i] = 0.5f * (a + b + d);
                    u[(r * 4 + 2) * oc + i] = 0.5f * (a - b + d);
                    u[(r * 4 + 3) * oc + i] = d;
                }
            }
        });
    }

    // V_ξ[c, tile] = (Bᵀ d B)_ξ with Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]]; d is the 4x4 padded input
    // tile whose top-left corner is (2·ty − PadTop, 2·tx − PadLeft). Tiles overlap by two columns, so the padded
    // plane is first split into its even and odd columns: then tile tx's four columns are E[tx], O[tx],
    // E[tx+1], O[tx+1], and both halves of the transform run along a whole row of tiles with vector ops.
    private static void TransformInput(in ConvGeometry g, float[] x, int planeOffset, int ci, int th, int tw, float[] v)
    {
        int h = g.InHeight, wd = g.InWidth, t = th * tw, stride = g.InChannels * t;
        int rows = 2 * th + 2, half = tw + 1;
        var buffer = ArrayPool<float>.Shared.Rent(2 * rows * half + 8 * half); // small, rented and returned on this thread
        Span<float> even = buffer.AsSpan(0, rows * half), odd = buffer.AsSpan(rows * half, rows * half);
        Span<float> s = buffer.AsSpan(2 * rows * half, 8 * half);
        var plane = x.AsSpan(planeOffset, h * wd);
        for (int pr = 0; pr < rows; pr++)
        {
            int r = pr - g.PadTop;
            var e = even.Slice(pr * half, half);
            var o = odd.Slice(pr * half, half);
            if ((uint)r >= (uint)h)
            {
                e.Clear();
                o.Clear();
                continue;
            }
            var src = plane.Slice(r * wd, wd);
            for (int k = 0; k < half; k++)
            {
                int q = 2 * k - g.PadLeft;
                e[k] = (uint)q < (uint)wd ? src[q] : 0f;
                o[k] = (uint)(q + 1) < (uint)wd ? src[q + 1] : 0f;
            }
        }
        for (int ty = 0; ty < th; ty++)
        {
            // s = Bᵀ d down the four input rows of this row of tiles, for the even (s[0..3]) and odd (s[4..7]) columns.
            for (int side = 0; side < 2; side++)
            {
                var src = side == 0 ? even : odd;
                ReadOnlySpan<float> d0 = src.Slice((2 * ty) * half, half), d1 = src.Slice((2 * ty + 1) * half, half);
                ReadOnlySpan<float> d2 = src.Slice((2 * ty + 2) * half, half), d3 = src.Slice((2 * ty + 3) * half, half);
                var dst = s.Slice(side * 4 * half, 4 * half);
                TensorPrimitives.Subtract(d0, d2, dst[..half]);
                TensorPrimitives.Add(d1, d2, dst.Slice(half, half));
                TensorPrimitives.Subtract(d2, d1, dst.Slice(2 * half, half));
                TensorPrimitives.Subtract(d1, d3, dst.Slice(3 * half, half));
            }
            // V = s B along the row: columns a, b, c, d of tile tx are E[tx], O[tx], E[tx+1], O[tx+1].
            int at = ci * t + ty * tw;
            for (int i = 0; i < 4; i++)
            {
                ReadOnlySpan<float> e = s.Slice(i * half, half), o = s.Slice((4 + i) * half, half);
                ReadOnlySpan<float> a = e[..tw], b = o[..tw], c = e[1..], d = o[1..];
                TensorPrimitives.Subtract(a, c, v.AsSpan((i * 4 + 0) * stride + at, tw));
                TensorPrimitives.Add(b, c, v.AsSpan((i * 4 + 1) * stride + at, tw));
                TensorPrimitives.Subtract(c, b, v.AsSpan((i * 4 + 2) * stride + at, tw));
                TensorPrimitives.Subtract(b, d, v.AsSpan((i * 4 + 3) * stride + at, tw));
            }
        }
        ArrayPool<float>.Shared.Return(buffer);
    }

    // y tile = Aᵀ m A with Aᵀ = [[1,1,1,0],[0,1,−1,−1]], cropped at the bottom and right edges, plus the bias;
    // computed for a whole row of tiles at once, then interleaved into the two output rows.
    private static void TransformOutput(in ConvGeometry g, float[] m, int oi, int th, int tw, float bias, Span<float> y)
    {
        int oh = g.OutHeight, ow = g.OutWidth, t = th * tw, stride = g.OutChannels * t;
        var buffer = ArrayPool<float>.Shared.Rent(10 * tw);
        var r = buffer.AsSpan(0, 8 * tw);
        Span<float> even = buffer.AsSpan(8 * tw, tw), odd = buffer.AsSpan(9 * tw, tw);
        for (int ty = 0; ty < th; ty++)
        {
            int at = oi * t + ty * tw;
            for (int j = 0; j < 4; j++) // r = Aᵀ m: row 0 = m0 + m1 + m2, row 1 = m1 − m2 − m3
            {
                ReadOnlySpan<float> m0 = m.AsSpan(j * stride + at, tw), m1 = m.AsSpan((4 + j) * stride + at, tw);
                ReadOnlySpan<float> m2 = m.AsSpan((8 + j) * stride + at, tw), m3 = m.AsSpan((12 + j) * stride + at, tw);
                Span<float> r0 = r.Slice(j * tw, tw), r1 = r.Slice((4 + j) * tw, tw);
                TensorPrimitives.Add(m0, m1, r0);
                TensorPrimitives.Add(r0, m2, r0);
                TensorPrimitives.Subtract(m1, m2, r1);
                TensorPrimitives.Subtract(r1, m3, r1);
            }
            for (int row = 0; row < 2 && 2 * ty + row < oh; row++) // y = r A: even column r0 + r1 + r2, odd r1 − r2 − r3
            {
                var rr = r.Slice(row * 4 * tw, 4 * tw);
                TensorPrimitives.Add(rr[..tw], rr.Slice(tw, tw), even);
                TensorPrimitives.Add(even, rr.Slice(2 * tw, tw), even);
                TensorPrimitives.Subtract(rr.Slice(tw, tw), rr.Slice(2 * tw, tw), odd);
                TensorPrimitives.Subtract(odd, rr.Slice(3 * tw, tw), odd);
                var dst = y.Slice((2 * ty + row) * ow, ow);
                for (int tx = 0; tx < tw; tx++)
                {
                    dst[2 * tx] = even[tx] + bias;
                    if (2 * tx + 1 < ow) dst[2 * tx + 1] = odd[tx] + bias;
                }
            }
        }
        ArrayPool<float>.Shared.Return(buffer);
    }
}
