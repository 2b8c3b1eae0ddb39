using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Convolution as the sum of products, with no unfolding. It suits the shapes where im2col would mostly copy:
/// depthwise convolutions, 1x1 kernels (which, unpadded at unit stride, are a matrix product as they lie and go
/// straight to GEMM) and short channel sums such as LeNet-5's. At unit stride the tiled kernels run, register tiles
/// by output rows (ConvDirect.Rows.cs) or with output channels in the lanes (ConvDirect.Channels.cs). Long sums
/// over many output channels take the AVX-512 kernel with 32 channels in the lanes along output rows
/// (ConvDirect.ChannelRows.cs, column strides 1, 2 and 4), the chooser's pick where Winograd does not apply or has
/// few tiles to work on. The loops here are the general path (any stride), each tap scaling a whole input row into
/// an output row (an axpy).
/// </summary>
internal static partial class ConvDirect
{
    /// <summary>The <see cref="ScratchPool"/> buffers each pass holds at once, by the path it takes.</summary>
    internal static int[] ForwardScratch(in ConvGeometry g) =>
        !ConvIm2col.NeedsUnfold(g) ? ConvIm2col.ImageScratch(g) : UsesChannelRows(g) ? ChannelRowsForwardScratch(g) : Tiled(g) ? TiledForwardScratch(g) : [];

    internal static int[] DataScratch(in ConvGeometry g) =>
        !ConvIm2col.NeedsUnfold(g) ? ConvIm2col.ImageScratch(g) : TiledData(g, out _) ? TiledDataScratch(g) : [];

    internal static int[] FilterScratch(in ConvGeometry g) =>
        !ConvIm2col.NeedsUnfold(g) ? ConvIm2col.FilterScratch(g) : Tiled(g) ? TiledFilterScratch(g) : [];

    // x [N, C, H, W], w [O, Cg, KH, KW], bias [O] or null → y [N, O, OH, OW]; with relu max(y, 0): in the channel-rows
    // kernel as it writes each tile, after the other paths as a pass of its own
    public static void Forward(in ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y, bool relu = false)
    {
        if (!ConvIm2col.NeedsUnfold(g)) ConvIm2col.Forward(g, x, w, bias, y);
        else if (UsesChannelRows(g))
        {
            ForwardByChannelRows(g, x, w, bias, y, relu);
            return;
        }
        else if (Tiled(g)) ForwardTiled(g, x, w, bias, y);
        else
            // One (image, output channel) plane per work item: each writes only its own plane.
            CpuParallel.For(g.Batch * g.OutChannels, (long)g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth * g.OutHeight * g.OutWidth,
                new OutputPlanes(g, x, w, bias, y));
        if (relu) CpuBackend.ReluInPlace(y, g.Batch * g.OutputImageSize);
    }

    /// <summary>The general forward's work item: output plane <c>item</c> of y, tap by tap.</summary>
    private readonly struct OutputPlanes(ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y) : CpuParallel.IItems
    {
        public void Run(int item)
        {
            int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, oh = g.OutHeight, ow = g.OutWidth, p = oh * ow;
            int kh = g.KernelHeight, kw = g.KernelWidth, h = g.InHeight, wd = g.InWidth, sw = g.StrideW;
            int n = item / g.OutChannels, o = item % g.OutChannels, c0 = o / og * cg;
            var yp = y.AsSpan(item * p, p);
            yp.Fill(bias is null ? 0f : bias[o]);
            for (int c = 0; c < cg; c++)
            {
                var xp = x.AsSpan(((n * g.InChannels) + c0 + c) * h * wd, h * wd);
                for (int i = 0; i < kh; i++)
                {
                    int offH = i * g.DilationH - g.PadTop;
                    var (rowLo, rowHi) = Im2Col.ValidRange(oh, h, offH, g.StrideH);
                    for (int j = 0; j < kw; j++)
                    {
                        int offW = j * g.DilationW - g.PadLeft;
                        var (lo, hi) = Im2Col.ValidRange(ow, wd, offW, sw);
                        if (hi <= lo) continue;
                        float wv = w[((o * cg + c) * kh + i) * kw + j];
                        for (int r = rowLo; r < rowHi; r++)
                        {
                            var yrow = yp.Slice(r * ow + lo, hi - lo);
                            var xrow = xp.Slice((r * g.StrideH + offH) * wd + lo * sw + offW);
                            if (sw == 1) TensorPrimitives.MultiplyAdd(xrow[..yrow.Length], wv, yrow, yrow);
                            else
                                for (int q = 0; q < yrow.Length; q++) yrow[q] += wv * xrow[q * sw];
                        }
                    }
                }
            }
        }
    }

    // dy [N, O, OH, OW], w [O, Cg, KH, KW] → dx [N, C, H, W]
    public static void BackwardData(in ConvGeometry g, float[] dy, float[] w, float[] dx)
    {
        if (!ConvIm2col.NeedsUnfold(g))
        {
            ConvIm2col.BackwardData(g, dy, w, dx);
            return;
        }
        if (TiledData(g, out var asForward))
        {
            BackwardDataTiled(g, asForward, dy, w, dx);
            return;
        }
        // One (image, input channel) plane per work item: the adjoint scatters each dy row back along the rows
        // of dx it was read from, and only this item writes this dx plane.
        CpuParallel.For(g.Batch * g.InChannels, (long)g.OutChannelsPerGroup * g.KernelHeight * g.KernelWidth * g.OutHeight * g.OutWidth,
            new InputPlanes(g, dy, w, dx));
    }

    /// <summary>The general data gradient's work item: input plane <c>item</c> of dx, tap by tap.</summary>
    private readonly struct InputPlanes(ConvGeometry g, float[] dy, float[] w, float[] dx) : CpuParallel.IItems
    {
        public void Run(int item)
        {
            int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, oh = g.OutHeight, ow = g.OutWidth, p = oh * ow;
            int kh = g.KernelHeight, kw = g.KernelWidth, h = g.InHeight, wd = g.InWidth, sw = g.StrideW;
            int n = item / g.InChannels, c = item % g.InChannels, gi = c / cg, cl = c % cg;
            var dxp = dx.AsSpan(item * h * wd, h * wd);
            dxp.Clear();
            for (int o = gi * og; o < (gi + 1) * og; o++)
            {
                var dyp = dy.AsSpan((n * g.OutChannels + o) * p, p);
                for (int i = 0; i < kh; i++)
                {
                    int offH = i * g.DilationH - g.PadTop;
                    var (rowLo, rowHi) = Im2Col.ValidRange(oh, h, offH, g.StrideH);
                    for (int j = 0; j < kw; j++)
                    {
                        int offW = j * g.DilationW - g.PadLeft;
                        var (lo, hi) = Im2Col.ValidRange(ow, wd, offW, sw);
                        if (hi <= lo) continue;
                        float wv = w[((o * cg + cl) * kh + i) * kw + j];
                        for (int r = rowLo; r < rowHi; r++)
                        {
                            var dyrow = dyp.Slice(r * ow + lo, hi - lo);
                            var dxrow = dxp.Slice((r * g.StrideH + offH) * wd + lo * sw + offW);
                            if (sw == 1)
                            {
                                var d = dxrow[..dyrow.Length];
                                TensorPrimitives.MultiplyAdd(dyrow, wv, d, d);
                            }
                            else
                                for (int q = 0; q < dyrow.Length; q++) dxrow[q * sw] += wv * dyrow[q];
                        }
                    }
                }
            }
        }
    }

    // x [N, C, H, W], dy [N, O, OH, OW] → dw [O, Cg, KH, KW], db [O] when not null
    public static void BackwardFilter(in ConvGeometry g, float[] x, float[] dy, float[] dw, float[]? db)
    {
        if (!ConvIm2col.NeedsUnfold(g))
        {
            ConvIm2col.BackwardFilter(g, x, dy, dw, db);
            return;
        }
        if (Tiled(g))
        {
            BackwardFilterTiled(g, x, dy, dw, db);
            return;
        }
        // One output channel's filter per work item: each tap is a dot product of dy rows with shifted x rows,
        // rows summed in double.
        CpuParallel.For(g.OutChannels, (long)g.Batch * g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth * g.OutHeight * g.OutWidth,
            new Filters(g, x, dy, dw));
        if (db is not null) ConvIm2col.BiasGradient(g, dy, db);
    }

    /// <summary>The general filter gradient's work item: filter <c>o</c> of dw, tap by tap.</summary>
    private readonly struct Filters(ConvGeometry g, float[] x, float[] dy, float[] dw) : CpuParallel.IItems
    {
        public void Run(int o)
        {
            int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, oh = g.OutHeight, ow = g.OutWidth, p = oh * ow;
            int kh = g.KernelHeight, kw = g.KernelWidth, h = g.InHeight, wd = g.InWidth, sw = g.StrideW;
            int c0 = o / og * cg;
            for (int c = 0; c < cg; c++)
                for (int i = 0; i < kh; i++)
                {
                    int offH = i * g.DilationH - g.PadTop;
                    var (rowLo, rowHi) = Im2Col.ValidRange(oh, h, offH, g.StrideH);
                    for (int j = 0; j < kw; j++)
                    {
                        int offW = j * g.DilationW - g.PadLeft;
                        var (lo, hi) = Im2Col.ValidRange(ow, wd, offW, sw);
                        double s = 0;
                        for (int n = 0; n < g.Batch && hi > lo; n++)
                        {
                            var dyp = dy.AsSpan((n * g.OutChannels + o) * p, p);
                            var xp = x.AsSpan((n * g.InChannels + c0 + c) * h * wd, h * wd);
                            for (int r = rowLo; r < rowHi; r++)
                            {
                                var dyrow = dyp.Slice(r * ow + lo, hi - lo);
                                var xrow = xp.Slice((r * g.StrideH + offH) * wd + lo * sw + offW);
                                if (sw == 1) s += TensorPrimitives.Dot(dyrow, xrow[..dyrow.Length]);
                                else
                                {
                                    float t = 0;
                                    for (int q = 0; q < dyrow.Length; q++) t += dyrow[q] * xrow[q * sw];
                                    s += t;
                                }
                            }
                        }
                        dw[((o * cg + c) * kh + i) * kw + j] = (float)s;
                    }
                }
        }
    }
}
