using ILGPU;
using ILGPU.Algorithms;

namespace Fovea.Gpu.Kernels;

/// <summary>
/// Max, average and sum pooling over x [N·C planes, H, W] with PyTorch's windows, one thread per output cell, and
/// their backwards as atomic adds from each output cell into its window (windows overlap when stride &lt; kernel).
/// The window rules are the CPU backend's Pool2d: padding cells are −∞ for max; the average's divisor counts the
/// window clipped to the padded input (count_include_pad) or only real cells.
/// </summary>
internal static class PoolKernels
{
    /// <summary><see cref="PoolGeometry"/> as plain fields.</summary>
    internal struct Shape
    {
        public int H, W, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, CountIncludePad;

        public static Shape From(in PoolGeometry g) => new()
        {
            H = g.InHeight,
            W = g.InWidth,
            OH = g.OutHeight,
            OW = g.OutWidth,
            KH = g.KernelHeight,
            KW = g.KernelWidth,
            SH = g.StrideH,
            SW = g.StrideW,
            PH = g.PadH,
            PW = g.PadW,
            DH = g.DilationH,
            DW = g.DilationW,
            CountIncludePad = g.CountIncludePad ? 1 : 0,
        };
    }

    private static int Taps(int start, int end, int step) => start < end ? (end - start + step - 1) / step : 0;

    // y [planes, OH, OW].
    public static void Max(Index1D at, ArrayView<float> x, ArrayView<float> y, Shape g)
    {
        Argmax(x, g, at, out float max);
        y[at] = max;
    }

    // dx += dy routed to each window's maximum, found again in x (the forward keeps no indices).
    public static void MaxBackward(Index1D at, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, Shape g)
    {
        int a = Argmax(x, g, at, out _);
        int p = at / (g.OW * g.OH);
        if (a >= 0) Atomic.Add(ref dx[p * g.H * g.W + a], dy[at]);
    }

    // Output cell at's maximum and its flat index within the input plane, −1 for a window with no input cell.
    private static int Argmax(ArrayView<float> x, in Shape g, int at, out float max)
    {
        int j = at % g.OW, i = at / g.OW % g.OH, p = at / (g.OW * g.OH);
        int h0 = i * g.SH - g.PH, w0 = j * g.SW - g.PW;
        int h1 = XMin(h0 + (g.KH - 1) * g.DH + 1, g.H), w1 = XMin(w0 + (g.KW - 1) * g.DW + 1, g.W);
        while (h0 < 0) h0 += g.DH;
        while (w0 < 0) w0 += g.DW;
        max = float.NegativeInfinity;
        int best = h0 < h1 && w0 < w1 ? h0 * g.W + w0 : -1;
        int plane = p * g.H * g.W;
        for (int r = h0; r < h1; r += g.DH)
            for (int c = w0; c < w1; c += g.DW)
            {
                float v = x[plane + r * g.W + c];
                // The first maximum in row-major order wins ties; a NaN always takes over.
                if (v > max || XMath.IsNaN(v)) { max = v; best = r * g.W + c; }
            }
        return best;
    }

    // The window's real cells [h0, h1) x [w0, w1) and its divisor, as the CPU backend's Window.
    private static void Window(in Shape g, int i, int j, out int h0, out int h1, out int w0, out int w1, out int divisor)
    {
        h0 = i * g.SH - g.PH;
        w0 = j * g.SW - g.PW;
        h1 = XMin(h0 + (g.KH - 1) * g.DH + 1, g.H + g.PH);
        w1 = XMin(w0 + (g.KW - 1) * g.DW + 1, g.W + g.PW);
        int padded = Taps(h0, h1, g.DH) * Taps(w0, w1, g.DW);
        while (h0 < 0) h0 += g.DH;
        while (w0 < 0) w0 += g.DW;
        h1 = XMin(h1, g.H);
        w1 = XMin(w1, g.W);
        divisor = g.CountIncludePad != 0 ? padded : Taps(h0, h1, g.DH) * Taps(w0, w1, g.DW);
    }

    // sum = 1: the window's sum; else its average.
    public static void Average(Index1D at, ArrayView<float> x, ArrayView<float> y, Shape g, int sum)
    {
        int j = at % g.OW, i = at / g.OW % g.OH, p = at / (g.OW * g.OH);
        Window(g, i, j, out int h0, out int h1, out int w0, out int w1, out int divisor);
        float acc = 0f;
        int plane = p * g.H * g.W;
        for (int r = h0; r < h1; r += g.DH)
            for (int c = w0; c < w1; c += g.DW)
                acc += x[plane + r * g.W + c];
        y[at] = sum != 0 || divisor == 0 ? acc : acc / divisor;
    }

    public static void AverageBackward(Index1D at, ArrayView<float> dy, ArrayView<float> dx, Shape g, int sum)
    {
        int j = at % g.OW, i = at / g.OW % g.OH, p = at / (g.OW * g.OH);
        Window(g, i, j, out int h0, out int h1, out int w0, out int w1, out int divisor);
        if (divisor == 0) return;
        float grad = sum != 0 ? dy[at] : dy[at] / divisor;
        int plane = p * g.H * g.W;
        for (int r = h0; r < h1; r += g.DH)
            for (int c = w0; c < w1; c += g.DW)
                Atomic.Add(ref dx[plane + r * g.W + c], grad);
    }

    // Output cell i of an adaptive pool averages input cells [floor(i·In/Out), ceil((i+1)·In/Out)).
    public static void Adaptive(Index1D at, ArrayView<float> x, ArrayView<float> y, int inH, int inW, int outH, int outW)
    {
        int j = at % outW, i = at / outW % outH, p = at / (outW * outH);
        int h0 = i * inH / outH, h1 = ((i + 1) * inH + outH - 1) / outH;
        int w0 = j * inW / outW, w1 = ((j + 1) * inW + outW - 1) / outW;
        float acc = 0f;
        for (int r = h0; r < h1; r++)
            for (int c = w0; c < w1; c++)
                acc += x[(p * inH + r) * inW + c];
        y[at] = acc / ((h1 - h0) * (w1 - w0));
    }

    public static void AdaptiveBackward(Index1D at, ArrayView<float> dy, ArrayView<float> dx, int inH, int inW, int outH, int outW)
    {
        int j = at % outW, i = at / outW % outH, p = at / (outW * outH);
        int h0 = i * inH / outH, h1 = ((i + 1) * inH + outH - 1) / outH;
        int w0 = j * inW / outW, w1 = ((j + 1) * inW + outW - 1) / outW;
        float grad = dy[at] / ((h1 - h0) * (w1 - w0));
        for (int r = h0; r < h1; r++)
            for (int c = w0; c < w1; c++)
                Atomic.Add(ref dx[(p * inH + r) * inW + c], grad);
    }

    private static int XMin(int a, int b) => a < b ? a : b;
}
