using System.Buffers;

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

    // x [N, C, H, W], w [O, C, 3, 3], bias [O] or null → y [N, O, OH, OW]
    public static void Forward(in ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y)
    {
        if (Unsupported(g) is { } why) throw new ArgumentException(why);
        var geo = g;
        int c = g.InChannels, o = g.OutChannels, oh = g.OutHeight, ow = g.OutWidth;
        int th = (oh + 1) / 2, tw = (ow + 1) / 2, t = th * tw;
        var u = ArrayPool<float>.Shared.Rent(16 * o * c);
        try
        {
            TransformFilters(g, w, u);
            int chunks = Math.Max(1, Math.Min(CpuParallel.Threads, g.Batch));
            bool inner = chunks == 1; // one image: split its transforms over the pool, GEMM threads itself
            CpuParallel.For(chunks, g.Macs / chunks, k =>
            {
                int start = (int)((long)geo.Batch * k / chunks), end = (int)((long)geo.Batch * (k + 1) / chunks);
                var v = ArrayPool<float>.Shared.Rent(16 * c * t);
                var m = ArrayPool<float>.Shared.Rent(16 * o * t);
                for (int n = start; n < end; n++)
                {
                    Run(inner, c, 16L * t, ci => TransformInput(geo, x, n * geo.InputImageSize + ci * geo.InHeight * geo.InWidth, ci, th, tw, v));
                    for (int xi = 0; xi < 16; xi++)
                        Gemm.Sgemm(false, false, o, t, c, u.AsSpan(xi * o * c), c, v.AsSpan(xi * c * t), t, 0f, m.AsSpan(xi * o * t), t);
                    Run(inner, o, 24L * t, oi => TransformOutput(geo, m, oi, th, tw, bias is null ? 0f : bias[oi],
                        y.AsSpan(n * geo.OutputImageSize + oi * oh * ow, oh * ow)));
                }
                ArrayPool<float>.Shared.Return(v);
                ArrayPool<float>.Shared.Return(m);
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(u);
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
        int c = g.InChannels, o = g.OutChannels, oc = o * c;
        Span<float> t = stackalloc float[12];
        for (int i = 0; i < oc; i++)
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
    }

    // V_ξ[c, tile] = (Bᵀ d B)_ξ with Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]]; d is the 4x4 padded input
    // tile whose top-left corner is (2·ty − PadTop, 2·tx − PadLeft).
    private static void TransformInput(in ConvGeometry g, float[] x, int planeOffset, int ci, int th, int tw, float[] v)
    {
        int h = g.InHeight, wd = g.InWidth, c = g.InChannels, t = th * tw, stride = c * t;
        Span<float> d = stackalloc float[16];
        Span<float> s = stackalloc float[16];
        var plane = x.AsSpan(planeOffset, h * wd);
        for (int ty = 0; ty < th; ty++)
            for (int tx = 0; tx < tw; tx++)
            {
                int r0 = 2 * ty - g.PadTop, c0 = 2 * tx - g.PadLeft;
                bool inside = r0 >= 0 && c0 >= 0 && r0 + 4 <= h && c0 + 4 <= wd;
                for (int i = 0; i < 4; i++)
                {
                    int r = r0 + i;
                    for (int j = 0; j < 4; j++)
                    {
                        int q = c0 + j;
                        d[i * 4 + j] = inside || ((uint)r < (uint)h && (uint)q < (uint)wd) ? plane[r * wd + q] : 0f;
                    }
                }
                for (int j = 0; j < 4; j++) // s = Bᵀ d
                {
                    float d0 = d[j], d1 = d[4 + j], d2 = d[8 + j], d3 = d[12 + j];
                    s[j] = d0 - d2;
                    s[4 + j] = d1 + d2;
                    s[8 + j] = d2 - d1;
                    s[12 + j] = d1 - d3;
                }
                int at = ci * t + ty * tw + tx;
                for (int i = 0; i < 4; i++) // V = s B
                {
                    float s0 = s[i * 4], s1 = s[i * 4 + 1], s2 = s[i * 4 + 2], s3 = s[i * 4 + 3];
                    v[(i * 4 + 0) * stride + at] = s0 - s2;
                    v[(i * 4 + 1) * stride + at] = s1 + s2;
                    v[(i * 4 + 2) * stride + at] = s2 - s1;
                    v[(i * 4 + 3) * stride + at] = s1 - s3;
                }
            }
    }

    // y tile = Aᵀ m A with Aᵀ = [[1,1,1,0],[0,1,−1,−1]], cropped at the bottom and right edges, plus the bias.
    private static void TransformOutput(in ConvGeometry g, float[] m, int oi, int th, int tw, float bias, Span<float> y)
    {
        int o = g.OutChannels, oh = g.OutHeight, ow = g.OutWidth, t = th * tw, stride = o * t;
        Span<float> mm = stackalloc float[16];
        for (int ty = 0; ty < th; ty++)
            for (int tx = 0; tx < tw; tx++)
            {
                int at = oi * t + ty * tw + tx;
                for (int xi = 0; xi < 16; xi++) mm[xi] = m[xi * stride + at];
                // r = Aᵀ m (2x4)
                float r00 = mm[0] + mm[4] + mm[8], r01 = mm[1] + mm[5] + mm[9], r02 = mm[2] + mm[6] + mm[10], r03 = mm[3] + mm[7] + mm[11];
                float r10 = mm[4] - mm[8] - mm[12], r11 = mm[5] - mm[9] - mm[13], r12 = mm[6] - mm[10] - mm[14], r13 = mm[7] - mm[11] - mm[15];
                int yr = 2 * ty, yc = 2 * tx;
                y[yr * ow + yc] = r00 + r01 + r02 + bias;
                if (yc + 1 < ow) y[yr * ow + yc + 1] = r01 - r02 - r03 + bias;
                if (yr + 1 < oh)
                {
                    y[(yr + 1) * ow + yc] = r10 + r11 + r12 + bias;
                    if (yc + 1 < ow) y[(yr + 1) * ow + yc + 1] = r11 - r12 - r13 + bias;
                }
            }
    }
}
