using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Max, average and sum pooling over x [N, C, H, W] with PyTorch's windows (<see cref="PoolGeometry"/>), and their
/// backwards, plane by plane over the N·C planes. <see cref="ForwardReference"/> is the plain loop for every case;
/// <see cref="Forward"/> sends the common unpadded max pools (2x2 stride 2, 3x3 stride 2) to a SIMD loop, 2x2 ones
/// that tile their planes to the row-pair loops over the whole batch (Pool2d.Pairs.cs), and all else to the
/// reference. Max pools keep PyTorch's argmax rule (first maximum in row-major order, NaN wins); a window with no
/// input cell in it (possible only with dilation) gives −∞ and argmax −1, which the backward skips.
/// </summary>
internal static partial class Pool2d
{
    /// <summary>
    /// Whether the fast max pools take <see cref="MaxStride2Wide"/> (AVX2) or the portable <see cref="MaxStride2"/>.
    /// Not a constant so that tests hold both to the reference on a machine with AVX2.
    /// </summary>
    internal static bool UseWide = Avx2.IsSupported;

    // x [N, C, H, W] → y [N, C, OutH, OutW]; argmax (max only, may be null) [N, C, OutH, OutW] as h·W + w within the input plane.
    public static void Forward(in PoolGeometry g, PoolKind kind, float[] x, float[] y, long[]? argmax) =>
        Run(g, kind, x, y, argmax, fast: true);

    /// <summary>The plain loop for every case: the oracle the fast paths are tested against.</summary>
    public static void ForwardReference(in PoolGeometry g, PoolKind kind, float[] x, float[] y, long[]? argmax) =>
        Run(g, kind, x, y, argmax, fast: false);

    private static void Run(PoolGeometry g, PoolKind kind, float[] x, float[] y, long[]? argmax, bool fast)
    {
        g.Validate();
        if (kind != PoolKind.Max) argmax = null;
        if (fast && kind == PoolKind.Max && argmax is null && TilesInRowPairs(g))
        {
            CpuParallel.ForChunks(g.Batch * g.Channels * g.OutHeight, 4L * g.OutWidth, new ForwardRowPairs(x, y, g.OutWidth));
            return;
        }
        if (fast && kind == PoolKind.Max && argmax is null && Separates(g))
        {
            CpuParallel.ForChunks(g.Batch * g.Channels, (long)g.OutHeight * (g.InWidth * g.KernelHeight + g.OutWidth * g.KernelWidth),
                new ForwardSeparablePlanes(g, x, y));
            return;
        }
        int fastKernel = fast && kind == PoolKind.Max ? FastMaxKernel(g) : 0;
        // Contiguous runs of planes per thread: LeNet-5's second pool has 4,096 planes of 25 outputs at batch 256,
        // where handing out planes one by one cost more than pooling them.
        CpuParallel.ForChunks(g.Batch * g.Channels, (long)g.OutHeight * g.OutWidth * g.KernelHeight * g.KernelWidth,
            new ForwardPlanes(g, kind, fastKernel, x, y, argmax));
    }

    private readonly struct ForwardPlanes(PoolGeometry g, PoolKind kind, int fastKernel, float[] x, float[] y, long[]? argmax)
        : CpuParallel.IChunks
    {
        public void Run(int first, int end)
        {
            int inPlane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth;
            for (int p = first; p < end; p++)
                Plane(g, kind, fastKernel, x.AsSpan(p * inPlane, inPlane), y.AsSpan(p * outPlane, outPlane),
                    argmax is null ? default : argmax.AsSpan(p * outPlane, outPlane));
        }
    }

    private static void Plane(in PoolGeometry g, PoolKind kind, int fastKernel, ReadOnlySpan<float> xp, Span<float> yp, Span<long> ap)
    {
        switch (fastKernel)
        {
            case 2 or 3 when UseWide: MaxStride2Wide(xp, g.InWidth, fastKernel, g.OutHeight, g.OutWidth, yp, ap); break;
            case 2 or 3: MaxStride2(xp, g.InWidth, fastKernel, g.OutHeight, g.OutWidth, yp, ap); break;
            default:
                if (kind == PoolKind.Max) MaxPlane(g, xp, yp, ap);
                else AveragePlane(g, kind == PoolKind.Sum, xp, yp);
                break;
        }
    }

    // dy [N, C, OutH, OutW] → dx [N, C, H, W], overwritten. Windows may overlap (kernel 3 stride 2), so every route adds.
    // Max pooling finds each plane's argmax again from x with the forward's own loops (so by the same rule), into
    // buffers of one plane, rather than keeping int64 indices for the whole output from the forward to the backward.
    public static void Backward(in PoolGeometry g, PoolKind kind, float[] x, float[] dy, float[] dx)
    {
        g.Validate();
        if (kind == PoolKind.Max && TilesInRowPairs(g))
        {
            CpuParallel.ForChunks(g.Batch * g.Channels * g.OutHeight, 8L * g.OutWidth, new BackwardRowPairs(x, dy, dx, g.OutWidth));
            return;
        }
        int fastKernel = kind == PoolKind.Max ? FastMaxKernel(g) : 0;
        long work = g.InHeight * g.InWidth + (long)g.OutHeight * g.OutWidth * g.KernelHeight * g.KernelWidth;
        CpuParallel.ForChunks(g.Batch * g.Channels, work, new BackwardPlanes(g, kind, fastKernel, x, dy, dx));
    }

    private readonly struct BackwardPlanes(PoolGeometry g, PoolKind kind, int fastKernel, float[] x, float[] dy, float[] dx)
        : CpuParallel.IChunks
    {
        public void Run(int first, int end)
        {
            int inPlane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth;
            float[]? maxima = kind == PoolKind.Max ? ArrayPool<float>.Shared.Rent(outPlane) : null;
            long[]? argmax = kind == PoolKind.Max ? ArrayPool<long>.Shared.Rent(outPlane) : null;
            for (int p = first; p < end; p++)
            {
                var dxp = dx.AsSpan(p * inPlane, inPlane);
                var dyp = dy.AsSpan(p * outPlane, outPlane);
                // The plane's maxima are found before its dx is cleared: dx may be x's own buffer (IBackend.Pool2dBackward).
                if (argmax is not null)
                {
                    var ap = argmax.AsSpan(0, outPlane);
                    Plane(g, kind, fastKernel, x.AsSpan(p * inPlane, inPlane), maxima.AsSpan(0, outPlane), ap);
                    dxp.Clear();
                    for (int o = 0; o < outPlane; o++)
                        if (ap[o] >= 0) dxp[(int)ap[o]] += dyp[o]; // −1 marks a window with no input cell in it
                }
                else
                {
                    dxp.Clear();
                    AveragePlaneBackward(g, kind == PoolKind.Sum, dyp, dxp);
                }
            }
            if (argmax is not null)
            {
                ArrayPool<float>.Shared.Return(maxima!);
                ArrayPool<long>.Shared.Return(argmax);
            }
        }
    }

    /// <summary>2 or 3 when the fast max loop for that square kernel applies (stride 2, no padding or dilation, every window whole), else 0.</summary>
    internal static int FastMaxKernel(in PoolGeometry g)
    {
        int k = g.KernelHeight;
        bool shape = (k == 2 || k == 3) && g.KernelWidth == k && g.StrideH == 2 && g.StrideW == 2
            && g.PadH == 0 && g.PadW == 0 && g.DilationH == 1 && g.DilationW == 1;
        // Ceil mode can add a last window that hangs past the input: those go to the reference loop.
        bool whole = (g.OutHeight - 1) * 2 + k <= g.InHeight && (g.OutWidth - 1) * 2 + k <= g.InWidth;
        return shape && whole ? k : 0;
    }

    /// <summary>PyTorch's update: the first maximum in row-major window order wins ties; a NaN always takes over.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(float v, int index, ref float max, ref int at)
    {
        if (v > max || float.IsNaN(v)) { max = v; at = index; }
    }

    private static void MaxPlane(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<long> argmax)
    {
        int h = g.InHeight, w = g.InWidth, oh = g.OutHeight, ow = g.OutWidth, dh = g.DilationH, dw = g.DilationW;
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                // Padding cells are −∞, so only real cells are visited: skip the taps before 0, stop at the input's end.
                int h0 = i * g.StrideH - g.PadH, w0 = j * g.StrideW - g.PadW;
                int h1 = Math.Min(h0 + (g.KernelHeight - 1) * dh + 1, h), w1 = Math.Min(w0 + (g.KernelWidth - 1) * dw + 1, w);
                while (h0 < 0) h0 += dh;
                while (w0 < 0) w0 += dw;
                float max = float.NegativeInfinity;
                int at = h0 < h1 && w0 < w1 ? h0 * w + w0 : -1;
                for (int r = h0; r < h1; r += dh)
                    for (int c = w0; c < w1; c += dw)
                        Take(x[r * w + c], r * w + c, ref max, ref at);
                y[i * ow + j] = max;
                if (!argmax.IsEmpty) argmax[i * ow + j] = at;
            }
    }

    /// <summary>
    /// Unpadded k x k max pooling with stride 2 (k = 2 or 3, every window whole): four outputs at a time in SIMD lanes.
    /// For output column j, tap kw reads column 2j + kw, so the tap's values for four outputs are the even lanes of the
    /// 8 floats from column 2j + kw; the update rule is <see cref="Take"/>'s, as lane-wise selects.
    /// </summary>
    private static void MaxStride2(ReadOnlySpan<float> x, int w, int k, int oh, int ow, Span<float> y, Span<long> argmax)
    {
        bool keep = !argmax.IsEmpty;
        bool simd = Vector256.IsHardwareAccelerated;
        var lanes = Vector128.Create(0, 2, 4, 6);
        for (int i = 0; i < oh; i++)
        {
            int top = 2 * i * w, o = i * ow, j = 0;
            // A group of four outputs reads 8 floats from column 2j + kw for kw up to k − 1.
            for (; simd && j + 4 <= ow && 2 * j + k + 7 <= w; j += 4)
            {
                int start = top + 2 * j;
                var max = Evens(x.Slice(start, 8));
                var at = Vector128.Create(start) + lanes;
                for (int kh = 0; kh < k; kh++)
                    for (int kw = kh == 0 ? 1 : 0; kw < k; kw++)
                    {
                        int tap = start + kh * w + kw;
                        var v = Evens(x.Slice(tap, 8));
                        var take = Vector128.GreaterThan(v, max) | ~Vector128.Equals(v, v);
                        max = Vector128.ConditionalSelect(take, v, max);
                        at = Vector128.ConditionalSelect(take.AsInt32(), Vector128.Create(tap) + lanes, at);
                    }
                max.CopyTo(y.Slice(o + j, 4));
                if (keep)
                {
                    var (low, high) = Vector128.Widen(at);
                    low.CopyTo(argmax.Slice(o + j, 2));
                    high.CopyTo(argmax.Slice(o + j + 2, 2));
                }
            }
            for (; j < ow; j++)
            {
                int start = top + 2 * j;
                // Starting from the first cell is the same as starting from −∞ (a −∞ first cell keeps its index either way).
                float max = x[start];
                int at = start;
                for (int kh = 0; kh < k; kh++)
                    for (int kw = kh == 0 ? 1 : 0; kw < k; kw++)
                        Take(x[start + kh * w + kw], start + kh * w + kw, ref max, ref at);
                y[o + j] = max;
                if (keep) argmax[o + j] = at;
            }
        }
    }

    /// <summary>
    /// Unpadded k x k max pooling with stride 2 (k = 2 or 3, every window whole), eight (or four) outputs at a time:
    /// each input row's floats are split into even and odd columns, column 2j + 2 being the evens moved down a lane,
    /// so the taps are vectors taken in row-major order with <see cref="Take"/>'s rule as lane-wise selects. A row's
    /// last group overlaps the one before (those outputs are written twice, the same). LeNet-5's first pool (256x6x28x28)
    /// ran 1.15 ms a batch on one thread with <see cref="MaxStride2"/>'s four lanes, 0.63 so; its second (10x10, rows of
    /// five outputs) 0.53 -> 0.14 ms.
    /// </summary>
    private static unsafe void MaxStride2Wide(ReadOnlySpan<float> x, int w, int k, int oh, int ow, Span<float> y, Span<long> argmax)
    {
        bool keep = !argmax.IsEmpty;
        var columns = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        fixed (float* xp = x, yp = y)
        fixed (long* ap = argmax)
        {
            for (int i = 0; i < oh; i++)
            {
                int top = 2 * i * w, o = i * ow, j = 0;
                // Eight outputs read columns 2j .. 2j + 16 (2j + 15 for k = 2), inside the row while j + 8 <= ow.
                for (int next = 0; ow >= 8 && j < ow; j = next)
                {
                    j = Math.Min(next, ow - 8);
                    next = j + 8;
                    float* t = xp + top + 2 * j;
                    var max = Vector256<float>.Zero;
                    var at = Vector256<int>.Zero;
                    for (int r = 0; r < k; r++)
                    {
                        var (even, odd) = EvenOdd(t + r * w);
                        if (r == 0) max = even;
                        else TakeLanes(even, r * w, ref max, ref at);
                        TakeLanes(odd, r * w + 1, ref max, ref at);
                        if (k == 3) TakeLanes(NextEven(even, t[r * w + 16]), r * w + 2, ref max, ref at);
                    }
                    max.Store(yp + o + j);
                    if (keep)
                    {
                        var (low, high) = Vector256.Widen(at + columns + Vector256.Create(top + 2 * j));
                        low.Store(ap + o + j);
                        high.Store(ap + o + j + 4);
                    }
                }
                // Rows of 4 to 7 outputs (LeNet-5's second pool gives 5, AlexNet's last 6): the same with four lanes.
                for (int next = 0; ow is >= 4 and < 8 && j < ow; j = next)
                {
                    j = Math.Min(next, ow - 4);
                    next = j + 4;
                    float* t = xp + top + 2 * j;
                    var max = Vector128<float>.Zero;
                    var at = Vector128<int>.Zero;
                    for (int r = 0; r < k; r++)
                    {
                        var (even, odd) = EvenOdd4(t + r * w);
                        if (r == 0) max = even;
                        else TakeLanes(even, r * w, ref max, ref at);
                        TakeLanes(odd, r * w + 1, ref max, ref at);
                        if (k == 3) TakeLanes(NextEven4(even, t[r * w + 8]), r * w + 2, ref max, ref at);
                    }
                    max.Store(yp + o + j);
                    if (keep)
                    {
                        var (low, high) = Vector128.Widen(at + columns.GetLower() + Vector128.Create(top + 2 * j));
                        low.Store(ap + o + j);
                        high.Store(ap + o + j + 2);
                    }
                }
                for (; j < ow; j++)
                {
                    int start = top + 2 * j;
                    float m = x[start];
                    int at = start;
                    for (int kh = 0; kh < k; kh++)
                        for (int kw = kh == 0 ? 1 : 0; kw < k; kw++)
                            Take(x[start + kh * w + kw], start + kh * w + kw, ref m, ref at);
                    y[o + j] = m;
                    if (keep) argmax[o + j] = at;
                }
            }
        }
    }

    /// <summary>Columns 2j + 2, 2j + 4, ...: the evens moved down a lane, the column after them (<paramref name="last"/>) in the top lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> NextEven(Vector256<float> even, float last) =>
        Avx.Blend(Avx2.PermuteVar8x32(even, Vector256.Create(1, 2, 3, 4, 5, 6, 7, 7)), Vector256.Create(last), 0b1000_0000);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> NextEven4(Vector128<float> even, float last) =>
        Sse41.Blend(Sse.Shuffle(even, even, 0b11_11_10_01), Vector128.Create(last), 0b1000);

    /// <summary>The even and the odd columns of the 16 floats at p, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector256<float> Even, Vector256<float> Odd) EvenOdd(float* p)
    {
        var a = Avx.LoadVector256(p);
        var b = Avx.LoadVector256(p + 8);
        // shufps picks within 128-bit halves (a0 a2 b0 b2 | a4 a6 b4 b6); the 64-bit permute puts the halves in order.
        var even = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        var odd = Avx2.Permute4x64(Avx.Shuffle(a, b, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
        return (even, odd);
    }

    /// <summary>The even and the odd columns of the 8 floats at p, in order (shufps alone: one 128-bit half).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector128<float> Even, Vector128<float> Odd) EvenOdd4(float* p)
    {
        var a = Sse.LoadVector128(p);
        var b = Sse.LoadVector128(p + 4);
        return (Sse.Shuffle(a, b, 0b10_00_10_00), Sse.Shuffle(a, b, 0b11_01_11_01));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TakeLanes(Vector128<float> v, int offset, ref Vector128<float> max, ref Vector128<int> at)
    {
        var take = Vector128.GreaterThan(v, max) | ~Vector128.Equals(v, v);
        max = Vector128.ConditionalSelect(take, v, max);
        at = Vector128.ConditionalSelect(take.AsInt32(), Vector128.Create(offset), at);
    }

    /// <summary><see cref="Take"/> in every lane: v replaces the maximum where greater or NaN, and its tap offset the index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TakeLanes(Vector256<float> v, int offset, ref Vector256<float> max, ref Vector256<int> at)
    {
        var take = Vector256.GreaterThan(v, max) | ~Vector256.Equals(v, v);
        max = Vector256.ConditionalSelect(take, v, max);
        at = Vector256.ConditionalSelect(take.AsInt32(), Vector256.Create(offset), at);
    }

    /// <summary>Lanes 0, 2, 4, 6 of the 8 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Evens(ReadOnlySpan<float> eight) =>
        Vector256.Shuffle(Vector256.Create(eight), Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7)).GetLower();

    /// <summary>
    /// One window of an average or sum pool: the real cells [h0, h1) x [w0, w1) (stepping by the dilation) and
    /// avg_pool2d's divisor. With count_include_pad the divisor is the window clipped to the padded input
    /// (H + pad), taken before clipping to the real input, so a ceil-mode window that runs past the padding
    /// counts only the part inside it.
    /// </summary>
    private static (int H0, int H1, int W0, int W1, int Divisor) Window(in PoolGeometry g, int i, int j)
    {
        int dh = g.DilationH, dw = g.DilationW;
        int h0 = i * g.StrideH - g.PadH, w0 = j * g.StrideW - g.PadW;
        int h1 = Math.Min(h0 + (g.KernelHeight - 1) * dh + 1, g.InHeight + g.PadH);
        int w1 = Math.Min(w0 + (g.KernelWidth - 1) * dw + 1, g.InWidth + g.PadW);
        int padded = Taps(h0, h1, dh) * Taps(w0, w1, dw);
        while (h0 < 0) h0 += dh;
        while (w0 < 0) w0 += dw;
        h1 = Math.Min(h1, g.InHeight);
        w1 = Math.Min(w1, g.InWidth);
        int real = Taps(h0, h1, dh) * Taps(w0, w1, dw);
        return (h0, h1, w0, w1, g.CountIncludePad ? padded : real);
    }

    private static int Taps(int start, int end, int step) => start < end ? (end - start + step - 1) / step : 0;

    private static void AveragePlane(in PoolGeometry g, bool sum, ReadOnlySpan<float> x, Span<float> y)
    {
        int w = g.InWidth, ow = g.OutWidth, dh = g.DilationH, dw = g.DilationW;
        for (int i = 0; i < g.OutHeight; i++)
            for (int j = 0; j < ow; j++)
            {
                var (h0, h1, w0, w1, divisor) = Window(g, i, j);
                float acc = 0f;
                for (int r = h0; r < h1; r += dh)
                    for (int c = w0; c < w1; c += dw)
                        acc += x[r * w + c];
                // A window with no real cell gives 0, as avg_pool2d does.
                y[i * ow + j] = sum || divisor == 0 ? acc : acc / divisor;
            }
    }

    private static void AveragePlaneBackward(in PoolGeometry g, bool sum, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int w = g.InWidth, ow = g.OutWidth, dh = g.DilationH, dw = g.DilationW;
        for (int i = 0; i < g.OutHeight; i++)
            for (int j = 0; j < ow; j++)
            {
                var (h0, h1, w0, w1, divisor) = Window(g, i, j);
                if (divisor == 0) continue;
                float grad = sum ? dy[i * ow + j] : dy[i * ow + j] / divisor;
                for (int r = h0; r < h1; r += dh)
                    for (int c = w0; c < w1; c += dw)
                        dx[r * w + c] += grad;
            }
    }
}
