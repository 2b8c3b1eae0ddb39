using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fovea.Backends.Cpu;

/// <summary>
/// The direct convolution at unit stride, blocked in registers: a tile of 2 output channels × 4 output rows × one
/// vector of output columns is summed over every (input channel, tap) with the input rows loaded straight from the
/// image, so nothing is unfolded. That suits small channel sums (LeNet's 1 → 6 and 6 → 16 with 5x5 kernels), where
/// an im2col matrix is 25-150 times the image and writing it costs more than the products.
/// <para>Tails cost no special code: a partial tile repeats the last row, column vector or channel, whose writes
/// are identical. The data gradient is the same forward pass over dy (turned, transposed filters: ConvDataGradient);
/// the filter gradient is a tile of 2 output channels × 4 taps summed over all rows of a chunk of images.</para>
/// </summary>
internal static partial class ConvDirect
{
    private const int TileRows = 4, TileTaps = 4;

    /// <summary>Row tiles need unit stride and an output row of at least 4 (the narrowest vector).</summary>
    private static bool ByRows(in ConvGeometry g) => g.StrideH == 1 && g.StrideW == 1 && LaneWidth.Fitting(g.OutWidth) > 0;

    /// <summary>True when a tiled kernel takes this shape's forward and filter gradient: by channels where it can, else by rows.</summary>
    internal static bool Tiled(in ConvGeometry g) => ByChannels(g) || ByRows(g);

    /// <summary>Where a kernel reads an image: x itself when unpadded, else a copy with the padding as zero borders.</summary>
    private readonly struct Planes(in ConvGeometry g)
    {
        public readonly int Height = g.InHeight + g.PadTop + g.PadBottom;
        public readonly int Pitch = g.InWidth + g.PadLeft + g.PadRight;
        private readonly int _top = g.PadTop, _left = g.PadLeft, _width = g.InWidth, _rows = g.InHeight, _channels = g.InChannels;

        public bool Copied => Height != _rows || Pitch != _width;
        public int Plane => Height * Pitch;
        public int Length => _channels * Plane;

        /// <summary>Copies one image [C, H, W] into <paramref name="dst"/> with its borders zeroed.</summary>
        public void Fill(ReadOnlySpan<float> image, Span<float> dst)
        {
            dst[..Length].Clear();
            for (int c = 0; c < _channels; c++)
                for (int h = 0; h < _rows; h++)
                    image.Slice((c * _rows + h) * _width, _width).CopyTo(dst[(c * Plane + (h + _top) * Pitch + _left)..]);
        }
    }

    /// <summary>Work items of a tiled forward: per image, as many ranges of its <paramref name="units"/> (channels or tiles of them) as keep every thread busy.</summary>
    private static (int Items, int PerImage, int Chunks) ForwardSplit(in ConvGeometry g, int units)
    {
        int threads = CpuParallel.Threads;
        int perImage = g.Batch >= threads ? 1 : Math.Min(units, (threads + Math.Max(1, g.Batch) - 1) / Math.Max(1, g.Batch));
        int items = g.Batch * perImage;
        return (items, perImage, Math.Max(1, Math.Min(threads, items)));
    }

    /// <summary>The <see cref="ScratchPool"/> buffers a tiled forward holds at once.</summary>
    internal static int[] TiledForwardScratch(in ConvGeometry g) => ByChannels(g) ? ByChannelsForwardScratch(g) : ByRowsForwardScratch(g);

    /// <summary>By rows: a bordered image per running chunk.</summary>
    private static int[] ByRowsForwardScratch(in ConvGeometry g)
    {
        var src = new Planes(g);
        var (_, _, chunks) = ForwardSplit(g, g.OutChannels);
        return src.Copied ? Enumerable.Repeat(src.Length, CpuParallel.Concurrency(chunks, g.Macs / chunks)).ToArray() : [];
    }

    /// <summary>The data gradient's buffers: the rearranged filters, then the forward's.</summary>
    internal static int[] TiledDataScratch(in ConvGeometry g)
    {
        ConvDataGradient.TryAsForward(g, out var t);
        return [(int)g.WeightCount, .. TiledForwardScratch(t)];
    }

    /// <summary>The data gradient as a tiled forward pass (<see cref="ConvDataGradient"/>): unit stride and a shape the tiles take.</summary>
    internal static bool TiledData(in ConvGeometry g, out ConvGeometry asForward) => ConvDataGradient.TryAsForward(g, out asForward) && Tiled(asForward);

    // x [N, C, H, W], w [O, Cg, KH, KW], bias [O] or null → y [N, O, OH, OW]
    private static void ForwardTiled(in ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y)
    {
        if (ByChannels(g))
        {
            ForwardByChannels(g, x, w, bias, y);
            return;
        }
        switch (LaneWidth.Fitting(g.OutWidth))
        {
            case 16: ForwardByRows<Lanes16, Vector512<float>>(g, x, w, bias, y); break;
            case 8: ForwardByRows<Lanes8, Vector256<float>>(g, x, w, bias, y); break;
            default: ForwardByRows<Lanes4, Vector128<float>>(g, x, w, bias, y); break;
        }
    }

    private static void ForwardByRows<TL, TV>(in ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y)
        where TL : struct, ILanes<TV> where TV : struct =>
        ForEachForwardItem(g, x, g.OutChannels, new RowTileUnits<TL, TV>(g, w, bias, y));

    /// <summary>A by-rows forward's units are output channels, tiled by <see cref="ForwardRowTiles{TL, TV}"/>.</summary>
    private readonly struct RowTileUnits<TL, TV>(ConvGeometry g, float[] w, float[]? bias, float[] y) : IForwardUnits
        where TL : struct, ILanes<TV> where TV : struct
    {
        public void Run(in Planes src, int n, int oa, int ob, float[] image, int offset) =>
            ForwardRowTiles<TL, TV>(g, src, image, offset, w, bias, y, n, oa, ob);
    }

    /// <summary>
    /// A tiled forward's work on units [first, end) of image n, which lies in image from offset as src lays it out:
    /// the body <see cref="ForEachForwardItem{T}"/> runs, a struct so that no delegate is made per call.
    /// </summary>
    private interface IForwardUnits
    {
        void Run(in Planes src, int n, int first, int end, float[] image, int offset);
    }

    /// <summary>
    /// Runs a tiled forward's work items (<see cref="ForwardSplit"/>) over the pool: body.Run(src, n, first, end, image,
    /// offset) for units [first, end) of image n, which lies in image from offset as src lays it out (x itself, or the
    /// chunk's bordered copy, refilled when its items reach the next image).
    /// </summary>
    private static void ForEachForwardItem<T>(in ConvGeometry g, float[] x, int units, T body) where T : struct, IForwardUnits
    {
        var (items, perImage, chunks) = ForwardSplit(g, units);
        CpuParallel.For(chunks, g.Macs / chunks, new ForwardChunks<T>(g, new Planes(g), x, units, items, perImage, chunks, body));
    }

    /// <summary><see cref="ForEachForwardItem{T}"/>'s chunk t of the work items.</summary>
    private readonly struct ForwardChunks<T>(ConvGeometry g, Planes src, float[] x, int units, int items, int perImage, int chunks, T body)
        : CpuParallel.IItems where T : struct, IForwardUnits
    {
        public void Run(int t)
        {
            var (start, end) = CpuParallel.Part(items, t, chunks);
            float[]? bordered = src.Copied ? ScratchPool.Rent(src.Length) : null;
            int filled = -1;
            for (int item = start; item < end; item++)
            {
                int n = item / perImage, part = item % perImage;
                if (bordered is not null && filled != n)
                {
                    src.Fill(x.AsSpan(n * g.InputImageSize, g.InputImageSize), bordered);
                    filled = n;
                }
                body.Run(src, n, units * part / perImage, units * (part + 1) / perImage, bordered ?? x, bordered is null ? n * g.InputImageSize : 0);
            }
            if (bordered is not null) ScratchPool.Return(bordered);
        }
    }

    /// <summary>Output channels [oa, ob) of image n, tile by tile; <paramref name="image"/> from <paramref name="offset"/> is that image as <paramref name="src"/> lays it out.</summary>
    private static unsafe void ForwardRowTiles<TL, TV>(in ConvGeometry g, in Planes src, float[] image, int offset, float[] w, float[]? bias,
        float[] y, int n, int oa, int ob) where TL : struct, ILanes<TV> where TV : struct
    {
        int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, kh = g.KernelHeight, kw = g.KernelWidth;
        int oh = g.OutHeight, ow = g.OutWidth, filter = cg * kh * kw, lanes = TL.Count, pitch = src.Pitch;
        nint plane = src.Plane, dh = (nint)g.DilationH * pitch, dw = g.DilationW;
        fixed (float* xp = image, wp = w, yp = y)
        {
            for (int o0 = oa, o1; o0 < ob; o0 = o1 + 1)
            {
                // The pair shares input rows, so both must be of one group; a lone channel is paired with itself.
                o1 = o0 + 1 < ob && (o0 + 1) / og == o0 / og ? o0 + 1 : o0;
                float* x0 = xp + offset + (long)(o0 / og) * cg * plane;
                float* w0 = wp + (long)o0 * filter, w1 = wp + (long)o1 * filter;
                float b0 = bias is null ? 0f : bias[o0], b1 = bias is null ? 0f : bias[o1];
                float* y0 = yp + ((long)n * g.OutChannels + o0) * oh * ow, y1 = yp + ((long)n * g.OutChannels + o1) * oh * ow;
                for (int r0 = 0; r0 < oh; r0 += TileRows)
                {
                    int ra = Math.Min(r0, oh - 1), rb = Math.Min(r0 + 1, oh - 1), rc = Math.Min(r0 + 2, oh - 1), rd = Math.Min(r0 + 3, oh - 1);
                    for (int col = 0; ; col += lanes)
                    {
                        int c = Math.Min(col, ow - lanes);
                        ForwardTile<TL, TV>(x0 + c, plane, ra * pitch, rb * pitch, rc * pitch, rd * pitch, w0, w1, cg, kh, kw, dh, dw, b0, b1,
                            y0 + c, y1 + c, ra * ow, rb * ow, rc * ow, rd * ow);
                        if (c == ow - lanes) break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Two output channels × four output rows × one vector, summed over cg·kh·kw taps: per tap four input-row loads
    /// and two filter broadcasts feed eight fused multiply-adds, eight independent chains to cover their latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardTile<TL, TV>(float* x, nint plane, nint r0, nint r1, nint r2, nint r3, float* w0, float* w1,
        int cg, int kh, int kw, nint dh, nint dw, float b0, float b1, float* y0, float* y1, nint s0, nint s1, nint s2, nint s3)
        where TL : struct, ILanes<TV> where TV : struct
    {
        TV a0 = TL.Splat(b0), a1 = a0, a2 = a0, a3 = a0, c0 = TL.Splat(b1), c1 = c0, c2 = c0, c3 = c0;
        for (int c = 0; c < cg; c++, x += plane)
        {
            float* xr = x;
            for (int i = 0; i < kh; i++, xr += dh)
            {
                float* xc = xr;
                for (int j = 0; j < kw; j++, xc += dw)
                {
                    TV v0 = TL.Load(xc + r0), v1 = TL.Load(xc + r1), v2 = TL.Load(xc + r2), v3 = TL.Load(xc + r3);
                    TV u = TL.Splat(*w0++), z = TL.Splat(*w1++);
                    a0 = TL.MultiplyAdd(u, v0, a0);
                    a1 = TL.MultiplyAdd(u, v1, a1);
                    a2 = TL.MultiplyAdd(u, v2, a2);
                    a3 = TL.MultiplyAdd(u, v3, a3);
                    c0 = TL.MultiplyAdd(z, v0, c0);
                    c1 = TL.MultiplyAdd(z, v1, c1);
                    c2 = TL.MultiplyAdd(z, v2, c2);
                    c3 = TL.MultiplyAdd(z, v3, c3);
                }
            }
        }
        TL.Store(y0 + s0, a0);
        TL.Store(y0 + s1, a1);
        TL.Store(y0 + s2, a2);
        TL.Store(y0 + s3, a3);
        TL.Store(y1 + s0, c0);
        TL.Store(y1 + s1, c1);
        TL.Store(y1 + s2, c2);
        TL.Store(y1 + s3, c3);
    }

    // dy [N, O, OH, OW], w [O, Cg, KH, KW] → dx [N, C, H, W], when the data gradient is a tiled forward (ConvDataGradient)
    private static void BackwardDataTiled(in ConvGeometry g, in ConvGeometry asForward, float[] dy, float[] w, float[] dx)
    {
        float[] turned = ConvDataGradient.RentTurned(g, w);
        ForwardTiled(asForward, dy, turned, null, dx);
        ScratchPool.Return(turned);
    }

    /// <summary>The <see cref="ScratchPool"/> buffers a tiled filter gradient holds at once.</summary>
    internal static int[] TiledFilterScratch(in ConvGeometry g) => ByChannels(g) ? ByChannelsFilterScratch(g) : ByRowsFilterScratch(g);

    /// <summary>
    /// By rows: per chunk after the first (which sums into dw) its partial gradient, all kept to the final sum, and,
    /// when the input is padded, the chunk's images with borders (the largest chunk's count).
    /// </summary>
    private static int[] ByRowsFilterScratch(in ConvGeometry g)
    {
        int chunks = ConvIm2col.FilterChunks(g), images = (g.Batch + chunks - 1) / chunks;
        var src = new Planes(g);
        var buffers = new List<int>();
        for (int t = 0; t < chunks; t++)
        {
            if (t > 0) buffers.Add((int)g.WeightCount);
            if (src.Copied) buffers.Add(images * src.Length);
        }
        return [.. buffers];
    }

    // x [N, C, H, W], dy [N, O, OH, OW] → dw [O, Cg, KH, KW], db [O] when not null
    private static void BackwardFilterTiled(in ConvGeometry g, float[] x, float[] dy, float[] dw, float[]? db)
    {
        if (ByChannels(g)) BackwardFilterByChannels(g, x, dy, dw);
        else
        {
            switch (LaneWidth.Fitting(g.OutWidth))
            {
                case 16: BackwardFilterByRows<Lanes16, Vector512<float>>(g, x, dy, dw); break;
                case 8: BackwardFilterByRows<Lanes8, Vector256<float>>(g, x, dy, dw); break;
                default: BackwardFilterByRows<Lanes4, Vector128<float>>(g, x, dy, dw); break;
            }
        }
        if (db is not null) ConvIm2col.BiasGradient(g, dy, db);
    }

    private static void BackwardFilterByRows<TL, TV>(in ConvGeometry g, float[] x, float[] dy, float[] dw)
        where TL : struct, ILanes<TV> where TV : struct
    {
        int weights = (int)g.WeightCount, chunks = ConvIm2col.FilterChunks(g);
        var partials = ScratchPool.RentSlots(chunks);
        CpuParallel.For(chunks, g.Macs / chunks, new RowFilterChunks<TL, TV>(g, new Planes(g), x, dy, dw, chunks, partials));
        // Chunks added in a fixed order, so the result does not depend on thread timing.
        for (int t = 1; t < chunks; t++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(dw.AsSpan(0, weights), partials[t].AsSpan(0, weights), dw.AsSpan(0, weights));
            ScratchPool.Return(partials[t]);
        }
        ScratchPool.ReturnSlots(partials);
    }

    /// <summary>Chunk t of the images' filter gradient by rows, into dw (the first chunk) or a partial of its own.</summary>
    private readonly struct RowFilterChunks<TL, TV>(ConvGeometry g, Planes src, float[] x, float[] dy, float[] dw, int chunks, float[][] partials)
        : CpuParallel.IItems where TL : struct, ILanes<TV> where TV : struct
    {
        public void Run(int t)
        {
            int weights = (int)g.WeightCount;
            var (start, end) = CpuParallel.Part(g.Batch, t, chunks);
            float[] part = t == 0 ? dw : ScratchPool.Rent(weights);
            float[]? bordered = src.Copied ? ScratchPool.Rent((end - start) * src.Length) : null;
            if (bordered is not null)
                for (int n = start; n < end; n++)
                    src.Fill(x.AsSpan(n * g.InputImageSize, g.InputImageSize), bordered.AsSpan((n - start) * src.Length));
            FilterChunk<TL, TV>(g, src, bordered ?? x, bordered is null ? start * g.InputImageSize : 0,
                bordered is null ? g.InputImageSize : src.Length, dy, start, end - start, part);
            if (bordered is not null) ScratchPool.Return(bordered);
            partials[t] = part;
        }
    }

    /// <summary>
    /// The filter gradient of <paramref name="images"/> images from <paramref name="first"/> into <paramref name="part"/>
    /// [O, Cg, KH·KW]; <paramref name="image"/> from <paramref name="offset"/> holds them as <paramref name="src"/> lays
    /// one out, <paramref name="imageStride"/> floats apart.
    /// </summary>
    private static unsafe void FilterChunk<TL, TV>(in ConvGeometry g, in Planes src, float[] image, int offset, int imageStride,
        float[] dy, int first, int images, float[] part) where TL : struct, ILanes<TV> where TV : struct
    {
        int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, kw = g.KernelWidth, taps = g.KernelHeight * kw;
        int oh = g.OutHeight, ow = g.OutWidth, lanes = TL.Count, pitch = src.Pitch;
        nint plane = src.Plane, dyPlane = (nint)oh * ow;
        // Vectors start every `lanes` columns, the last at ow − lanes; its first `overlap` lanes were summed already.
        int overlap = ((ow - 1) / lanes * lanes) - (ow - lanes);
        Span<float> maskLanes = stackalloc float[lanes];
        for (int l = 0; l < lanes; l++) maskLanes[l] = l < overlap ? 0f : 1f;
        Span<nint> at = stackalloc nint[TileTaps];
        fixed (float* xp = image, dp = dy, pp = part, mp = maskLanes)
        {
            TV mask = TL.Load(mp);
            for (int o0 = 0, o1; o0 < g.OutChannels; o0 = o1 + 1)
            {
                bool pair = o0 + 1 < g.OutChannels && (o0 + 1) / og == o0 / og;
                o1 = pair ? o0 + 1 : o0;
                float* d0 = dp + ((long)first * g.OutChannels + o0) * dyPlane, d1 = dp + ((long)first * g.OutChannels + o1) * dyPlane;
                for (int c = 0; c < cg; c++)
                {
                    float* xc = xp + offset + (o0 / og * cg + c) * plane;
                    for (int t0 = 0; t0 < taps; t0 += TileTaps)
                    {
                        for (int k = 0; k < TileTaps; k++)
                        {
                            int t = Math.Min(t0 + k, taps - 1);
                            at[k] = (nint)(t / kw) * g.DilationH * pitch + t % kw * g.DilationW;
                        }
                        FilterTile<TL, TV>(xc, imageStride, pitch, d0, d1, g.OutputImageSize, images, oh, ow, mask, at[0], at[1], at[2], at[3],
                            pp + ((long)o0 * cg + c) * taps + t0, pp + ((long)o1 * cg + c) * taps + t0, Math.Min(TileTaps, taps - t0), pair);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Two output channels × four taps, summed over the rows of every image given: per vector of a row, two dy loads
    /// and four shifted input loads feed eight fused multiply-adds. The row's last vector overlaps the one before it
    /// unless the row is whole vectors, so its dy lanes already summed are masked to zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void FilterTile<TL, TV>(float* x, nint imageStride, nint pitch, float* d0, float* d1, nint dyImage, int images,
        int rows, int ow, TV mask, nint t0, nint t1, nint t2, nint t3, float* p0, float* p1, int valid, bool pair)
        where TL : struct, ILanes<TV> where TV : struct
    {
        TV a0 = TL.Splat(0f), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        int lanes = TL.Count;
        for (int n = 0; n < images; n++, x += imageStride, d0 += dyImage, d1 += dyImage)
        {
            float* xr = x, e0 = d0, e1 = d1;
            for (int r = 0; r < rows; r++, xr += pitch, e0 += ow, e1 += ow)
                for (int col = 0; ; col += lanes)
                {
                    int at = Math.Min(col, ow - lanes);
                    TV e = TL.Load(e0 + at), f = TL.Load(e1 + at);
                    if (at != col)
                    {
                        e = TL.Multiply(e, mask);
                        f = TL.Multiply(f, mask);
                    }
                    float* xc = xr + at;
                    TV v = TL.Load(xc + t0);
                    a0 = TL.MultiplyAdd(e, v, a0);
                    c0 = TL.MultiplyAdd(f, v, c0);
                    v = TL.Load(xc + t1);
                    a1 = TL.MultiplyAdd(e, v, a1);
                    c1 = TL.MultiplyAdd(f, v, c1);
                    v = TL.Load(xc + t2);
                    a2 = TL.MultiplyAdd(e, v, a2);
                    c2 = TL.MultiplyAdd(f, v, c2);
                    v = TL.Load(xc + t3);
                    a3 = TL.MultiplyAdd(e, v, a3);
                    c3 = TL.MultiplyAdd(f, v, c3);
                    if (at == ow - lanes) break;
                }
        }
        // Clamped taps past the filter's end repeat the last one: only the first `valid` are sums of their own.
        Write(p0, valid, TL.Sum(a0), TL.Sum(a1), TL.Sum(a2), TL.Sum(a3));
        if (pair) Write(p1, valid, TL.Sum(c0), TL.Sum(c1), TL.Sum(c2), TL.Sum(c3));
    }

    private static unsafe void Write(float* p, int valid, float s0, float s1, float s2, float s3)
    {
        p[0] = s0;
        if (valid > 1) p[1] = s1;
        if (valid > 2) p[2] = s2;
        if (valid > 3) p[3] = s3;
    }
}
