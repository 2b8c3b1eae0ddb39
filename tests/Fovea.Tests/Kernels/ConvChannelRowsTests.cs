using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

/// <summary>
/// The AVX-512 direct forward with 32 output channels × up to 14 cells of a row per tile (ConvDirect.ChannelRows.cs),
/// held to the reference on the shapes its edges are made of: rows narrower than a tile, rows ending in a tail of 1 to
/// 13 cells, strides 2 and 4, dilation, groups, uneven padding, batches held in groups of images, no bias, the ReLU
/// fused or not, and 1 to 3 threads.
/// </summary>
[Collection(Support.SerialCollection.Name)]
public class ConvChannelRowsTests
{
    private static ConvGeometry G(int n, int c, int h, int w, int o, int k, int stride = 1, int pad = 0, int dil = 1, int groups = 1) =>
        ConvGeometry.Create(n, c, h, w, o, k, k, stride, stride, pad, pad, dil, dil, groups);

    public static TheoryData<string> Names() => [.. Shapes.Keys];

    private static readonly Dictionary<string, ConvGeometry> Shapes = new()
    {
        ["13 wide 3x3 pad 1, 2 images (AlexNet's last layers)"] = G(2, 5, 13, 13, 32, 3, pad: 1),
        ["27 wide 5x5 pad 2, 64 outputs (AlexNet's second layer)"] = G(1, 4, 27, 27, 64, 5, pad: 2),
        ["11x11 stride 4 pad 2, 15 wide (AlexNet's first layer)"] = G(1, 3, 63, 63, 32, 11, stride: 4, pad: 2),
        ["3x3 stride 2 unpadded, 7 wide"] = G(2, 3, 15, 15, 32, 3, stride: 2),
        ["1 wide, 5x5 unpadded"] = G(1, 2, 5, 9, 32, 5),
        ["3x3 dilation 2, groups 2 of 32 outputs, 14 wide"] = G(1, 4, 18, 18, 64, 3, pad: 2, dil: 2, groups: 2),
        ["3x3 pad 1, 30 wide, 96 outputs"] = G(1, 6, 9, 30, 96, 3, pad: 1),
        ["9 images, padded: groups of 4 images a thread"] = G(9, 3, 9, 15, 32, 3, pad: 1),
        ["uneven padding 4x2 kernel"] = ConvGeometry.Create(1, 3, 10, 17, 32, 4, 2, 1, 1, 0, 0, 1, 1, 1) with { PadTop = 2, PadBottom = 1, PadLeft = 0, PadRight = 3 },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardMatchesReferenceOnAnyThreadCount(string name)
    {
        var g = Shapes[name];
        // Without AVX-512 the kernel cannot run (its intrinsics would throw): the chooser must not take it, and the
        // direct forward it would have served still matches the reference.
        bool runs = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;
        Assert.Equal(runs, ConvDirect.ByChannelRows(g));
        if (!runs) Assert.False(ConvDirect.UsesChannelRows(g));
        var x = ConvCases.Random(g.Batch * g.InputImageSize, 31);
        var w = ConvCases.Random((int)g.WeightCount, 32);
        var b = ConvCases.Random(g.OutChannels, 33);
        long taps = (long)g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth;
        int saved = CpuParallel.Threads;
        try
        {
            foreach (int threads in new[] { 1, 2, 3 })
                foreach (var bias in new[] { b, null })
                    foreach (bool relu in new[] { false, true })
                    {
                        CpuParallel.Threads = threads;
                        var expected = new float[g.Batch * g.OutputImageSize];
                        ConvReference.Forward(g, x, w, bias, expected);
                        if (relu) expected = [.. expected.Select(v => Math.Max(v, 0f))];
                        var y = new float[expected.Length];
                        Array.Fill(y, float.NaN);
                        if (runs) ConvDirect.ForwardByChannelRows(g, x, w, bias, y, relu);
                        else ConvDirect.Forward(g, x, w, bias, y, relu);
                        ConvCases.AssertClose(expected, y, taps,
                            $"{name}, {threads} threads{(bias is null ? ", no bias" : "")}{(relu ? ", ReLU fused" : "")}");
                    }
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }
}
