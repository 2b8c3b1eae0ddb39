using static Fovea.Tests.Kernels.PoolNormGradCheck;

namespace Fovea.Tests.Kernels;

public class BatchNormTests
{
    private const float Eps = 1e-5f;

    private static (float[] Mean, float[] Variance) Statistics(float[] x, int n, int c, int s)
    {
        float[] mean = new float[c], variance = new float[c];
        B.BatchNormStatistics(S(x), n, c, s, S(mean), S(variance));
        return (mean, variance);
    }

    private static float[] InvStd(float[] variance) => variance.Select(v => 1f / MathF.Sqrt(v + Eps)).ToArray();

    /// <summary>Training-mode batch norm: batch statistics, then the affine apply.</summary>
    private static float[] Train(float[] x, int n, int c, int s, float[]? gamma, float[]? beta)
    {
        var (mean, variance) = Statistics(x, n, c, s);
        var y = new float[x.Length];
        B.BatchNormApply(S(x), n, c, s, S(mean), S(InvStd(variance)), gamma is null ? null : S(gamma), beta is null ? null : S(beta), S(y));
        return y;
    }

    private static (float[] Dx, float[] Dgamma, float[] Dbeta) Backward(float[] x, float[] dy, int n, int c, int s, float[]? gamma)
    {
        var (mean, variance) = Statistics(x, n, c, s);
        float[] dx = Enumerable.Repeat(99f, x.Length).ToArray(), dgamma = new float[c], dbeta = new float[c];
        B.BatchNormBackward(S(x), S(dy), n, c, s, S(mean), S(InvStd(variance)), gamma is null ? null : S(gamma), S(dx), S(dgamma), S(dbeta));
        return (dx, dgamma, dbeta);
    }

    [Fact]
    public void StatisticsAreMeanAndBiasedVariancePerChannel()
    {
        // x [N=2, C=2, S=2]: channel 0 holds 1 2 5 6, channel 1 holds 3 4 7 8.
        var (mean, variance) = Statistics([1f, 2, 3, 4, 5, 6, 7, 8], 2, 2, 2);
        Assert.Equal(new[] { 3.5f, 5.5f }, mean);
        Assert.Equal(new[] { 4.25f, 4.25f }, variance);
    }

    [Fact]
    public void StatisticsStayAccurateFarFromZero()
    {
        // A large offset with a small spread: E[x²] − mean² in float would lose the variance entirely.
        int n = 3, c = 2, s = 20001; // large enough to split channels over threads
        var x = Random(n * c * s, 8).Select(v => 10000f + v).ToArray();
        var (mean, variance) = Statistics(x, n, c, s);
        for (int ch = 0; ch < c; ch++)
        {
            var values = Enumerable.Range(0, n).SelectMany(b => x.Skip((b * c + ch) * s).Take(s)).Select(v => (double)v).ToArray();
            double mu = values.Average(), var = values.Select(v => (v - mu) * (v - mu)).Average();
            Assert.Equal(mu, mean[ch], 1e-3);
            Assert.Equal(var, variance[ch], 1e-4);
        }
    }

    [Fact]
    public void ApplyNormalisesAndScales()
    {
        float[] x = [1f, 2, 3, 4, 5, 6, 7, 8];
        var (mean, variance) = Statistics(x, 2, 2, 2);
        var y = new float[8];
        B.BatchNormApply(S(x), 2, 2, 2, S(mean), S([0.5f, 0.25f]), S([2f, 4]), S([1f, -1]), S(y));
        Close([-1.5f, -0.5f, -3.5f, -2.5f, 2.5f, 3.5f, 0.5f, 1.5f], y);
        // Without gamma and beta: (x − mean) · invStd.
        B.BatchNormApply(S(x), 2, 2, 2, S(mean), S([0.5f, 0.25f]), null, null, S(y));
        Close([-1.25f, -0.75f, -0.625f, -0.375f, 0.75f, 1.25f, 0.375f, 0.625f], y);
    }

    [Fact]
    public void TrainingOutputHasZeroMeanAndUnitVariance()
    {
        var y = Train(Random(4 * 3 * 10, 9, -3f, 5f), 4, 3, 10, null, null);
        var (mean, variance) = Statistics(y, 4, 3, 10);
        Assert.All(mean, m => Assert.Equal(0f, m, 1e-5f));
        Assert.All(variance, v => Assert.Equal(1f, v, 1e-3f));
    }

    [Fact]
    public void BackwardMatchesFiniteDifferencesForX()
    {
        int n = 3, c = 2, s = 5;
        var gamma = new[] { 1.5f, -0.7f };
        var beta = new[] { 0.3f, 0.1f };
        var x = Random(n * c * s, 10, -2f, 2f);
        Check(x, v => Train(v, n, c, s, gamma, beta), dy => Backward(x, dy, n, c, s, gamma).Dx);
        // gamma = null means 1.
        Check(x, v => Train(v, n, c, s, null, null), dy => Backward(x, dy, n, c, s, null).Dx);
    }

    [Fact]
    public void BackwardMatchesFiniteDifferencesForGammaAndBeta()
    {
        int n = 2, c = 3, s = 4;
        var x = Random(n * c * s, 12, -2f, 2f);
        var gamma = new[] { 1.5f, -0.7f, 0.4f };
        var beta = new[] { 0.3f, 0.1f, -0.2f };
        Check(gamma, g => Train(x, n, c, s, g, beta), dy => Backward(x, dy, n, c, s, gamma).Dgamma);
        Check(beta, b => Train(x, n, c, s, gamma, b), dy => Backward(x, dy, n, c, s, gamma).Dbeta);
    }

    [Fact]
    public void GradientOfEachChannelSumsToZero()
    {
        // The mean is subtracted, so a constant shift of a channel changes nothing.
        int n = 2, c = 2, s = 17;
        var (dx, _, _) = Backward(Random(n * c * s, 13), Random(n * c * s, 14), n, c, s, [0.8f, 1.2f]);
        for (int ch = 0; ch < c; ch++)
            Assert.Equal(0.0, Enumerable.Range(0, n).Sum(b => dx.Skip((b * c + ch) * s).Take(s).Sum(v => (double)v)), 1e-4);
    }
}
