using Fovea.Backends.Cpu;
using Fovea.NN;
using static Fovea.Tests.Support.Threads;

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
        ["384 channels, 14x14, batch 3: 48 tiles"] = G(3, 384, 14, 14, 40, 1, 1, 1, 1),
        // Rows of 4 and of 8 tiles, which a vector of 16 takes several at a time, across images; enough tiles that the
        // blocks run side by side on 3 threads; a last vector of three rows, or of one.
        ["13x13, rows of 4 tiles, batch 13"] = G(13, 20, 13, 13, 24, 1, 1, 1, 1),
        ["10x15, rows of 4 tiles, 204 tiles"] = G(17, 9, 10, 15, 10, 1, 0, 1, 2),
        ["9x30, rows of 8 tiles, 216 tiles"] = G(9, 6, 9, 30, 8, 1, 1, 1, 1),
    };

    public static TheoryData<string> Names() => [.. Shapes.Keys];

    /// <summary>
    /// max |y − y_ref| / max |y_ref| ≤ 1e-4 (inputs and weights U(−1, 1), a bias), whatever the threads, the blocks
    /// and the (de)interleave path; with the ReLU that the output transform applies, against max(y_ref, 0); and with
    /// its filters kept, which from 48 tiles to 64 a thread runs by filters from 32-filter slivers (filter counts here
    /// not multiples of 32, tile counts not multiples of 8).
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
        EverySplit(what =>
        {
            var y = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
            ConvWinograd.Forward(g, x, w, b, y);
            AssertWithin(expected, y, $"{name} ({what}): output");
            var clamped = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
            ConvWinograd.Forward(g, x, w, b, clamped, relu: true);
            AssertWithin([.. expected.Select(v => Math.Max(v, 0f))], clamped, $"{name} ({what}): output with its ReLU");
            Assert.DoesNotContain(clamped, v => v < 0);
            var kept = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
            ConvWinograd.Forward(g, x, w, b, kept, keepFilters: true);
            AssertWithin(expected, kept, $"{name} ({what}): output from kept filters");
        });
    }

    /// <summary>
    /// The filter gradient, Gᵀ[Σ (A dy Aᵀ) ⊙ (Bᵀ x B)]G, within 1e-4 of the largest reference gradient under the
    /// same switches: its sums over every tile of the batch are split between blocks and threads, and a tile's dy
    /// past the output's edge must count as zero.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void FilterGradientStaysWithinOneInTenThousandOfTheReference(string name)
    {
        var g = Shapes[name];
        var x = ConvCases.Random(g.Batch * g.InputImageSize, 24);
        var dy = ConvCases.Random(g.Batch * g.OutputImageSize, 25);
        var expectedW = new float[g.WeightCount];
        var expectedB = new float[g.OutChannels];
        ConvReference.BackwardFilter(g, x, dy, expectedW, expectedB);
        EverySplit(what =>
        {
            var dw = Enumerable.Repeat(float.NaN, expectedW.Length).ToArray();
            var db = Enumerable.Repeat(float.NaN, expectedB.Length).ToArray();
            ConvWinograd.BackwardFilter(g, x, dy, dw, db);
            AssertWithin(expectedW, dw, $"{name} ({what}): filter gradient");
            AssertWithin(expectedB, db, $"{name} ({what}): bias gradient");
        });
    }

    private static ConvGeometry G5(int n, int c, int h, int w, int o, int top, int left, int bottom, int right) =>
        G(n, c, h, w, o, top, left, bottom, right) with { KernelHeight = 5, KernelWidth = 5 };

    public static readonly Dictionary<string, ConvGeometry> FiveByFive = new()
    {
        ["AlexNet's second layer, smaller: 27x27 pad 2"] = G5(2, 16, 27, 27, 24, 2, 2, 2, 2),
        ["64 channels, 13x11, batch 3"] = G5(3, 64, 13, 11, 40, 2, 2, 2, 2),
        ["asymmetric padding"] = G5(2, 7, 12, 17, 9, 0, 3, 1, 4),
        ["unpadded, one output"] = G5(1, 5, 5, 5, 3, 0, 0, 0, 0),
        ["padding wider than the kernel"] = G5(1, 4, 3, 6, 5, 5, 5, 5, 5),
        ["rows of 4 tiles, 208 tiles"] = G5(13, 6, 13, 13, 8, 2, 2, 2, 2),
    };

    public static TheoryData<string> FiveByFiveNames() => [.. FiveByFive.Keys];

    /// <summary>
    /// A 5x5 kernel as four 3x3 parts over the shifted input: within 1e-4 of the reference under every split, with
    /// its ReLU and with its filters kept, and its data gradient (a 5x5 forward over dy) too. Its filter gradient is
    /// refused: that one is F(4x4, 3x3)'s alone.
    /// </summary>
    [Theory]
    [MemberData(nameof(FiveByFiveNames))]
    public void FiveByFiveKernelsAsFourPartsStayWithinOneInTenThousand(string name)
    {
        var g = FiveByFive[name];
        var x = ConvCases.Random(g.Batch * g.InputImageSize, 41);
        var w = ConvCases.Random((int)g.WeightCount, 42);
        var b = ConvCases.Random(g.OutChannels, 43);
        var dy = ConvCases.Random(g.Batch * g.OutputImageSize, 44);
        var expected = new float[g.Batch * g.OutputImageSize];
        ConvReference.Forward(g, x, w, b, expected);
        var expectedDx = new float[x.Length];
        ConvReference.BackwardData(g, dy, w, expectedDx);
        EverySplit(what =>
        {
            var y = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
            ConvWinograd.Forward(g, x, w, b, y);
            AssertWithin(expected, y, $"{name} ({what}): output");
            var kept = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
            ConvWinograd.Forward(g, x, w, b, kept, keepFilters: true, relu: true);
            AssertWithin([.. expected.Select(v => Math.Max(v, 0f))], kept, $"{name} ({what}): kept filters, with the ReLU");
            if (ConvDataGradient.TryAsForward(g, out _))
            {
                var dx = Enumerable.Repeat(float.NaN, x.Length).ToArray();
                ConvWinograd.BackwardData(g, dy, w, dx);
                AssertWithin(expectedDx, dx, $"{name} ({what}): data gradient");
            }
        });
        Assert.False(ConvWinograd.TakesFilterGradient(g));
        var e = Assert.Throws<ArgumentException>(() => ConvWinograd.BackwardFilter(g, x, dy, new float[w.Length], null));
        Assert.Contains("3x3", e.Message);
    }

    /// <summary>
    /// VGG-16's 512 → 512 layer at 28x28, batch 4, 2 threads: by blocks it would hold its whole U (38 MB) and two
    /// blocks' V and M (24 MB) at once; split by filters it holds one V and two chunks' U and M.
    /// </summary>
    [Fact]
    public void ALayerWithALargeFilterTransformHoldsLittleScratch()
    {
        OnThreads(2, () =>
        {
            var g = ConvGeometry.Create(4, 512, 28, 28, 512, 3, 3, padH: 1, padW: 1);
            long bytes = ConvWinograd.Scratch(g).Sum(n => sizeof(float) * (long)n);
            Assert.InRange(bytes, 1, 16_000_000);
        });
    }

    /// <summary>
    /// An inference forward keeps its transformed filters for the weights array and uses them again only while the
    /// weights are unchanged: a weight changed in place, or another GEMM kernel family (another packed layout), makes
    /// it transform them again. A forward that records a gradient keeps nothing. Both ways of running kept filters:
    /// blocks side by side (256 tiles) and, where the machine has AVX-512, slivers run by filters (49 tiles).
    /// </summary>
    [Theory]
    [InlineData(16, 16, 14, 24)]
    [InlineData(1, 40, 28, 48)]
    public void KeptFiltersFollowTheWeights(int batch, int channels, int size, int filters)
    {
        int savedThreads = CpuParallel.Threads;
        var savedIsa = Gemm.ActiveIsa;
        try
        {
            CpuParallel.Threads = 2;
            var g = G(batch, channels, size, size, filters, 1, 1, 1, 1);
            var x = ConvCases.Random(g.Batch * g.InputImageSize, 31);
            var w = ConvCases.Random((int)g.WeightCount, 32);
            var b = ConvCases.Random(g.OutChannels, 33);
            float[] Reference()
            {
                var r = new float[g.Batch * g.OutputImageSize];
                ConvReference.Forward(g, x, w, b, r);
                return r;
            }
            var first = new float[g.Batch * g.OutputImageSize];
            ConvWinograd.Forward(g, x, w, b, first, keepFilters: true);
            AssertWithin(Reference(), first, "first pass");
            Assert.Equal(sizeof(float) * ConvWinograd.KeptFloats(g), ConvWinograd.KeptBytes(w));
            // Without AVX-512, 49 tiles run by filters, transformed on every call: nothing is kept.
            if (!ConvWinograd.KeepsFilters(g)) return;
            Assert.True(ConvWinograd.KeptBytes(w) >= 5 * sizeof(float) * g.WeightCount);

            var again = new float[first.Length];
            ConvWinograd.Forward(g, x, w, b, again, keepFilters: true);
            Assert.Equal(first, again);

            w[7] += 0.5f;
            var changed = new float[first.Length];
            ConvWinograd.Forward(g, x, w, b, changed, keepFilters: true);
            AssertWithin(Reference(), changed, "after a weight changed in place");

            Gemm.ActiveIsa = Gemm.Isa.Vector;
            var otherLayout = new float[first.Length];
            ConvWinograd.Forward(g, x, w, b, otherLayout, keepFilters: true);
            AssertWithin(Reference(), otherLayout, "with the portable GEMM's layout");

            var trained = ConvCases.Random((int)g.WeightCount, 34);
            ConvWinograd.Forward(g, x, trained, b, new float[first.Length]);
            Assert.Equal(0, ConvWinograd.KeptBytes(trained));
        }
        finally
        {
            CpuParallel.Threads = savedThreads;
            Gemm.ActiveIsa = savedIsa;
        }
    }

    /// <summary>
    /// Inference takes Winograd wherever it keeps its filters and pays: by blocks from 64 tiles a thread, by kept
    /// slivers from 48 tiles below that where the machine has AVX-512 (VGG-16's 28x28 layers at batch 1), but not
    /// with 16 tiles (VGG-16's 14x14 and AlexNet's 13x13 layers at batch 1) nor for a 5x5 kernel with few tiles, and
    /// leaves the rest to the training rules; a Conv2d asks for the inference choice only when it records nothing.
    /// </summary>
    [Fact]
    public void InferencePicksWinogradWhereItKeepsItsFilters()
    {
        OnThreads(2, () =>
        {
            // AlexNet's 5x5 layer too, as four 3x3 parts: training keeps it direct.
            var fiveByFive = G5(8, 64, 27, 27, 192, 2, 2, 2, 2);
            Assert.NotEqual(ConvAlgorithm.Winograd, ConvAlgorithmChooser.Choose(fiveByFive));
            var kept = new List<ConvGeometry> { G(4, 512, 28, 28, 512, 1, 1, 1, 1), G(8, 192, 13, 13, 384, 1, 1, 1, 1), fiveByFive };
            if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) kept.Add(G(1, 512, 28, 28, 512, 1, 1, 1, 1));
            foreach (var g in kept)
            {
                Assert.True(ConvWinograd.KeepsFilters(g));
                Assert.Equal(ConvAlgorithm.Winograd, ConvAlgorithmChooser.Choose(g, inference: true));
            }
            // 16 and 32 tiles; 5x5 with 49; 3 channels: Winograd does not pay; 7x7: it does not apply.
            var others = new[]
            {
                G(1, 192, 13, 13, 384, 1, 1, 1, 1), G(1, 512, 14, 14, 512, 1, 1, 1, 1), G(2, 384, 13, 13, 256, 1, 1, 1, 1),
                G5(1, 64, 27, 27, 192, 2, 2, 2, 2),
                G(1, 3, 32, 32, 64, 1, 1, 1, 1), ConvGeometry.Create(8, 64, 27, 27, 192, 7, 7, padH: 3, padW: 3),
            };
            foreach (var g in others)
                Assert.Equal(ConvAlgorithmChooser.Choose(g), ConvAlgorithmChooser.Choose(g, inference: true));

            var conv = new Conv2d(64, 192, 5, padding: 2, generator: new Generator(4));
            var x = Tensor.Zeros([8, 64, 27, 27]);
            using (GradMode.NoGrad()) conv.Forward(x);
            Assert.Equal(ConvAlgorithm.Winograd, conv.ChosenAlgorithm);
            conv.Forward(x);
            Assert.Equal(ConvAlgorithmChooser.Choose(fiveByFive), conv.ChosenAlgorithm);
        });
    }

    /// <summary>
    /// The memory estimate of inference counts the transformed filters a Winograd layer keeps, as the measured pass
    /// does (on one thread, where the scratch is exact): 160 tiles run by blocks, and 48 tiles run by kept slivers
    /// (where the machine has AVX-512; elsewhere by filters, transformed on every call, keeping nothing).
    /// </summary>
    [Theory]
    [InlineData(40, 8)]
    [InlineData(3, 16)]
    public void InferenceEstimateCountsTheKeptFilters(int batch, int size)
    {
        OnThreads(1, () =>
        {
            var gen = new Generator(5);
            var conv = new Conv2d(32, 32, 3, padding: 1, generator: gen);
            var net = new Sequential(conv, new ReLU(), new Flatten(), new Linear(32 * size * size, 4, generator: gen));
            var g = ConvGeometry.Create(batch, 32, size, size, 32, 3, 3, padH: 1, padW: 1);
            if (batch == 40) Assert.Equal(ConvAlgorithm.Winograd, ConvAlgorithmChooser.Choose(g));
            bool winograd = ConvAlgorithmChooser.Choose(g, inference: true) == ConvAlgorithm.Winograd;
            Assert.True(winograd || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported);
            var estimate = Inspection.MemoryFootprint.Estimate(net, [32, size, size], batch);
            var measured = Inspection.MeasuredStep.Inference(net, Tensor.Randn([batch, 32, size, size], new Generator(8)));
            long kept = ConvWinograd.KeptBytes(((CpuStorage)conv.Weight.Storage).Floats);
            Assert.Equal(sizeof(float) * ConvWinograd.KeptFloats(g), kept);
            Assert.Equal(estimate.InferenceBytes, measured.TotalBytes);
            if (winograd)
                Assert.Equal(sizeof(float) * ConvWinograd.Scratch(g, keepFilters: true).Sum(n => (long)n) + kept, estimate.Layers[0].InferenceWorkspaceBytes);
        });
    }

    private static void AssertWithin(float[] expected, float[] actual, string what)
    {
        float largest = expected.Max(Math.Abs);
        double worst = 0;
        for (int i = 0; i < actual.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - (double)expected[i]));
        Assert.True(worst <= 1e-4 * largest, $"{what}: error {worst:g3} is {worst / largest:g3} of the largest {largest:g3}");
    }

    // One thread and several, the permutes and the scalar (de)interleave, the usual blocks and blocks of 16 tiles (a
    // budget of 1), so that rows of tiles are cut between blocks; a filter-transform budget of 0, which splits by
    // filters however many the tiles; and every GEMM kernel family this CPU runs, whose packed U layouts differ.
    private static void EverySplit(Action<string> check)
    {
        int savedThreads = CpuParallel.Threads, savedBudget = ConvWinograd.TileBudget, savedU = ConvWinograd.MostFilterTransformFloats;
        bool savedPermutes = ConvWinograd.UsePermutes;
        var savedIsa = Gemm.ActiveIsa;
        var best = Gemm.BestIsa;
        try
        {
            foreach (var (threads, permutes, budget, u, isa) in new[]
            {
                (1, true, savedBudget, savedU, best), (2, true, savedBudget, savedU, best), (3, true, savedBudget, savedU, best),
                (2, false, savedBudget, savedU, best), (1, true, 1, savedU, best), (2, true, 1, savedU, best), (3, false, 1, savedU, best),
                (2, true, savedBudget, 0, best), (3, true, 1, 0, best),
                (2, true, savedBudget, savedU, Gemm.Isa.Vector), (2, true, 1, savedU, (Gemm.Isa)Math.Min((int)Gemm.Isa.Avx2, (int)best)),
            })
            {
                CpuParallel.Threads = threads;
                ConvWinograd.UsePermutes = permutes && savedPermutes;
                ConvWinograd.TileBudget = budget;
                ConvWinograd.MostFilterTransformFloats = u;
                Gemm.ActiveIsa = isa;
                check($"{threads} threads, permutes {ConvWinograd.UsePermutes}, budget {budget}, filter-transform budget {u}, {isa} GEMM");
            }
        }
        finally
        {
            CpuParallel.Threads = savedThreads;
            ConvWinograd.TileBudget = savedBudget;
            ConvWinograd.UsePermutes = savedPermutes;
            ConvWinograd.MostFilterTransformFloats = savedU;
            Gemm.ActiveIsa = savedIsa;
        }
    }
}
