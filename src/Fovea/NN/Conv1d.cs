namespace Fovea.NN;

/// <summary>
/// 1-D convolution over [N, C, L]: the 2-D machinery at height 1. A Conv1d(1, 1, 5) whose five weights are 0.2
/// and bias 0 is a moving average.
/// </summary>
public sealed class Conv1d : Module
{
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1,
        bool bias = true, PadMode paddingMode = PadMode.Zeros, Generator? generator = null)
        : this(inChannels, outChannels, kernelSize, stride, padding, null, dilation, groups, bias, paddingMode, generator)
    {
    }

    /// <summary>A convolution padded by name, as <see cref="Conv2d"/>'s: "same" (stride 1; the odd cell on the right) or "valid".</summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, string padding, int stride = 1, int dilation = 1, int groups = 1,
        bool bias = true, PadMode paddingMode = PadMode.Zeros, Generator? generator = null)
        : this(inChannels, outChannels, kernelSize, stride, 0, Conv2d.PaddingByName(padding, stride), dilation, groups, bias, paddingMode,
            generator)
    {
    }

    private Conv1d(int inChannels, int outChannels, int kernelSize, int stride, int padding, string? paddingName,
        int dilation, int groups, bool bias, PadMode paddingMode, Generator? generator)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        PadSides = paddingName == "same" ? Conv2d.SamePadding(kernelSize, dilation) : (padding, padding);
        Padding = PadSides.Left;
        PaddingName = paddingName;
        Dilation = dilation;
        Groups = groups;
        PaddingMode = paddingMode;
        // Validate the input-independent hyper-parameters now, with a stand-in input size of 0.
        ConvGeometry.Create(1, inChannels, 0, 0, outChannels, 1, kernelSize, (0, PadSides.Left, 0, PadSides.Right), 1, stride, 1, dilation, groups);
        var w = RegisterParameter("weight", Tensor.Zeros(outChannels, inChannels / groups, kernelSize))!;
        var b = RegisterParameter("bias", bias ? Tensor.Zeros(outChannels) : null);
        Init.DefaultLayer(w, b, generator);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }

    /// <summary>Padding on each side, or for "same" padding the left side (the right may take one more).</summary>
    public int Padding { get; }

    /// <summary>"same" or "valid" when the padding was given by name, else null.</summary>
    public string? PaddingName { get; }

    /// <summary>The padding on each side.</summary>
    public (int Left, int Right) PadSides { get; }

    public int Dilation { get; }
    public int Groups { get; }
    public PadMode PaddingMode { get; }

    /// <summary>The geometry of this layer for a signal of the given length: the 2-D one at height 1, as the kernels see it.</summary>
    public ConvGeometry GeometryFor(int batch, int length) => Geometry(batch, length, PadSides);

    // The geometry at a padding: the layer's own, or none once a padding mode has padded the signal already.
    internal ConvGeometry Geometry(int batch, int length, (int Left, int Right) pad) =>
        ConvGeometry.Create(batch, InChannels, 1, length, OutChannels, 1, KernelSize, (0, pad.Left, 0, pad.Right), 1, Stride,
            1, Dilation, Groups);

    /// <summary>The algorithm to use, as <see cref="Conv2d.Algorithm"/>.</summary>
    public ConvAlgorithm Algorithm { get; set; } = ConvAlgorithm.Auto;

    public Parameter Weight => GetParameter("weight")!;
    public Parameter? Bias => GetParameter("bias");

    private string Describe => _describe ??= $"Conv1d({InChannels}, {OutChannels}, kernel_size=({KernelSize},))";

    private string? _describe;

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 3 || input.Size(1) != InChannels)
            throw new ArgumentException($"{Describe}: expected input [N, {InChannels}, L], got {input.ShapeString}");
        var x = input;
        var pad = PadSides;
        if (PaddingMode != PadMode.Zeros && pad != (0, 0))
        {
            x = Functional.Pad(x, pad.Left, pad.Right, 0, 0, PaddingMode);
            pad = (0, 0);
        }
        return Functional.Conv1d(x, Weight, Bias, Stride, pad, Dilation, Groups, Algorithm, Describe);
    }

    protected override string ExtraRepr => $"{InChannels}, {OutChannels}, kernel_size=({KernelSize},), stride=({Stride},)" +
        (PaddingName is not null ? $", padding={PaddingName}" : Padding != 0 ? $", padding=({Padding},)" : "") + (Bias is null ? ", bias=False" : "");
}
