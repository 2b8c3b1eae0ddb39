using static Fovea.Tests.Kernels.PoolNormGradCheck;

namespace Fovea.Tests.Kernels;

public class PoolAdaptiveTests
{
    private static float[] Pool(int planes, int inH, int inW, int outH, int outW, float[] x)
    {
        var y = new float[planes * outH * outW];
        B.AdaptiveAvgPool2d(planes, inH, inW, outH, outW, S(x), S(y));
        return y;
    }

    private static float[] PoolBackward(int planes, int inH, int inW, int outH, int outW, float[] dy)
    {
        var dx = Enumerable.Repeat(99f, planes * inH * inW).ToArray();
        B.AdaptiveAvgPool2dBackward(planes, inH, inW, outH, outW, S(dy), S(dx));
        return dx;
    }

    // adaptive_avg_pool2d(arange(7).reshape(1, 7), (1, 3)): windows [0,3), [2,5), [4,7).
    [Fact]
    public void SevenToThreeUsesOverlappingWindows()
    {
        Close([1f, 3, 5], Pool(1, 1, 7, 1, 3, [0f, 1, 2, 3, 4, 5, 6]));
        Close([1f / 3, 1f / 3, 2f / 3, 1f / 3, 2f / 3, 1f / 3, 1f / 3], PoolBackward(1, 1, 7, 1, 3, [1f, 1, 1]));
    }

    // Windows [0,3) and [2,5) in both directions.
    [Fact]
    public void FiveToTwoAveragesThreeByThreeWindows() =>
        Close([6f, 8, 16, 18], Pool(1, 5, 5, 2, 2, Enumerable.Range(0, 25).Select(i => (float)i).ToArray()));

    [Fact]
    public void EqualSizesCopy()
    {
        var x = Random(12, 2);
        Close(x, Pool(2, 2, 3, 2, 3, x));
        Close(x, PoolBackward(2, 2, 3, 2, 3, x));
    }

    [Theory]
    [InlineData(7, 5, 3, 2)]
    [InlineData(5, 7, 2, 3)]
    [InlineData(6, 6, 4, 1)]
    public void BackwardMatchesFiniteDifferences(int inH, int inW, int outH, int outW) =>
        Check(Random(2 * inH * inW, 5), x => Pool(2, inH, inW, outH, outW, x), dy => PoolBackward(2, inH, inW, outH, outW, dy));
}
