using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

/// <summary>
/// Winograd F(4x4, 3x3) against the plain reference, under every way it can cut up the work: one thread and
/// several, blocks running side by side or phases split within one block, many small blocks that cut rows of tiles
/// in two, and the scalar (de)interleave. The thread count and those switches are process-wide, so these run alone.
/// </summary>
[Collection(Support.SerialCollection.Name)]
public class ConvWinogradTests
{
    private static ConvGeometry G(int n, int c, int h, int w, int o, int top, int left, int bottom, int right) =>
        ConvGeometry.Create(n, c, h, w, o, 3, 3, padH: top, padW: left) with { PadBottom = bottom, PadRight = right };

    public static readonly Dictionary<string, ConvGeometry> Shapes = new()
    {
        // Many channels are where the transforms' rounding accumulates most.
        ["512 channels, batch 1"] = G(1, 512, 12, 12, 16, 1, 1, 1, 1),
        ["256 channels, 13x11, batch 2"] = G(2, 256, 13, 11, 24, 1, 1, 1, 1),
        ["asymmetric padding"] = G(3, 20, 23, 19, 40, 2, 0, 1, 3),
        ["output smaller than one tile"] = G(1, 3, 5, 5, 2, 0, 0, 0, 0),
        ["padding wider than the kernel"] = G(2, 5, 4, 7, 6, 3, 3, 3, 3),
        ["one input row"] = G(2, 3, 1, 9, 5, 1, 1, 1, 1),
        ["wide rows, 38 tiles each"] = G(1, 4, 6, 150, 3, 1, 1, 1, 1),
        ["odd channels, batch 5"] = G(5, 7, 9, 30, 17, 1, 1, 1, 1),
        ["200 tiles, batch 8"] = G(8, 16, 20, 20, 16, 1, 1, 1, 1),
    };

    public static TheoryData<string> Names() => [.. Shapes.Keys];

    /// <summary>
    /// max |y − y_ref| / max |y_ref| ≤ 1e-4 (inputs and weights U(−1, 1), a bias), whatever the threads, the blocks
    /// and the (de)interleave path.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void StaysWithinOneInTenThousandOfTheReference(string name)
    {
        var g = Shapes[name];
        var x = ConvCases.Random(g.Batch * g.InputImageSize, 21);
        var w = ConvCases.Random((int)g.WeightCount, 22);
        var b = ConvCases.Random(g.OutChannels, 23);
        var expected = new float[g.Batch * g.OutputImageSize];
        ConvReference.Forward(g, x, w, b, expected);
        float largest = expected.Max(Math.Abs);

        int savedThreads = CpuParallel.Threads, savedBudget = ConvWinograd.TileBudget;
        bool savedPermutes = ConvWinograd.UsePermutes;
        try
        {
            foreach (var (threads, permutes, budget) in new[] { (1, true, savedBudget), (2, true, savedBudget), (3, true, savedBudget), (2, false, savedBudget), (1, true, 1), (2, true, 1), (3, false, 1) })
            {
                CpuParallel.Threads = threads;
                ConvWinograd.UsePermutes = permutes && savedPermutes;
                ConvWinograd.TileBudget = budget; // 1: blocks of 16 tiles, so rows of tiles are cut between blocks
                var y = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
                ConvWinograd.Forward(g, x, w, b, y);
                double worst = 0;
                for (int i = 0; i < y.Length; i++) worst = Math.Max(worst, Math.Abs(y[i] - (double)expected[i]));
                Assert.True(worst <= 1e-4 * largest,
                    $"{name} ({threads} threads, permutes {ConvWinograd.UsePermutes}, budget {budget}): error {worst:g3} is {worst / largest:g3} of the largest output {largest:g3}");
            }
        }
        finally
        {
            CpuParallel.Threads = savedThreads;
            ConvWinograd.TileBudget = savedBudget;
            ConvWinograd.UsePermutes = savedPermutes;
        }
    }
}
