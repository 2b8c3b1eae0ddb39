using ILGPU;
using ILGPU.Runtime;
using Fovea.Gpu.Kernels;

namespace Fovea.Gpu;

// Matrix products and convolutions: one register-tiled shared-memory kernel (Kernels/TiledGemm.cs) with different
// operands — dense matrices for GEMM, on-the-fly patch addressing (Kernels/ConvOperands.cs) for the three convolutions.
public sealed partial class GpuBackend
{
    // Each split of k sums at least this many steps of Tile, so its partial sum pays for the atomic adds.
    private const int MinSplitSteps = 8;

    private Action<KernelConfig, DenseLeft, DenseRight, DenseOutput, int, int, int, int, int>? _gemm;
    private Action<KernelConfig, ConvWeightRows, ConvPatches, ConvOutput, int, int, int, int, int>? _convForward;
    private Action<KernelConfig, ConvWeightColumns, ConvGradientTaps, ConvInputGradient, int, int, int, int, int>? _convData;
    private Action<KernelConfig, ConvGradientRows, ConvPatchesTransposed, ConvWeightGradient, int, int, int, int, int>? _convFilter;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int>? _channelSum;

    /// <summary>
    /// Thread groups a product should launch to fill the device: one with fewer output blocks splits its k into
    /// ranges summed apart (0: never split).
    /// </summary>
    internal int SplitTarget { get; set; }

    /// <summary>How an m x n x k product over <paramref name="batch"/> matrices is launched: a group per output block, times the splits of k.</summary>
    internal (KernelConfig Config, int Splits, int KChunk) Plan(int m, int n, int k, int batch, bool canSplit)
    {
        int side = TiledGemm.PerThread * Tile, across = (n + side - 1) / side, down = (m + side - 1) / side;
        long blocks = (long)across * down * batch;
        int splits = 1;
        if (canSplit && blocks < SplitTarget)
            splits = (int)Math.Clamp(SplitTarget / blocks, 1, Math.Max(1, k / (Tile * MinSplitSteps)));
        // Whole steps of Tile per split; rounding up can leave fewer splits than asked.
        int kChunk = Math.Max(Tile, ((k + splits - 1) / splits + Tile - 1) / Tile * Tile);
        splits = Math.Max(1, (k + kChunk - 1) / kChunk);
        var config = new KernelConfig(new Index3D(across, down, batch * splits), new Index3D(Tile, Tile, 1),
            SharedMemoryConfig.RequestDynamic<float>(TiledGemm.SharedFloats(Tile)));
        return (config, splits, kChunk);
    }

    public void Gemm(bool transA, bool transB, int batch, int m, int n, int k,
        Storage a, int aOffset, int lda, int strideA,
        Storage b, int bOffset, int ldb, int strideB,
        float beta, Storage c, int cOffset, int ldc, int strideC)
    {
        if (batch * m * n == 0) return;
        var left = new DenseLeft { Data = F(a), Offset = aOffset, Ld = lda, BatchStride = strideA, Transposed = transA ? 1 : 0 };
        var right = new DenseRight { Data = F(b), Offset = bOffset, Ld = ldb, BatchStride = strideB, Transposed = transB ? 1 : 0 };
        var output = new DenseOutput { Data = F(c), Offset = cOffset, Ld = ldc, BatchStride = strideC, Beta = beta };
        // Splits add into C, which must be one contiguous range to be cleared first, and must not be kept (beta = 0).
        bool contiguous = ldc == n && (batch == 1 || strideC == m * n);
        var (config, splits, kChunk) = Plan(m, n, k, batch, beta == 0f && contiguous);
        if (splits > 1) F(c).SubView(cOffset, (long)batch * m * n).MemSetToZero(Stream);
        Kernel(ref _gemm, LoadProduct<DenseLeft, DenseRight, int, DenseOutput>)(
            config, left, right, output, m, n, k, splits, kChunk);
    }

    // x [N, C, H, W], w [O, C/groups, KH, KW], bias [O] or null → y [N, O, OH, OW]. Every algorithm is the implicit GEMM here.
    public void Conv2d(in ConvGeometry g, ConvAlgorithm algorithm, Storage x, Storage w, Storage? bias, Storage y, bool relu = false, bool inference = false)
    {
        g.Validate();
        var s = ConvShape.From(g);
        int cells = s.N * s.OH * s.OW;
        if (cells == 0) return;
        var (config, splits, kChunk) = Plan(s.Og, cells, s.Taps, s.Groups, canSplit: true);
        if (splits > 1)
        {
            // The splits add their sums to y, which starts as the bias broadcast over images and positions.
            if (bias is null) F(y).SubView(0, (long)s.O * cells).MemSetToZero(Stream);
            else CopyStrided(bias, 0, [s.N, s.O, s.OH * s.OW], [0, 1, 0], y, 0);
        }
        Kernel(ref _convForward, LoadProduct<ConvWeightRows, ConvPatches, PatchColumn, ConvOutput>)(
            config, new ConvWeightRows { W = F(w), S = s }, new ConvPatches { X = F(x), S = s },
            new ConvOutput { Y = F(y), Bias = FOrDummy(bias), S = s, HasBias = bias is null ? 0 : 1 },
            s.Og, cells, s.Taps, splits, kChunk);
        // Split sums are only whole once every split has added its part, so the ReLU is a pass of its own here.
        if (relu) Unary(UnaryOp.Relu, y, y, s.O * cells, 0f);
    }

    // dy [N, O, OH, OW], w [O, C/groups, KH, KW] → dx [N, C, H, W]
    public void Conv2dBackwardData(in ConvGeometry g, Storage dy, Storage w, Storage dx)
    {
        g.Validate();
        var s = ConvShape.From(g);
        int cells = s.N * s.H * s.W;
        if (cells == 0) return;
        var (config, splits, kChunk) = Plan(s.Cg, cells, s.Og * s.KH * s.KW, s.Groups, canSplit: true);
        if (splits > 1) F(dx).SubView(0, (long)s.C * cells).MemSetToZero(Stream);
        Kernel(ref _convData, LoadProduct<ConvWeightColumns, ConvGradientTaps, InputCell, ConvInputGradient>)(
            config, new ConvWeightColumns { W = F(w), S = s }, new ConvGradientTaps { Dy = F(dy), S = s }, new ConvInputGradient { Dx = F(dx), S = s },
            s.Cg, cells, s.Og * s.KH * s.KW, splits, kChunk);
    }

    // x [N, C, H, W], dy [N, O, OH, OW] → dw [O, C/groups, KH, KW], db [O] when given
    public void Conv2dBackwardFilter(in ConvGeometry g, Storage x, Storage dy, Storage dw, Storage? dbias)
    {
        g.Validate();
        var s = ConvShape.From(g);
        // Few outputs (O x Cg·KH·KW) and a long sum (N·OH·OW): the case splitting k is for.
        var (config, splits, kChunk) = Plan(s.Og, s.Taps, s.N * s.OH * s.OW, s.Groups, canSplit: true);
        if (splits > 1) F(dw).SubView(0, (long)s.O * s.Taps).MemSetToZero(Stream);
        Kernel(ref _convFilter, LoadProduct<ConvGradientRows, ConvPatchesTransposed, PatchTap, ConvWeightGradient>)(
            config, new ConvGradientRows { Dy = F(dy), S = s }, new ConvPatchesTransposed { X = F(x), S = s }, new ConvWeightGradient { Dw = F(dw), S = s },
            s.Og, s.Taps, s.N * s.OH * s.OW, splits, kChunk);
        if (dbias is not null) ChannelSum(dy, s.N, s.O, s.OH * s.OW, dbias);
    }

    // The product kernel compiled for this backend's tile side (a type argument, so that T is a constant in it).
    private Action<KernelConfig, TA, TB, TC, int, int, int, int, int> LoadProduct<TA, TB, TColumn, TC>(Accelerator accelerator)
        where TA : struct, ILeftOperand where TB : struct, IRightOperand<TColumn> where TColumn : struct where TC : struct, IGemmOutput =>
        Tile switch
        {
            16 => accelerator.LoadStreamKernel<TA, TB, TC, int, int, int, int, int>(TiledGemm.Kernel<Side16, TA, TB, TColumn, TC>),
            4 => accelerator.LoadStreamKernel<TA, TB, TC, int, int, int, int, int>(TiledGemm.Kernel<Side4, TA, TB, TColumn, TC>),
            _ => accelerator.LoadStreamKernel<TA, TB, TC, int, int, int, int, int>(TiledGemm.Kernel<Side1, TA, TB, TColumn, TC>),
        };

    /// <summary>The GPU computes every convolution as an implicit GEMM.</summary>
    public ConvAlgorithm ChooseConvAlgorithm(in ConvGeometry g, bool inference = false) => ConvAlgorithm.Im2colGemm;

    // x [N, C, S] → sums [C]
    private void ChannelSum(Storage x, int n, int c, int s, Storage sums) =>
        Kernel(ref _channelSum, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int>(BatchNormKernels.ChannelSum))(
            new KernelConfig(c, ReduceGroup), F(x), F(sums), n, c, s);
}
