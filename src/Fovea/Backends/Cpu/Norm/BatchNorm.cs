using System.Numerics;
using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Batch normalisation over x [N, C, S] (S = H·W): per-channel statistics over the N·S values of each channel,
/// the affine apply, and the training-mode backward through the batch statistics. Sums run in double, widened
/// from float SIMD lanes, so a channel of millions of values keeps its mean and variance to float precision.
/// </summary>
internal static class BatchNorm
{
    // x [N, C, S] → mean [C], variance [C] (biased: divided by N·S).
    public static void Statistics(float[] x, int n, int c, int s, float[] mean, float[] variance) =>
        CpuParallel.For(c, 2L * n * s, new StatisticsChannels(x, n, c, s, mean, variance));

    private readonly struct StatisticsChannels(float[] x, int n, int c, int s, float[] mean, float[] variance) : CpuParallel.IItems
    {
        public void Run(int ch)
        {
            long m = (long)n * s;
            double total = 0;
            for (int b = 0; b < n; b++) total += SumDouble(x.AsSpan((b * c + ch) * s, s));
            double mu = m > 0 ? total / m : 0;
            // Two passes: Σ (x − mean)² avoids the cancellation of E[x²] − mean².
            double squares = 0;
            for (int b = 0; b < n; b++) squares += SumSquaredDeviation(x.AsSpan((b * c + ch) * s, s), (float)mu);
            mean[ch] = (float)mu;
            variance[ch] = m > 0 ? (float)(squares / m) : 0f;
        }
    }

    // x, y [N, C, S]; mean, invStd, gamma, beta [C]: y = (x − mean) · invStd · gamma + beta.
    public static void Apply(float[] x, int n, int c, int s, float[] mean, float[] invStd, float[]? gamma, float[]? beta, float[] y) =>
        CpuParallel.For(n * c, 2L * s, new ApplyRows(x, c, s, mean, invStd, gamma, beta, y));

    private readonly struct ApplyRows(float[] x, int c, int s, float[] mean, float[] invStd, float[]? gamma, float[]? beta, float[] y)
        : CpuParallel.IItems
    {
        public void Run(int row)
        {
            int ch = row % c;
            float scale = invStd[ch] * (gamma is null ? 1f : gamma[ch]), shift = beta is null ? 0f : beta[ch];
            var yr = y.AsSpan(row * s, s);
            // Centre first, then scale: x·a + (beta − mean·a) would cancel when |mean| is large against the spread.
            TensorPrimitives.Subtract(x.AsSpan(row * s, s), mean[ch], yr);
            TensorPrimitives.Multiply(yr, scale, yr);
            TensorPrimitives.Add(yr, shift, yr);
        }
    }

    // x, dy, dx [N, C, S]; mean, invStd, gamma, dgamma, dbeta [C]. With x̂ = (x − mean)·invStd and M = N·S:
    // dgamma = Σ dy·x̂, dbeta = Σ dy, dx = gamma·invStd/M · (M·dy − Σ dy − x̂·Σ dy·x̂).
    public static void Backward(float[] x, float[] dy, int n, int c, int s, float[] mean, float[] invStd, float[]? gamma,
        float[] dx, float[]? dgamma, float[]? dbeta) =>
        CpuParallel.For(c, 3L * n * s, new BackwardChannels(x, dy, n, c, s, mean, invStd, gamma, dx, dgamma, dbeta));

    private readonly struct BackwardChannels(float[] x, float[] dy, int n, int c, int s, float[] mean, float[] invStd, float[]? gamma,
        float[] dx, float[]? dgamma, float[]? dbeta) : CpuParallel.IItems
    {
        public void Run(int ch)
        {
            long m = (long)n * s;
            float mu = mean[ch], istd = invStd[ch], gm = gamma is null ? 1f : gamma[ch];
            double sumDy = 0, sumDyCentred = 0;
            for (int b = 0; b < n; b++)
            {
                int at = (b * c + ch) * s;
                sumDy += SumDouble(dy.AsSpan(at, s));
                sumDyCentred += DotCentred(dy.AsSpan(at, s), x.AsSpan(at, s), mu);
            }
            double sumDyXhat = sumDyCentred * istd;
            if (dgamma is not null) dgamma[ch] = (float)sumDyXhat;
            if (dbeta is not null) dbeta[ch] = (float)sumDy;
            if (m == 0) return;
            // dx = a·dy + b·(x − mean) + k with a = gamma·invStd, b = −a·invStd·Σdy·x̂/M, k = −a·Σdy/M.
            float a = gm * istd;
            float slope = (float)(-a * istd * sumDyXhat / m), offset = (float)(-a * sumDy / m);
            for (int b = 0; b < n; b++)
            {
                int at = (b * c + ch) * s;
                var dxr = dx.AsSpan(at, s);
                TensorPrimitives.Subtract(x.AsSpan(at, s), mu, dxr);
                TensorPrimitives.Multiply(dxr, slope, dxr);
                TensorPrimitives.Add(dxr, offset, dxr);
                TensorPrimitives.MultiplyAdd(dy.AsSpan(at, s), a, dxr, dxr);
            }
        }
    }

    /// <summary>Σ v in double, widening float SIMD lanes.</summary>
    internal static double SumDouble(ReadOnlySpan<float> v)
    {
        var acc = Vector<double>.Zero;
        int i = 0;
        for (; i <= v.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(v[i..]), out var lo, out var hi);
            acc += lo + hi;
        }
        double sum = Vector.Sum(acc);
        for (; i < v.Length; i++) sum += v[i];
        return sum;
    }

    /// <summary>Σ (v − mean)² in double; each difference is formed in float, where it is exact enough, and squared in double.</summary>
    private static double SumSquaredDeviation(ReadOnlySpan<float> v, float mean)
    {
        var acc = Vector<double>.Zero;
        var mu = new Vector<float>(mean);
        int i = 0;
        for (; i <= v.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(v[i..]) - mu, out var lo, out var hi);
            acc += lo * lo + hi * hi;
        }
        double sum = Vector.Sum(acc);
        for (; i < v.Length; i++) { double d = v[i] - mean; sum += d * d; }
        return sum;
    }

    /// <summary>Σ dy·(x − mean) in double.</summary>
    private static double DotCentred(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean)
    {
        var acc = Vector<double>.Zero;
        var mu = new Vector<float>(mean);
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(x[i..]) - mu, out var xl, out var xh);
            Vector.Widen(new Vector<float>(dy[i..]), out var gl, out var gh);
            acc += xl * gl + xh * gh;
        }
        double sum = Vector.Sum(acc);
        for (; i < x.Length; i++) sum += (double)dy[i] * (x[i] - mean);
        return sum;
    }
}
