using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

/// <summary>
/// The direct forward with AVX-512 and output channels in the lanes, for small images with many channels (AlexNet's
/// five layers, VGG's 28x28 and 14x14 ones), where im2col writes a column matrix several times the image and then
/// packs it again for the product. A tile is 32 output channels (two vectors) × 14 neighbouring cells of one output
/// row, summed over every (input channel, tap) in 28 accumulators: per tap two filter loads and fourteen broadcast
/// inputs feed 28 fused multiply-adds. This is how ONNX Runtime's NCHWc convolutions work, but the image stays NCHW:
/// along a row the fourteen inputs of a tap lie at fixed distances (the column stride, a constant of the compiled
/// kernel), so each broadcast is one load with a constant offset, and only the filters are packed: each tile's
/// [taps, 32], where it is used.
/// <para>A row's last cells (all of a row narrower than 14) take the kernel compiled for their count, so no cell is
/// computed twice or left unused.</para>
/// </summary>
internal static partial class ConvDirect
{
    private const int RowChannels = 32, RowCells = 14;

    /// <summary>
    /// Vector512 in hardware, whole tiles of 32 output channels per group, and a column stride the kernel is compiled
    /// for (1, 2 or 4); any row stride, padding and dilation.
    /// </summary>
    internal static bool ByChannelRows(in ConvGeometry g) =>
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported && g.OutChannelsPerGroup % RowChannels == 0 && g.StrideW is 1 or 2 or 4;

    /// <summary>
    /// Where the forward takes this kernel: sums longer than the short ones the row and channel tiles are kept for
    /// (<see cref="ConvAlgorithmChooser.DirectMaxTaps"/>; 1x3x224x224 → 64 3x3, 27 taps: 2.2 against 1.5 ms by rows).
    /// Narrow rows are no exception, as a row's last cells take a kernel compiled for their count (ms, im2col →
    /// channel rows, medians of 9 alternated runs, 2 threads): 1x512x7x7 → 512: 1.26 → 0.75; 1x512x4x4: 0.63 → 0.53;
    /// 4x512x3x3: 2.04 → 1.15; 8x256x5x5: 1.50 → 0.87.
    /// </summary>
    internal static bool UsesChannelRows(in ConvGeometry g) =>
        ByChannelRows(g) && (long)g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth > ConvAlgorithmChooser.DirectMaxTaps;

    /// <summary>Floats of one tile's packed filters: 32 × Cg·KH·KW.</summary>
    private static int SlabLength(in ConvGeometry g) => RowChannels * g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth;

    /// <summary>
    /// Images a chunk that runs whole images takes at a time, tile by tile over all of them: each tile's filters are
    /// packed once per group, and only the group's images are held bordered (at batch 128, AlexNet's first layer would
    /// otherwise hold 64 bordered images a thread, 40 MB).
    /// </summary>
    private const int ChannelRowsGroup = 4;

    /// <summary>Bordered images a chunk holds at once: a group of its images, or the one image its parts belong to.</summary>
    private static int ChannelRowsImages(in ConvGeometry g, int items, int perImage, int chunks) =>
        perImage == 1 ? Math.Min(ChannelRowsGroup, (items + chunks - 1) / chunks) : 1;

    /// <summary>
    /// The forward's buffers, per running chunk: its tile's packed filters, then, when a copy is read, the images it
    /// holds bordered (<see cref="ChannelRowsImages"/>).
    /// </summary>
    internal static int[] ChannelRowsForwardScratch(in ConvGeometry g)
    {
        var src = new Planes(g);
        var (items, perImage, chunks) = ForwardSplit(g, g.OutChannels / RowChannels);
        int running = CpuParallel.Concurrency(chunks, g.Macs / chunks), images = ChannelRowsImages(g, items, perImage, chunks);
        var buffers = new List<int>();
        for (int t = 0; t < running; t++)
        {
            buffers.Add(SlabLength(g));
            if (src.Copied) buffers.Add(images * src.Length);
        }
        return [.. buffers];
    }

    // x [N, C, H, W], w [O, Cg, KH, KW], bias [O] or null → y [N, O, OH, OW], max(y, 0) with relu
    internal static void ForwardByChannelRows(in ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y, bool relu = false)
    {
        var (items, perImage, chunks) = ForwardSplit(g, g.OutChannels / RowChannels);
        var src = new Planes(g);
        switch (g.StrideW)
        {
            case 1: CpuParallel.For(chunks, g.Macs / chunks, new ChannelRowChunks<Step1>(g, src, x, w, bias, y, relu, items, perImage, chunks)); break;
            case 2: CpuParallel.For(chunks, g.Macs / chunks, new ChannelRowChunks<Step2>(g, src, x, w, bias, y, relu, items, perImage, chunks)); break;
            default: CpuParallel.For(chunks, g.Macs / chunks, new ChannelRowChunks<Step4>(g, src, x, w, bias, y, relu, items, perImage, chunks)); break;
        }
    }

    /// <summary>
    /// Chunk t of the work items (<see cref="ForwardSplit"/>). Each tile's filters are packed where they are used,
    /// into a slab that stays in this core's cache: with whole images per item, tile by tile over a group of the
    /// chunk's images (<see cref="ChannelRowsGroup"/>), so each tile is packed once a group; with parts of one image,
    /// the part's tiles in turn.
    /// </summary>
    private readonly struct ChannelRowChunks<TS>(ConvGeometry g, Planes src, float[] x, float[] w, float[]? bias, float[] y, bool relu,
        int items, int perImage, int chunks) : CpuParallel.IItems where TS : struct, IColumnStep
    {
        public void Run(int t)
        {
            var (start, end) = CpuParallel.Part(items, t, chunks);
            int units = g.OutChannels / RowChannels, size = g.InputImageSize;
            float[] slab = ScratchPool.Rent(SlabLength(g));
            float[]? bordered = src.Copied ? ScratchPool.Rent(ChannelRowsImages(g, items, perImage, chunks) * src.Length) : null;
            if (perImage == 1)
            {
                for (int first = start; first < end; first += ChannelRowsGroup)
                {
                    int last = Math.Min(end, first + ChannelRowsGroup);
                    if (bordered is not null)
                        for (int n = first; n < last; n++) src.Fill(x.AsSpan(n * size, size), bordered.AsSpan((n - first) * src.Length));
                    for (int b = 0; b < units; b++)
                    {
                        PackSlab(g, w, b, slab);
                        for (int n = first; n < last; n++)
                            ForwardChannelRows<TS>(g, src, bordered ?? x, bordered is null ? n * size : (n - first) * src.Length, slab, bias, y, relu, n, b);
                    }
                }
            }
            else
            {
                int filled = -1;
                for (int item = start; item < end; item++)
                {
                    int n = item / perImage, part = item % perImage;
                    if (bordered is not null && filled != n)
                    {
                        src.Fill(x.AsSpan(n * size, size), bordered);
                        filled = n;
                    }
                    for (int b = units * part / perImage; b < units * (part + 1) / perImage; b++)
                    {
                        PackSlab(g, w, b, slab);
                        ForwardChannelRows<TS>(g, src, bordered ?? x, bordered is null ? n * size : 0, slab, bias, y, relu, n, b);
                    }
                }
            }
            if (bordered is not null) ScratchPool.Return(bordered);
            ScratchPool.Return(slab);
        }
    }

    /// <summary>
    /// Tile b's filters, w [32 rows of taps] from row 32b → slab [taps, 32]: sixteen taps of sixteen filters at a time
    /// transposed in registers, the last taps one by one.
    /// </summary>
    private static unsafe void PackSlab(in ConvGeometry g, float[] w, int b, float[] slab)
    {
        int taps = g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth, whole = taps / 16 * 16;
        fixed (float* wp = w, sp = slab)
        {
            float* src = wp + (long)b * RowChannels * taps;
            for (int half = 0; half < RowChannels; half += 16)
            {
                float* rows = src + (long)half * taps;
                for (int t = 0; t < whole; t += 16) Transpose16(rows + t, taps, sp + (long)t * RowChannels + half, RowChannels, AllLanes);
                for (int t = whole; t < taps; t++)
                    for (int l = 0; l < 16; l++) sp[(long)t * RowChannels + half + l] = rows[(long)l * taps + t];
            }
        }
    }

    /// <summary>
    /// A 16×16 block, rows <paramref name="pitch"/> apart, written transposed with rows <paramref name="dstPitch"/>
    /// apart, each only in the lanes <paramref name="mask"/> sets: pairs of rows interleaved, then pairs of pairs, then
    /// the 128-bit quarters twice.
    /// </summary>
    private static unsafe void Transpose16(float* src, nint pitch, float* dst, nint dstPitch, Vector512<float> mask)
    {
        var r0 = Vector512.Load(src);
        var r1 = Vector512.Load(src + pitch);
        var r2 = Vector512.Load(src + 2 * pitch);
        var r3 = Vector512.Load(src + 3 * pitch);
        var r4 = Vector512.Load(src + 4 * pitch);
        var r5 = Vector512.Load(src + 5 * pitch);
        var r6 = Vector512.Load(src + 6 * pitch);
        var r7 = Vector512.Load(src + 7 * pitch);
        var r8 = Vector512.Load(src + 8 * pitch);
        var r9 = Vector512.Load(src + 9 * pitch);
        var r10 = Vector512.Load(src + 10 * pitch);
        var r11 = Vector512.Load(src + 11 * pitch);
        var r12 = Vector512.Load(src + 12 * pitch);
        var r13 = Vector512.Load(src + 13 * pitch);
        var r14 = Vector512.Load(src + 14 * pitch);
        var r15 = Vector512.Load(src + 15 * pitch);

        var t0 = Avx512F.UnpackLow(r0, r1);
        var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3);
        var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5);
        var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7);
        var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9);
        var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11);
        var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13);
        var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15);
        var t15 = Avx512F.UnpackHigh(r14, r15);

        r0 = PairLow(t0, t2);
        r1 = PairHigh(t0, t2);
        r2 = PairLow(t1, t3);
        r3 = PairHigh(t1, t3);
        r4 = PairLow(t4, t6);
        r5 = PairHigh(t4, t6);
        r6 = PairLow(t5, t7);
        r7 = PairHigh(t5, t7);
        r8 = PairLow(t8, t10);
        r9 = PairHigh(t8, t10);
        r10 = PairLow(t9, t11);
        r11 = PairHigh(t9, t11);
        r12 = PairLow(t12, t14);
        r13 = PairHigh(t12, t14);
        r14 = PairLow(t13, t15);
        r15 = PairHigh(t13, t15);

        t0 = Avx512F.Shuffle4x128(r0, r4, 0x88);
        t1 = Avx512F.Shuffle4x128(r1, r5, 0x88);
        t2 = Avx512F.Shuffle4x128(r2, r6, 0x88);
        t3 = Avx512F.Shuffle4x128(r3, r7, 0x88);
        t4 = Avx512F.Shuffle4x128(r0, r4, 0xdd);
        t5 = Avx512F.Shuffle4x128(r1, r5, 0xdd);
        t6 = Avx512F.Shuffle4x128(r2, r6, 0xdd);
        t7 = Avx512F.Shuffle4x128(r3, r7, 0xdd);
        t8 = Avx512F.Shuffle4x128(r8, r12, 0x88);
        t9 = Avx512F.Shuffle4x128(r9, r13, 0x88);
        t10 = Avx512F.Shuffle4x128(r10, r14, 0x88);
        t11 = Avx512F.Shuffle4x128(r11, r15, 0x88);
        t12 = Avx512F.Shuffle4x128(r8, r12, 0xdd);
        t13 = Avx512F.Shuffle4x128(r9, r13, 0xdd);
        t14 = Avx512F.Shuffle4x128(r10, r14, 0xdd);
        t15 = Avx512F.Shuffle4x128(r11, r15, 0xdd);

        Avx512F.MaskStore(dst, mask, Avx512F.Shuffle4x128(t0, t8, 0x88));
        Avx512F.MaskStore(dst + dstPitch, mask, Avx512F.Shuffle4x128(t1, t9, 0x88));
        Avx512F.MaskStore(dst + 2 * dstPitch, mask, Avx512F.Shuffle4x128(t2, t10, 0x88));
        Avx512F.MaskStore(dst + 3 * dstPitch, mask, Avx512F.Shuffle4x128(t3, t11, 0x88));
        Avx512F.MaskStore(dst + 4 * dstPitch, mask, Avx512F.Shuffle4x128(t4, t12, 0x88));
        Avx512F.MaskStore(dst + 5 * dstPitch, mask, Avx512F.Shuffle4x128(t5, t13, 0x88));
        Avx512F.MaskStore(dst + 6 * dstPitch, mask, Avx512F.Shuffle4x128(t6, t14, 0x88));
        Avx512F.MaskStore(dst + 7 * dstPitch, mask, Avx512F.Shuffle4x128(t7, t15, 0x88));
        Avx512F.MaskStore(dst + 8 * dstPitch, mask, Avx512F.Shuffle4x128(t0, t8, 0xdd));
        Avx512F.MaskStore(dst + 9 * dstPitch, mask, Avx512F.Shuffle4x128(t1, t9, 0xdd));
        Avx512F.MaskStore(dst + 10 * dstPitch, mask, Avx512F.Shuffle4x128(t2, t10, 0xdd));
        Avx512F.MaskStore(dst + 11 * dstPitch, mask, Avx512F.Shuffle4x128(t3, t11, 0xdd));
        Avx512F.MaskStore(dst + 12 * dstPitch, mask, Avx512F.Shuffle4x128(t4, t12, 0xdd));
        Avx512F.MaskStore(dst + 13 * dstPitch, mask, Avx512F.Shuffle4x128(t5, t13, 0xdd));
        Avx512F.MaskStore(dst + 14 * dstPitch, mask, Avx512F.Shuffle4x128(t6, t14, 0xdd));
        Avx512F.MaskStore(dst + 15 * dstPitch, mask, Avx512F.Shuffle4x128(t7, t15, 0xdd));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PairLow(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PairHigh(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();

    /// <summary>The column stride as a type, so that the JIT compiles each broadcast's offset as a constant.</summary>
    private interface IColumnStep
    {
        static abstract int Step { get; }
    }

    private readonly struct Step1 : IColumnStep
    {
        public static int Step => 1;
    }

    private readonly struct Step2 : IColumnStep
    {
        public static int Step => 2;
    }

    private readonly struct Step4 : IColumnStep
    {
        public static int Step => 4;
    }

    /// <summary>A tile's cells as a type, so that the JIT compiles a kernel per count without the unused accumulators.</summary>
    private interface ICellCount
    {
        static abstract int Count { get; }
    }

    private readonly struct Cells1 : ICellCount
    {
        public static int Count => 1;
    }

    private readonly struct Cells2 : ICellCount
    {
        public static int Count => 2;
    }

    private readonly struct Cells3 : ICellCount
    {
        public static int Count => 3;
    }

    private readonly struct Cells4 : ICellCount
    {
        public static int Count => 4;
    }

    private readonly struct Cells5 : ICellCount
    {
        public static int Count => 5;
    }

    private readonly struct Cells6 : ICellCount
    {
        public static int Count => 6;
    }

    private readonly struct Cells7 : ICellCount
    {
        public static int Count => 7;
    }

    private readonly struct Cells8 : ICellCount
    {
        public static int Count => 8;
    }

    private readonly struct Cells9 : ICellCount
    {
        public static int Count => 9;
    }

    private readonly struct Cells10 : ICellCount
    {
        public static int Count => 10;
    }

    private readonly struct Cells11 : ICellCount
    {
        public static int Count => 11;
    }

    private readonly struct Cells12 : ICellCount
    {
        public static int Count => 12;
    }

    private readonly struct Cells13 : ICellCount
    {
        public static int Count => 13;
    }

    private readonly struct Cells14 : ICellCount
    {
        public static int Count => 14;
    }

    /// <summary>Tile b (output channels 32b to 32b + 31) of image n, row by row, its filters packed in slab.</summary>
    private static unsafe void ForwardChannelRows<TS>(in ConvGeometry g, in Planes src, float[] image, int offset, float[] slab, float[]? bias,
        float[] y, bool relu, int n, int b) where TS : struct, IColumnStep
    {
        int oh = g.OutHeight, ow = g.OutWidth, cells = oh * ow, pitch = src.Pitch, o0 = b * RowChannels, whole = ow / RowCells * RowCells;
        var at = new RowTileArgs(src.Plane, (nint)g.DilationH * pitch, g.DilationW, g.InChannelsPerGroup, g.KernelHeight, g.KernelWidth);
        nint rowStep = (nint)g.StrideH * pitch;
        float* tile = stackalloc float[16 * RowChannels];
        fixed (float* xp = image, wb = slab, yp = y, bp = bias)
        {
            float* xg = xp + offset + (long)(o0 / g.OutChannelsPerGroup) * at.Cg * at.Plane;
            var b0 = bp is null ? Vector512<float>.Zero : Vector512.Load(bp + o0);
            var b1 = bp is null ? Vector512<float>.Zero : Vector512.Load(bp + o0 + 16);
            float* yb = yp + ((long)n * g.OutChannels + o0) * cells;
            for (int r = 0; r < oh; r++)
            {
                float* xrow = xg + r * rowStep, yrow = yb + r * ow;
                for (int q = 0; q < whole; q += RowCells)
                {
                    ChannelRowTile<TS, Cells14>(xrow + (nint)q * TS.Step, at, wb, b0, b1, tile);
                    ScatterTile(tile, RowCells, yrow + q, cells, relu);
                }
                if (whole < ow) RowTail<TS>(ow - whole, xrow + (nint)whole * TS.Step, at, wb, b0, b1, tile, yrow + whole, cells, relu);
            }
        }
    }

    /// <summary>What every tile of a layer shares: plane size, dilation steps (floats), Cg, KH, KW.</summary>
    private readonly record struct RowTileArgs(nint Plane, nint Dh, nint Dw, int Cg, int Kh, int Kw);

    /// <summary>The last <paramref name="count"/> (1 to 13) cells of a row, with the kernel compiled for that count.</summary>
    private static unsafe void RowTail<TS>(int count, float* x, in RowTileArgs at, float* w, Vector512<float> b0, Vector512<float> b1,
        float* tile, float* y, int cells, bool relu) where TS : struct, IColumnStep
    {
        switch (count)
        {
            case 1: ChannelRowTile<TS, Cells1>(x, at, w, b0, b1, tile); break;
            case 2: ChannelRowTile<TS, Cells2>(x, at, w, b0, b1, tile); break;
            case 3: ChannelRowTile<TS, Cells3>(x, at, w, b0, b1, tile); break;
            case 4: ChannelRowTile<TS, Cells4>(x, at, w, b0, b1, tile); break;
            case 5: ChannelRowTile<TS, Cells5>(x, at, w, b0, b1, tile); break;
            case 6: ChannelRowTile<TS, Cells6>(x, at, w, b0, b1, tile); break;
            case 7: ChannelRowTile<TS, Cells7>(x, at, w, b0, b1, tile); break;
            case 8: ChannelRowTile<TS, Cells8>(x, at, w, b0, b1, tile); break;
            case 9: ChannelRowTile<TS, Cells9>(x, at, w, b0, b1, tile); break;
            case 10: ChannelRowTile<TS, Cells10>(x, at, w, b0, b1, tile); break;
            case 11: ChannelRowTile<TS, Cells11>(x, at, w, b0, b1, tile); break;
            case 12: ChannelRowTile<TS, Cells12>(x, at, w, b0, b1, tile); break;
            default: ChannelRowTile<TS, Cells13>(x, at, w, b0, b1, tile); break;
        }
        ScatterTile(tile, count, y, cells, relu);
    }

    /// <summary>
    /// A tile [cells, 32] out to 32 output planes <paramref name="pitch"/> apart, <paramref name="count"/> cells each:
    /// two 16×16 transposes whose stores write only the tile's cells (the tile buffer has 16 rows; the last read are
    /// not written). Scalar, the 448 stores of a whole tile took about a tenth of AlexNet's first layer (363 taps).
    /// With <paramref name="relu"/> the tile is max(·, 0) first (the ReLU that follows the layer, fused: at batch 8
    /// AlexNet's five ReLUs were 0.34 ms of passes over outputs written just before).
    /// </summary>
    private static unsafe void ScatterTile(float* tile, int count, float* y, int pitch, bool relu)
    {
        if (relu)
            for (int k = 0; k < 2 * count; k++)
                Vector512.Max(Vector512.Load(tile + 16 * k), Vector512<float>.Zero).Store(tile + 16 * k);
        var mask = Vector512.LessThan(Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create((float)count));
        Transpose16(tile, RowChannels, y, pitch, mask);
        Transpose16(tile + 16, RowChannels, y + 16 * (nint)pitch, pitch, mask);
    }

    private static readonly Vector512<float> AllLanes = Vector512<float>.AllBitsSet;

    /// <summary>
    /// TN.Count (up to 14) cells × 32 channels over every tap: per tap two filter loads and a broadcast per cell, each
    /// from a constant offset, feed two fused multiply-adds per cell (with 14 cells, 28 accumulators: 31 of the 32
    /// vector registers). The count is a constant of the compiled kernel, so the cells past it cost nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ChannelRowTile<TS, TN>(float* x, in RowTileArgs at, float* w, Vector512<float> b0, Vector512<float> b1, float* tile)
        where TS : struct, IColumnStep where TN : struct, ICellCount
    {
        nint plane = at.Plane, dh = at.Dh, dw = at.Dw;
        int cg = at.Cg, kh = at.Kh, kw = at.Kw;
        Vector512<float> a0 = b0, c0 = b1, a1 = b0, c1 = b1, a2 = b0, c2 = b1, a3 = b0, c3 = b1, a4 = b0, c4 = b1, a5 = b0, c5 = b1, a6 = b0, c6 = b1;
        Vector512<float> a7 = b0, c7 = b1, a8 = b0, c8 = b1, a9 = b0, c9 = b1, a10 = b0, c10 = b1, a11 = b0, c11 = b1, a12 = b0, c12 = b1, a13 = b0, c13 = b1;
        for (int c = 0; c < cg; c++, x += plane)
        {
            float* xr = x;
            for (int i = 0; i < kh; i++, xr += dh)
            {
                // The next channel's row, a plane away: too far for the hardware prefetcher to follow.
                Sse.Prefetch0(xr + plane);
                Sse.Prefetch0(xr + plane + 16);
                float* xc = xr;
                for (int j = 0; j < kw; j++, xc += dw, w += RowChannels)
                {
                    var f0 = Vector512.Load(w);
                    var f1 = Vector512.Load(w + 16);
                    var v = Vector512.Create(xc[0]);
                    a0 = Vector512.FusedMultiplyAdd(v, f0, a0);
                    c0 = Vector512.FusedMultiplyAdd(v, f1, c0);
                    if (TN.Count > 1)
                    {
                        v = Vector512.Create(xc[1 * TS.Step]);
                        a1 = Vector512.FusedMultiplyAdd(v, f0, a1);
                        c1 = Vector512.FusedMultiplyAdd(v, f1, c1);
                    }
                    if (TN.Count > 2)
                    {
                        v = Vector512.Create(xc[2 * TS.Step]);
                        a2 = Vector512.FusedMultiplyAdd(v, f0, a2);
                        c2 = Vector512.FusedMultiplyAdd(v, f1, c2);
                    }
                    if (TN.Count > 3)
                    {
                        v = Vector512.Create(xc[3 * TS.Step]);
                        a3 = Vector512.FusedMultiplyAdd(v, f0, a3);
                        c3 = Vector512.FusedMultiplyAdd(v, f1, c3);
                    }
                    if (TN.Count > 4)
                    {
                        v = Vector512.Create(xc[4 * TS.Step]);
                        a4 = Vector512.FusedMultiplyAdd(v, f0, a4);
                        c4 = Vector512.FusedMultiplyAdd(v, f1, c4);
                    }
                    if (TN.Count > 5)
                    {
                        v = Vector512.Create(xc[5 * TS.Step]);
                        a5 = Vector512.FusedMultiplyAdd(v, f0, a5);
                        c5 = Vector512.FusedMultiplyAdd(v, f1, c5);
                    }
                    if (TN.Count > 6)
                    {
                        v = Vector512.Create(xc[6 * TS.Step]);
                        a6 = Vector512.FusedMultiplyAdd(v, f0, a6);
                        c6 = Vector512.FusedMultiplyAdd(v, f1, c6);
                    }
                    if (TN.Count > 7)
                    {
                        v = Vector512.Create(xc[7 * TS.Step]);
                        a7 = Vector512.FusedMultiplyAdd(v, f0, a7);
                        c7 = Vector512.FusedMultiplyAdd(v, f1, c7);
                    }
                    if (TN.Count > 8)
                    {
                        v = Vector512.Create(xc[8 * TS.Step]);
                        a8 = Vector512.FusedMultiplyAdd(v, f0, a8);
                        c8 = Vector512.FusedMultiplyAdd(v, f1, c8);
                    }
                    if (TN.Count > 9)
                    {
                        v = Vector512.Create(xc[9 * TS.Step]);
                        a9 = Vector512.FusedMultiplyAdd(v, f0, a9);
                        c9 = Vector512.FusedMultiplyAdd(v, f1, c9);
                    }
                    if (TN.Count > 10)
                    {
                        v = Vector512.Create(xc[10 * TS.Step]);
                        a10 = Vector512.FusedMultiplyAdd(v, f0, a10);
                        c10 = Vector512.FusedMultiplyAdd(v, f1, c10);
                    }
                    if (TN.Count > 11)
                    {
                        v = Vector512.Create(xc[11 * TS.Step]);
                        a11 = Vector512.FusedMultiplyAdd(v, f0, a11);
                        c11 = Vector512.FusedMultiplyAdd(v, f1, c11);
                    }
                    if (TN.Count > 12)
                    {
                        v = Vector512.Create(xc[12 * TS.Step]);
                        a12 = Vector512.FusedMultiplyAdd(v, f0, a12);
                        c12 = Vector512.FusedMultiplyAdd(v, f1, c12);
                    }
                    if (TN.Count > 13)
                    {
                        v = Vector512.Create(xc[13 * TS.Step]);
                        a13 = Vector512.FusedMultiplyAdd(v, f0, a13);
                        c13 = Vector512.FusedMultiplyAdd(v, f1, c13);
                    }
                }
            }
        }
        a0.Store(tile);
        c0.Store(tile + 16);
        if (TN.Count > 1)
        {
            a1.Store(tile + 32);
            c1.Store(tile + 48);
        }
        if (TN.Count > 2)
        {
            a2.Store(tile + 64);
            c2.Store(tile + 80);
        }
        if (TN.Count > 3)
        {
            a3.Store(tile + 96);
            c3.Store(tile + 112);
        }
        if (TN.Count > 4)
        {
            a4.Store(tile + 128);
            c4.Store(tile + 144);
        }
        if (TN.Count > 5)
        {
            a5.Store(tile + 160);
            c5.Store(tile + 176);
        }
        if (TN.Count > 6)
        {
            a6.Store(tile + 192);
            c6.Store(tile + 208);
        }
        if (TN.Count > 7)
        {
            a7.Store(tile + 224);
            c7.Store(tile + 240);
        }
        if (TN.Count > 8)
        {
            a8.Store(tile + 256);
            c8.Store(tile + 272);
        }
        if (TN.Count > 9)
        {
            a9.Store(tile + 288);
            c9.Store(tile + 304);
        }
        if (TN.Count > 10)
        {
            a10.Store(tile + 320);
            c10.Store(tile + 336);
        }
        if (TN.Count > 11)
        {
            a11.Store(tile + 352);
            c11.Store(tile + 368);
        }
        if (TN.Count > 12)
        {
            a12.Store(tile + 384);
            c12.Store(tile + 400);
        }
        if (TN.Count > 13)
        {
            a13.Store(tile + 416);
            c13.Store(tile + 432);
        }
    }
}
