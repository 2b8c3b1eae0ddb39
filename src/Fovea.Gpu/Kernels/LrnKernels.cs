using ILGPU;
using ILGPU.Algorithms;

namespace Fovea.Gpu.Kernels;

/// <summary>
/// AlexNet's local response normalisation across channels of x [N, C, S], one thread per element:
/// scale[c] = k + alpha/size · Σ x[c']² over c' in [c − ⌊size/2⌋, c + ⌈size/2⌉ − 1], y = x · scale^(−beta).
/// </summary>
internal static class LrnKernels
{
    public static void Forward(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> scale, int c, int s, int size,
        float alpha, float beta, float k)
    {
        int ch = i / s % c, b = i / (s * c), pos = i % s;
        int lo = XMath.Max(0, ch - size / 2), hi = XMath.Min(c - 1, ch + (size - 1) / 2);
        float acc = 0f;
        for (int j = lo; j <= hi; j++)
        {
            float v = x[(b * c + j) * s + pos];
            acc += v * v;
        }
        float sc = k + alpha / size * acc;
        scale[i] = sc;
        y[i] = x[i] * XMath.Pow(sc, -beta);
    }

    // dx[c] = dy[c]·scale[c]^(−β) − (2αβ/size)·x[c]·Σ_{c' whose window holds c} dy[c']·y[c']/scale[c'].
    public static void Backward(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> scale, ArrayView<float> dy,
        ArrayView<float> dx, int c, int s, int size, float alpha, float beta)
    {
        int ch = i / s % c, b = i / (s * c), pos = i % s;
        // The windows holding c are those of c' in [c − (size−1)/2, c + size/2]: the forward's window mirrored.
        int lo = XMath.Max(0, ch - (size - 1) / 2), hi = XMath.Min(c - 1, ch + size / 2);
        float acc = 0f;
        for (int j = lo; j <= hi; j++)
        {
            int at = (b * c + j) * s + pos;
            acc += dy[at] * y[at] / scale[at];
        }
        dx[i] = dy[i] * XMath.Pow(scale[i], -beta) - 2f * alpha * beta / size * x[i] * acc;
    }
}
