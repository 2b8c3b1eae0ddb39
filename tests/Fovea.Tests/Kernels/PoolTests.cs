using Fovea.Backends.Cpu;
using static Fovea.Tests.Kernels.PoolNormGradCheck;

namespace Fovea.Tests.Kernels;

// One test switches the fast max loop (a process-wide setting), so the class runs apart from the others.
[Collection(Support.SerialCollection.Name)]
public class PoolTests
{
    // The backend's output, and the kernel's argmax (which the backend's backward finds again instead of keeping).
    private static (float[] Y, long[] Argmax) Pool(PoolGeometry g, PoolKind kind, float[] x)
    {
        var y = new float[g.Batch * g.Channels * g.OutHeight * g.OutWidth];
        B.Pool2d(g, kind, S(x), S(y));
        var argmax = new long[y.Length];
        Pool2d.Forward(g, kind, x, new float[y.Length], argmax);
        return (y, argmax);
    }

    private static float[] PoolBackward(PoolGeometry g, PoolKind kind, float[] x, float[] dy)
    {
        var dx = Enumerable.Repeat(99f, x.Length).ToArray(); // overwritten, not added to
        B.Pool2dBackward(g, kind, S(x), S(dy), S(dx));
        return dx;
    }

    private static float[] Arange(int n, float start = 0f) => Enumerable.Range(0, n).Select(i => start + i).ToArray();

    // x = [[1,3,3,2],[3,0,1,3],[5,5,nan,1],[0,5,2,2]]; max_pool2d(x, 2, 2, return_indices=True)
    [Fact]
    public void MaxPoolTakesTheFirstOfTiedMaximaAndPropagatesNaN()
    {
        var g = PoolGeometry.Create(1, 1, 4, 4, 2, 2, 2, 2);
        Assert.Equal(2, Pool2d.FastMaxKernel(g));
        var x = new[] { 1f, 3, 3, 2, 3, 0, 1, 3, 5, 5, float.NaN, 1, 0, 5, 2, 2 };
        var (y, argmax) = Pool(g, PoolKind.Max, x);
        Assert.Equal(new[] { 3f, 3, 5, float.NaN }, y);
        Assert.Equal(new long[] { 1, 2, 8, 10 }, argmax);
        var yRef = new float[4];
        var argRef = new long[4];
        Pool2d.ForwardReference(g, PoolKind.Max, x, yRef, argRef);
        Assert.Equal(y, yRef);
        Assert.Equal(argmax, argRef);
    }

    // Padding counts as −∞: max_pool2d(x, 3, 1, padding=1, return_indices=True) with the NaN replaced by 0.
    [Fact]
    public void PaddedMaxPoolRecordsFlatIndicesWithinThePlane()
    {
        var g = PoolGeometry.Create(1, 1, 4, 4, 3, 3, 1, 1, 1, 1);
        var (y, argmax) = Pool(g, PoolKind.Max, [1f, 3, 3, 2, 3, 0, 1, 3, 5, 5, 0, 1, 0, 5, 2, 2]);
        Assert.Equal(new[] { 3f, 3, 3, 3, 5, 5, 5, 3, 5, 5, 5, 3, 5, 5, 5, 2 }, y);
        Assert.Equal(new long[] { 1, 1, 1, 2, 8, 8, 9, 2, 8, 8, 9, 7, 8, 8, 9, 14 }, argmax);
    }

    [Fact]
    public void MaxPoolOfAllNegativeInfinityPointsAtTheFirstCell()
    {
        var g = PoolGeometry.Create(1, 1, 3, 3, 2, 2, 1, 1, 1, 1);
        var (y, argmax) = Pool(g, PoolKind.Max, Enumerable.Repeat(float.NegativeInfinity, 9).ToArray());
        Assert.All(y, v => Assert.Equal(float.NegativeInfinity, v));
        Assert.Equal(new long[] { 0, 0, 1, 2, 0, 0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8 }, argmax);
    }

    // avg_pool2d(arange(25).reshape(5, 5), 2, 2, ceil_mode=True): the last row and column of windows hang past the
    // input; with no padding their divisor is the clipped window whether or not padding is counted.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AveragePoolInCeilModeDividesByTheClippedWindow(bool countIncludePad)
    {
        var g = PoolGeometry.Create(1, 1, 5, 5, 2, 2, 2, 2, ceilMode: true, countIncludePad: countIncludePad);
        Assert.Equal(3, g.OutHeight);
        Assert.Equal(3, g.OutWidth);
        Close([3f, 5, 6.5f, 13, 15, 16.5f, 20.5f, 22.5f, 24], Pool(g, PoolKind.Average, Arange(25)).Y);
    }

    // avg_pool2d(arange(1, 26).reshape(5, 5), 2, 2, padding=1, ceil_mode=True, count_include_pad=...)
    [Theory]
    [InlineData(true, new[] { 0.25f, 1.25f, 2.25f, 4.25f, 10, 12, 9.25f, 20, 22 })]
    [InlineData(false, new[] { 1f, 2.5f, 4.5f, 8.5f, 10, 12, 18.5f, 20, 22 })]
    public void AveragePoolCountsPaddingOnlyWhenAsked(bool countIncludePad, float[] expected)
    {
        var g = PoolGeometry.Create(1, 1, 5, 5, 2, 2, 2, 2, 1, 1, ceilMode: true, countIncludePad: countIncludePad);
        Close(expected, Pool(g, PoolKind.Average, Arange(25, 1)).Y);
    }

    // avg_pool2d(arange(1, 37).reshape(6, 6), 3, 2, padding=1, ceil_mode=True, count_include_pad=...): the last
    // window covers padded rows 5..7 of a padded extent that ends at 7, so its divisor is 2 per side, not 3.
    [Theory]
    [InlineData(true, new[] { 2f, 4, 16f / 3, 3, 9, 15, 17, 9, 17, 27, 29, 15, 10.5f, 16.5f, 17.5f, 9 })]
    [InlineData(false, new[] { 4.5f, 6, 8, 9, 13.5f, 15, 17, 18, 25.5f, 27, 29, 30, 31.5f, 33, 35, 36 })]
    public void AveragePoolInCeilModeClipsTheDivisorToThePaddedInput(bool countIncludePad, float[] expected)
    {
        var g = PoolGeometry.Create(1, 1, 6, 6, 3, 3, 2, 2, 1, 1, ceilMode: true, countIncludePad: countIncludePad);
        Close(expected, Pool(g, PoolKind.Average, Arange(36, 1)).Y);
    }

    [Fact]
    public void SumPoolAddsTheRealCellsOfEachWindow()
    {
        var g = PoolGeometry.Create(1, 1, 5, 5, 2, 2, 2, 2, ceilMode: true);
        Close([12f, 20, 13, 52, 60, 33, 41, 45, 24], Pool(g, PoolKind.Sum, Arange(25)).Y);
    }

    [Fact]
    public void MaxPoolBackwardAccumulatesOverOverlappingWindows()
    {
        // The centre is the maximum of all four 2x2 windows.
        var g = PoolGeometry.Create(1, 1, 3, 3, 2, 2, 1, 1);
        var dx = PoolBackward(g, PoolKind.Max, [0f, 1, 0, 2, 9, 3, 0, 4, 0], [1f, 2, 3, 4]);
        Assert.Equal(new[] { 0f, 0, 0, 0, 10, 0, 0, 0, 0 }, dx);
    }

    [Theory]
    [InlineData(2, 8, 10)]
    [InlineData(2, 56, 56)]
    [InlineData(2, 28, 28)]
    [InlineData(2, 9, 37)]
    [InlineData(2, 10, 10)]
    [InlineData(2, 7, 13)]
    [InlineData(3, 13, 11)]
    [InlineData(3, 55, 55)]
    [InlineData(3, 27, 27)]
    [InlineData(3, 13, 13)]
    [InlineData(3, 9, 21)]
    public void FastMaxPoolsMatchTheReferenceLoop(int k, int h, int w)
    {
        var g = PoolGeometry.Create(3, 5, h, w, k, k, 2, 2);
        Assert.Equal(k, Pool2d.FastMaxKernel(g));
        // Few distinct values make many ties; a few NaNs and −∞ test the update rule.
        var x = Random(3 * 5 * h * w, 3).Select(v => MathF.Round(v * 3)).ToArray();
        for (int i = 0; i < x.Length; i += 97) x[i] = i % 2 == 0 ? float.NaN : float.NegativeInfinity;
        int outLength = 3 * 5 * g.OutHeight * g.OutWidth;
        float[] y = new float[outLength], yRef = new float[outLength];
        long[] argmax = new long[outLength], argRef = new long[outLength];
        Pool2d.ForwardReference(g, PoolKind.Max, x, yRef, argRef);
        // Both fast loops: the AVX2 one where the machine has it, and the portable one it otherwise falls back to.
        bool saved = Pool2d.UseWide;
        try
        {
            foreach (bool wide in new[] { saved, false }.Distinct())
            {
                Pool2d.UseWide = wide;
                Pool2d.Forward(g, PoolKind.Max, x, y, argmax);
                Assert.Equal(yRef, y);
                Assert.Equal(argRef, argmax);
                // Without an argmax buffer (inference) the values are the same.
                var yNoArg = new float[outLength];
                Pool2d.Forward(g, PoolKind.Max, x, yNoArg, null);
                Assert.Equal(yRef, yNoArg);
            }
        }
        finally
        {
            Pool2d.UseWide = saved;
        }
    }

    [Theory]
    [InlineData(3, 3, 2, 2, 55, 55)] // AlexNet's pools
    [InlineData(3, 3, 2, 2, 27, 27)]
    [InlineData(3, 3, 2, 2, 13, 13)]
    [InlineData(2, 3, 2, 2, 9, 33)]
    [InlineData(5, 4, 2, 2, 12, 40)]
    [InlineData(3, 2, 1, 1, 7, 17)]
    [InlineData(2, 5, 1, 2, 6, 16)]
    [InlineData(4, 3, 2, 1, 11, 31)]
    [InlineData(1, 1, 1, 1, 3, 5)]
    [InlineData(3, 3, 2, 2, 70, 3)]
    public void SeparableMaxPoolMatchesTheReferenceLoop(int kh, int kw, int sh, int sw, int h, int w)
    {
        var g = PoolGeometry.Create(2, 3, h, w, kh, kw, sh, sw);
        var x = Random(2 * 3 * h * w, 5).Select(v => MathF.Round(v * 3)).ToArray();
        for (int i = 0; i < x.Length / 2; i += 89) x[i] = i % 2 == 0 ? float.NaN : float.NegativeInfinity;
        // The last plane's last cell is a window's maximum: the masked end of the last row is read.
        x[^1] = 100f;
        int outLength = 2 * 3 * g.OutHeight * g.OutWidth;
        float[] y = new float[outLength], yRef = new float[outLength];
        Pool2d.ForwardReference(g, PoolKind.Max, x, yRef, null);
        bool saved = Pool2d.UseSeparable;
        try
        {
            foreach (bool separable in new[] { saved, false }.Distinct())
            {
                Pool2d.UseSeparable = separable;
                Assert.Equal(separable, Pool2d.Separates(g));
                Array.Fill(y, 7f);
                Pool2d.Forward(g, PoolKind.Max, x, y, null);
                Assert.Equal(yRef, y);
            }
        }
        finally
        {
            Pool2d.UseSeparable = saved;
        }
        if (g.OutWidth * sw + kw - sw == w && g.OutHeight * sh + kh - sh == h) Assert.Equal(100f, yRef[^1]);
    }

    [Fact]
    public void SeparableMaxPoolLeavesPaddedDilatedAndCeilModePoolsToTheOthers()
    {
        Assert.False(Pool2d.Separates(PoolGeometry.Create(1, 1, 9, 9, 3, 3, 2, 2, 1, 1)));
        Assert.False(Pool2d.Separates(PoolGeometry.Create(1, 1, 9, 9, 3, 3, 2, 2, dilationH: 2, dilationW: 2)));
        Assert.False(Pool2d.Separates(PoolGeometry.Create(1, 1, 6, 6, 3, 3, 2, 2, ceilMode: true)));
        Assert.False(Pool2d.Separates(PoolGeometry.Create(1, 1, 9, 9, 3, 3, 3, 3)));
        Assert.False(Pool2d.Separates(PoolGeometry.Create(1, 1, 9, 9, 2, 2, 2, 2)));
    }

    [Fact]
    public void CeilModeWindowsPastTheEdgeLeaveTheFastPath() =>
        Assert.Equal(0, Pool2d.FastMaxKernel(PoolGeometry.Create(1, 1, 6, 6, 3, 3, 2, 2, ceilMode: true)));

    public static TheoryData<PoolKind, PoolGeometry> GradientCases => new()
    {
        { PoolKind.Max, PoolGeometry.Create(2, 3, 6, 8, 2, 2, 2, 2) },                       // fast 2x2/2
        { PoolKind.Max, PoolGeometry.Create(2, 2, 7, 9, 3, 3, 2, 2) },                       // fast 3x3/2, overlapping
        { PoolKind.Max, PoolGeometry.Create(1, 2, 6, 7, 3, 3, 2, 2, 1, 1, ceilMode: true) }, // padding, ceil mode
        { PoolKind.Max, PoolGeometry.Create(1, 2, 7, 7, 2, 3, 1, 2, 1, 1, dilationH: 2, dilationW: 2) },
        { PoolKind.Average, PoolGeometry.Create(1, 2, 6, 6, 3, 3, 2, 2, 1, 1, ceilMode: true, countIncludePad: true) },
        { PoolKind.Average, PoolGeometry.Create(1, 2, 6, 6, 3, 3, 2, 2, 1, 1, ceilMode: true, countIncludePad: false) },
        { PoolKind.Average, PoolGeometry.Create(2, 1, 5, 5, 2, 2, 2, 2, ceilMode: true) },
        { PoolKind.Average, PoolGeometry.Create(1, 2, 7, 6, 3, 2, 2, 1, 1, 1, countIncludePad: false) },
        { PoolKind.Sum, PoolGeometry.Create(1, 2, 7, 7, 3, 3, 2, 2, 1, 1) },
        { PoolKind.Sum, PoolGeometry.Create(1, 1, 5, 6, 2, 2, 2, 2, ceilMode: true) },
    };

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void BackwardMatchesFiniteDifferences(PoolKind kind, PoolGeometry g)
    {
        int n = g.Batch * g.Channels * g.InHeight * g.InWidth;
        // Max pooling gets values 0.1 apart so a nudge of 0.01 never moves an argmax.
        var x = kind == PoolKind.Max ? Distinct(n, 11) : Random(n, 11);
        Check(x, v => Pool(g, kind, v).Y, dy => PoolBackward(g, kind, x, dy));
    }

    // The backward finds each window's maximum again (fast loops where they apply); it must route dy exactly as the
    // reference forward's argmax says, ties, NaN, padding, dilation, empty windows and ceil mode included.
    public static TheoryData<int[]> Windows() => new()
    {
        new[] { 2, 2, 2, 2, 0, 0, 1, 0 }, new[] { 3, 3, 2, 2, 0, 0, 1, 0 }, new[] { 3, 3, 2, 2, 1, 1, 1, 1 },
        new[] { 2, 3, 1, 2, 1, 0, 2, 0 }, new[] { 2, 2, 1, 1, 1, 1, 3, 1 },
    };

    [Theory]
    [MemberData(nameof(Windows))]
    public void MaxPoolBackwardRoutesToTheForwardsArgmax(int[] w)
    {
        var g = PoolGeometry.Create(2, 3, 9, 11, w[0], w[1], w[2], w[3], w[4], w[5], ceilMode: w[7] == 1, dilationH: w[6], dilationW: w[6]);
        var rng = new Random(12);
        // Few distinct values, so most windows hold ties; a few NaN.
        var x = Enumerable.Range(0, 2 * 3 * 9 * 11).Select(_ => rng.Next(50) == 0 ? float.NaN : rng.Next(4)).ToArray();
        var dy = Enumerable.Range(0, g.Batch * g.Channels * g.OutHeight * g.OutWidth).Select(_ => (float)rng.NextDouble()).ToArray();
        var argmax = new long[dy.Length];
        Pool2d.ForwardReference(g, PoolKind.Max, x, new float[dy.Length], argmax);
        var expected = new float[x.Length];
        int inPlane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth;
        for (int o = 0; o < dy.Length; o++)
            if (argmax[o] >= 0) expected[o / outPlane * inPlane + (int)argmax[o]] += dy[o];
        Assert.Equal(expected, PoolBackward(g, PoolKind.Max, x, dy));
    }

    // 2x2 pools that tile their planes run over row pairs across the whole batch (Pool2d.Pairs.cs): rows of four to
    // seven outputs in four lanes, eight or more in eight, with a last group overlapping the one before where the
    // lanes do not divide the row.
    [Theory]
    [InlineData(4, 8)]
    [InlineData(10, 10)]
    [InlineData(6, 14)]
    [InlineData(8, 16)]
    [InlineData(28, 28)]
    [InlineData(4, 34)]
    [InlineData(2, 48)]
    public void RowPairLoopsMatchTheReference(int h, int w)
    {
        var g = PoolGeometry.Create(3, 5, h, w, 2, 2, 2, 2);
        var rng = new Random(h * 100 + w);
        // Few distinct values, so most windows hold ties; a few NaN and −∞.
        var x = Enumerable.Range(0, 3 * 5 * h * w)
            .Select(_ => rng.Next(40) switch { 0 => float.NaN, 1 => float.NegativeInfinity, _ => rng.Next(4) }).ToArray();
        // Negative gradients too: written over x, a positive one would still win its window if read again.
        var dy = Enumerable.Range(0, 3 * 5 * g.OutHeight * g.OutWidth).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var yRef = new float[dy.Length];
        var argmax = new long[dy.Length];
        Pool2d.ForwardReference(g, PoolKind.Max, x, yRef, argmax);
        var expected = new float[x.Length];
        int inPlane = h * w, outPlane = g.OutHeight * g.OutWidth;
        for (int o = 0; o < dy.Length; o++) expected[o / outPlane * inPlane + (int)argmax[o]] += dy[o];

        bool saved = Pool2d.UseWide;
        try
        {
            foreach (bool wide in new[] { saved, false }.Distinct())
            {
                Pool2d.UseWide = wide;
                Assert.Equal(wide, Pool2d.TilesInRowPairs(g));
                var y = new float[dy.Length];
                Pool2d.Forward(g, PoolKind.Max, x, y, null);
                Assert.Equal(yRef, y);
                Assert.Equal(expected, PoolBackward(g, PoolKind.Max, x, dy));
                var buffer = (float[])x.Clone();
                B.Pool2dBackward(g, PoolKind.Max, S(buffer), S(dy), S(buffer));
                Assert.Equal(expected, buffer);
            }
        }
        finally
        {
            Pool2d.UseWide = saved;
        }
    }

    // The autograd engine may give the backward x's own buffer for dx (Engine.TryAdopt): every plane's maxima must be
    // found before that plane is overwritten, for overlapping windows too.
    [Theory]
    [MemberData(nameof(Windows))]
    public void BackwardMayWriteOverTheInput(int[] w)
    {
        var g = PoolGeometry.Create(2, 3, 9, 11, w[0], w[1], w[2], w[3], w[4], w[5], ceilMode: w[7] == 1, dilationH: w[6], dilationW: w[6]);
        var rng = new Random(13);
        var x = Enumerable.Range(0, 2 * 3 * 9 * 11).Select(_ => (float)rng.Next(6)).ToArray();
        var dy = Enumerable.Range(0, g.Batch * g.Channels * g.OutHeight * g.OutWidth).Select(_ => (float)rng.NextDouble()).ToArray();
        foreach (var kind in new[] { PoolKind.Max, PoolKind.Average, PoolKind.Sum })
        {
            var expected = PoolBackward(g, kind, x, dy);
            var buffer = (float[])x.Clone();
            B.Pool2dBackward(g, kind, S(buffer), S(dy), S(buffer));
            Assert.Equal(expected, buffer);
        }
    }
}
