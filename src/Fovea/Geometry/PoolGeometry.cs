namespace Fovea;

/// <summary>Sizes of one 2-D pooling (1-D is height 1): window, stride, zero padding, ceil mode, as PyTorch defines them.</summary>
public readonly record struct PoolGeometry
{
    public int Batch { get; init; }
    public int Channels { get; init; }
    public int InHeight { get; init; }
    public int InWidth { get; init; }
    public int KernelHeight { get; init; }
    public int KernelWidth { get; init; }
    public int StrideH { get; init; }
    public int StrideW { get; init; }
    public int PadH { get; init; }
    public int PadW { get; init; }
    public int DilationH { get; init; }
    public int DilationW { get; init; }
    public bool CeilMode { get; init; }

    /// <summary>Average pooling: count padded cells in the divisor (PyTorch's default true).</summary>
    public bool CountIncludePad { get; init; }

    public static PoolGeometry Create(int batch, int channels, int inHeight, int inWidth, int kernelHeight, int kernelWidth,
        int strideH, int strideW, int padH = 0, int padW = 0, bool ceilMode = false, bool countIncludePad = true,
        int dilationH = 1, int dilationW = 1)
    {
        var g = new PoolGeometry
        {
            Batch = batch,
            Channels = channels,
            InHeight = inHeight,
            InWidth = inWidth,
            KernelHeight = kernelHeight,
            KernelWidth = kernelWidth,
            StrideH = strideH,
            StrideW = strideW,
            PadH = padH,
            PadW = padW,
            CeilMode = ceilMode,
            CountIncludePad = countIncludePad,
            DilationH = dilationH,
            DilationW = dilationW,
        };
        g.Validate();
        return g;
    }

    public int OutHeight => OutSize(InHeight, KernelHeight, StrideH, PadH, DilationH, CeilMode);
    public int OutWidth => OutSize(InWidth, KernelWidth, StrideW, PadW, DilationW, CeilMode);
    public int[] InputShape => [Batch, Channels, InHeight, InWidth];
    public int[] OutputShape => [Batch, Channels, OutHeight, OutWidth];

    /// <summary>
    /// PyTorch's pooling output size: with ceil mode, the last window must start inside the input or left padding;
    /// 0 when no window fits.
    /// </summary>
    public static int OutSize(int input, int kernel, int stride, int pad, int dilation, bool ceil)
    {
        // Ceil mode rounds the count of whole strides up, which is rounding down after adding stride - 1.
        int o = ConvGeometry.OutSize(input + 2 * pad - dilation * (kernel - 1) - 1 + (ceil ? stride - 1 : 0), stride);
        if (ceil && o > 0 && (o - 1) * stride >= input + pad) o--;
        return o;
    }

    public void Validate()
    {
        if (KernelHeight <= 0 || KernelWidth <= 0)
            throw new ArgumentException($"pooling kernel must be positive, got {KernelHeight}x{KernelWidth}");
        if (StrideH <= 0 || StrideW <= 0)
            throw new ArgumentException($"pooling stride must be positive, got {StrideH}x{StrideW}");
        if (PadH < 0 || PadW < 0 || 2 * PadH > KernelHeight || 2 * PadW > KernelWidth)
            throw new ArgumentException($"pooling padding must be between 0 and half the kernel, got {PadH}x{PadW} for kernel {KernelHeight}x{KernelWidth}");
        if (InHeight > 0 && (OutHeight <= 0 || OutWidth <= 0))
            throw new ArgumentException($"input {InHeight}x{InWidth} is smaller than the pooling window {KernelHeight}x{KernelWidth}");
    }
}
