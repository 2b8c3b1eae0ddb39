namespace Fovea.Backends.Cpu;

// Convolution and matrix products. (Being written: packed GEMM and the conv algorithms.)
public sealed partial class CpuBackend
{
    public void Gemm(bool transA, bool transB, int batch, int m, int n, int k,
        Storage a, int aOffset, int lda, int strideA,
        Storage b, int bOffset, int ldb, int strideB,
        float beta, Storage c, int cOffset, int ldc, int strideC)
    {
        float[] fa = F(a), fb = F(b), fc = F(c);
        for (int i = 0; i < batch; i++)
            Cpu.Gemm.Sgemm(transA, transB, m, n, k, fa.AsSpan(aOffset + i * strideA), lda, fb.AsSpan(bOffset + i * strideB), ldb,
                beta, fc.AsSpan(cOffset + i * strideC), ldc);
    }

    public void Conv2d(in ConvGeometry g, ConvAlgorithm algorithm, Storage x, Storage w, Storage? bias, Storage y) => throw new NotImplementedException();
    public void Conv2dBackwardData(in ConvGeometry g, Storage dy, Storage w, Storage dx) => throw new NotImplementedException();
    public void Conv2dBackwardFilter(in ConvGeometry g, Storage x, Storage dy, Storage dw, Storage? dbias) => throw new NotImplementedException();
    public ConvAlgorithm ChooseConvAlgorithm(in ConvGeometry g) => ConvAlgorithm.Im2colGemm;
}
