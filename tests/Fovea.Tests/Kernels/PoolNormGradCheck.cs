using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

/// <summary>
/// Finite-difference checks for the padding, pooling and normalisation kernels: the analytic gradient of L = Σ y·r
/// (r random) from a backward kernel against double-precision central differences of L through the float32 forward.
/// </summary>
internal static class PoolNormGradCheck
{
    public static CpuBackend B => CpuBackend.Instance;

    public static Storage S(float[] data) => new CpuStorage(data);

    public static float[] Random(int n, int seed, float low = -1f, float high = 1f)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = low + (high - low) * rng.NextSingle();
        return v;
    }

    /// <summary>Values spread at least <paramref name="gap"/> apart in shuffled order, so a small nudge never changes an argmax.</summary>
    public static float[] Distinct(int n, int seed, float gap = 0.1f)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i - n / 2) * gap;
        new Random(seed).Shuffle(v);
        return v;
    }

    /// <summary>
    /// Asserts backward(r) ≈ ∂(Σ forward(x)·r)/∂x by central differences with step eps, and that the gradient is not all zero.
    /// <paramref name="forward"/> must not keep <paramref name="x"/>, which is nudged in place and restored.
    /// </summary>
    public static void Check(float[] x, Func<float[], float[]> forward, Func<float[], float[]> backward, int seed = 7,
        float eps = 1e-2f, double atol = 2e-4, double rtol = 1e-3)
    {
        var y = forward(x);
        var r = Random(y.Length, seed);
        var analytic = backward(r);
        Assert.Equal(x.Length, analytic.Length);
        var numeric = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            float keep = x[i];
            x[i] = keep + eps;
            double plus = Dot(forward(x), r);
            x[i] = keep - eps;
            double minus = Dot(forward(x), r);
            x[i] = keep;
            // The nudge as actually represented in float, not the nominal eps.
            numeric[i] = (plus - minus) / ((double)(keep + eps) - (keep - eps));
        }
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(analytic[i] - numeric[i]) <= atol + rtol * Math.Abs(numeric[i]),
                $"gradient [{i}]: analytic {analytic[i]} vs numeric {numeric[i]}");
        Assert.Contains(analytic, v => Math.Abs(v) > 1e-4);
        Assert.Contains(numeric, v => Math.Abs(v) > 1e-4);
    }

    public static void Close(float[] expected, float[] actual, float tolerance = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1f, Math.Abs(expected[i])),
                $"[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    private static double Dot(float[] y, float[] r)
    {
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += (double)y[i] * r[i];
        return sum;
    }
}
