namespace Fovea.Backends.Cpu;

/// <summary>
/// The plain nested loops of convolution (PyTorch's conv2d: cross-correlation, zero padding, stride, dilation,
/// groups), accumulating in double. Kept for ever as the oracle every fast algorithm is tested against; the
/// double entry points are what the finite-difference gradient checks differentiate.
/// </summary>
public static class ConvReference
{
    // x [N, C, H, W], w [O, C/G, KH, KW], bias [O] or empty → y [N, O, OH, OW]
    public static void Forward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        var yd = new double[y.Length];
        Forward(g, ToDouble(x), ToDouble(w), ToDouble(bias), yd);
        ToFloat(yd, y);
    }

    // dy [N, O, OH, OW], w [O, C/G, KH, KW] → dx [N, C, H, W]
    public static void BackwardData(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        var dxd = new double[dx.Length];
        BackwardData(g, ToDouble(dy), ToDouble(w), dxd);
        ToFloat(dxd, dx);
    }

    // x [N, C, H, W], dy [N, O, OH, OW] → dw [O, C/G, KH, KW], db [O] (when not empty)
    public static void BackwardFilter(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> db)
    {
        var dwd = new double[dw.Length];
        var dbd = new double[db.Length];
        BackwardFilter(g, ToDouble(x), ToDouble(dy), dwd, dbd);
        ToFloat(dwd, dw);
        ToFloat(dbd, db);
    }

    // y[n,o,oh,ow] = b[o] + Σ_{c,kh,kw} w[o,c,kh,kw] · x[n, g·Cg + c, oh·sh + kh·dh − pt, ow·sw + kw·dw − pl]
    public static void Forward(in ConvGeometry g, ReadOnlySpan<double> x, ReadOnlySpan<double> w, ReadOnlySpan<double> bias, Span<double> y)
    {
        int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, oh = g.OutHeight, ow = g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
            {
                int c0 = o / og * cg;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double s = bias.IsEmpty ? 0 : bias[o];
                        for (int c = 0; c < cg; c++)
                            for (int kh = 0; kh < g.KernelHeight; kh++)
                            {
                                int ih = i * g.StrideH + kh * g.DilationH - g.PadTop;
                                if ((uint)ih >= (uint)g.InHeight) continue;
                                for (int kw = 0; kw < g.KernelWidth; kw++)
                                {
                                    int iw = j * g.StrideW + kw * g.DilationW - g.PadLeft;
                                    if ((uint)iw >= (uint)g.InWidth) continue;
                                    s += w[((o * cg + c) * g.KernelHeight + kh) * g.KernelWidth + kw]
                                         * x[((n * g.InChannels + c0 + c) * g.InHeight + ih) * g.InWidth + iw];
                                }
                            }
                        y[((n * g.OutChannels + o) * oh + i) * ow + j] = s;
                    }
            }
    }

    // dx[n, c, ih, iw] = Σ over every (o, kh, kw, oh, ow) whose window reads that cell of w · dy (the adjoint of Forward)
    public static void BackwardData(in ConvGeometry g, ReadOnlySpan<double> dy, ReadOnlySpan<double> w, Span<double> dx)
    {
        int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, oh = g.OutHeight, ow = g.OutWidth;
        dx.Clear();
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
            {
                int c0 = o / og * cg;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double d = dy[((n * g.OutChannels + o) * oh + i) * ow + j];
                        for (int c = 0; c < cg; c++)
                            for (int kh = 0; kh < g.KernelHeight; kh++)
                            {
                                int ih = i * g.StrideH + kh * g.DilationH - g.PadTop;
                                if ((uint)ih >= (uint)g.InHeight) continue;
                                for (int kw = 0; kw < g.KernelWidth; kw++)
                                {
                                    int iw = j * g.StrideW + kw * g.DilationW - g.PadLeft;
                                    if ((uint)iw >= (uint)g.InWidth) continue;
                                    dx[((n * g.InChannels + c0 + c) * g.InHeight + ih) * g.InWidth + iw] +=
                                        d * w[((o * cg + c) * g.KernelHeight + kh) * g.KernelWidth + kw];
                                }
                            }
                    }
            }
    }

    // dw[o, c, kh, kw] = Σ_{n,oh,ow} dy[n,o,oh,ow] · x[n, g·Cg + c, ih, iw];  db[o] = Σ_{n,oh,ow} dy[n,o,oh,ow]
    public static void BackwardFilter(in ConvGeometry g, ReadOnlySpan<double> x, ReadOnlySpan<double> dy, Span<double> dw, Span<double> db)
    {
        int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, oh = g.OutHeight, ow = g.OutWidth;
        dw.Clear();
        db.Clear();
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
            {
                int c0 = o / og * cg;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double d = dy[((n * g.OutChannels + o) * oh + i) * ow + j];
                        if (!db.IsEmpty) db[o] += d;
                        for (int c = 0; c < cg; c++)
                            for (int kh = 0; kh < g.KernelHeight; kh++)
                            {
                                int ih = i * g.StrideH + kh * g.DilationH - g.PadTop;
                                if ((uint)ih >= (uint)g.InHeight) continue;
                                for (int kw = 0; kw < g.KernelWidth; kw++)
                                {
                                    int iw = j * g.StrideW + kw * g.DilationW - g.PadLeft;
                                    if ((uint)iw >= (uint)g.InWidth) continue;
                                    dw[((o * cg + c) * g.KernelHeight + kh) * g.KernelWidth + kw] +=
                                        d * x[((n * g.InChannels + c0 + c) * g.InHeight + ih) * g.InWidth + iw];
                                }
                            }
                    }
            }
    }

    private static double[] ToDouble(ReadOnlySpan<float> s)
    {
        var d = new double[s.Length];
        for (int i = 0; i < s.Length; i++) d[i] = s[i];
        return d;
    }

    private static void ToFloat(ReadOnlySpan<double> s, Span<float> d)
    {
        for (int i = 0; i < s.Length; i++) d[i] = (float)s[i];
    }
}
