namespace Fovea.Backends.Cpu;

/// <summary>
/// PyTorch's adaptive average pooling over x [planes, inH, inW] → y [planes, outH, outW]: output cell i averages
/// input cells [floor(i·In/Out), ceil((i+1)·In/Out)), so windows may differ in size and overlap by one cell.
/// </summary>
internal static class AdaptiveAvgPool2d
{
    public static void Forward(int planes, int inH, int inW, int outH, int outW, float[] x, float[] y)
    {
        Check(inH, inW, outH, outW);
        // Equal sizes (AlexNet's 6x6 → 6x6 for 224 inputs) make every window one cell: a copy, not 36 averages a plane.
        if (inH == outH && inW == outW) x.AsSpan(0, planes * inH * inW).CopyTo(y);
        else CpuParallel.For(planes, (long)inH * inW + outH * outW, new ForwardPlanes(inH, inW, outH, outW, x, y));
    }

    private readonly struct ForwardPlanes(int inH, int inW, int outH, int outW, float[] x, float[] y) : CpuParallel.IItems
    {
        public void Run(int p)
        {
            var xp = x.AsSpan(p * inH * inW, inH * inW);
            var yp = y.AsSpan(p * outH * outW, outH * outW);
            for (int i = 0; i < outH; i++)
            {
                var (h0, h1) = Range(i, inH, outH);
                for (int j = 0; j < outW; j++)
                {
                    var (w0, w1) = Range(j, inW, outW);
                    float acc = 0f;
                    for (int r = h0; r < h1; r++)
                        for (int c = w0; c < w1; c++)
                            acc += xp[r * inW + c];
                    yp[i * outW + j] = acc / ((h1 - h0) * (w1 - w0));
                }
            }
        }
    }

    // dy [planes, outH, outW] → dx [planes, inH, inW], overwritten: each output's gradient spread evenly over its window.
    public static void Backward(int planes, int inH, int inW, int outH, int outW, float[] dy, float[] dx)
    {
        Check(inH, inW, outH, outW);
        if (inH == outH && inW == outW) dy.AsSpan(0, planes * inH * inW).CopyTo(dx);
        else CpuParallel.For(planes, (long)inH * inW + outH * outW, new BackwardPlanes(inH, inW, outH, outW, dy, dx));
    }

    private readonly struct BackwardPlanes(int inH, int inW, int outH, int outW, float[] dy, float[] dx) : CpuParallel.IItems
    {
        public void Run(int p)
        {
            var dxp = dx.AsSpan(p * inH * inW, inH * inW);
            var dyp = dy.AsSpan(p * outH * outW, outH * outW);
            dxp.Clear();
            for (int i = 0; i < outH; i++)
            {
                var (h0, h1) = Range(i, inH, outH);
                for (int j = 0; j < outW; j++)
                {
                    var (w0, w1) = Range(j, inW, outW);
                    float grad = dyp[i * outW + j] / ((h1 - h0) * (w1 - w0));
                    for (int r = h0; r < h1; r++)
                        for (int c = w0; c < w1; c++)
                            dxp[r * inW + c] += grad;
                }
            }
        }
    }

    /// <summary>The input range [floor(i·In/Out), ceil((i+1)·In/Out)) of output cell i.</summary>
    internal static (int Start, int End) Range(int i, int input, int output) =>
        ((int)((long)i * input / output), (int)(((long)(i + 1) * input + output - 1) / output));

    private static void Check(int inH, int inW, int outH, int outW)
    {
        if (inH <= 0 || inW <= 0 || outH <= 0 || outW <= 0)
            throw new ArgumentException($"adaptive pooling needs positive sizes, got input {inH}x{inW} and output {outH}x{outW}");
    }
}
