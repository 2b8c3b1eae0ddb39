using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

/// <summary>
/// The unfold held to its definition, cell by cell, over a buffer whose every cell starts as NaN; the fold (both its
/// paths) to the adjoint of that definition.
/// </summary>
// One test switches the row fold (a process-wide setting), so the class runs apart from the others.
[Collection(Support.SerialCollection.Name)]
public class Im2ColTests
{
    private static ConvGeometry G(int c, int h, int w, int kh, int kw, int stride = 1, int pad = 0, int dil = 1) =>
        ConvGeometry.Create(1, c, h, w, 2, kh, kw, stride, stride, pad, pad, dil, dil);

    public static TheoryData<string> Names() => [.. Cases.Keys];

    private static readonly Dictionary<string, ConvGeometry> Cases = new()
    {
        // Outputs as wide as the input at unit stride: each tap's band is the plane shifted, copied whole.
        ["3x3 pad 1 on 13x13"] = G(3, 13, 13, 3, 3, pad: 1),
        ["5x5 pad 2 on 9x11"] = G(2, 9, 11, 5, 5, pad: 2),
        ["3x3 dilation 2 pad 2"] = G(2, 10, 9, 3, 3, pad: 2, dil: 2),
        ["3 wide, padded 2 left and 0 right"] = G(2, 6, 7, 3, 3) with { PadTop = 1, PadBottom = 1, PadLeft = 2, PadRight = 0 },
        ["7x7 pad 3 on 3x3: taps that read only padding"] = G(2, 3, 3, 7, 7, pad: 3),
        ["1 wide"] = G(2, 5, 1, 3, 3, pad: 1),
        ["16 wide"] = G(2, 5, 16, 3, 3, pad: 1),
        // Other shapes, which unfold row by row or by phases.
        ["3x3 pad 0"] = G(2, 8, 9, 3, 3),
        ["5x5 on 14x14 (LeNet-5's second layer)"] = G(6, 14, 14, 5, 5),
        ["17 wide"] = G(2, 4, 17, 3, 3),
        ["5x5 pad 2 on 27x27 (AlexNet's second layer)"] = G(3, 27, 27, 5, 5, pad: 2),
        ["7x7 dilation 3 pad 4 on 40 wide"] = G(2, 12, 40, 7, 7, pad: 4, dil: 3),
        ["3x3 stride 2"] = G(2, 11, 12, 3, 3, stride: 2, pad: 1),
        ["11x11 stride 4"] = G(2, 39, 39, 11, 11, stride: 4, pad: 2),
    };

    /// <summary>The whole image and a band of middle rows.</summary>
    private static (int Row0, int Rows)[] Bands(ConvGeometry g) => [(0, g.OutHeight), (g.OutHeight / 3, Math.Max(1, g.OutHeight / 2))];

    /// <summary>
    /// The definition: every cell of the band's column matrix, with the input cell its tap reads at its output cell
    /// (−1 where that is padding).
    /// </summary>
    private static IEnumerable<(int At, int Input, (int C, int I, int J, int R, int Q) Where)> Cells(ConvGeometry g, int row0, int rows)
    {
        for (int c = 0; c < g.InChannels; c++)
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++)
                    for (int r = row0; r < row0 + rows; r++)
                        for (int q = 0; q < g.OutWidth; q++)
                        {
                            int y = r * g.StrideH + i * g.DilationH - g.PadTop, xq = q * g.StrideW + j * g.DilationW - g.PadLeft;
                            bool real = y >= 0 && y < g.InHeight && xq >= 0 && xq < g.InWidth;
                            int at = ((c * g.KernelHeight + i) * g.KernelWidth + j) * rows * g.OutWidth + (r - row0) * g.OutWidth + q;
                            yield return (at, real ? (c * g.InHeight + y) * g.InWidth + xq : -1, (c, i, j, r, q));
                        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void UnfoldWritesEveryCellAsItsDefinitionSays(string name)
    {
        var g = Cases[name];
        var x = ConvCases.Random(g.InputImageSize, 21);
        int k = g.InChannels * g.KernelHeight * g.KernelWidth;
        // Each band's kernel rows are unfolded in two calls, as threads share them.
        foreach (var (row0, rows) in Bands(g))
        {
            var col = new float[k * rows * g.OutWidth];
            Array.Fill(col, float.NaN);
            int split = g.InChannels * g.KernelHeight / 2;
            Im2Col.Unfold(g, x, col, row0, rows, 0, split);
            Im2Col.Unfold(g, x, col, row0, rows, split, g.InChannels * g.KernelHeight);
            foreach (var (at, input, where) in Cells(g, row0, rows))
            {
                float want = input >= 0 ? x[input] : 0f;
                if (want != col[at])
                    Assert.Fail($"{name}, rows {row0}+{rows}: tap ({where.C},{where.I},{where.J}) at output ({where.R},{where.Q}) is {col[at]}, expected {want}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void FoldAddsEachColumnCellIntoTheInputCellItWasReadFrom(string name)
    {
        var g = Cases[name];
        int k = g.InChannels * g.KernelHeight * g.KernelWidth;
        // Small integers: every sum is exact, whatever its order.
        var rng = new Random(31);
        var start = Enumerable.Range(0, g.InputImageSize).Select(_ => (float)rng.Next(-8, 9)).ToArray();
        foreach (var (row0, rows) in Bands(g))
        {
            var col = Enumerable.Range(0, k * rows * g.OutWidth).Select(_ => (float)rng.Next(-8, 9)).ToArray();
            var want = (float[])start.Clone();
            foreach (var (at, input, _) in Cells(g, row0, rows))
                if (input >= 0) want[input] += col[at];
            var reference = (float[])start.Clone();
            Im2Col.FoldAccumulateReference(g, col, reference, row0, rows);
            Assert.Equal(want, reference);
            bool saved = Im2Col.UseRowFold;
            try
            {
                foreach (bool byRows in new[] { saved, false }.Distinct())
                {
                    Im2Col.UseRowFold = byRows;
                    var dx = (float[])start.Clone();
                    Im2Col.FoldAccumulate(g, col, dx, row0, rows);
                    Assert.Equal(want, dx);
                }
            }
            finally
            {
                Im2Col.UseRowFold = saved;
            }
        }
    }
}
