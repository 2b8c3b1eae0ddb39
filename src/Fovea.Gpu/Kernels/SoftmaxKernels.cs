using ILGPU;
using ILGPU.Algorithms;

namespace Fovea.Gpu.Kernels;

/// <summary>
/// Softmax and log-softmax over the middle axis of [outer, dim, inner], one thread per (outer, inner) line:
/// neighbouring threads differ in the inner index, so their loads are coalesced. Stable: each line's maximum is
/// subtracted first.
/// </summary>
internal static class SoftmaxKernels
{
    public static void Forward(Index1D i, ArrayView<float> x, ArrayView<float> y, int dim, int inner, int log)
    {
        int start = i / inner * dim * inner + i % inner;
        float max = float.NegativeInfinity;
        for (int d = 0; d < dim; d++) max = XMath.Max(max, x[start + d * inner]);
        float sum = 0f;
        for (int d = 0; d < dim; d++) sum += XMath.Exp(x[start + d * inner] - max);
        if (log != 0)
        {
            // log-softmax = (x − max) − log Σ exp(x − max), without forming the softmax.
            float logSum = XMath.Log(sum);
            for (int d = 0; d < dim; d++) y[start + d * inner] = x[start + d * inner] - max - logSum;
        }
        else
        {
            float inv = 1f / sum;
            for (int d = 0; d < dim; d++) y[start + d * inner] = XMath.Exp(x[start + d * inner] - max) * inv;
        }
    }

    // softmax: dx = y·(dy − Σ dy·y); log-softmax: dx = dy − exp(y)·Σ dy.
    public static void Backward(Index1D i, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int dim, int inner, int log)
    {
        int start = i / inner * dim * inner + i % inner;
        float s = 0f;
        for (int d = 0; d < dim; d++) s += log != 0 ? dy[start + d * inner] : dy[start + d * inner] * y[start + d * inner];
        for (int d = 0; d < dim; d++)
        {
            int at = start + d * inner;
            dx[at] = log != 0 ? dy[at] - XMath.Exp(y[at]) * s : (dy[at] - s) * y[at];
        }
    }
}
