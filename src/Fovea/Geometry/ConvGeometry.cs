namespace Fovea;

/// <summary>
/// Every size of one 2-D convolution (1-D is height 1), computed once and shared by the kernels, the
/// autograd front, <c>fovea summary</c> and the ONNX code. Padding here is zero padding; other modes are a
/// pre-pad step (<see cref="PadGeometry"/>) before a convolution with no padding.
/// </summary>
public readonly record struct ConvGeometry
{
    public int Batch { get; init; }
    public int InChannels { get; init; }
    public int InHeight { get; init; }
    public int InWidth { get; init; }
    public int OutChannels { get; init; }
    public int KernelHeight { get; init; }
    public int KernelWidth { get; init; }
    public int StrideH { get; init; }
    public int StrideW { get; init; }
    public int PadTop { get; init; }
    public int PadLeft { get; init; }
    public int PadBottom { get; init; }
    public int PadRight { get; init; }
    public int DilationH { get; init; }
    public int DilationW { get; init; }
    public int Groups { get; init; }

    /// <summary>Makes and validates a geometry with symmetric padding.</summary>
    public static ConvGeometry Create(int batch, int inChannels, int inHeight, int inWidth, int outChannels,
        int kernelHeight, int kernelWidth, int strideH = 1, int strideW = 1, int padH = 0, int padW = 0,
        int dilationH = 1, int dilationW = 1, int groups = 1) =>
        Create(batch, inChannels, inHeight, inWidth, outChannels, kernelHeight, kernelWidth, (padH, padW, padH, padW),
            strideH, strideW, dilationH, dilationW, groups);

    /// <summary>Makes and validates a geometry padded by its own amount on each side.</summary>
    public static ConvGeometry Create(int batch, int inChannels, int inHeight, int inWidth, int outChannels,
        int kernelHeight, int kernelWidth, (int Top, int Left, int Bottom, int Right) padding, int strideH = 1, int strideW = 1,
        int dilationH = 1, int dilationW = 1, int groups = 1)
    {
        var g = new ConvGeometry
        {
            Batch = batch,
            InChannels = inChannels,
            InHeight = inHeight,
            InWidth = inWidth,
            OutChannels = outChannels,
            KernelHeight = kernelHeight,
            KernelWidth = kernelWidth,
            StrideH = strideH,
            StrideW = strideW,
            PadTop = padding.Top,
            PadLeft = padding.Left,
            PadBottom = padding.Bottom,
            PadRight = padding.Right,
            DilationH = dilationH,
            DilationW = dilationW,
            Groups = groups,
        };
        g.Validate();
        return g;
    }

    /// <summary>Kernel extent once dilated: D·(K−1)+1.</summary>
    public int EffectiveKernelH => DilationH * (KernelHeight - 1) + 1;
    public int EffectiveKernelW => DilationW * (KernelWidth - 1) + 1;

    /// <summary>(D − K + P_before + P_after) / S + 1, with K the dilated extent; 0 when K is longer than the padded input.</summary>
    public int OutHeight => OutSize(InHeight + PadTop + PadBottom - EffectiveKernelH, StrideH);
    public int OutWidth => OutSize(InWidth + PadLeft + PadRight - EffectiveKernelW, StrideW);

    // Windows that fit in a span (padded input less one window) at a stride. C#'s division truncates towards zero, so
    // a span of -2 at stride 3 would give one window where none fits; PyTorch rounds down, to none.
    internal static int OutSize(int span, int stride) => span < 0 ? 0 : span / stride + 1;

    public int InChannelsPerGroup => InChannels / Groups;
    public int OutChannelsPerGroup => OutChannels / Groups;

    /// <summary>Elements of one input image (C·H·W) and of one output image.</summary>
    public int InputImageSize => InChannels * InHeight * InWidth;
    public int OutputImageSize => OutChannels * OutHeight * OutWidth;

    /// <summary>Shape of the weight: [OutChannels, InChannels/Groups, KH, KW].</summary>
    public int[] WeightShape => [OutChannels, InChannelsPerGroup, KernelHeight, KernelWidth];
    public int[] InputShape => [Batch, InChannels, InHeight, InWidth];
    public int[] OutputShape => [Batch, OutChannels, OutHeight, OutWidth];

    /// <summary>Weights (N·M·K·K / groups), without the bias.</summary>
    public long WeightCount => (long)OutChannels * InChannelsPerGroup * KernelHeight * KernelWidth;

    /// <summary>Multiply-adds of the whole batch's forward pass (bias excluded).</summary>
    public long Macs => (long)Batch * OutChannels * OutHeight * OutWidth * InChannelsPerGroup * KernelHeight * KernelWidth;

    /// <summary>True for unit stride and dilation and one group: the shapes Winograd and FFT handle.</summary>
    public bool IsUnitStrideDense => StrideH == 1 && StrideW == 1 && DilationH == 1 && DilationW == 1 && Groups == 1;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad hyper-parameter.</summary>
    public void Validate()
    {
        if (Batch < 0 || InChannels <= 0 || OutChannels <= 0)
            throw new ArgumentException($"convolution needs positive channel counts, got in={InChannels} out={OutChannels}");
        if (KernelHeight <= 0 || KernelWidth <= 0)
            throw new ArgumentException($"kernel size must be positive, got {KernelHeight}x{KernelWidth}");
        if (StrideH <= 0 || StrideW <= 0)
            throw new ArgumentException($"stride must be positive, got {StrideH}x{StrideW}");
        if (DilationH <= 0 || DilationW <= 0)
            throw new ArgumentException($"dilation must be positive, got {DilationH}x{DilationW}");
        if (PadTop < 0 || PadBottom < 0 || PadLeft < 0 || PadRight < 0)
            throw new ArgumentException($"padding must not be negative, got {PadTop},{PadLeft},{PadBottom},{PadRight}");
        if (Groups <= 0 || InChannels % Groups != 0 || OutChannels % Groups != 0)
            throw new ArgumentException($"groups={Groups} must divide both in_channels={InChannels} and out_channels={OutChannels}");
        if (InHeight > 0 && (OutHeight <= 0 || OutWidth <= 0))
            throw new ArgumentException(
                $"input {InHeight}x{InWidth} padded by ({PadTop},{PadLeft},{PadBottom},{PadRight}) is smaller than the dilated kernel {EffectiveKernelH}x{EffectiveKernelW}");
    }
}
