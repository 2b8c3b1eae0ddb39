namespace Fovea.Backends.Cpu;

/// <summary>
/// Picks the CPU convolution algorithm per shape (what <see cref="ConvAlgorithm.Auto"/> means) and says why an
/// explicitly requested one cannot run.
/// </summary>
internal static class ConvAlgorithmChooser
{
    /// <summary>
    /// Channels (in and out) from which Winograd's transforms are repaid by its 2.25x fewer multiplies. Measured
    /// against im2col on the packed GEMM (2 cores, batch 8, 56x56): 32 channels lost by ~7%, 64 won by ~20%,
    /// 128 and 256 by 35-40%.
    /// </summary>
    internal const int WinogradMinChannels = 64;

    /// <summary>
    /// How much dearer an FFT operation is than a multiply-add in the packed GEMM: butterflies and spectral
    /// products stream through memory while GEMM works from registers. Measured on 2 cores: FFT ran its estimated
    /// operations at 3-6 G/s against im2col's 28-56 G MAC/s. With 4, a 9x9 kernel on 2x3x120x120 → 64 stays with
    /// im2col (5x faster there) and a 31x31 kernel on 1x8x226x226 → 8 goes to FFT (10x faster there).
    /// </summary>
    internal const double FftCostFactor = 4;

    public static ConvAlgorithm Choose(in ConvGeometry g)
    {
        // 1x1 at unit stride reads no window (unpadded, it is one GEMM as it lies); depthwise has no channel sum
        // for a GEMM to exploit, so unfolding would only copy.
        if (g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideH == 1 && g.StrideW == 1) return ConvAlgorithm.Direct;
        if (g.Groups > 1 && g.Groups == g.InChannels) return ConvAlgorithm.Direct;
        if (ConvWinograd.Unsupported(g) is null && g.InChannels >= WinogradMinChannels && g.OutChannels >= WinogradMinChannels)
            return ConvAlgorithm.Winograd;
        if (ConvFft.Unsupported(g) is null && Math.Min(g.KernelHeight, g.KernelWidth) >= 7
            && FftCostFactor * ConvFft.EstimatedMacs(g) < g.Macs)
            return ConvAlgorithm.Fft;
        return ConvAlgorithm.Im2colGemm;
    }

    /// <summary>
    /// The algorithm of both backward passes: FFT and Winograd shapes fall back to im2col, whose transforms are
    /// written for the forward pass only.
    /// </summary>
    public static ConvAlgorithm ChooseBackward(in ConvGeometry g) =>
        Choose(g) == ConvAlgorithm.Direct ? ConvAlgorithm.Direct : ConvAlgorithm.Im2colGemm;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the algorithm when it cannot compute this geometry.</summary>
    public static void EnsureSupported(ConvAlgorithm algorithm, in ConvGeometry g)
    {
        string? why = algorithm switch
        {
            ConvAlgorithm.Fft => ConvFft.Unsupported(g),
            ConvAlgorithm.Winograd => ConvWinograd.Unsupported(g),
            ConvAlgorithm.Direct or ConvAlgorithm.Im2colGemm or ConvAlgorithm.Auto => null,
            _ => $"unknown convolution algorithm {(int)algorithm}",
        };
        if (why is not null) throw new ArgumentException($"ConvAlgorithm.{algorithm} cannot run this convolution: {why}", nameof(algorithm));
    }
}
