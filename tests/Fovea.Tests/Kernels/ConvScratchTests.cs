using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

/// <summary>
/// The scratch each conv pass is said to rent (what the memory estimate counts) against what the kernels rent, and
/// the pool simulation against the pool. The pool and the thread count are process-wide, so these run alone.
/// </summary>
[Collection(Support.SerialCollection.Name)]
public class ConvScratchTests
{
    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
    }

    public static TheoryData<string, int, int, int, int, int, int, int> Shapes => new()
    {
        // name, batch, in channels, size, out channels, kernel, stride, padding
        { "im2col", 2, 8, 20, 8, 5, 1, 2 }, // 200 products per output: unfolded
        { "direct padded", 2, 3, 20, 8, 5, 1, 2 }, // 75: bordered copies, the data gradient's flipped filters
        { "direct unpadded", 3, 6, 14, 16, 5, 1, 0 }, // LeNet-5's second: its data gradient (400 products) unfolds
        { "im2col strided", 3, 4, 23, 6, 3, 2, 1 },
        { "winograd by filters", 2, 64, 8, 64, 3, 1, 1 }, // 8 tiles: chunks of filters side by side
        { "winograd by blocks", 2, 16, 34, 16, 3, 1, 1 }, // 162 tiles: blocks of tiles side by side
        { "fft", 1, 2, 40, 3, 9, 1, 4 },
        { "direct 1x1", 2, 8, 6, 4, 1, 1, 0 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EachPassRentsWhatConvScratchLists(string name, int n, int c, int size, int o, int k, int stride, int pad)
    {
        var g = ConvGeometry.Create(n, c, size, size, o, k, k, stride, stride, pad, pad, 1, 1, 1);
        var algorithm = name == "fft" ? ConvAlgorithm.Fft : name.StartsWith("winograd") ? ConvAlgorithm.Winograd : ConvAlgorithm.Auto;
        var x = Random(n * g.InputImageSize, 1);
        var w = Random((int)g.WeightCount, 2);
        var dy = Random(n * g.OutputImageSize, 3);
        var y = new float[n * g.OutputImageSize];
        var dx = new float[x.Length];
        var dw = new float[w.Length];
        var backend = CpuBackend.Instance;
        int saved = CpuParallel.Threads;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                CpuParallel.Threads = threads;
                var passes = new (Action Run, int[] Listed)[]
                {
                    (() => backend.Conv2d(g, algorithm, backend.FromHost(x), backend.FromHost(w), null, backend.FromHost(y)), ConvScratch.Forward(g, algorithm)),
                    (() => backend.Conv2dBackwardData(g, backend.FromHost(dy), backend.FromHost(w), backend.FromHost(dx)), ConvScratch.BackwardData(g)),
                    (() => backend.Conv2dBackwardFilter(g, backend.FromHost(x), backend.FromHost(dy), backend.FromHost(dw), null), ConvScratch.BackwardFilter(g)),
                };
                foreach (var (run, listed) in passes)
                {
                    ScratchPool.Clear();
                    ScratchPool.ResetPeak();
                    run();
                    long bytes = 4 * listed.Sum(l => (long)Math.Max(l, 1));
                    // One thread rents exactly the list; with two, chunks listed side by side may also run one after the other.
                    if (threads == 1) Assert.Equal(bytes, ScratchPool.PeakLentBytes);
                    else Assert.True(ScratchPool.PeakLentBytes <= bytes, $"{name}: rented {ScratchPool.PeakLentBytes} B, listed {bytes} B");
                }
            }
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }

    [Fact]
    public void SimulationHoldsWhatThePoolHolds()
    {
        int saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = 1; // keeps 8 idle buffers
            int[][] passes =
            [
                [1000, 500],
                [600, 2000, 100], // 600 takes the idle 1000, 100 the idle 500
                [300, 300, 300, 300, 300, 300, 300, 300, 300, 300], // more than are kept: the smallest are dropped
                [2500, 50],
                [3000],
            ];
            ScratchPool.Clear();
            ScratchPool.ResetPeak();
            var simulation = new ScratchPoolSimulation();
            foreach (var pass in passes)
            {
                var lent = pass.Select(ScratchPool.Rent).ToList();
                foreach (var buffer in lent) ScratchPool.Return(buffer);
                simulation.Pass(pass);
            }
            Assert.Equal(ScratchPool.PeakHeldBytes, 4 * simulation.PeakHeldFloats);
            Assert.True(simulation.PeakHeldFloats > 3000 + 2500, "idle buffers from earlier passes count");
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }

    [Fact]
    public void AThreadGetsBackTheBufferItGaveBackAmongEqualLengths()
    {
        ScratchPool.Clear();
        // Every buffer given back was rented and every one rented is given back: the pool's count of lent bytes is
        // global, and later tests measure against it.
        var first = ScratchPool.Rent(4096);
        var second = ScratchPool.Rent(4096);
        var third = ScratchPool.Rent(4096);
        // Two threads each give back a buffer of one length, in turn.
        void Give(float[] buffer)
        {
            var thread = new Thread(() => ScratchPool.Return(buffer));
            thread.Start();
            thread.Join();
        }
        Give(first);
        ScratchPool.Return(second);
        Give(third);

        // Best fit alone would take the last given back; this thread gave back the second.
        Assert.Same(second, ScratchPool.Rent(4096));
        // With none of its own left, it gets another of that length, not a longer one.
        ScratchPool.Return(ScratchPool.Rent(8192));
        var next = ScratchPool.Rent(4096);
        Assert.True(ReferenceEquals(next, first) || ReferenceEquals(next, third), "a buffer of the same length");
        ScratchPool.Return(second);
        ScratchPool.Return(next);
        ScratchPool.Clear();
    }
}
