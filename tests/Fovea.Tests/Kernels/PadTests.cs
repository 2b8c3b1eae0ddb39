using static Fovea.Tests.Kernels.PoolNormGradCheck;

namespace Fovea.Tests.Kernels;

public class PadTests
{
    private static float[] Pad(PadGeometry g, float[] x)
    {
        var y = new float[g.Planes * g.OutHeight * g.OutWidth];
        B.Pad2d(g, S(x), S(y));
        return y;
    }

    private static float[] PadBackward(PadGeometry g, float[] dy)
    {
        var dx = Enumerable.Repeat(99f, g.Planes * g.InHeight * g.InWidth).ToArray(); // overwritten, not added to
        B.Pad2dBackward(g, S(dy), S(dx));
        return dx;
    }

    // torch.nn.functional.pad(torch.tensor([[[1., 2, 3]]]), (2, 2), mode=m): PyTorch's documented results.
    [Theory]
    [InlineData(PadMode.Reflect, new[] { 3f, 2, 1, 2, 3, 2, 1 })]
    [InlineData(PadMode.Replicate, new[] { 1f, 1, 1, 2, 3, 3, 3 })]
    [InlineData(PadMode.Circular, new[] { 2f, 3, 1, 2, 3, 1, 2 })]
    [InlineData(PadMode.Zeros, new[] { 0f, 0, 1, 2, 3, 0, 0 })]
    public void PadsARowByTwo(PadMode mode, float[] expected) =>
        Assert.Equal(expected, Pad(new PadGeometry(1, 1, 3, 0, 0, 2, 2, mode), [1f, 2, 3]));

    [Fact]
    public void ConstantPaddingUsesTheValue() =>
        Assert.Equal(new[] { 5f, 1, 2, 3, 5, 5 }, Pad(new PadGeometry(1, 1, 3, 0, 0, 1, 2, PadMode.Zeros, 5f), [1f, 2, 3]));

    [Fact]
    public void ReflectsRowsAndColumns()
    {
        var y = Pad(new PadGeometry(1, 3, 3, 1, 1, 1, 1, PadMode.Reflect), [1f, 2, 3, 4, 5, 6, 7, 8, 9]);
        Assert.Equal(new[]
        {
            5f, 4, 5, 6, 5,
            2, 1, 2, 3, 2,
            5, 4, 5, 6, 5,
            8, 7, 8, 9, 8,
            5, 4, 5, 6, 5,
        }, y);
    }

    [Theory]
    [InlineData(PadMode.Reflect, new[] { 2f, 3, 2 })] // 3 2 1 2 3 2 1
    [InlineData(PadMode.Replicate, new[] { 3f, 1, 3 })]
    [InlineData(PadMode.Circular, new[] { 2f, 3, 2 })]
    [InlineData(PadMode.Zeros, new[] { 1f, 1, 1 })]
    public void BackwardCountsTheCopiesOfEachCell(PadMode mode, float[] expected) =>
        Assert.Equal(expected, PadBackward(new PadGeometry(1, 1, 3, 0, 0, 2, 2, mode), [1f, 1, 1, 1, 1, 1, 1]));

    [Theory]
    [InlineData(PadMode.Zeros)]
    [InlineData(PadMode.Reflect)]
    [InlineData(PadMode.Replicate)]
    [InlineData(PadMode.Circular)]
    public void BackwardMatchesFiniteDifferences(PadMode mode)
    {
        // Uneven pads on every side, two planes; reflect allows up to size−1, circular up to size.
        var g = new PadGeometry(2, 4, 5, 1, 3, 2, 0, mode, 0.5f);
        Check(Random(2 * 4 * 5, 1), x => Pad(g, x), dy => PadBackward(g, dy));
    }

    /// <summary>The source of padded index o by each mode's definition, independent of the kernel's map.</summary>
    private static int Source(PadMode mode, int o, int before, int size)
    {
        int i = o - before;
        if (i >= 0 && i < size) return i;
        return mode switch
        {
            PadMode.Reflect => i < 0 ? Math.Abs(i) : size - 1 - (i - (size - 1)),
            PadMode.Replicate => i < 0 ? 0 : size - 1,
            PadMode.Circular => i < 0 ? size + i : i - size,
            _ => -1,
        };
    }

    [Theory]
    [InlineData(PadMode.Zeros)]
    [InlineData(PadMode.Reflect)]
    [InlineData(PadMode.Replicate)]
    [InlineData(PadMode.Circular)]
    public void LargeInputsMatchTheDefinition(PadMode mode)
    {
        // Enough planes to split over threads.
        var g = new PadGeometry(64, 20, 30, 3, 2, 4, 5, mode, -7f);
        var x = Random(64 * 20 * 30, 21);
        var y = Pad(g, x);
        var expected = new float[y.Length];
        var dxExpected = new float[x.Length];
        for (int p = 0; p < g.Planes; p++)
            for (int r = 0; r < g.OutHeight; r++)
                for (int c = 0; c < g.OutWidth; c++)
                {
                    int sr = Source(mode, r, g.Top, g.InHeight), sc = Source(mode, c, g.Left, g.InWidth);
                    int at = (p * g.OutHeight + r) * g.OutWidth + c;
                    if (sr < 0 || sc < 0) { expected[at] = -7f; continue; }
                    expected[at] = x[(p * g.InHeight + sr) * g.InWidth + sc];
                    dxExpected[(p * g.InHeight + sr) * g.InWidth + sc] += y[at];
                }
        Assert.Equal(expected, y);
        Close(dxExpected, PadBackward(g, y));
    }

    [Fact]
    public void RejectsReflectPaddingAsLargeAsTheInput() =>
        Assert.Throws<ArgumentException>(() => Pad(new PadGeometry(1, 1, 3, 0, 0, 3, 0, PadMode.Reflect), [1f, 2, 3]));
}
