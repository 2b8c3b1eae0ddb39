using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Unfolds the receptive fields of one image (one group's channels) into the columns of a matrix, and folds
/// such a matrix back by accumulation (col2im, the adjoint). The column matrix is [Cg·KH·KW, OH·OW]: row
/// (c, kh, kw) holds, for every output cell, the input value that tap reads (zero where it reads padding).
/// Both work on a band of output rows [row0, row0 + rows), so that a large image's matrix can be built a band at
/// a time: the matrix is then [Cg·KH·KW, rows·OW].
/// </summary>
internal static class Im2Col
{
    /// <summary>
    /// The outputs o in [lo, hi) for which o·stride + offset lies inside [0, inSize): the cells where one kernel
    /// tap reads real input rather than padding. Computed once per tap so the inner loops carry no bounds tests.
    /// </summary>
    internal static (int Lo, int Hi) ValidRange(int outSize, int inSize, int offset, int stride)
    {
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int last = inSize - 1 - offset;
        int hi = last < 0 ? 0 : Math.Min(outSize, last / stride + 1);
        lo = Math.Min(lo, outSize);
        return (lo, Math.Max(lo, hi));
    }

    // The output rows of the band [row0, row0 + rows) where kernel row offset offH reads real input.
    private static (int Lo, int Hi) BandRange(in ConvGeometry g, int offH, int row0, int rows)
    {
        var (lo, hi) = ValidRange(g.OutHeight, g.InHeight, offH, g.StrideH);
        lo = Math.Clamp(lo, row0, row0 + rows);
        hi = Math.Clamp(hi, lo, row0 + rows);
        return (lo, hi);
    }

    // x: one image's Cg channels [Cg, H, W] → col [Cg·KH·KW, rows·OW] for output rows [row0, row0 + rows)
    public static void Unfold(in ConvGeometry g, ReadOnlySpan<float> x, Span<float> col, int row0, int rows) =>
        Unfold(g, x, col, row0, rows, 0, g.InChannelsPerGroup * g.KernelHeight);

    /// <summary>
    /// Whether a strided row is unfolded through its phases: when a row has more taps than the stride, several taps
    /// read every phase, so splitting the input row once beats gathering each tap's cells from it.
    /// </summary>
    private static bool ByPhases(in ConvGeometry g) =>
        g.StrideW > 1 && g.KernelWidth > g.StrideW && PhaseLength(g) * g.StrideW <= MaxPhaseFloats;

    /// <summary>The phases live on the stack: rows up to 4,096 cells wide (16 KB).</summary>
    private const int MaxPhaseFloats = 4096;

    private static int PhaseLength(in ConvGeometry g) => g.OutWidth + (g.KernelWidth - 1) * g.DilationW / g.StrideW;

    // The same for the kernel rows (c, i) in [first, end) only (row c·KH + i of the kernel), so that threads can
    // share one image's matrix.
    public static void Unfold(in ConvGeometry g, ReadOnlySpan<float> x, Span<float> col, int row0, int rows, int first, int end)
    {
        int kh = g.KernelHeight, kw = g.KernelWidth, ow = g.OutWidth;
        int h = g.InHeight, w = g.InWidth, sw = g.StrideW, plane = h * w;
        // By phases: phase m of the padded row is its cells m, m + s, m + 2s, ..., and tap j (at j·dilation = a·s + m
        // in the padded row) reads phase m from its cell a on: one contiguous copy per tap.
        bool phased = ByPhases(g), shifted = IsShift(g);
        int phaseLength = PhaseLength(g);
        Span<float> phases = phased ? stackalloc float[sw * phaseLength] : default;
        for (int ci = first; ci < end; ci++)
        {
            int c = ci / kh, i = ci % kh;
            int offH = i * g.DilationH - g.PadTop;
            var (rowLo, rowHi) = BandRange(g, offH, row0, rows);
            var taps = col.Slice(ci * kw * rows * ow, kw * rows * ow);
            for (int j = 0; j < kw; j++)
            {
                var dst = taps.Slice(j * rows * ow, rows * ow);
                dst[..((rowLo - row0) * ow)].Clear();
                dst[((rowHi - row0) * ow)..].Clear();
            }
            if (shifted)
            {
                UnfoldShifted(g, x.Slice(c * plane, plane), taps, offH, row0, rows, rowLo, rowHi);
                continue;
            }
            for (int r = rowLo; r < rowHi; r++)
            {
                var src = x.Slice(c * plane + (r * g.StrideH + offH) * w, w);
                if (phased)
                {
                    SplitPhases(src, g.PadLeft, sw, phaseLength, phases);
                    for (int j = 0; j < kw; j++)
                    {
                        int at = j * g.DilationW;
                        phases.Slice(at % sw * phaseLength + at / sw, ow).CopyTo(taps.Slice((j * rows + r - row0) * ow, ow));
                    }
                    continue;
                }
                for (int j = 0; j < kw; j++)
                {
                    int offW = j * g.DilationW - g.PadLeft;
                    var (lo, hi) = ValidRange(ow, w, offW, sw);
                    var drow = taps.Slice((j * rows + r - row0) * ow, ow);
                    drow[..lo].Clear();
                    drow[hi..].Clear();
                    if (sw == 1) src.Slice(lo + offW, hi - lo).CopyTo(drow[lo..hi]);
                    else
                        for (int q = lo; q < hi; q++) drow[q] = src[q * sw + offW];
                }
            }
        }
    }

    /// <summary>
    /// Whether each tap's rows of the matrix are the input plane shifted: at unit strides with outputs as wide as the
    /// input ("same" padding), output cell (r, q) of tap (i, j) reads input cell (r + offH, q + offW), so the tap's band
    /// is one contiguous run of the plane, copied whole, with only each row's padding cells to clear after. Row by row,
    /// each tap's row was a copy and two clears of its own, mostly of 13 or 27 floats or none: unfolding one image
    /// (ms, 1 thread, medians of 31 alternations, three runs) of AlexNet's 384x13x13 layer took 0.39-0.77 → 0.11-0.22,
    /// its 64x27x27 5x5 layer 0.39-0.76 → 0.16-0.24, VGG's 64x56x56 0.33-0.53 → 0.14-0.18.
    /// </summary>
    private static bool IsShift(in ConvGeometry g) => g.StrideH == 1 && g.StrideW == 1 && g.OutWidth == g.InWidth;

    // The kernel row at offset offH of one channel (plane), its taps [KW, rows·OW], for the band's rows [rowLo, rowHi)
    // whose input row is real; the rest of the band is cleared already.
    private static void UnfoldShifted(in ConvGeometry g, ReadOnlySpan<float> plane, Span<float> taps, int offH, int row0, int rows,
        int rowLo, int rowHi)
    {
        int ow = g.OutWidth, w = g.InWidth;
        if (rowHi <= rowLo) return;
        for (int j = 0; j < g.KernelWidth; j++)
        {
            int offW = j * g.DilationW - g.PadLeft;
            var (lo, hi) = ValidRange(ow, w, offW, 1);
            var dst = taps.Slice(j * rows * ow, rows * ow);
            if (hi > lo)
            {
                // From the first real cell of the first row to the last of the last: the source stays inside the plane.
                int first = (rowLo - row0) * ow + lo, end = (rowHi - 1 - row0) * ow + hi;
                plane.Slice((rowLo + offH) * w + lo + offW, end - first).CopyTo(dst[first..end]);
            }
            // The copy ran on through each row's padding cells (into the row before or after): those read zero. A
            // cell or two each side, so plain stores rather than a Clear call per row.
            int from = Math.Max(lo, hi);
            for (int r = rowLo; r < rowHi; r++)
            {
                var drow = dst.Slice((r - row0) * ow, ow);
                for (int q = 0; q < lo; q++) drow[q] = 0f;
                for (int q = from; q < ow; q++) drow[q] = 0f;
            }
        }
    }

    // phases[m·length + u] = the padded row's cell u·stride + m: src[u·stride + m − pad], zero outside src.
    private static unsafe void SplitPhases(ReadOnlySpan<float> src, int pad, int stride, int length, Span<float> phases)
    {
        fixed (float* ps = src, pp = phases)
            for (int m = 0; m < stride; m++)
            {
                float* dst = pp + m * length;
                var (lo, hi) = ValidRange(length, src.Length, m - pad, stride);
                for (int u = 0; u < lo; u++) dst[u] = 0f;
                float* from = ps + (lo * stride + m - pad);
                for (int u = lo; u < hi; u++, from += stride) dst[u] = *from;
                for (int u = hi; u < length; u++) dst[u] = 0f;
            }
    }

    // col [Cg·KH·KW, rows·OW] for output rows [row0, row0 + rows) → dx [Cg, H, W] += fold(col); dx is not cleared here
    public static void FoldAccumulate(in ConvGeometry g, ReadOnlySpan<float> col, Span<float> dx, int row0, int rows)
    {
        if (FoldsByRows(g)) FoldByRows(g, col, dx, row0, rows);
        else FoldAccumulateReference(g, col, dx, row0, rows);
    }

    /// <summary>
    /// Whether planes fold through <see cref="FoldByRows"/>: unit strides and AVX-512, with at most
    /// <see cref="MaxFoldMasks"/> masks (a row's blocks of 16 cells times the kernel's width). Not a constant so that
    /// tests hold both paths to each other.
    /// </summary>
    internal static bool UseRowFold = Avx512F.IsSupported;

    private const int MaxFoldMasks = 128;

    private static bool FoldsByRows(in ConvGeometry g) =>
        UseRowFold && g.StrideH == 1 && g.StrideW == 1 && (g.InWidth + 15) / 16 * g.KernelWidth <= MaxFoldMasks;

    /// <summary>
    /// The fold a dx row at a time, in blocks of 16 cells (one AVX-512 register): the block is loaded once, every tap
    /// row that reaches it is added in, each shifted into place by a masked load from (its start − offW), and it is
    /// stored once. <see cref="FoldAccumulateReference"/> adds each tap row into dx through memory instead, 1,500 calls
    /// of 10 floats per LeNet-5 image. Each dx cell takes the same additions in the same order, (i, j) by (i, j), so the
    /// two agree exactly (but for the sign of a zero: lanes a tap does not reach add +0). LeNet-5's second layer at
    /// batch 64 folded in 0.64 ms, 0.11-0.12 so; AlexNet's 384x13x13 3x3 in 0.32 ms an image, 0.08-0.11 (1 thread).
    /// </summary>
    private static unsafe void FoldByRows(in ConvGeometry g, ReadOnlySpan<float> col, Span<float> dx, int row0, int rows)
    {
        int cg = g.InChannelsPerGroup, kh = g.KernelHeight, kw = g.KernelWidth, ow = g.OutWidth;
        int h = g.InHeight, w = g.InWidth, plane = h * w, band = rows * ow, blocks = (w + 15) / 16;
        var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        // Tap column j writes dx columns [lo + offW, hi + offW): in block b, the lanes its masked load fills.
        Span<Vector512<float>> masks = stackalloc Vector512<float>[blocks * kw];
        for (int b = 0; b < blocks; b++)
            for (int j = 0; j < kw; j++)
            {
                int offW = j * g.DilationW - g.PadLeft;
                var (lo, hi) = ValidRange(ow, w, offW, 1);
                masks[b * kw + j] = (Vector512.GreaterThanOrEqual(lanes, Vector512.Create(lo + offW - 16 * b))
                    & Vector512.LessThan(lanes, Vector512.Create(hi + offW - 16 * b))).AsSingle();
            }
        var last = Vector512.LessThan(lanes, Vector512.Create(w - 16 * (blocks - 1))).AsSingle();
        int offTop = -g.PadTop, offBottom = (kh - 1) * g.DilationH - g.PadTop;
        int yLo = Math.Max(0, row0 + offTop), yHi = Math.Min(h, row0 + rows + offBottom);
        // Two channels at a time: each block's sum is one chain of dependent adds, so two chains keep the adder busy.
        int channelTaps = kh * kw * band;
        fixed (float* pc = col, pd = dx)
            for (int c = 0; c < cg; c += 2)
            {
                bool pair = c + 1 < cg;
                for (int y = yLo; y < yHi; y++)
                    for (int b = 0; b < blocks; b++)
                    {
                        float* block = pd + c * plane + y * w + 16 * b;
                        var cells = b == blocks - 1 ? last : Vector512<float>.AllBitsSet;
                        var acc = Avx512F.MaskLoad(block, cells, Vector512<float>.Zero);
                        var acc2 = pair ? Avx512F.MaskLoad(block + plane, cells, Vector512<float>.Zero) : Vector512<float>.Zero;
                        for (int i = 0; i < kh; i++)
                        {
                            int r = y - (i * g.DilationH - g.PadTop);
                            if (r < row0 || r >= row0 + rows) continue;
                            float* taps = pc + (c * kh + i) * kw * band + (r - row0) * ow + 16 * b;
                            for (int j = 0; j < kw; j++)
                            {
                                float* at = taps + j * band - (j * g.DilationW - g.PadLeft);
                                var mask = masks[b * kw + j];
                                acc += Avx512F.MaskLoad(at, mask, Vector512<float>.Zero);
                                if (pair) acc2 += Avx512F.MaskLoad(at + channelTaps, mask, Vector512<float>.Zero);
                            }
                        }
                        Avx512F.MaskStore(block, cells, acc);
                        if (pair) Avx512F.MaskStore(block + plane, cells, acc2);
                    }
            }
    }

    /// <summary>The fold tap row by tap row, for every shape: the oracle <see cref="FoldByRows"/> is held to.</summary>
    internal static void FoldAccumulateReference(in ConvGeometry g, ReadOnlySpan<float> col, Span<float> dx, int row0, int rows)
    {
        int cg = g.InChannelsPerGroup, kh = g.KernelHeight, kw = g.KernelWidth, ow = g.OutWidth;
        int h = g.InHeight, w = g.InWidth, sw = g.StrideW, plane = h * w;
        for (int c = 0; c < cg; c++)
            for (int i = 0; i < kh; i++)
            {
                int offH = i * g.DilationH - g.PadTop;
                var (rowLo, rowHi) = BandRange(g, offH, row0, rows);
                for (int j = 0; j < kw; j++)
                {
                    int offW = j * g.DilationW - g.PadLeft;
                    var (lo, hi) = ValidRange(ow, w, offW, sw);
                    var src = col.Slice(((c * kh + i) * kw + j) * rows * ow, rows * ow);
                    for (int r = rowLo; r < rowHi; r++)
                    {
                        var srow = src.Slice((r - row0) * ow, ow);
                        var drow = dx.Slice(c * plane + (r * g.StrideH + offH) * w);
                        if (sw == 1)
                        {
                            var d = drow.Slice(lo + offW, hi - lo);
                            System.Numerics.Tensors.TensorPrimitives.Add(d, srow[lo..hi], d);
                        }
                        else
                            for (int q = lo; q < hi; q++) drow[q * sw + offW] += srow[q];
                    }
                }
            }
    }
}
