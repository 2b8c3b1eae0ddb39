using ILGPU;

namespace Fovea.Gpu.Kernels;

/// <summary>
/// The pre-pad step on x [planes, H, W] → y [planes, H + top + bottom, W + left + right] (constant, reflect,
/// replicate, circular): each output cell copies the source cell its row and column map to, or the constant.
/// </summary>
internal static class PadKernels
{
    /// <summary>Sizes and mode, as plain fields for the kernels.</summary>
    internal struct Shape
    {
        public int H, W, OH, OW, Top, Left, Mode;
        public float Value;

        public static Shape From(in PadGeometry g) => new()
        {
            H = g.InHeight,
            W = g.InWidth,
            OH = g.OutHeight,
            OW = g.OutWidth,
            Top = g.Top,
            Left = g.Left,
            Mode = (int)g.Mode,
            Value = g.Value,
        };
    }

    /// <summary>The input index padded position o copies, or −1 for a constant cell (the CPU backend's SourceMap).</summary>
    private static int Source(int mode, int size, int before, int o)
    {
        int i = o - before;
        if (i >= 0 && i < size) return i;
        if (mode == (int)PadMode.Reflect) return i < 0 ? -i : 2 * (size - 1) - i;
        if (mode == (int)PadMode.Replicate) return i < 0 ? 0 : size - 1;
        if (mode == (int)PadMode.Circular) return (i % size + size) % size;
        return -1;
    }

    // one thread per output cell
    public static void Forward(Index1D at, ArrayView<float> x, ArrayView<float> y, Shape g)
    {
        int c = at % g.OW, r = at / g.OW % g.OH, p = at / (g.OW * g.OH);
        int sr = Source(g.Mode, g.H, g.Top, r), sc = Source(g.Mode, g.W, g.Left, c);
        y[at] = sr < 0 || sc < 0 ? (g.Mode == (int)PadMode.Zeros ? g.Value : 0f) : x[(p * g.H + sr) * g.W + sc];
    }

    // one thread per output cell: its gradient goes to the cell it copied (dx zeroed first; several cells may share a source)
    public static void Backward(Index1D at, ArrayView<float> dy, ArrayView<float> dx, Shape g)
    {
        int c = at % g.OW, r = at / g.OW % g.OH, p = at / (g.OW * g.OH);
        int sr = Source(g.Mode, g.H, g.Top, r), sc = Source(g.Mode, g.W, g.Left, c);
        if (sr >= 0 && sc >= 0) Atomic.Add(ref dx[(p * g.H + sr) * g.W + sc], dy[at]);
    }
}
