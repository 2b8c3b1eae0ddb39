namespace Fovea.NN;

/// <summary>
/// 1-D convolution over [N, C, L]: the 2-D machinery at height 1. A Conv1d(1, 1, 5) whose five weights are 0.2
/// and bias 0 is a moving average.
/// </summary>
public sealed class Conv1d : Module
{
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1,
        bool bias = true, PadMode paddingMode = PadMode.Zeros, Generator? generator = null)
    {
        ConvGeometry.Create(1, inChannels, 0, 0, outChannels, 1, kernelSize, 1, stride, 0, padding, 1, dilation, groups);
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        PaddingMode = paddingMode;
        var w = RegisterParameter("weight", Tensor.Zeros(outChannels, inChannels / groups, kernelSize))!;
        var b = RegisterParameter("bias", bias ? Tensor.Zeros(outChannels) : null);
        Init.DefaultLayer(w, b, generator);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public PadMode PaddingMode { get; }

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
        int pad = Padding;
        if (PaddingMode != PadMode.Zeros && Padding > 0)
        {
            x = Functional.Pad(x, Padding, Padding, 0, 0, PaddingMode);
            pad = 0;
        }
        return Functional.Conv1d(x, Weight, Bias, Stride, (pad, pad), Dilation, Groups, Algorithm, Describe);
    }

    protected override string ExtraRepr => $"{InChannels}, {OutChannels}, kernel_size=({KernelSize},), stride=({Stride},)" +
        (Padding != 0 ? $", padding=({Padding},)" : "") + (Bias is null ? ", bias=False" : "");
}
