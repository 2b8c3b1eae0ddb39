using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

/// <summary>The geometries every algorithm is held to, seeded random data, and the comparison with the reference.</summary>
internal static class ConvCases
{
    private static ConvGeometry G(int n, int c, int h, int w, int o, int kh, int kw, int stride = 1, int pad = 0, int dil = 1, int groups = 1) =>
        ConvGeometry.Create(n, c, h, w, o, kh, kw, stride, stride, pad, pad, dil, dil, groups);

    public static readonly Dictionary<string, ConvGeometry> All = new()
    {
        ["odd 5x3 kernel, batch 2"] = G(2, 3, 7, 9, 4, 5, 3),
        ["1x1"] = G(3, 8, 9, 7, 5, 1, 1),
        ["1x1 padded"] = G(2, 4, 5, 6, 3, 1, 1, pad: 1),
        ["1x1 stride 2"] = G(2, 4, 9, 8, 3, 1, 1, stride: 2),
        ["3x3 pad 1, batch 3"] = G(3, 5, 11, 10, 6, 3, 3, pad: 1),
        ["3x3 pad 0, batch 1"] = G(1, 4, 8, 9, 3, 3, 3),
        ["3x3 16 channels, batch 1"] = G(1, 16, 13, 10, 16, 3, 3, pad: 1),
        ["3x3 16->20 channels, batch 3"] = G(3, 16, 9, 12, 20, 3, 3, pad: 1),
        ["5x5 pad 2"] = G(1, 3, 12, 12, 4, 5, 5, pad: 2),
        ["7x7 pad 3"] = G(2, 3, 17, 15, 4, 7, 7, pad: 3),
        ["11x11 stride 4 (AlexNet conv1)"] = G(2, 3, 39, 39, 6, 11, 11, stride: 4, pad: 2),
        ["3x3 stride 2"] = G(3, 4, 13, 12, 5, 3, 3, stride: 2, pad: 1),
        ["5x5 stride 3, dilation 2, uneven padding"] = G(2, 3, 19, 23, 4, 5, 5, stride: 3, dil: 2) with { PadTop = 1, PadLeft = 4, PadBottom = 2, PadRight = 0 },
        ["asymmetric padding 3x4"] = G(2, 3, 8, 9, 4, 3, 4) with { PadTop = 2, PadLeft = 0, PadBottom = 1, PadRight = 3 },
        ["dilation 2"] = G(2, 3, 11, 10, 4, 3, 3, pad: 2, dil: 2),
        ["groups 2"] = G(3, 4, 7, 8, 6, 3, 3, pad: 1, groups: 2),
        ["groups 2, 16 outputs each"] = G(2, 4, 9, 9, 32, 3, 3, pad: 1, groups: 2),
        ["16 outputs 5x5, 3 wide"] = G(2, 3, 7, 7, 16, 5, 5),
        ["depthwise"] = G(2, 6, 9, 8, 6, 3, 3, pad: 1, groups: 6),
        ["depthwise x2 stride 2"] = G(1, 4, 10, 11, 8, 3, 3, stride: 2, pad: 1, groups: 4),
        ["1-D k5"] = G(3, 4, 1, 50, 5, 1, 5) with { PadLeft = 2, PadRight = 2 },
        ["1-D k9 stride 1"] = G(1, 2, 1, 40, 3, 1, 9),
    };

    public static readonly ConvAlgorithm[] Algorithms =
        [ConvAlgorithm.Direct, ConvAlgorithm.Im2colGemm, ConvAlgorithm.Fft, ConvAlgorithm.Winograd];

    public static bool Supports(ConvAlgorithm a, in ConvGeometry g) => a switch
    {
        ConvAlgorithm.Fft => g.IsUnitStrideDense,
        ConvAlgorithm.Winograd => g.IsUnitStrideDense && (g.KernelHeight, g.KernelWidth) is (3, 3) or (5, 5),
        _ => true,
    };

    public static float[] Random(int length, int seed)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = rng.NextSingle() * 2 - 1;
        return a;
    }

    /// <summary>|actual − expected| ≤ 1e-4·|expected| + 1e-5·√fanIn for every element (inputs are U(−1, 1)).</summary>
    public static void AssertClose(float[] expected, float[] actual, long fanIn, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double atol = 1e-5 * Math.Sqrt(Math.Max(1, fanIn));
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - (double)expected[i]);
            Assert.True(err <= 1e-4 * Math.Abs(expected[i]) + atol,
                $"{what}: element {i} is {actual[i]}, reference {expected[i]} (error {err:g3}, allowed {1e-4 * Math.Abs(expected[i]) + atol:g3})");
        }
    }
}

public class ConvAlgorithmTests
{
    public static TheoryData<ConvAlgorithm, string> ForwardCases()
    {
        var data = new TheoryData<ConvAlgorithm, string>();
        foreach (var a in ConvCases.Algorithms)
            foreach (var (name, g) in ConvCases.All)
                if (ConvCases.Supports(a, g)) data.Add(a, name);
        return data;
    }

    public static TheoryData<ConvAlgorithm, string> BackwardCases()
    {
        var data = new TheoryData<ConvAlgorithm, string>();
        foreach (var a in new[] { ConvAlgorithm.Direct, ConvAlgorithm.Im2colGemm })
            foreach (var name in ConvCases.All.Keys) data.Add(a, name);
        return data;
    }

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in ConvCases.All.Keys) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(ForwardCases))]
    public void ForwardMatchesReference(ConvAlgorithm algorithm, string name)
    {
        var g = ConvCases.All[name];
        var x = ConvCases.Random(g.Batch * g.InputImageSize, 1);
        var w = ConvCases.Random((int)g.WeightCount, 2);
        var b = ConvCases.Random(g.OutChannels, 3);
        var expected = new float[g.Batch * g.OutputImageSize];
        ConvReference.Forward(g, x, w, b, expected);

        var cpu = CpuBackend.Instance;
        var y = cpu.Allocate(DType.Float32, expected.Length);
        cpu.Fill(y, float.NaN); // outputs must be overwritten, not accumulated
        cpu.Conv2d(g, algorithm, cpu.FromHost(x), cpu.FromHost(w), cpu.FromHost(b), y);
        ConvCases.AssertClose(expected, ((CpuStorage)y).Floats, g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth, $"{algorithm} {name}");

        // Without bias.
        ConvReference.Forward(g, x, w, default, expected);
        cpu.Conv2d(g, algorithm, cpu.FromHost(x), cpu.FromHost(w), null, y);
        ConvCases.AssertClose(expected, ((CpuStorage)y).Floats, g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth, $"{algorithm} {name} no bias");

        // With the ReLU after it (Sequential's inference): max(y, 0), fused in the kernel or as a pass after it.
        ConvReference.Forward(g, x, w, b, expected);
        for (int i = 0; i < expected.Length; i++) expected[i] = Math.Max(expected[i], 0f);
        cpu.Fill(y, float.NaN);
        cpu.Conv2d(g, algorithm, cpu.FromHost(x), cpu.FromHost(w), cpu.FromHost(b), y, relu: true);
        ConvCases.AssertClose(expected, ((CpuStorage)y).Floats, g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth, $"{algorithm} {name} relu");
    }

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void BackwardMatchesReference(ConvAlgorithm algorithm, string name)
    {
        var g = ConvCases.All[name];
        var x = ConvCases.Random(g.Batch * g.InputImageSize, 4);
        var w = ConvCases.Random((int)g.WeightCount, 5);
        var dy = ConvCases.Random(g.Batch * g.OutputImageSize, 6);

        var dxRef = new float[x.Length];
        var dwRef = new float[w.Length];
        var dbRef = new float[g.OutChannels];
        ConvReference.BackwardData(g, dy, w, dxRef);
        ConvReference.BackwardFilter(g, x, dy, dwRef, dbRef);

        float[] dx = [.. Enumerable.Repeat(float.NaN, x.Length)], dw = [.. Enumerable.Repeat(float.NaN, w.Length)];
        float[] db = [.. Enumerable.Repeat(float.NaN, g.OutChannels)];
        if (algorithm == ConvAlgorithm.Direct)
        {
            ConvDirect.BackwardData(g, dy, w, dx);
            ConvDirect.BackwardFilter(g, x, dy, dw, db);
        }
        else
        {
            ConvIm2col.BackwardData(g, dy, w, dx);
            ConvIm2col.BackwardFilter(g, x, dy, dw, db);
        }
        long dataFanIn = g.OutChannelsPerGroup * g.KernelHeight * g.KernelWidth, filterFanIn = (long)g.Batch * g.OutHeight * g.OutWidth;
        ConvCases.AssertClose(dxRef, dx, dataFanIn, $"{algorithm} ∇data {name}");
        ConvCases.AssertClose(dwRef, dw, filterFanIn, $"{algorithm} ∇filter {name}");
        ConvCases.AssertClose(dbRef, db, filterFanIn, $"{algorithm} ∇bias {name}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BackendBackwardMatchesReference(string name)
    {
        var g = ConvCases.All[name];
        var x = ConvCases.Random(g.Batch * g.InputImageSize, 7);
        var w = ConvCases.Random((int)g.WeightCount, 8);
        var dy = ConvCases.Random(g.Batch * g.OutputImageSize, 9);
        var dxRef = new float[x.Length];
        var dwRef = new float[w.Length];
        var dbRef = new float[g.OutChannels];
        ConvReference.BackwardData(g, dy, w, dxRef);
        ConvReference.BackwardFilter(g, x, dy, dwRef, dbRef);

        var cpu = CpuBackend.Instance;
        Storage dx = cpu.Allocate(DType.Float32, x.Length), dw = cpu.Allocate(DType.Float32, w.Length);
        Storage db = cpu.Allocate(DType.Float32, g.OutChannels), dw2 = cpu.Allocate(DType.Float32, w.Length);
        cpu.Fill(dx, 7f);
        cpu.Fill(dw, 7f);
        cpu.Conv2dBackwardData(g, cpu.FromHost(dy), cpu.FromHost(w), dx);
        cpu.Conv2dBackwardFilter(g, cpu.FromHost(x), cpu.FromHost(dy), dw, db);
        cpu.Conv2dBackwardFilter(g, cpu.FromHost(x), cpu.FromHost(dy), dw2, null);
        long filterFanIn = (long)g.Batch * g.OutHeight * g.OutWidth;
        ConvCases.AssertClose(dxRef, ((CpuStorage)dx).Floats, g.OutChannelsPerGroup * g.KernelHeight * g.KernelWidth, $"∇data {name}");
        ConvCases.AssertClose(dwRef, ((CpuStorage)dw).Floats, filterFanIn, $"∇filter {name}");
        ConvCases.AssertClose(dwRef, ((CpuStorage)dw2).Floats, filterFanIn, $"∇filter without bias {name}");
        ConvCases.AssertClose(dbRef, ((CpuStorage)db).Floats, filterFanIn, $"∇bias {name}");
    }

    [Theory]
    [InlineData("3x3 pad 1, batch 3")]
    [InlineData("3x3 pad 0, batch 1")]
    [InlineData("3x3 16 channels, batch 1")]
    [InlineData("3x3 16->20 channels, batch 3")]
    public void WinogradDataGradientMatchesReference(string name)
    {
        var g = ConvCases.All[name];
        var w = ConvCases.Random((int)g.WeightCount, 16);
        var dy = ConvCases.Random(g.Batch * g.OutputImageSize, 17);
        var dxRef = new float[g.Batch * g.InputImageSize];
        ConvReference.BackwardData(g, dy, w, dxRef);
        float[] dx = [.. Enumerable.Repeat(float.NaN, dxRef.Length)];
        ConvWinograd.BackwardData(g, dy, w, dx);
        ConvCases.AssertClose(dxRef, dx, g.OutChannelsPerGroup * 9, $"Winograd ∇data {name}");
    }

    [Fact]
    public void TheBenchmarkLayersGradientsGoToWinograd()
    {
        var g = ConvGeometry.Create(8, 128, 56, 56, 128, 3, 3, padH: 1, padW: 1);
        Assert.Equal(ConvAlgorithm.Winograd, ConvAlgorithmChooser.ChooseBackwardData(g));
        Assert.Equal(ConvAlgorithm.Winograd, ConvAlgorithmChooser.ChooseBackwardFilter(g));
        // 512 → 512 would keep two sums of 36·512·512 floats (38 MB each), so it stays with im2col's bands.
        Assert.Equal(ConvAlgorithm.Im2colGemm, ConvAlgorithmChooser.ChooseBackwardFilter(ConvGeometry.Create(4, 512, 28, 28, 512, 3, 3, padH: 1, padW: 1)));
        // Too few tiles to give each thread its blocks: im2col.
        Assert.Equal(ConvAlgorithm.Im2colGemm, ConvAlgorithmChooser.ChooseBackwardFilter(ConvGeometry.Create(1, 128, 14, 14, 128, 3, 3, padH: 1, padW: 1)));
        // Strided layers have no forward pass to stand for their data gradient.
        Assert.Equal(ConvAlgorithm.Im2colGemm, ConvAlgorithmChooser.ChooseBackwardData(ConvGeometry.Create(8, 64, 56, 56, 128, 3, 3, 2, 2, 1, 1)));
    }

    [Fact]
    public void ParallelBatchSplitMatchesReference()
    {
        // Enough work that the batch is split over threads (the small cases above mostly run on one).
        var g = ConvGeometry.Create(4, 16, 20, 20, 24, 3, 3, padH: 1, padW: 1);
        var x = ConvCases.Random(g.Batch * g.InputImageSize, 10);
        var w = ConvCases.Random((int)g.WeightCount, 11);
        var dy = ConvCases.Random(g.Batch * g.OutputImageSize, 12);
        var yRef = new float[dy.Length];
        var dwRef = new float[w.Length];
        var dxRef = new float[x.Length];
        ConvReference.Forward(g, x, w, default, yRef);
        ConvReference.BackwardFilter(g, x, dy, dwRef, default);
        ConvReference.BackwardData(g, dy, w, dxRef);
        foreach (var a in ConvCases.Algorithms)
        {
            var y = new float[dy.Length];
            var cpu = CpuBackend.Instance;
            var ys = cpu.FromHost(y);
            cpu.Conv2d(g, a, cpu.FromHost(x), cpu.FromHost(w), null, ys);
            ConvCases.AssertClose(yRef, y, 16 * 9, $"{a} forward");
        }
        var dw = new float[w.Length];
        var dx = new float[x.Length];
        ConvIm2col.BackwardFilter(g, x, dy, dw, null);
        ConvIm2col.BackwardData(g, dy, w, dx);
        ConvCases.AssertClose(dwRef, dw, 4 * 400, "im2col ∇filter");
        ConvCases.AssertClose(dxRef, dx, 24 * 9, "im2col ∇data");
    }

    [Theory]
    [InlineData("3x3 stride 2")]
    [InlineData("asymmetric padding 3x4")]
    [InlineData("dilation 2")]
    [InlineData("groups 2")]
    [InlineData("11x11 stride 4 (AlexNet conv1)")]
    public void Im2colInBandsOfOutputRowsMatchesReference(string name)
    {
        // A budget of one float forces one output row per band (other tests running meanwhile merely band too).
        var g = ConvCases.All[name];
        var x = ConvCases.Random(g.Batch * g.InputImageSize, 13);
        var w = ConvCases.Random((int)g.WeightCount, 14);
        var dy = ConvCases.Random(g.Batch * g.OutputImageSize, 15);
        float[] yRef = new float[dy.Length], dxRef = new float[x.Length], dwRef = new float[w.Length];
        ConvReference.Forward(g, x, w, default, yRef);
        ConvReference.BackwardData(g, dy, w, dxRef);
        ConvReference.BackwardFilter(g, x, dy, dwRef, default);
        float[] y = new float[dy.Length], dx = new float[x.Length], dw = new float[w.Length];
        int keep = ConvIm2col.ColumnBudget;
        ConvIm2col.ColumnBudget = 1;
        try
        {
            ConvIm2col.Forward(g, x, w, null, y);
            ConvIm2col.BackwardData(g, dy, w, dx);
            ConvIm2col.BackwardFilter(g, x, dy, dw, null);
        }
        finally
        {
            ConvIm2col.ColumnBudget = keep;
        }
        ConvCases.AssertClose(yRef, y, g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth, $"banded forward {name}");
        ConvCases.AssertClose(dxRef, dx, g.OutChannelsPerGroup * g.KernelHeight * g.KernelWidth, $"banded ∇data {name}");
        ConvCases.AssertClose(dwRef, dw, (long)g.Batch * g.OutHeight * g.OutWidth, $"banded ∇filter {name}");
    }

    [Fact]
    public void UnsupportedExplicitAlgorithmThrowsNamingIt()
    {
        var cpu = CpuBackend.Instance;
        var g = ConvGeometry.Create(1, 2, 8, 8, 2, 3, 3, strideH: 2, strideW: 2);
        Storage x = cpu.Allocate(DType.Float32, g.InputImageSize), w = cpu.Allocate(DType.Float32, (int)g.WeightCount);
        Storage y = cpu.Allocate(DType.Float32, g.OutputImageSize);
        var e = Assert.Throws<ArgumentException>(() => cpu.Conv2d(g, ConvAlgorithm.Fft, x, w, null, y));
        Assert.Contains("Fft", e.Message);
        Assert.Contains("stride", e.Message);
        e = Assert.Throws<ArgumentException>(() => cpu.Conv2d(g, ConvAlgorithm.Winograd, x, w, null, y));
        Assert.Contains("Winograd", e.Message);

        var g7 = ConvGeometry.Create(1, 2, 8, 8, 2, 7, 7);
        Storage w7 = cpu.Allocate(DType.Float32, (int)g7.WeightCount);
        e = Assert.Throws<ArgumentException>(() => cpu.Conv2d(g7, ConvAlgorithm.Winograd, x, w7, null, y));
        Assert.Contains("3x3", e.Message);
        var grouped = ConvGeometry.Create(1, 2, 8, 8, 2, 3, 3, groups: 2);
        e = Assert.Throws<ArgumentException>(() => cpu.Conv2d(grouped, ConvAlgorithm.Fft, x, w, null, y));
        Assert.Contains("groups", e.Message);
    }

    [Fact]
    public void EmptyBatchWritesNothingAndDoesNotThrow()
    {
        var g = ConvGeometry.Create(0, 16, 6, 6, 16, 3, 3, padH: 1, padW: 1);
        var cpu = CpuBackend.Instance;
        Storage x = cpu.Allocate(DType.Float32, 0), w = cpu.Allocate(DType.Float32, (int)g.WeightCount), y = cpu.Allocate(DType.Float32, 0);
        foreach (var a in ConvCases.Algorithms) cpu.Conv2d(g, a, x, w, null, y);
        var dw = cpu.FromHost([.. Enumerable.Repeat(1f, (int)g.WeightCount)]);
        var db = cpu.FromHost([.. Enumerable.Repeat(1f, 16)]);
        cpu.Conv2dBackwardFilter(g, x, y, dw, db);
        cpu.Conv2dBackwardData(g, y, w, x);
        Assert.All(((CpuStorage)dw).Floats, v => Assert.Equal(0f, v));
        Assert.All(((CpuStorage)db).Floats, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void AutoPicksPerShape()
    {
        var cpu = CpuBackend.Instance;
        bool rows = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported;
        Assert.Equal(ConvAlgorithm.Direct, cpu.ChooseConvAlgorithm(ConvGeometry.Create(8, 64, 28, 28, 128, 1, 1)));
        Assert.Equal(ConvAlgorithm.Direct, cpu.ChooseConvAlgorithm(ConvGeometry.Create(8, 32, 28, 28, 32, 3, 3, padH: 1, padW: 1, groups: 32)));
        Assert.Equal(ConvAlgorithm.Winograd, cpu.ChooseConvAlgorithm(ConvGeometry.Create(8, 128, 56, 56, 128, 3, 3, padH: 1, padW: 1)));
        // Short channel sums at unit stride go direct, longer ones are unfolded.
        Assert.Equal(ConvAlgorithm.Direct, cpu.ChooseConvAlgorithm(ConvGeometry.Create(8, 3, 32, 32, 64, 3, 3, padH: 1, padW: 1)));
        Assert.Equal(ConvAlgorithm.Direct, cpu.ChooseConvAlgorithm(ConvGeometry.Create(64, 6, 14, 14, 16, 5, 5)));
        Assert.Equal(ConvAlgorithm.Im2colGemm, cpu.ChooseConvAlgorithm(ConvGeometry.Create(8, 8, 32, 32, 16, 5, 5, padH: 2, padW: 2)));
        // Winograd from 16 channels, while its multiplies (filter transform included) stay below the direct count.
        Assert.Equal(ConvAlgorithm.Winograd, cpu.ChooseConvAlgorithm(ConvGeometry.Create(8, 32, 56, 56, 32, 3, 3, padH: 1, padW: 1)));
        // With AVX-512, the channel-rows direct kernel takes long sums where Winograd has few tiles or does not apply.
        var rowsOr = (ConvAlgorithm other) => rows ? ConvAlgorithm.Direct : other;
        Assert.Equal(rowsOr(ConvAlgorithm.Winograd), cpu.ChooseConvAlgorithm(ConvGeometry.Create(2, 192, 13, 13, 384, 3, 3, padH: 1, padW: 1)));
        Assert.Equal(rowsOr(ConvAlgorithm.Winograd), cpu.ChooseConvAlgorithm(ConvGeometry.Create(1, 256, 14, 14, 256, 3, 3, padH: 1, padW: 1)));
        Assert.Equal(rowsOr(ConvAlgorithm.Winograd), cpu.ChooseConvAlgorithm(ConvGeometry.Create(4, 512, 28, 28, 512, 3, 3, padH: 1, padW: 1)));
        Assert.Equal(ConvAlgorithm.Winograd, cpu.ChooseConvAlgorithm(ConvGeometry.Create(4, 512, 28, 28, 256, 3, 3, padH: 1, padW: 1)));
        Assert.Equal(ConvAlgorithm.Winograd, cpu.ChooseConvAlgorithm(ConvGeometry.Create(1, 256, 56, 56, 256, 3, 3, padH: 1, padW: 1)));
        // Few tiles that are part padding: the filter transform costs more than Winograd saves.
        Assert.Equal(rowsOr(ConvAlgorithm.Im2colGemm), cpu.ChooseConvAlgorithm(ConvGeometry.Create(1, 192, 13, 13, 384, 3, 3, padH: 1, padW: 1)));
        Assert.Equal(ConvAlgorithm.Direct, cpu.ChooseConvAlgorithm(ConvGeometry.Create(64, 6, 14, 14, 16, 3, 3, padH: 1, padW: 1)));
        Assert.Equal(rowsOr(ConvAlgorithm.Im2colGemm), cpu.ChooseConvAlgorithm(ConvGeometry.Create(1, 512, 7, 7, 512, 3, 3, padH: 1, padW: 1)));
        Assert.Equal(rowsOr(ConvAlgorithm.Winograd), cpu.ChooseConvAlgorithm(ConvGeometry.Create(4, 512, 7, 7, 512, 3, 3, padH: 1, padW: 1)));
        Assert.Equal(ConvAlgorithm.Winograd, cpu.ChooseConvAlgorithm(ConvGeometry.Create(4, 500, 7, 7, 500, 3, 3, padH: 1, padW: 1)));
        Assert.Equal(rowsOr(ConvAlgorithm.Im2colGemm), cpu.ChooseConvAlgorithm(ConvGeometry.Create(8, 3, 224, 224, 64, 11, 11, 4, 4, 2, 2)));
        Assert.Equal(rowsOr(ConvAlgorithm.Im2colGemm), cpu.ChooseConvAlgorithm(ConvGeometry.Create(8, 64, 56, 56, 128, 3, 3, 2, 2, 1, 1)));
        Assert.Equal(ConvAlgorithm.Im2colGemm, cpu.ChooseConvAlgorithm(ConvGeometry.Create(8, 64, 56, 56, 120, 3, 3, 2, 2, 1, 1)));
        Assert.Equal(ConvAlgorithm.Fft, cpu.ChooseConvAlgorithm(ConvGeometry.Create(1, 8, 226, 226, 8, 31, 31, padH: 15, padW: 15)));
        Assert.Equal(rowsOr(ConvAlgorithm.Im2colGemm), cpu.ChooseConvAlgorithm(ConvGeometry.Create(2, 3, 120, 120, 64, 9, 9, padH: 4, padW: 4)));
        Assert.Equal(ConvAlgorithm.Im2colGemm, cpu.ChooseConvAlgorithm(ConvGeometry.Create(2, 3, 120, 120, 60, 9, 9, padH: 4, padW: 4)));
        // A large kernel on a small image: the power-of-two planes cost more than the direct sum.
        Assert.Equal(ConvAlgorithm.Direct, cpu.ChooseConvAlgorithm(ConvGeometry.Create(2, 3, 12, 12, 4, 7, 7, padH: 3, padW: 3)));
        Assert.Equal(ConvAlgorithm.Im2colGemm, cpu.ChooseConvAlgorithm(ConvGeometry.Create(2, 4, 12, 12, 4, 7, 7, padH: 3, padW: 3)));
    }
}

/// <summary>The blocked direct kernels split over threads: by images, by output channels within an image, uneven chunks.</summary>
[Collection(Support.SerialCollection.Name)]
public class ConvDirectThreadingTests
{
    public static TheoryData<string, int, int, int, int, int, int, int> Shapes => new()
    {
        // name, batch, in channels, size, out channels, kernel, padding, threads
        { "LeNet-5 conv1, 5 images over 3 threads", 5, 1, 28, 6, 5, 2, 3 },
        { "LeNet-5 conv2, 5 images over 2 threads", 5, 6, 14, 16, 5, 0, 2 },
        { "one image, channels split over 3 threads", 1, 3, 40, 7, 3, 1, 3 },
        { "two images, 16-lane rows, over 4 threads", 2, 2, 37, 5, 3, 1, 4 },
        { "one image, 32 channels in lanes over 3 threads", 1, 3, 20, 32, 3, 1, 3 },
        { "16 channels in lanes, 3 images over 2 threads", 3, 5, 11, 16, 3, 1, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReference(string name, int n, int c, int size, int o, int k, int pad, int threads)
    {
        var g = ConvGeometry.Create(n, c, size, size, o, k, k, padH: pad, padW: pad);
        var x = ConvCases.Random(n * g.InputImageSize, 21);
        var w = ConvCases.Random((int)g.WeightCount, 22);
        var b = ConvCases.Random(o, 23);
        var dy = ConvCases.Random(n * g.OutputImageSize, 24);
        float[] yRef = new float[dy.Length], dxRef = new float[x.Length], dwRef = new float[w.Length], dbRef = new float[o];
        ConvReference.Forward(g, x, w, b, yRef);
        ConvReference.BackwardData(g, dy, w, dxRef);
        ConvReference.BackwardFilter(g, x, dy, dwRef, dbRef);
        Assert.True(ConvDirect.Tiled(g) && ConvDirect.TiledData(g, out _), name);

        float[] y = new float[dy.Length], dx = new float[x.Length], dw = new float[w.Length], db = new float[o];
        int saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = threads;
            Assert.True(g.Macs >= 2 * CpuParallel.MinWorkPerThread, $"{name}: too little work to split");
            ConvDirect.Forward(g, x, w, b, y);
            ConvDirect.BackwardData(g, dy, w, dx);
            ConvDirect.BackwardFilter(g, x, dy, dw, db);
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
        long taps = (long)c * k * k;
        ConvCases.AssertClose(yRef, y, taps, $"{name} forward");
        ConvCases.AssertClose(dxRef, dx, (long)o * k * k, $"{name} ∇data");
        ConvCases.AssertClose(dwRef, dw, (long)n * g.OutHeight * g.OutWidth, $"{name} ∇filter");
        ConvCases.AssertClose(dbRef, db, (long)n * g.OutHeight * g.OutWidth, $"{name} ∇bias");
    }
}

/// <summary>
/// im2col with fewer images than threads: the threads share each image's unfold, a run of kernel rows each (strided
/// rows by their phases), and must build the same column matrix as one thread.
/// </summary>
[Collection(Support.SerialCollection.Name)]
public class ConvIm2colThreadingTests
{
    [Theory]
    [InlineData("AlexNet-like 11x11 stride 4, one image over 2 threads", 1, 3, 64, 8, 11, 4, 2, 2)]
    [InlineData("5x5 stride 2, one image over 3 threads", 1, 5, 48, 6, 5, 2, 2, 3)]
    [InlineData("3x3 stride 1, two images over 3 threads", 2, 10, 30, 4, 3, 1, 1, 3)]
    public void MatchesReference(string name, int n, int c, int size, int o, int k, int stride, int pad, int threads)
    {
        var g = ConvGeometry.Create(n, c, size, size, o, k, k, stride, stride, pad, pad);
        var x = ConvCases.Random(n * g.InputImageSize, 31);
        var w = ConvCases.Random((int)g.WeightCount, 32);
        var b = ConvCases.Random(o, 33);
        var expected = new float[n * g.OutputImageSize];
        ConvReference.Forward(g, x, w, b, expected);
        Assert.True((long)c * k * k * g.OutHeight * g.OutWidth >= 2 * CpuParallel.MinWorkPerThread, $"{name}: too little unfolding to split");
        var y = new float[expected.Length];
        int saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = threads;
            ConvIm2col.Forward(g, x, w, b, y);
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
        ConvCases.AssertClose(expected, y, (long)c * k * k, $"{name} forward");
    }
}

[Collection(Support.SerialCollection.Name)]
public class ConvBiasGradientTests
{
    // 2 x 64 x 128 x 128 cells: enough for the sums to be split between threads.
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void SumsEachFiltersPlanesOverTheBatch(int threads)
    {
        var g = ConvGeometry.Create(2, 1, 130, 130, 64, 3, 3);
        var dy = ConvCases.Random(g.Batch * g.OutputImageSize, 41);
        var expected = new double[g.OutChannels];
        int plane = g.OutHeight * g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int o = 0; o < g.OutChannels; o++)
                for (int i = 0; i < plane; i++) expected[o] += dy[(n * g.OutChannels + o) * plane + i];
        var db = Enumerable.Repeat(float.NaN, g.OutChannels).ToArray();
        int saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = threads;
            ConvIm2col.BiasGradient(g, dy, db);
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
        for (int o = 0; o < g.OutChannels; o++)
            Assert.True(Math.Abs(db[o] - expected[o]) <= 1e-3, $"{threads} threads, filter {o}: {db[o]}, expected {expected[o]}");
    }
}
