using Fovea.Autograd;

namespace Fovea.NN;

/// <summary>
/// 2-D convolution: OutChannels filters, each spanning InChannels/Groups input channels, making one activation map
/// each. Padding modes other than zeros are a pre-pad step; <see cref="Algorithm"/> chooses direct, im2col + GEMM,
/// FFT or Winograd (Auto: the backend's choice for the shape, see <see cref="ChosenAlgorithm"/>).
/// </summary>
public class Conv2d : Module
{
    public Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null,
        Size2? dilation = null, int groups = 1, bool bias = true, PadMode paddingMode = PadMode.Zeros, Generator? generator = null)
        : this(inChannels, outChannels, kernelSize, stride ?? 1, padding ?? 0, null, dilation ?? 1, groups, bias, paddingMode, generator)
    {
    }

    /// <summary>
    /// A convolution padded by name, as PyTorch's <c>padding='same'</c> and <c>'valid'</c>: "same" pads so that at stride 1 the
    /// output is as large as the input, D·(K−1) in all on each axis, the odd one after (bottom, right); "valid" pads nothing.
    /// </summary>
    public Conv2d(int inChannels, int outChannels, Size2 kernelSize, string padding, Size2? stride = null, Size2? dilation = null,
        int groups = 1, bool bias = true, PadMode paddingMode = PadMode.Zeros, Generator? generator = null)
        : this(inChannels, outChannels, kernelSize, stride ?? 1, 0, PaddingByName(padding, stride ?? 1), dilation ?? 1, groups, bias,
            paddingMode, generator)
    {
    }

    private Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2 stride, Size2 padding, string? paddingName, Size2 dilation,
        int groups, bool bias, PadMode paddingMode, Generator? generator)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Dilation = dilation;
        Groups = groups;
        PaddingMode = paddingMode;
        PaddingName = paddingName;
        if (paddingName == "same")
        {
            var (top, bottom) = SamePadding(kernelSize.H, dilation.H);
            var (left, right) = SamePadding(kernelSize.W, dilation.W);
            PadSides = (top, left, bottom, right);
        }
        else PadSides = (padding.H, padding.W, padding.H, padding.W);
        Padding = (PadSides.Top, PadSides.Left);
        // Validate the input-independent hyper-parameters now, with a stand-in input size of 0.
        GeometryFor(1, 0, 0);
        var w = RegisterParameter("weight", Tensor.Zeros(outChannels, inChannels / groups, KernelSize.H, KernelSize.W))!;
        var b = RegisterParameter("bias", bias ? Tensor.Zeros(outChannels) : null);
        Init.DefaultLayer(w, b, generator);
    }

    // "same" on one axis: the dilated kernel's extent less one in all, the odd cell after, as PyTorch splits it.
    internal static (int Before, int After) SamePadding(int kernel, int dilation)
    {
        int total = dilation * (kernel - 1);
        return (total / 2, total - total / 2);
    }

    // PyTorch's names for a padding: "same" (only at stride 1, where it is defined) and "valid".
    internal static string PaddingByName(string padding, Size2 stride) => padding switch
    {
        "valid" => padding,
        "same" when stride == new Size2(1, 1) => padding,
        "same" => throw new ArgumentException($"padding 'same' needs stride 1, got stride {stride}"),
        _ => throw new ArgumentException($"padding '{padding}' is not a padding name: expected 'same' or 'valid', or a number"),
    };

    public int InChannels { get; }
    public int OutChannels { get; }
    public Size2 KernelSize { get; }
    public Size2 Stride { get; }

    /// <summary>Padding on each side, or for "same" padding the top and left sides (the bottom and right may take one more).</summary>
    public Size2 Padding { get; }

    /// <summary>"same" or "valid" when the padding was given by name, else null.</summary>
    public string? PaddingName { get; }

    /// <summary>The padding on each side: top, left, bottom, right.</summary>
    public (int Top, int Left, int Bottom, int Right) PadSides { get; }

    /// <summary>Whether any side is padded.</summary>
    public bool Padded => PadSides != (0, 0, 0, 0);

    public Size2 Dilation { get; }
    public int Groups { get; }
    public PadMode PaddingMode { get; }

    /// <summary>The algorithm to use; Auto lets the backend pick per input shape.</summary>
    public ConvAlgorithm Algorithm { get; set; } = ConvAlgorithm.Auto;

    public Parameter Weight => GetParameter("weight")!;
    public Parameter? Bias => GetParameter("bias");

    /// <summary>The geometry of this layer for an input of the given size.</summary>
    public ConvGeometry GeometryFor(int batch, int height, int width) => Geometry(batch, height, width, PadSides);

    // The geometry at a padding: the layer's own, or none once a padding mode has padded the input already.
    internal ConvGeometry Geometry(int batch, int height, int width, (int Top, int Left, int Bottom, int Right) pad) =>
        ConvGeometry.Create(batch, InChannels, height, width, OutChannels, KernelSize.H, KernelSize.W, pad, Stride.H, Stride.W,
            Dilation.H, Dilation.W, Groups);

    /// <summary>The algorithm the last forward used (Auto resolved by the backend), or null before any forward.</summary>
    public ConvAlgorithm? ChosenAlgorithm { get; private set; }

    // Made once: it names the layer in the op's errors, and a string built per forward was garbage every step.
    protected string Describe => _describe ??= $"{TypeName}({InChannels}, {OutChannels}, kernel_size={KernelSize})";

    private string? _describe;

    public override Tensor Forward(Tensor input) => Forward(input, relu: false);

    /// <summary>
    /// This layer and the ReLU after it in one, for <see cref="Sequential"/>: fused into the convolution when no
    /// gradient is recorded (<see cref="RecordsGradient"/>).
    /// </summary>
    internal Tensor ForwardRelu(Tensor input) => Forward(input, relu: true);

    /// <summary>Whether a forward of x records a gradient (GradMode on, and x or a parameter wanting one).</summary>
    internal bool RecordsGradient(Tensor x) => Recorder.Needs(x) || Recorder.Needs(Weight) || Bias is { } b && Recorder.Needs(b);

    private Tensor Forward(Tensor input, bool relu)
    {
        if (input.Rank != 4 || input.Size(1) != InChannels)
            throw new ArgumentException($"{Describe}: expected input [N, {InChannels}, H, W], got {input.ShapeString}");
        var x = input;
        var pad = PadSides;
        if (PaddingMode != PadMode.Zeros && Padded)
        {
            x = Functional.Pad(x, pad.Left, pad.Right, pad.Top, pad.Bottom, PaddingMode);
            pad = (0, 0, 0, 0);
        }
        ConvGeometry g;
        try { g = Geometry(x.Size(0), x.Size(2), x.Size(3), pad); }
        catch (ArgumentException e) { throw new ArgumentException($"{Describe}: input {input.ShapeString}: {e.Message}", e); }
        ChosenAlgorithm = Algorithm == ConvAlgorithm.Auto ? x.Device.Backend.ChooseConvAlgorithm(g, inference: !RecordsGradient(x)) : Algorithm;
        return Functional.Conv2d(x, Weight, Bias, (Stride.H, Stride.W), pad, (Dilation.H, Dilation.W), Groups, ChosenAlgorithm.Value, Describe, relu);
    }

    protected override string ExtraRepr =>
        $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}" +
        (PaddingName is not null ? $", padding={PaddingName}" : Padding != new Size2(0, 0) ? $", padding={Padding}" : "") +
        (Dilation != new Size2(1, 1) ? $", dilation={Dilation}" : "") +
        (Groups != 1 ? $", groups={Groups}" : "") +
        (Bias is null ? ", bias=False" : "") +
        (PaddingMode != PadMode.Zeros ? $", padding_mode={PaddingMode.ToString().ToLowerInvariant()}" : "");
}
