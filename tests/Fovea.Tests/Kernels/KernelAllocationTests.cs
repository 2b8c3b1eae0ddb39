using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

// Every CPU kernel a training step calls, on data large enough to be split over two threads (and a few small cases
// that stay on one): once warm, a call must allocate nothing on the managed heap, or each step would feed the GC.
// Serial: the tests set the process-wide thread count and count every byte the process allocates.
[Collection(Support.SerialCollection.Name)]
public class KernelAllocationTests
{
    private static CpuBackend B => CpuBackend.Instance;

    // Element-wise loops split from 2 · MinWorkPerThread elements; twice that gives each thread a whole chunk.
    private const int Big = (int)(4 * CpuParallel.MinWorkPerThread);
    private const int Small = 100;

    private static Storage Floats(int n, int seed = 1, float low = -1f, float high = 1f)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = low + (high - low) * rng.NextSingle();
        return new CpuStorage(v);
    }

    private static Storage Longs(int n) => new CpuStorage(new long[n]);

    // Indices in [0, dim) for gather and scatter-add.
    private static Storage Indices(int n, int dim)
    {
        var v = new long[n];
        for (int i = 0; i < n; i++) v[i] = i * 7 % dim;
        return new CpuStorage(v);
    }

    private static readonly Dictionary<string, Action> Cases = BuildCases();

    public static TheoryData<string> Names() => new(Cases.Keys);

    private static Dictionary<string, Action> BuildCases()
    {
        var cases = new Dictionary<string, Action>();
        Storage x = Floats(Big, 1), y = Floats(Big, 2), dy = Floats(Big, 3), dx = Floats(Big, 4);
        Storage positive = Floats(Big, 5, 0.5f, 2f), mask = Longs(Big / 64);

        // Element-wise.
        foreach (var op in new[] { UnaryOp.Exp, UnaryOp.Relu, UnaryOp.LeakyRelu, UnaryOp.Sigmoid, UnaryOp.Tanh, UnaryOp.PowScalar })
        {
            cases[$"Unary {op}"] = () => B.Unary(op, positive, y, Big, 0.5f);
            cases[$"Unary {op} small"] = () => B.Unary(op, positive, y, Small, 0.5f);
            cases[$"UnaryBackward {op}"] = () => B.UnaryBackward(op, positive, y, dy, dx, Big, 0.5f);
        }
        cases["ReluMasked"] = () => B.ReluMasked(x, y, mask, Big);
        cases["ReluMasked small"] = () => B.ReluMasked(x, y, mask, Small);
        cases["ReluMaskedBackward"] = () => B.ReluMaskedBackward(mask, dy, dx, Big);

        int[] matrix = [256, 512], dense = [512, 1], scalar = [0, 0], row = [0, 1], column = [1, 0];
        int[] nchw = [4, 64, 512], nchwDense = [64 * 512, 512, 1], channel = [0, 1, 0];
        Storage rowValues = Floats(512, 6), channelValues = Floats(64, 7);
        cases["Binary dense"] = () => B.Binary(BinaryOp.Add, x, 0, dense, y, 0, dense, matrix, dx);
        cases["Binary scalar"] = () => B.Binary(BinaryOp.Mul, x, 0, dense, y, 3, scalar, matrix, dx);
        cases["Binary row broadcast"] = () => B.Binary(BinaryOp.Add, x, 0, dense, rowValues, 0, row, matrix, dx);
        cases["Binary column broadcast"] = () => B.Binary(BinaryOp.Sub, rowValues, 0, column, x, 0, dense, matrix, dx);
        cases["Binary channel broadcast"] = () => B.Binary(BinaryOp.Mul, x, 0, nchwDense, channelValues, 0, channel, nchw, dx);
        cases["Axpy"] = () => B.Axpy(0.5f, x, y, Big);
        cases["Fill"] = () => B.Fill(y, 0.25f);
        cases["Fill int64"] = () => B.Fill(mask, 3f);

        // A transposed view of a 256x512 matrix, and a strided slice of a rank-3 view.
        int[] transposedShape = [512, 256], transposedStrides = [1, 512];
        int[] sliceShape = [4, 32, 256], sliceStrides = [64 * 512, 1024, 2];
        Storage longsIn = Indices(Big, 1000), longsOut = Longs(Big);
        cases["CopyStrided transpose"] = () => B.CopyStrided(x, 0, transposedShape, transposedStrides, y, 0);
        cases["CopyStrided slice"] = () => B.CopyStrided(x, 1, sliceShape, sliceStrides, y, 0);
        cases["CopyStrided int64"] = () => B.CopyStrided(longsIn, 0, transposedShape, transposedStrides, longsOut, 0);
        cases["ScatterStrided transpose"] = () => B.ScatterStrided(x, transposedShape, y, 0, transposedStrides);
        cases["ScatterStrided slice"] = () => B.ScatterStrided(x, sliceShape, y, 1, sliceStrides);

        // Reductions over [outer, dim, inner].
        Storage reduced = Floats(Big, 8), indices = Longs(Big);
        cases["Reduce sum rows"] = () => B.Reduce(ReduceOp.Sum, x, 256, 512, 1, reduced);
        cases["Reduce mean inner"] = () => B.Reduce(ReduceOp.Mean, x, 4, 64, 512, reduced);
        cases["Reduce max inner"] = () => B.Reduce(ReduceOp.Max, x, 4, 64, 512, reduced);
        cases["ArgMax"] = () => B.ArgMax(x, 256, 512, 1, indices);
        Storage gatherIndex = Indices(256 * 16, 512);
        cases["Gather"] = () => B.Gather(x, 256, 512, 1, gatherIndex, 16, reduced);
        cases["ScatterAddAccumulate"] = () => B.ScatterAddAccumulate(reduced, 256, 512, 1, gatherIndex, 16, dx);

        // Matrix products: blocked (split by rows or by columns), direct small-row, batched, tiny.
        Storage ga = Floats(256 * 1024, 9), gb = Floats(1024 * 4096, 10), gc = Floats(256 * 4096, 11);
        cases["Gemm 256x256x256"] = () => B.Gemm(false, false, 1, 256, 256, 256, ga, 0, 256, 0, gb, 0, 256, 0, 0f, gc, 0, 256, 0);
        cases["Gemm 256x256x256 transposed"] = () => B.Gemm(true, true, 1, 256, 256, 256, ga, 0, 256, 0, gb, 0, 256, 0, 1f, gc, 0, 256, 0);
        cases["Gemm 64x1024x256 (split by columns)"] = () => B.Gemm(false, false, 1, 64, 1024, 256, ga, 0, 256, 0, gb, 0, 1024, 0, 0f, gc, 0, 1024, 0);
        cases["Gemm batched 4x64x64x64"] = () =>
            B.Gemm(false, true, 4, 64, 64, 64, ga, 0, 64, 64 * 64, gb, 0, 64, 64 * 64, 0.5f, gc, 0, 64, 64 * 64);
        cases["Gemm small rows Bt 8x4096x1024"] = () => B.Gemm(false, true, 1, 8, 4096, 1024, ga, 0, 1024, 0, gb, 0, 1024, 0, 0f, gc, 0, 4096, 0);
        cases["Gemm small rows 4x4096x1024"] = () => B.Gemm(false, false, 1, 4, 4096, 1024, ga, 0, 1024, 0, gb, 0, 4096, 0, 0f, gc, 0, 4096, 0);
        cases["Gemm small rows At 8x1024x256"] = () => B.Gemm(true, false, 1, 8, 1024, 256, ga, 0, 8, 0, gb, 0, 1024, 0, 1f, gc, 0, 1024, 0);
        cases["Gemm tiny 16x16x16"] = () => B.Gemm(false, false, 1, 16, 16, 16, ga, 0, 16, 0, gb, 0, 16, 0, 0f, gc, 0, 16, 0);
        // One row times a frozen weight matrix: from its kept transposed copy (AVX-512), half the inputs' rows skipped.
        Storage frozen = Floats(2048 * 1024, 40), input = Floats(1024, 41), output = Floats(2048, 42);
        frozen.SetFrozen(true);
        for (int i = 0; i < 1024; i += 2) ((CpuStorage)input).Floats[i] = 0f;
        cases["Gemm frozen row 1x2048x1024"] = () => B.Gemm(false, true, 1, 1, 2048, 1024, input, 0, 1024, 0, frozen, 0, 1024, 0, 0f, output, 0, 2048, 0);

        // Padding and pooling over [8, 16, 32, 32] (128 planes).
        const int planes = 128, side = 32;
        foreach (var mode in new[] { PadMode.Zeros, PadMode.Reflect })
        {
            var pad = new PadGeometry(planes, side, side, 2, 2, 2, 2, mode);
            Storage padded = Floats(planes * pad.OutHeight * pad.OutWidth, 12);
            cases[$"Pad2d {mode}"] = () => B.Pad2d(pad, x, padded);
            cases[$"Pad2dBackward {mode}"] = () => B.Pad2dBackward(pad, padded, dx);
        }
        var pools = new (string Name, PoolGeometry Geometry, PoolKind Kind)[]
        {
            ("max 2x2", PoolGeometry.Create(8, 16, side, side, 2, 2, 2, 2), PoolKind.Max),
            ("max 3x3 padded", PoolGeometry.Create(8, 16, side, side, 3, 3, 2, 2, 1, 1), PoolKind.Max),
            ("avg 2x2", PoolGeometry.Create(8, 16, side, side, 2, 2, 2, 2), PoolKind.Average),
            ("max 2x2 small", PoolGeometry.Create(1, 2, 8, 8, 2, 2, 2, 2), PoolKind.Max),
        };
        foreach (var (name, g, kind) in pools)
        {
            Storage pooled = Floats(g.Batch * g.Channels * g.OutHeight * g.OutWidth, 13);
            cases[$"Pool2d {name}"] = () => B.Pool2d(g, kind, x, pooled);
            cases[$"Pool2dBackward {name}"] = () => B.Pool2dBackward(g, kind, x, pooled, dx);
        }
        Storage adaptive = Floats(planes * 7 * 7, 14);
        cases["AdaptiveAvgPool2d"] = () => B.AdaptiveAvgPool2d(planes, side, side, 7, 7, x, adaptive);
        cases["AdaptiveAvgPool2dBackward"] = () => B.AdaptiveAvgPool2dBackward(planes, side, side, 7, 7, adaptive, dx);

        // Softmax over rows (inner 1) and over channels (inner > 1).
        foreach (bool log in new[] { false, true })
        {
            string name = log ? "LogSoftmax" : "Softmax";
            cases[$"{name} rows"] = () => B.Softmax(log, x, 256, 512, 1, y);
            cases[$"{name} channels"] = () => B.Softmax(log, x, 8, 16, 1024, y);
            cases[$"{name}Backward rows"] = () => B.SoftmaxBackward(log, y, dy, 256, 512, 1, dx);
            cases[$"{name}Backward channels"] = () => B.SoftmaxBackward(log, y, dy, 8, 16, 1024, dx);
        }

        // Normalisation over [8, 16, 1024].
        const int n = 8, c = 16, s = 1024;
        Storage mean = Floats(c, 15), variance = Floats(c, 16), invStd = Floats(c, 17, 0.5f, 2f);
        Storage gamma = Floats(c, 18), beta = Floats(c, 19), dgamma = Floats(c, 20), dbeta = Floats(c, 21);
        cases["BatchNormStatistics"] = () => B.BatchNormStatistics(x, n, c, s, mean, variance);
        cases["BatchNormApply"] = () => B.BatchNormApply(x, n, c, s, mean, invStd, gamma, beta, y);
        cases["BatchNormApply without affine"] = () => B.BatchNormApply(x, n, c, s, mean, invStd, null, null, y);
        cases["BatchNormBackward"] = () => B.BatchNormBackward(x, dy, n, c, s, mean, invStd, gamma, dx, dgamma, dbeta);
        Storage scale = Floats(Big, 22);
        cases["LocalResponseNorm"] = () => B.LocalResponseNorm(positive, n, c, s, 5, 1e-4f, 0.75f, 2f, y, scale);
        cases["LocalResponseNormBackward"] = () =>
            B.LocalResponseNormBackward(positive, y, scale, dy, n, c, s, 5, 1e-4f, 0.75f, dx);

        // Randomness and optimiser updates.
        // The kernel itself: the backend's entry point also draws the seed, which is the generator's business.
        var dropoutMask = new float[Big];
        cases["DropoutMask"] = () => OptimizerKernels.DropoutMask(dropoutMask, 0.5f, 12345UL);
        Storage param = Floats(Big, 23), momentum = Floats(Big, 24), m = Floats(Big, 25), v = Floats(Big, 26, 0f, 1f);
        cases["SgdStep momentum"] = () => B.SgdStep(param, dy, momentum, Big, 1e-3f, 0.9f, 0f, false, 1e-4f, false);
        cases["SgdStep nesterov small"] = () => B.SgdStep(param, dy, momentum, Small, 1e-3f, 0.9f, 0f, true, 0f, false);
        cases["SgdStep plain"] = () => B.SgdStep(param, dy, null, Big, 1e-3f, 0f, 0f, false, 0f, false);
        cases["AdamStep"] = () => B.AdamStep(param, dy, m, v, Big, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, 3);
        cases["AdamStep decoupled"] = () => B.AdamStep(param, dy, m, v, Big, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, true, 3);
        return cases;
    }

    // The dropout mask draws from a copy of Random's seeded generator kept off the heap; the masks must not change.
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-7)]
    [InlineData(123456789)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void SeededRandomDrawsWhatRandomDraws(int seed)
    {
        var expected = new Random(seed);
        var actual = new SeededRandom(seed, stackalloc int[SeededRandom.StateLength]);
        for (int i = 0; i < 10_000; i++) Assert.Equal(expected.NextSingle(), actual.NextSingle());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void AWarmCallAllocatesNothing(string kernel)
    {
        var call = Cases[kernel];
        Assert.Equal(0, Support.Allocations.Least(() =>
        {
            for (int i = 0; i < 5; i++) call();
        }));
    }
}
