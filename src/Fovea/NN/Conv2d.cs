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
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
        PaddingMode = paddingMode;
        // Validate the input-independent hyper-parameters now, with a stand-in input size of 0.
        ConvGeometry.Create(1, inChannels, 0, 0, outChannels, KernelSize.H, KernelSize.W, Stride.H, Stride.W, Padding.H, Padding.W,
            Dilation.H, Dilation.W, groups);
        var w = RegisterParameter("weight", Tensor.Zeros(outChannels, inChannels / groups, KernelSize.H, KernelSize.W))!;
        var b = RegisterParameter("bias", bias ? Tensor.Zeros(outChannels) : null);
        Init.DefaultLayer(w, b, generator);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public Size2 KernelSize { get; }
    public Size2 Stride { get; }
    public Size2 Padding { get; }
    public Size2 Dilation { get; }
    public int Groups { get; }
    public PadMode PaddingMode { get; }

    /// <summary>The algorithm to use; Auto lets the backend pick per input shape.</summary>
    public ConvAlgorithm Algorithm { get; set; } = ConvAlgorithm.Auto;

    public Parameter Weight => GetParameter("weight")!;
    public Parameter? Bias => GetParameter("bias");

    /// <summary>The geometry of this layer for an input of the given size.</summary>
    public ConvGeometry GeometryFor(int batch, int height, int width) =>
        ConvGeometry.Create(batch, InChannels, height, width, OutChannels, KernelSize.H, KernelSize.W, Stride.H, Stride.W,
            Padding.H, Padding.W, Dilation.H, Dilation.W, Groups);

    /// <summary>The algorithm the last forward used (Auto resolved by the backend), or null before any forward.</summary>
    public ConvAlgorithm? ChosenAlgorithm { get; private set; }

    // Made once: it names the layer in the op's errors, and a string built per forward was garbage every step.
    protected string Describe => _describe ??= $"{TypeName}({InChannels}, {OutChannels}, kernel_size={KernelSize})";

    private string? _describe;

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 4 || input.Size(1) != InChannels)
            throw new ArgumentException($"{Describe}: expected input [N, {InChannels}, H, W], got {input.ShapeString}");
        var x = input;
        var pad = (Padding.H, Padding.W, Padding.H, Padding.W);
        if (PaddingMode != PadMode.Zeros && (Padding.H > 0 || Padding.W > 0))
        {
            x = Functional.Pad(x, Padding.W, Padding.W, Padding.H, Padding.H, PaddingMode);
            pad = (0, 0, 0, 0);
        }
        var g = new ConvGeometry
        {
            Batch = x.Size(0),
            InChannels = InChannels,
            InHeight = x.Size(2),
            InWidth = x.Size(3),
            OutChannels = OutChannels,
            KernelHeight = KernelSize.H,
            KernelWidth = KernelSize.W,
            StrideH = Stride.H,
            StrideW = Stride.W,
            PadTop = pad.Item1,
            PadLeft = pad.Item2,
            PadBottom = pad.Item3,
            PadRight = pad.Item4,
            DilationH = Dilation.H,
            DilationW = Dilation.W,
            Groups = Groups,
        };
        try { g.Validate(); }
        catch (ArgumentException e) { throw new ArgumentException($"{Describe}: input {input.ShapeString}: {e.Message}", e); }
        ChosenAlgorithm = Algorithm == ConvAlgorithm.Auto ? x.Device.Backend.ChooseConvAlgorithm(g) : Algorithm;
        return Functional.Conv2d(x, Weight, Bias, (Stride.H, Stride.W), pad, (Dilation.H, Dilation.W), Groups, ChosenAlgorithm.Value, Describe);
    }

    protected override string ExtraRepr =>
        $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}" +
        (Padding != new Size2(0, 0) ? $", padding={Padding}" : "") +
        (Dilation != new Size2(1, 1) ? $", dilation={Dilation}" : "") +
        (Groups != 1 ? $", groups={Groups}" : "") +
        (Bias is null ? ", bias=False" : "") +
        (PaddingMode != PadMode.Zeros ? $", padding_mode={PaddingMode.ToString().ToLowerInvariant()}" : "");
}
