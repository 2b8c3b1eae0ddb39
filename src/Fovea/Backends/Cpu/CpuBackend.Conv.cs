namespace Fovea.Backends.Cpu;

// Convolution and matrix products: the conv kernels live in Conv/, one algorithm per file.
public sealed partial class CpuBackend
{
    public void Gemm(bool transA, bool transB, int batch, int m, int n, int k,
        Storage a, int aOffset, int lda, int strideA,
        Storage b, int bOffset, int ldb, int strideB,
        float beta, Storage c, int cOffset, int ldc, int strideC)
    {
        float[] fa = F(a), fb = F(b), fc = F(c);
        // One row times a whole frozen weight matrix stored [n, k]: a linear layer's forward at batch 1.
        if (batch == 1 && m == 1 && !transA && transB && b.Frozen && bOffset == 0 && ldb == k && fb.Length == (long)n * k
            && Cpu.Gemm.KeepsRows(n, k) && aOffset + k <= fa.Length && cOffset + n <= fc.Length)
        {
            unsafe
            {
                fixed (float* pa = &fa[aOffset], pc = &fc[cOffset]) Cpu.Gemm.FrozenRow(n, k, pa, fb, beta, pc);
            }
            return;
        }
        for (int i = 0; i < batch; i++)
            Cpu.Gemm.Sgemm(transA, transB, m, n, k, fa.AsSpan(aOffset + i * strideA), lda, fb.AsSpan(bOffset + i * strideB), ldb,
                beta, fc.AsSpan(cOffset + i * strideC), ldc);
    }

    // x [N, C, H, W], w [O, C/groups, KH, KW], bias [O] or null → y [N, O, OH, OW]; relu: max(y, 0), fused where the
    // kernel can; inference: Winograd keeps its transformed filters for the next call with equal weights (or, frozen,
    // with the same weights array)
    public void Conv2d(in ConvGeometry g, ConvAlgorithm algorithm, Storage x, Storage w, Storage? bias, Storage y, bool relu = false, bool inference = false)
    {
        var chosen = algorithm == ConvAlgorithm.Auto ? ConvAlgorithmChooser.Choose(g, inference) : algorithm;
        ConvAlgorithmChooser.EnsureSupported(chosen, g);
        float[] fx = F(x), fw = F(w), fy = F(y);
        float[]? fb = bias is null ? null : F(bias);
        CheckConvBuffers(g, fx, fw, fb, fy);
        switch (chosen)
        {
            case ConvAlgorithm.Direct: ConvDirect.Forward(g, fx, fw, fb, fy, relu); return;
            case ConvAlgorithm.Fft: ConvFft.Forward(g, fx, fw, fb, fy); break;
            case ConvAlgorithm.Winograd: ConvWinograd.Forward(g, fx, fw, fb, fy, keepFilters: inference, relu, w.Frozen); return;
            default: ConvIm2col.Forward(g, fx, fw, fb, fy); break;
        }
        if (relu) ReluInPlace(fy, g.Batch * g.OutputImageSize);
    }

    /// <summary>y = max(y, 0) over its first n floats, for a convolution whose kernel does not fuse the ReLU.</summary>
    internal static void ReluInPlace(float[] y, long n) =>
        CpuParallel.ForChunks(checked((int)n), UnaryKernels.WorkPerElement, new UnaryChunks(UnaryOp.Relu, y, y, 0f));

    // dy [N, O, OH, OW], w [O, C/groups, KH, KW] → dx [N, C, H, W]
    public void Conv2dBackwardData(in ConvGeometry g, Storage dy, Storage w, Storage dx)
    {
        float[] fdy = F(dy), fw = F(w), fdx = F(dx);
        CheckConvBuffers(g, fdx, fw, null, fdy);
        switch (ConvAlgorithmChooser.ChooseBackwardData(g))
        {
            case ConvAlgorithm.Direct: ConvDirect.BackwardData(g, fdy, fw, fdx); break;
            case ConvAlgorithm.Winograd: ConvWinograd.BackwardData(g, fdy, fw, fdx); break;
            default: ConvIm2col.BackwardData(g, fdy, fw, fdx); break;
        }
    }

    // x [N, C, H, W], dy [N, O, OH, OW] → dw [O, C/groups, KH, KW], db [O] when given
    public void Conv2dBackwardFilter(in ConvGeometry g, Storage x, Storage dy, Storage dw, Storage? dbias)
    {
        float[] fx = F(x), fdy = F(dy), fdw = F(dw);
        float[]? fdb = dbias is null ? null : F(dbias);
        CheckConvBuffers(g, fx, fdw, fdb, fdy);
        switch (ConvAlgorithmChooser.ChooseBackwardFilter(g))
        {
            case ConvAlgorithm.Direct: ConvDirect.BackwardFilter(g, fx, fdy, fdw, fdb); break;
            case ConvAlgorithm.Winograd: ConvWinograd.BackwardFilter(g, fx, fdy, fdw, fdb); break;
            default: ConvIm2col.BackwardFilter(g, fx, fdy, fdw, fdb); break;
        }
    }

    public ConvAlgorithm ChooseConvAlgorithm(in ConvGeometry g, bool inference = false) => ConvAlgorithmChooser.Choose(g, inference);

    private static void CheckConvBuffers(in ConvGeometry g, float[] x, float[] w, float[]? b, float[] y)
    {
        if (x.Length < (long)g.Batch * g.InputImageSize || w.Length < g.WeightCount || y.Length < (long)g.Batch * g.OutputImageSize
            || (b is not null && b.Length < g.OutChannels))
            throw new ArgumentException(
                $"convolution buffers too small for input [{string.Join(",", g.InputShape)}], weight [{string.Join(",", g.WeightShape)}], output [{string.Join(",", g.OutputShape)}]");
    }
}
