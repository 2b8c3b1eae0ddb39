namespace Fovea.Backends.Cpu;

/// <summary>
/// The <see cref="ScratchPool"/> floats each convolution pass holds at once, from the same chunking and banding the
/// kernels use, so that a memory estimate follows the kernels rather than a copy of their formulas.
/// </summary>
internal static class ConvScratch
{
    /// <summary>The forward pass by <paramref name="algorithm"/> (Auto is resolved as the backend resolves it).</summary>
    public static long ForwardFloats(in ConvGeometry g, ConvAlgorithm algorithm = ConvAlgorithm.Auto) =>
        (algorithm == ConvAlgorithm.Auto ? ConvAlgorithmChooser.Choose(g) : algorithm) switch
        {
            ConvAlgorithm.Winograd => ConvWinograd.ScratchFloats(g),
            ConvAlgorithm.Fft => ConvFft.ScratchFloats(g),
            ConvAlgorithm.Im2colGemm => ConvIm2col.ImageScratchFloats(g),
            _ => 0,
        };

    /// <summary>The data-gradient pass.</summary>
    public static long BackwardDataFloats(in ConvGeometry g) =>
        ConvAlgorithmChooser.ChooseBackward(g) == ConvAlgorithm.Im2colGemm ? ConvIm2col.ImageScratchFloats(g) : 0;

    /// <summary>The filter-gradient pass.</summary>
    public static long BackwardFilterFloats(in ConvGeometry g) =>
        ConvAlgorithmChooser.ChooseBackward(g) == ConvAlgorithm.Im2colGemm ? ConvIm2col.FilterScratchFloats(g) : 0;
}
