namespace Fovea.NN;

// Pooling layers: a window slid over each activation map, reduced by max, average or sum.

/// <summary>Max pooling; stride defaults to the kernel (non-overlapping); kernel 3 stride 2 overlaps as in AlexNet.</summary>
public sealed class MaxPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? dilation = null, bool ceilMode = false) : Module
{
    public Size2 KernelSize { get; } = kernelSize;
    public Size2 Stride { get; } = stride ?? kernelSize;
    public Size2 Padding { get; } = padding ?? 0;
    public Size2 Dilation { get; } = dilation ?? 1;
    public bool CeilMode { get; } = ceilMode;

    public override Tensor Forward(Tensor input) =>
        Functional.MaxPool2d(input, (KernelSize.H, KernelSize.W), (Stride.H, Stride.W), (Padding.H, Padding.W), CeilMode, (Dilation.H, Dilation.W));

    protected override string ExtraRepr => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}, dilation={Dilation}, ceil_mode={CeilMode.ToString().ToLowerInvariant()}";
}

/// <summary>Average pooling, with PyTorch's ceil_mode and count_include_pad.</summary>
public sealed class AvgPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool ceilMode = false, bool countIncludePad = true) : Module
{
    public Size2 KernelSize { get; } = kernelSize;
    public Size2 Stride { get; } = stride ?? kernelSize;
    public Size2 Padding { get; } = padding ?? 0;
    public bool CeilMode { get; } = ceilMode;
    public bool CountIncludePad { get; } = countIncludePad;

    public override Tensor Forward(Tensor input) =>
        Functional.AvgPool2d(input, (KernelSize.H, KernelSize.W), (Stride.H, Stride.W), (Padding.H, Padding.W), CeilMode, CountIncludePad);

    protected override string ExtraRepr => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}";
}

/// <summary>Sum pooling: each window's sum.</summary>
public sealed class SumPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool ceilMode = false) : Module
{
    public Size2 KernelSize { get; } = kernelSize;
    public Size2 Stride { get; } = stride ?? kernelSize;
    public Size2 Padding { get; } = padding ?? 0;
    public bool CeilMode { get; } = ceilMode;

    public override Tensor Forward(Tensor input) =>
        Functional.SumPool2d(input, (KernelSize.H, KernelSize.W), (Stride.H, Stride.W), (Padding.H, Padding.W), CeilMode);

    protected override string ExtraRepr => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}";
}

/// <summary>Average pooling to a fixed output size, whatever the input size (torchvision's AlexNet and VGG use 6x6 and 7x7).</summary>
public sealed class AdaptiveAvgPool2d(Size2 outputSize) : Module
{
    public Size2 OutputSize { get; } = outputSize;

    public override Tensor Forward(Tensor input) => Functional.AdaptiveAvgPool2d(input, (OutputSize.H, OutputSize.W));

    protected override string ExtraRepr => $"output_size={OutputSize}";
}
