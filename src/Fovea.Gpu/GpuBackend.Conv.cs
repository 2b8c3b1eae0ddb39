using ILGPU;
using ILGPU.Runtime;
using Fovea.Gpu.Kernels;

namespace Fovea.Gpu;

// Matrix products and convolutions: one tiled shared-memory kernel (Kernels/TiledGemm.cs) with different operands —
// dense matrices for GEMM, on-the-fly patch addressing (Kernels/ConvOperands.cs) for the three convolutions.
public sealed partial class GpuBackend
{
    private Action<KernelConfig, DenseLeft, DenseRight, DenseOutput, int, int, int>? _gemm;
    private Action<KernelConfig, ConvWeightRows, ConvPatches, ConvOutput, int, int, int>? _convForward;
    private Action<KernelConfig, ConvWeightColumns, ConvGradientTaps, ConvInputGradient, int, int, int>? _convData;
    private Action<KernelConfig, ConvGradientRows, ConvPatchesTransposed, ConvWeightGradient, int, int, int>? _convFilter;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int>? _channelSum;

    /// <summary>The launch shape of an m x n product over <paramref name="batch"/> matrices: one group per output tile.</summary>
    private KernelConfig Tiles(int m, int n, int batch) => new(
        new Index3D((n + Tile - 1) / Tile, (m + Tile - 1) / Tile, batch), new Index3D(Tile, Tile, 1),
        SharedMemoryConfig.RequestDynamic<float>(2 * Tile * Tile));

    public void Gemm(bool transA, bool transB, int batch, int m, int n, int k,
        Storage a, int aOffset, int lda, int strideA,
        Storage b, int bOffset, int ldb, int strideB,
        float beta, Storage c, int cOffset, int ldc, int strideC)
    {
        if (batch * m * n == 0) return;
        var left = new DenseLeft { Data = F(a), Offset = aOffset, Ld = lda, BatchStride = strideA, Transposed = transA ? 1 : 0 };
        var right = new DenseRight { Data = F(b), Offset = bOffset, Ld = ldb, BatchStride = strideB, Transposed = transB ? 1 : 0 };
        var output = new DenseOutput { Data = F(c), Offset = cOffset, Ld = ldc, BatchStride = strideC, Beta = beta };
        Kernel(ref _gemm, acc => acc.LoadStreamKernel<DenseLeft, DenseRight, DenseOutput, int, int, int>(TiledGemm.Kernel))(
            Tiles(m, n, batch), left, right, output, m, n, k);
    }

    // x [N, C, H, W], w [O, C/groups, KH, KW], bias [O] or null → y [N, O, OH, OW]. Every algorithm is the implicit GEMM here.
    public void Conv2d(in ConvGeometry g, ConvAlgorithm algorithm, Storage x, Storage w, Storage? bias, Storage y)
    {
        g.Validate();
        var s = ConvShape.From(g);
        if (s.N * s.OH * s.OW == 0) return;
        Kernel(ref _convForward, a => a.LoadStreamKernel<ConvWeightRows, ConvPatches, ConvOutput, int, int, int>(TiledGemm.Kernel))(
            Tiles(s.Og, s.N * s.OH * s.OW, s.Groups),
            new ConvWeightRows { W = F(w), S = s }, new ConvPatches { X = F(x), S = s },
            new ConvOutput { Y = F(y), Bias = FOrDummy(bias), S = s, HasBias = bias is null ? 0 : 1 },
            s.Og, s.N * s.OH * s.OW, s.Taps);
    }

    // dy [N, O, OH, OW], w [O, C/groups, KH, KW] → dx [N, C, H, W]
    public void Conv2dBackwardData(in ConvGeometry g, Storage dy, Storage w, Storage dx)
    {
        g.Validate();
        var s = ConvShape.From(g);
        if (s.N * s.H * s.W == 0) return;
        Kernel(ref _convData, a => a.LoadStreamKernel<ConvWeightColumns, ConvGradientTaps, ConvInputGradient, int, int, int>(TiledGemm.Kernel))(
            Tiles(s.Cg, s.N * s.H * s.W, s.Groups),
            new ConvWeightColumns { W = F(w), S = s }, new ConvGradientTaps { Dy = F(dy), S = s }, new ConvInputGradient { Dx = F(dx), S = s },
            s.Cg, s.N * s.H * s.W, s.Og * s.KH * s.KW);
    }

    // x [N, C, H, W], dy [N, O, OH, OW] → dw [O, C/groups, KH, KW], db [O] when given
    public void Conv2dBackwardFilter(in ConvGeometry g, Storage x, Storage dy, Storage dw, Storage? dbias)
    {
        g.Validate();
        var s = ConvShape.From(g);
        Kernel(ref _convFilter, a => a.LoadStreamKernel<ConvGradientRows, ConvPatchesTransposed, ConvWeightGradient, int, int, int>(TiledGemm.Kernel))(
            Tiles(s.Og, s.Taps, s.Groups),
            new ConvGradientRows { Dy = F(dy), S = s }, new ConvPatchesTransposed { X = F(x), S = s }, new ConvWeightGradient { Dw = F(dw), S = s },
            s.Og, s.Taps, s.N * s.OH * s.OW);
        if (dbias is not null) ChannelSum(dy, s.N, s.O, s.OH * s.OW, dbias);
    }

    /// <summary>The GPU computes every convolution as an implicit GEMM.</summary>
    public ConvAlgorithm ChooseConvAlgorithm(in ConvGeometry g) => ConvAlgorithm.Im2colGemm;

    // x [N, C, S] → sums [C]
    private void ChannelSum(Storage x, int n, int c, int s, Storage sums) =>
        Kernel(ref _channelSum, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int>(BatchNormKernels.ChannelSum))(
            new KernelConfig(c, ReduceGroup), F(x), F(sums), n, c, s);
}
