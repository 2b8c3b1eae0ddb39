namespace Fovea.Backends.Cpu;

/// <summary>
/// The <see cref="ScratchPool"/> buffers (their lengths in floats) each convolution pass holds at once, from the same
/// chunking and banding the kernels use, so that a memory estimate follows the kernels rather than a copy of their
/// formulas. Play them through <see cref="ScratchPoolSimulation"/> for what the pool holds over several passes.
/// </summary>
internal static class ConvScratch
{
    /// <summary>The forward pass by <paramref name="algorithm"/> (Auto is resolved as the backend resolves it).</summary>
    public static int[] Forward(in ConvGeometry g, ConvAlgorithm algorithm = ConvAlgorithm.Auto) =>
        Resolve(g, algorithm) switch
        {
            ConvAlgorithm.Winograd => ConvWinograd.Scratch(g),
            ConvAlgorithm.Fft => ConvFft.Scratch(g),
            ConvAlgorithm.Im2colGemm => ConvIm2col.ImageScratch(g),
            _ => ConvDirect.ForwardScratch(g),
        };

    /// <summary>The forward pass of inference, which keeps Winograd's transformed filters instead of lending them (<see cref="KeptFloats"/>).</summary>
    public static int[] Inference(in ConvGeometry g, ConvAlgorithm algorithm = ConvAlgorithm.Auto)
    {
        var chosen = Resolve(g, algorithm, inference: true);
        return chosen == ConvAlgorithm.Winograd ? ConvWinograd.Scratch(g, keepFilters: true) : Forward(g, chosen);
    }

    /// <summary>
    /// Floats an inference forward keeps for the layer's weights from one pass to the next, outside the pool, for
    /// weights <paramref name="frozen"/> or not.
    /// </summary>
    public static long KeptFloats(in ConvGeometry g, ConvAlgorithm algorithm = ConvAlgorithm.Auto, bool frozen = false) =>
        Resolve(g, algorithm, inference: true) == ConvAlgorithm.Winograd ? ConvWinograd.KeptFloats(g, frozen) : 0;

    private static ConvAlgorithm Resolve(in ConvGeometry g, ConvAlgorithm algorithm, bool inference = false) =>
        algorithm == ConvAlgorithm.Auto ? ConvAlgorithmChooser.Choose(g, inference) : algorithm;

    /// <summary>The data-gradient pass.</summary>
    public static int[] BackwardData(in ConvGeometry g) =>
        ConvAlgorithmChooser.ChooseBackwardData(g) switch
        {
            ConvAlgorithm.Direct => ConvDirect.DataScratch(g),
            ConvAlgorithm.Winograd => ConvWinograd.DataScratch(g),
            _ => ConvIm2col.ImageScratch(g),
        };

    /// <summary>The filter-gradient pass.</summary>
    public static int[] BackwardFilter(in ConvGeometry g) =>
        ConvAlgorithmChooser.ChooseBackwardFilter(g) switch
        {
            ConvAlgorithm.Direct => ConvDirect.FilterScratch(g),
            ConvAlgorithm.Winograd => ConvWinograd.FilterScratch(g),
            _ => ConvIm2col.FilterScratch(g),
        };
}
