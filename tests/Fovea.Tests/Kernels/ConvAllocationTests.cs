using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

// Serial: the tests set the process-wide thread count, and each counts every byte the process allocates.
[Collection(Support.SerialCollection.Name)]
public class ConvAllocationTests
{
    private static ConvGeometry G(int n, int c, int h, int w, int o, int kh, int kw, int stride = 1, int pad = 0, int groups = 1) =>
        ConvGeometry.Create(n, c, h, w, o, kh, kw, stride, stride, pad, pad, groups: groups);

    /// <summary>
    /// Shapes large enough that every pass splits over two threads, together taking each path through the kernels:
    /// the direct kernels by rows, by channels and in general (strided, depthwise), im2col unfolding shared by the
    /// threads (batch 1) or per image, 1x1 read as it lies, Winograd by filters and by blocks, FFT.
    /// </summary>
    private static readonly Dictionary<string, ConvGeometry> Shapes = new()
    {
        ["LeNet-5 1x6x28x28 -> 16 5x5"] = G(1, 6, 28, 28, 16, 5, 5),
        ["LeNet-5 8x6x14x14 -> 16 5x5"] = G(8, 6, 14, 14, 16, 5, 5),
        ["1x128x14x14 -> 128 3x3 pad 1"] = G(1, 128, 14, 14, 128, 3, 3, pad: 1),
        ["2x32x32x32 -> 32 3x3 pad 1"] = G(2, 32, 32, 32, 32, 3, 3, pad: 1),
        ["8x16x10x10 -> 16 3x3 pad 1"] = G(8, 16, 10, 10, 16, 3, 3, pad: 1),
        ["groups 2, stride 2"] = G(4, 16, 32, 32, 32, 3, 3, stride: 2, pad: 1, groups: 2),
        ["depthwise, stride 2"] = G(4, 32, 32, 32, 32, 3, 3, stride: 2, pad: 1, groups: 32),
        ["1-D k5"] = G(4, 8, 1, 200, 16, 1, 5) with { PadLeft = 2, PadRight = 2 },
        ["1x1"] = G(2, 64, 14, 14, 64, 1, 1),
    };

    private const string BackwardData = "backward data", BackwardFilter = "backward filter";

    /// <summary>
    /// Every shape's forward by each algorithm that takes it and as the backend chooses it, and its two backward passes
    /// (whose algorithm the backend always chooses). FFT only where it is quick, as on the shapes it is chosen for:
    /// on 3x3 kernels with many channels a call takes tens of milliseconds, long enough to overlap the test runner's
    /// own allocations in every attempt, which the count cannot tell apart from the kernel's.
    /// </summary>
    public static TheoryData<string, string> Passes()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, g) in Shapes)
        {
            foreach (var a in ConvCases.Algorithms)
                if (ConvCases.Supports(a, g) && (a != ConvAlgorithm.Fft || ConvFft.EstimatedMacs(g) < 1e7)) data.Add(name, a.ToString());
            data.Add(name, nameof(ConvAlgorithm.Auto));
            data.Add(name, BackwardData);
            data.Add(name, BackwardFilter);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Passes))]
    public void AWarmPassAllocatesNothing(string shape, string pass)
    {
        var g = Shapes[shape];
        var cpu = CpuBackend.Instance;
        Storage x = cpu.FromHost(ConvCases.Random(g.Batch * g.InputImageSize, 1)), w = cpu.FromHost(ConvCases.Random((int)g.WeightCount, 2));
        Storage b = cpu.FromHost(ConvCases.Random(g.OutChannels, 3)), dy = cpu.FromHost(ConvCases.Random(g.Batch * g.OutputImageSize, 4));
        Storage y = cpu.Allocate(DType.Float32, g.Batch * g.OutputImageSize), dx = cpu.Allocate(DType.Float32, g.Batch * g.InputImageSize);
        Storage dw = cpu.Allocate(DType.Float32, (int)g.WeightCount), db = cpu.Allocate(DType.Float32, g.OutChannels);
        var algorithm = pass is BackwardData or BackwardFilter ? ConvAlgorithm.Auto : Enum.Parse<ConvAlgorithm>(pass);
        Action run = pass switch
        {
            BackwardData => () => cpu.Conv2dBackwardData(g, dy, w, dx),
            BackwardFilter => () => cpu.Conv2dBackwardFilter(g, x, dy, dw, db),
            _ => () => cpu.Conv2d(g, algorithm, x, w, b, y),
        };
        Assert.Equal(0, Support.Allocations.Least(run));
    }
}
