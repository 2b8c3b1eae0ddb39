using static Fovea.Tests.Kernels.PoolNormGradCheck;

namespace Fovea.Tests.Kernels;

public class SoftmaxTests
{
    private static float[] Softmax(bool log, float[] x, int outer, int dim, int inner)
    {
        var y = new float[x.Length];
        B.Softmax(log, S(x), outer, dim, inner, S(y));
        return y;
    }

    private static float[] SoftmaxBackward(bool log, float[] y, float[] dy, int outer, int dim, int inner)
    {
        var dx = Enumerable.Repeat(99f, y.Length).ToArray();
        B.SoftmaxBackward(log, S(y), S(dy), outer, dim, inner, S(dx));
        return dx;
    }

    /// <summary>The definition in double, line by line: the oracle for the SIMD kernels.</summary>
    private static float[] Reference(bool log, float[] x, int outer, int dim, int inner)
    {
        var y = new float[x.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int d = 0; d < dim; d++) max = Math.Max(max, x[(o * dim + d) * inner + i]);
                for (int d = 0; d < dim; d++) sum += Math.Exp(x[(o * dim + d) * inner + i] - max);
                for (int d = 0; d < dim; d++)
                {
                    double z = x[(o * dim + d) * inner + i] - max;
                    y[(o * dim + d) * inner + i] = (float)(log ? z - Math.Log(sum) : Math.Exp(z) / sum);
                }
            }
        return y;
    }

    [Fact]
    public void SoftmaxOfOneTwoThree()
    {
        Close([0.09003057f, 0.24472847f, 0.66524096f], Softmax(false, [1f, 2, 3], 1, 3, 1));
        Close([-2.40760596f, -1.40760596f, -0.40760596f], Softmax(true, [1f, 2, 3], 1, 3, 1));
    }

    [Fact]
    public void LargeInputsDoNotOverflow()
    {
        Close([0.09003057f, 0.24472847f, 0.66524096f], Softmax(false, [1001f, 1002, 1003], 1, 3, 1));
        Close([-2.40760596f, -1.40760596f, -0.40760596f], Softmax(true, [-1001f, -1000, -999], 1, 3, 1));
        // Along a strided axis too.
        Close([0.09003057f, 0.5f, 0.24472847f, 0.5f, 0.66524096f, 0], Softmax(false, [1001f, 80, 1002, 80, 1003, float.NegativeInfinity], 1, 3, 2));
    }

    [Theory]
    [InlineData(false, 3, 300, 1)] // rows longer than the kernel's exp buffer
    [InlineData(true, 3, 300, 1)]
    [InlineData(false, 2, 5, 7)]
    [InlineData(true, 2, 5, 7)]
    [InlineData(false, 1, 10, 200)]
    [InlineData(true, 1, 10, 200)]
    [InlineData(false, 100, 300, 1)] // large enough to split over threads
    [InlineData(true, 8, 16, 1000)]
    public void MatchesTheDefinitionInDouble(bool log, int outer, int dim, int inner)
    {
        var x = Random(outer * dim * inner, 4, -8f, 8f);
        Close(Reference(log, x, outer, dim, inner), Softmax(log, x, outer, dim, inner), 2e-5f);
    }

    [Fact]
    public void NaNSpoilsOnlyItsOwnLine()
    {
        var y = Softmax(false, [1f, float.NaN, 3, 1, 2, 3], 2, 3, 1);
        Assert.All(y[..3], v => Assert.True(float.IsNaN(v)));
        Close([0.09003057f, 0.24472847f, 0.66524096f], y[3..]);
    }

    [Theory]
    [InlineData(false, 3, 4, 1)]
    [InlineData(true, 3, 4, 1)]
    [InlineData(false, 2, 5, 3)]
    [InlineData(true, 2, 5, 3)]
    public void BackwardMatchesFiniteDifferences(bool log, int outer, int dim, int inner)
    {
        var x = Random(outer * dim * inner, 6, -2f, 2f);
        Check(x, v => Softmax(log, v, outer, dim, inner),
            dy => SoftmaxBackward(log, Softmax(log, x, outer, dim, inner), dy, outer, dim, inner));
    }
}
