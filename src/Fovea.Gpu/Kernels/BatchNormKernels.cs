using ILGPU;

namespace Fovea.Gpu.Kernels;

/// <summary>
/// Per-channel kernels over x [N, C, S]: one thread group per channel walks the channel's N·S values (the sums
/// are group reductions), and the element-wise apply. Also the bias gradient of convolutions, the same sum.
/// </summary>
internal static class BatchNormKernels
{
    // x [N, C, S] → sums [C]: Σ over n and s (a convolution's bias gradient); one group per channel.
    public static void ChannelSum(ArrayView<float> x, ArrayView<float> sums, int n, int c, int s)
    {
        var shared = SharedMemory.Allocate<float>(GroupSum.MaxGroup);
        int ch = Grid.IdxX, t = Group.IdxX, size = Group.DimX, m = n * s;
        float acc = 0f;
        for (int j = t; j < m; j += size) acc += x[(j / s * c + ch) * s + j % s];
        float total = GroupSum.Of(shared, acc);
        if (t == 0) sums[ch] = total;
    }

    // x [N, C, S] → mean [C], variance [C] (biased), in two passes so large means do not cancel the spread.
    public static void Statistics(ArrayView<float> x, ArrayView<float> mean, ArrayView<float> variance, int n, int c, int s)
    {
        var shared = SharedMemory.Allocate<float>(GroupSum.MaxGroup);
        int ch = Grid.IdxX, t = Group.IdxX, size = Group.DimX, m = n * s;
        float acc = 0f;
        for (int j = t; j < m; j += size) acc += x[(j / s * c + ch) * s + j % s];
        float mu = m > 0 ? GroupSum.Of(shared, acc) / m : 0f;
        acc = 0f;
        for (int j = t; j < m; j += size)
        {
            float d = x[(j / s * c + ch) * s + j % s] - mu;
            acc += d * d;
        }
        float squares = GroupSum.Of(shared, acc);
        if (t == 0)
        {
            mean[ch] = mu;
            variance[ch] = m > 0 ? squares / m : 0f;
        }
    }

    // y = (x − mean)·invStd·gamma + beta per channel; one thread per element.
    public static void Apply(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> beta, int c, int s, int hasGamma, int hasBeta)
    {
        int ch = i / s % c;
        float scale = invStd[ch] * (hasGamma != 0 ? gamma[ch] : 1f);
        y[i] = (x[i] - mean[ch]) * scale + (hasBeta != 0 ? beta[ch] : 0f);
    }

    // With x̂ = (x − mean)·invStd and M = N·S: dgamma = Σ dy·x̂, dbeta = Σ dy,
    // dx = a·dy + b·(x − mean) + k with a = gamma·invStd, b = −a·invStd·Σdy·x̂/M, k = −a·Σdy/M. One group per channel.
    public static void Backward(ArrayView<float> x, ArrayView<float> dy, ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> gamma,
        ArrayView<float> dx, ArrayView<float> dgamma, ArrayView<float> dbeta, int n, int c, int s, int flags)
    {
        var shared = SharedMemory.Allocate<float>(GroupSum.MaxGroup);
        int ch = Grid.IdxX, t = Group.IdxX, size = Group.DimX, m = n * s;
        float mu = mean[ch], istd = invStd[ch], gm = (flags & 1) != 0 ? gamma[ch] : 1f;
        float sdy = 0f, sdyc = 0f;
        for (int j = t; j < m; j += size)
        {
            int at = (j / s * c + ch) * s + j % s;
            sdy += dy[at];
            sdyc += dy[at] * (x[at] - mu);
        }
        float sumDy = GroupSum.Of(shared, sdy);
        float sumDyXhat = GroupSum.Of(shared, sdyc) * istd;
        if (t == 0)
        {
            if ((flags & 2) != 0) dgamma[ch] = sumDyXhat;
            if ((flags & 4) != 0) dbeta[ch] = sumDy;
        }
        if (m == 0) return;
        float a = gm * istd, slope = -a * istd * sumDyXhat / m, offset = -a * sumDy / m;
        for (int j = t; j < m; j += size)
        {
            int at = (j / s * c + ch) * s + j % s;
            dx[at] = a * dy[at] + slope * (x[at] - mu) + offset;
        }
    }
}
