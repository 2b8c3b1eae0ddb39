using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fovea.Backends.Cpu;

/// <summary>
/// The direct convolution with output channels in the lanes: where a group has a multiple of 16 output channels, a
/// tile is 16 channels × 6 output cells, each cell's inputs broadcast from the image and the filters packed tap by
/// tap as [taps, 16], so every lane is used whatever the output width. (The row tiles of ConvDirect.Rows.cs fill
/// 10 of 16 lanes on LeNet-5's 10-wide second layer.) It is a GEMM micro-kernel whose A panel is read in place:
/// cell p's value at tap (c, i, j) lies at a fixed offset from the cell's own corner.
/// <para>The filter gradient turns the same way: 16 channels × 6 taps, summed over an image's cells from dy laid out
/// [cells, 16].</para>
/// </summary>
internal static partial class ConvDirect
{
    private const int ChannelTile = 16, CellTile = 6;

    /// <summary>
    /// Unit stride, whole tiles of 16 output channels per group, 8-lane vectors in hardware, and output rows narrower
    /// than 16, where row tiles waste lanes. Wider rows keep the row tiles: a tile's results go out as 16 scalars per
    /// cell, one per output plane, which on large planes costs more than it saves (1x3x224x224 → 64, 3x3: 9.7 ms
    /// against 1.7 by rows, 1 thread; LeNet-5's 6 → 16 at 10 wide, batch 64: 0.38 against 0.78).
    /// </summary>
    internal static bool ByChannels(in ConvGeometry g) =>
        g.StrideH == 1 && g.StrideW == 1 && g.OutChannelsPerGroup % ChannelTile == 0 && g.OutWidth < 16 && Vector256.IsHardwareAccelerated;

    /// <summary>The forward's buffers: the packed filters, then a bordered image per running chunk when padded.</summary>
    internal static int[] ByChannelsForwardScratch(in ConvGeometry g)
    {
        var src = new Planes(g);
        var (_, _, chunks) = ForwardSplit(g, g.OutChannels / ChannelTile);
        int running = CpuParallel.Concurrency(chunks, g.Macs / chunks);
        return [(int)g.WeightCount, .. src.Copied ? Enumerable.Repeat(src.Length, running) : []];
    }

    /// <summary>
    /// Where [O, count] data lies when laid out [O/16, count, 16], channels in the lanes: the packed filters (count =
    /// taps), dy by cells (count = cells) and the packed filter gradient.
    /// </summary>
    private static int ChannelsLast(int o, int k, int count) => ((o / ChannelTile) * count + k) * ChannelTile + o % ChannelTile;

    /// <summary>w [O, Cg·KH·KW] → [O/16, Cg·KH·KW, 16]: a tile's 16 filters, tap by tap.</summary>
    private static void PackByChannels(in ConvGeometry g, float[] w, float[] packed)
    {
        int taps = g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth;
        for (int o = 0; o < g.OutChannels; o++)
            for (int t = 0; t < taps; t++) packed[ChannelsLast(o, t, taps)] = w[o * taps + t];
    }

    // x [N, C, H, W], w [O, Cg, KH, KW], bias [O] or null → y [N, O, OH, OW]
    private static void ForwardByChannels(in ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y)
    {
        float[] packed = ScratchPool.Rent((int)g.WeightCount);
        PackByChannels(g, w, packed);
        ForEachForwardItem(g, x, g.OutChannels / ChannelTile, new ChannelBlockUnits(g, packed, bias, y));
        ScratchPool.Return(packed);
    }

    /// <summary>A by-channels forward's units are tiles of 16 output channels, run by <see cref="ForwardChannelBlocks"/>.</summary>
    private readonly struct ChannelBlockUnits(ConvGeometry g, float[] packed, float[]? bias, float[] y) : IForwardUnits
    {
        public void Run(in Planes src, int n, int ba, int bb, float[] image, int offset) =>
            ForwardChannelBlocks(g, src, image, offset, packed, bias, y, n, ba, bb);
    }

    /// <summary>Tiles of 16 output channels [ba, bb) of image n, 6 output cells at a time (the last tile repeats the last cell).</summary>
    private static unsafe void ForwardChannelBlocks(in ConvGeometry g, in Planes src, float[] image, int offset, float[] packed, float[]? bias,
        float[] y, int n, int ba, int bb)
    {
        int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, kh = g.KernelHeight, kw = g.KernelWidth, ow = g.OutWidth;
        int cells = g.OutHeight * ow, taps = cg * kh * kw, pitch = src.Pitch;
        nint plane = src.Plane, dh = (nint)g.DilationH * pitch, dw = g.DilationW;
        float* tile = stackalloc float[CellTile * ChannelTile];
        int* cell = stackalloc int[CellTile];
        nint* at = stackalloc nint[CellTile];
        fixed (float* xp = image, wp = packed, yp = y, bp = bias)
        {
            for (int b = ba; b < bb; b++)
            {
                int o0 = b * ChannelTile;
                float* xg = xp + offset + (long)(o0 / og) * cg * plane;
                var b0 = bp is null ? Vector256<float>.Zero : Vector256.Load(bp + o0);
                var b1 = bp is null ? Vector256<float>.Zero : Vector256.Load(bp + o0 + 8);
                float* yb = yp + ((long)n * g.OutChannels + o0) * cells;
                for (int p0 = 0; p0 < cells; p0 += CellTile)
                {
                    for (int k = 0; k < CellTile; k++)
                    {
                        cell[k] = Math.Min(p0 + k, cells - 1);
                        at[k] = (nint)(cell[k] / ow) * pitch + cell[k] % ow;
                    }
                    ChannelForwardTile(xg, at[0], at[1], at[2], at[3], at[4], at[5], plane, dh, dw, cg, kh, kw, wp + (long)b * taps * ChannelTile, b0, b1, tile);
                    for (int k = 0; k < CellTile; k++)
                        for (int l = 0; l < ChannelTile; l++) yb[(long)l * cells + cell[k]] = tile[k * ChannelTile + l];
                }
            }
        }
    }

    /// <summary>
    /// 6 cells × 16 channels over every tap: per tap two filter loads and six broadcasts feed twelve fused
    /// multiply-adds (the 6x16 shape of the AVX2 GEMM kernel, fifteen of sixteen registers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ChannelForwardTile(float* x, nint a0, nint a1, nint a2, nint a3, nint a4, nint a5, nint plane, nint dh, nint dw,
        int cg, int kh, int kw, float* w, Vector256<float> b0, Vector256<float> b1, float* tile)
    {
        Vector256<float> c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1;
        for (int c = 0; c < cg; c++, x += plane)
        {
            float* xr = x;
            for (int i = 0; i < kh; i++, xr += dh)
            {
                float* xc = xr;
                for (int j = 0; j < kw; j++, xc += dw, w += ChannelTile)
                {
                    var f0 = Vector256.Load(w);
                    var f1 = Vector256.Load(w + 8);
                    var v = Vector256.Create(xc[a0]);
                    c00 = Vector256.FusedMultiplyAdd(v, f0, c00);
                    c01 = Vector256.FusedMultiplyAdd(v, f1, c01);
                    v = Vector256.Create(xc[a1]);
                    c10 = Vector256.FusedMultiplyAdd(v, f0, c10);
                    c11 = Vector256.FusedMultiplyAdd(v, f1, c11);
                    v = Vector256.Create(xc[a2]);
                    c20 = Vector256.FusedMultiplyAdd(v, f0, c20);
                    c21 = Vector256.FusedMultiplyAdd(v, f1, c21);
                    v = Vector256.Create(xc[a3]);
                    c30 = Vector256.FusedMultiplyAdd(v, f0, c30);
                    c31 = Vector256.FusedMultiplyAdd(v, f1, c31);
                    v = Vector256.Create(xc[a4]);
                    c40 = Vector256.FusedMultiplyAdd(v, f0, c40);
                    c41 = Vector256.FusedMultiplyAdd(v, f1, c41);
                    v = Vector256.Create(xc[a5]);
                    c50 = Vector256.FusedMultiplyAdd(v, f0, c50);
                    c51 = Vector256.FusedMultiplyAdd(v, f1, c51);
                }
            }
        }
        c00.Store(tile);
        c01.Store(tile + 8);
        c10.Store(tile + 16);
        c11.Store(tile + 24);
        c20.Store(tile + 32);
        c21.Store(tile + 40);
        c30.Store(tile + 48);
        c31.Store(tile + 56);
        c40.Store(tile + 64);
        c41.Store(tile + 72);
        c50.Store(tile + 80);
        c51.Store(tile + 88);
    }

    /// <summary>
    /// The filter gradient's buffers, per chunk: its packed partial gradient (all kept to the final sum), and per image
    /// a bordered copy when padded and dy laid out [O/16, cells, 16].
    /// </summary>
    internal static int[] ByChannelsFilterScratch(in ConvGeometry g)
    {
        var src = new Planes(g);
        var buffers = new List<int>();
        for (int t = ConvIm2col.FilterChunks(g); t > 0; t--)
        {
            buffers.Add((int)g.WeightCount);
            if (src.Copied) buffers.Add(src.Length);
            buffers.Add(g.OutputImageSize);
        }
        return [.. buffers];
    }

    // x [N, C, H, W], dy [N, O, OH, OW] → dw [O, Cg, KH, KW]
    private static void BackwardFilterByChannels(in ConvGeometry g, float[] x, float[] dy, float[] dw)
    {
        int weights = (int)g.WeightCount, chunks = ConvIm2col.FilterChunks(g);
        var partials = ScratchPool.RentSlots(chunks);
        CpuParallel.For(chunks, g.Macs / chunks, new ChannelFilterChunks(g, new Planes(g), x, dy, chunks, partials));
        // Unpacked from [O/16, taps, 16], chunks summed in a fixed order so the result does not depend on thread timing.
        int taps = weights / g.OutChannels;
        for (int o = 0; o < g.OutChannels; o++)
            for (int t = 0; t < taps; t++)
            {
                float s = 0f;
                for (int k = 0; k < chunks; k++) s += partials[k][ChannelsLast(o, t, taps)];
                dw[o * taps + t] = s;
            }
        for (int k = 0; k < chunks; k++) ScratchPool.Return(partials[k]);
        ScratchPool.ReturnSlots(partials);
    }

    /// <summary>Chunk t of the images' filter gradient by channels, into a packed partial of its own.</summary>
    private readonly struct ChannelFilterChunks(ConvGeometry g, Planes src, float[] x, float[] dy, int chunks, float[][] partials) : CpuParallel.IItems
    {
        public void Run(int t)
        {
            int weights = (int)g.WeightCount;
            var (start, end) = CpuParallel.Part(g.Batch, t, chunks);
            float[] part = ScratchPool.Rent(weights);
            float[]? bordered = src.Copied ? ScratchPool.Rent(src.Length) : null;
            float[] cellsFirst = ScratchPool.Rent(g.OutputImageSize);
            part.AsSpan(0, weights).Clear();
            for (int n = start; n < end; n++)
            {
                if (bordered is not null) src.Fill(x.AsSpan(n * g.InputImageSize, g.InputImageSize), bordered);
                CellsFirst(g, dy.AsSpan(n * g.OutputImageSize, g.OutputImageSize), cellsFirst);
                FilterChannelBlocks(g, src, bordered ?? x, bordered is null ? n * g.InputImageSize : 0, cellsFirst, part);
            }
            if (bordered is not null) ScratchPool.Return(bordered);
            ScratchPool.Return(cellsFirst);
            partials[t] = part;
        }
    }

    /// <summary>One image's dy [O, cells] → [O/16, cells, 16].</summary>
    private static void CellsFirst(in ConvGeometry g, ReadOnlySpan<float> dy, Span<float> cellsFirst)
    {
        int cells = g.OutHeight * g.OutWidth;
        for (int o = 0; o < g.OutChannels; o++)
            for (int p = 0; p < cells; p++) cellsFirst[ChannelsLast(o, p, cells)] = dy[o * cells + p];
    }

    /// <summary>Adds one image's filter gradient into <paramref name="part"/> [O/16, taps, 16], six taps at a time.</summary>
    private static unsafe void FilterChannelBlocks(in ConvGeometry g, in Planes src, float[] image, int offset, float[] cellsFirst, float[] part)
    {
        int cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup, kh = g.KernelHeight, kw = g.KernelWidth, taps = cg * kh * kw;
        int cells = g.OutHeight * g.OutWidth, pitch = src.Pitch;
        nint* at = stackalloc nint[CellTile];
        fixed (float* xp = image, dp = cellsFirst, pp = part)
        {
            for (int b = 0; b < g.OutChannels / ChannelTile; b++)
            {
                float* xg = xp + offset + (long)(b * ChannelTile / og) * cg * src.Plane;
                for (int t0 = 0; t0 < taps; t0 += CellTile)
                {
                    for (int k = 0; k < CellTile; k++)
                    {
                        int t = Math.Min(t0 + k, taps - 1), c = t / (kh * kw), i = t / kw % kh, j = t % kw;
                        at[k] = c * (nint)src.Plane + (nint)i * g.DilationH * pitch + j * g.DilationW;
                    }
                    ChannelFilterTile(xg, pitch, g.OutHeight, g.OutWidth, dp + (long)b * cells * ChannelTile, at[0], at[1], at[2], at[3], at[4], at[5],
                        pp + ((long)b * taps + t0) * ChannelTile, Math.Min(CellTile, taps - t0));
                }
            }
        }
    }

    /// <summary>
    /// 6 taps × 16 channels summed over an image's output cells: per cell two dy loads and six broadcast inputs feed
    /// twelve fused multiply-adds; the sums are added to the partial (only the first `valid` taps: clamped ones repeat).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ChannelFilterTile(float* x, nint pitch, int rows, int width, float* d, nint t0, nint t1, nint t2, nint t3, nint t4, nint t5,
        float* part, int valid)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int r = 0; r < rows; r++, x += pitch)
            for (int q = 0; q < width; q++, d += ChannelTile)
            {
                float* xq = x + q;
                var e0 = Vector256.Load(d);
                var e1 = Vector256.Load(d + 8);
                var v = Vector256.Create(xq[t0]);
                c00 = Vector256.FusedMultiplyAdd(v, e0, c00);
                c01 = Vector256.FusedMultiplyAdd(v, e1, c01);
                v = Vector256.Create(xq[t1]);
                c10 = Vector256.FusedMultiplyAdd(v, e0, c10);
                c11 = Vector256.FusedMultiplyAdd(v, e1, c11);
                v = Vector256.Create(xq[t2]);
                c20 = Vector256.FusedMultiplyAdd(v, e0, c20);
                c21 = Vector256.FusedMultiplyAdd(v, e1, c21);
                v = Vector256.Create(xq[t3]);
                c30 = Vector256.FusedMultiplyAdd(v, e0, c30);
                c31 = Vector256.FusedMultiplyAdd(v, e1, c31);
                v = Vector256.Create(xq[t4]);
                c40 = Vector256.FusedMultiplyAdd(v, e0, c40);
                c41 = Vector256.FusedMultiplyAdd(v, e1, c41);
                v = Vector256.Create(xq[t5]);
                c50 = Vector256.FusedMultiplyAdd(v, e0, c50);
                c51 = Vector256.FusedMultiplyAdd(v, e1, c51);
            }
        AddTap(part, c00, c01);
        if (valid > 1) AddTap(part + 16, c10, c11);
        if (valid > 2) AddTap(part + 32, c20, c21);
        if (valid > 3) AddTap(part + 48, c30, c31);
        if (valid > 4) AddTap(part + 64, c40, c41);
        if (valid > 5) AddTap(part + 80, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddTap(float* p, Vector256<float> low, Vector256<float> high)
    {
        (Vector256.Load(p) + low).Store(p);
        (Vector256.Load(p + 8) + high).Store(p + 8);
    }
}
