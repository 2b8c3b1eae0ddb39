using static Fovea.Tests.Kernels.PoolNormGradCheck;

namespace Fovea.Tests.Kernels;

public class LrnTests
{
    private static (float[] Y, float[] Scale) Lrn(float[] x, int n, int c, int s, int size, float alpha, float beta, float k)
    {
        float[] y = new float[x.Length], scale = new float[x.Length];
        B.LocalResponseNorm(S(x), n, c, s, size, alpha, beta, k, S(y), S(scale));
        return (y, scale);
    }

    private static float[] LrnBackward(float[] x, float[] dy, int n, int c, int s, int size, float alpha, float beta, float k)
    {
        var (y, scale) = Lrn(x, n, c, s, size, alpha, beta, k);
        var dx = Enumerable.Repeat(99f, x.Length).ToArray();
        B.LocalResponseNormBackward(S(x), S(y), S(scale), S(dy), n, c, s, size, alpha, beta, S(dx));
        return dx;
    }

    // torch.nn.LocalResponseNorm(size, alpha=0.5, beta=0.75, k=2.)(torch.arange(10.).reshape(1, 5, 2, 1)).flatten()
    [Theory]
    [InlineData(4, new[] { 0f, 0.4131307005882263f, 0.6473223567008972f, 0.7477580308914185f, 0.7698003649711609f,
        0.7521206140518188f, 0.7166623473167419f, 0.6775808930397034f, 0.9771854877471924f, 0.9053425788879395f })]
    [InlineData(3, new[] { 0f, 0.37739524245262146f, 0.5698767900466919f, 0.6407096982002258f, 0.6475774645805359f,
        0.6299277544021606f, 0.6044455766677856f, 0.577662467956543f, 0.8908199071884155f, 0.8387637734413147f })]
    public void MatchesPyTorchOnAHandfulOfChannels(int size, float[] expected) =>
        Close(expected, Lrn(Enumerable.Range(0, 10).Select(i => (float)i).ToArray(), 1, 5, 2, size, 0.5f, 0.75f, 2f).Y);

    [Fact]
    public void ScaleIsKPlusAlphaOverSizeTimesTheWindowSumOfSquares()
    {
        // size 4: channel c sums channels c−2 .. c+1.
        float[] x = [1f, 2, 3, 4, 5];
        var (_, scale) = Lrn(x, 1, 5, 1, 4, 0.5f, 0.75f, 2f);
        float[] sums = [1 + 4, 1 + 4 + 9, 1 + 4 + 9 + 16, 4 + 9 + 16 + 25, 9 + 16 + 25];
        Close(sums.Select(q => 2f + 0.5f / 4 * q).ToArray(), scale);
    }

    /// <summary>Forward and backward by their definitions, in double, cell by cell.</summary>
    private static (double[] Y, double[] Dx) Reference(float[] x, float[] dy, int n, int c, int s, int size, double alpha, double beta, double k)
    {
        double[] scale = new double[x.Length], y = new double[x.Length], dx = new double[x.Length];
        int Lo(int ch) => Math.Max(0, ch - size / 2);
        int Hi(int ch) => Math.Min(c - 1, ch + (size - 1) / 2);
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < s; i++)
                {
                    double sum = 0;
                    for (int j = Lo(ch); j <= Hi(ch); j++) sum += (double)x[(b * c + j) * s + i] * x[(b * c + j) * s + i];
                    int at = (b * c + ch) * s + i;
                    scale[at] = k + alpha / size * sum;
                    y[at] = x[at] * Math.Pow(scale[at], -beta);
                }
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < s; i++)
                {
                    int at = (b * c + ch) * s + i;
                    double cross = 0;
                    for (int o = 0; o < c; o++) // every channel whose window holds ch
                        if (Lo(o) <= ch && ch <= Hi(o))
                        {
                            int ao = (b * c + o) * s + i;
                            cross += dy[ao] * x[ao] * Math.Pow(scale[ao], -beta - 1);
                        }
                    dx[at] = dy[at] * Math.Pow(scale[at], -beta) - 2 * alpha * beta / size * x[at] * cross;
                }
        return (y, dx);
    }

    [Theory]
    [InlineData(5, 0.75f)]
    [InlineData(4, 0.6f)]
    public void LargeInputsMatchTheDefinitionInDouble(int size, float beta)
    {
        // Large enough that forward and backward split over threads.
        int n = 4, c = 16, s = 1024;
        var x = Random(n * c * s, 17, -3f, 3f);
        var dy = Random(n * c * s, 18);
        var (y, dx) = Reference(x, dy, n, c, s, size, 0.3, beta, 1.0);
        Close(y.Select(v => (float)v).ToArray(), Lrn(x, n, c, s, size, 0.3f, beta, 1f).Y, 1e-5f);
        Close(dx.Select(v => (float)v).ToArray(), LrnBackward(x, dy, n, c, s, size, 0.3f, beta, 1f), 1e-5f);
    }

    [Theory]
    [InlineData(0.75f)] // AlexNet's, through square roots
    [InlineData(0.6f)]
    public void PowerMatchesDoublePrecision(float beta)
    {
        var v = Random(1000, 16, 1f, 50f);
        var result = new float[v.Length];
        Fovea.Backends.Cpu.LocalResponseNorm.PowNegative(v, beta, result);
        Close(v.Select(q => (float)Math.Pow(q, -beta)).ToArray(), result, 1e-6f);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(4)]
    [InlineData(3)]
    [InlineData(1)]
    [InlineData(9)] // wider than the channels
    public void BackwardMatchesFiniteDifferences(int size)
    {
        // alpha is much larger than AlexNet's 1e-4 so that the cross-channel term is tested, not drowned.
        int n = 2, c = 6, s = 3;
        var x = Random(n * c * s, 15, -2f, 2f);
        Check(x, v => Lrn(v, n, c, s, size, 0.8f, 0.75f, 1.5f).Y, dy => LrnBackward(x, dy, n, c, s, size, 0.8f, 0.75f, 1.5f));
        Check(x, v => Lrn(v, n, c, s, size, 0.8f, 0.6f, 1.5f).Y, dy => LrnBackward(x, dy, n, c, s, size, 0.8f, 0.6f, 1.5f));
    }
}
