namespace Fovea.Backends.Cpu;

/// <summary>
/// Picks the CPU convolution algorithm per shape (what <see cref="ConvAlgorithm.Auto"/> means) and says why an
/// explicitly requested one cannot run.
/// </summary>
internal static class ConvAlgorithmChooser
{
    /// <summary>
    /// Channels (in and out) from which Winograd F(4x4, 3x3) is used, when it also does fewer multiply-adds than the
    /// direct sum (<see cref="ConvWinograd.EstimatedMacs"/>, which counts its filter transform, keeps 7x7 and smaller
    /// images at batch 1 with im2col). Its transforms cost a few operations per input and output cell, repaid by 4x
    /// fewer multiplies once the channel sum is long enough. Medians of 5 alternated runs (ms, im2col → Winograd,
    /// 1 thread | 2 threads, 2-core shared EPYC with AVX-512): 8x128x56x56 → 128: 50 → 22 | 39 → 13;
    /// 1x64x224x224 → 64: 38 → 15 | 36 → 8.8; 1x128x112x112 → 128: 26 → 12 | 22 → 6.2; 1x256x56x56 → 256:
    /// 23 → 12 | 16 → 6.4; 1x256x28x28 → 512: 10.6 → 6.8 | 7.8 → 4.8; 1x512x28x28 → 512: 21 → 17 | 15 → 10;
    /// 1x512x14x14 → 512: 6.6 → 6.6 | 5.1 → 4.1; 4x512x14x14 → 512: 25 → 22 | 17 → 12; AlexNet's 13x13 layers at
    /// batch 1 (192 → 384, 384 → 256, 256 → 256): 1.6 → 1.5, 2.2 → 2.1, 1.4 → 1.4 | 1.6 → 1.2, 2.6 → 1.7,
    /// 1.7 → 1.1 (before im2col unfolded such shapes as shifted planes, which now wins there: see
    /// <c>ConvWinograd.FilterTransformTiles</c>), at batch 8: 12 → 10, 11.5 → 9.0 | 9.0 → 7.7, 7.9 → 7.1. Below 64
    /// channels it still won (8x16x32x32 → 16: 0.60 → 0.24 | 1.0 → 0.23; 8x32x56x56 → 32: 5.0 → 2.3 | 6.1 → 1.7),
    /// with 3 input channels it lost (1x3x224x224 → 64: 2.1 → 2.9 | 2.4 → 2.5), and LeNet-like 64x6x14x14 → 16 was
    /// even or worse (0.59 → 0.60 | 0.34 → 0.42), so 16 is the line.
    /// </summary>
    internal const int WinogradMinChannels = 16;

    /// <summary>
    /// How much dearer an FFT operation is than a multiply-add in the packed GEMM: butterflies and spectral
    /// products stream through memory while GEMM works from registers. Measured on 2 cores: FFT ran its estimated
    /// operations at 3-6 G/s against im2col's 28-56 G MAC/s. With 4, a 9x9 kernel on 2x3x120x120 → 64 stays with
    /// im2col (5x faster there) and a 31x31 kernel on 1x8x226x226 → 8 goes to FFT (10x faster there).
    /// </summary>
    internal const double FftCostFactor = 4;

    /// <summary>
    /// Most multiply-adds per output (Cg·KH·KW) for which the blocked direct kernels (<see cref="ConvDirect"/>) beat
    /// unfolding at unit stride: below it the column matrix, KH·KW copies of the image, costs more to write than the
    /// short products save. Medians of 11 alternated runs (ms, direct vs im2col, 1 thread | 2 threads, 2-core EPYC),
    /// forward / data gradient / filter gradient: LeNet-5 at batch 64, 1 → 6 5x5 (25 taps): 0.15 vs 0.64, –, 0.28 vs
    /// 0.80 | 0.12 vs 0.48, –, 0.14 vs 0.44; 6 → 16 5x5 (150; its data gradient sums 400): 0.78 vs 0.89, 1.06 vs 0.75,
    /// 1.11 vs 1.49 | 0.37 vs 0.48, 0.51 vs 0.43, 0.63 vs 0.85; 8x16x32x32 → 16 3x3 (144): 0.33 vs 0.59, 0.33 vs
    /// 0.68, 0.69 vs 0.98; 1x3x224x224 → 64 3x3 (27): 1.7 vs 2.0 | 0.76 vs 2.35; 8x32x56x56 → 32 3x3 (288) was
    /// even or worse (4.9 vs 4.1, 4.9 vs 3.5, 8.8 vs 5.8 | 2.2 vs 2.4, 2.2 vs 2.0, 4.2 vs 4.8), 1x64x27x27 → 192 5x5
    /// (1,600) 2-4x worse.
    /// </summary>
    internal const int DirectMaxTaps = 160;

    /// <summary>
    /// Fewest Winograd tiles (<see cref="ConvWinograd.TileCount"/>) from which Winograd beats the channel-rows direct
    /// kernel (<see cref="ConvDirect.UsesChannelRows"/>): with fewer, its 36 products are too narrow to run near the
    /// peak and the direct sum, with 4x the multiplies, is faster. Medians of 5-9 alternated runs (ms, Winograd →
    /// channel rows, 2 threads, 2-core EPYC with AVX-512), by tiles: 1x512x14x14 → 512 (16): 5.0 → 3.1; 4x512x7x7
    /// (16): 4.6 → 3.2; 4x512x14x14 (64): 16.7 → 12.5; AlexNet's 13x13 layers at batch 8 (128): 6.6 → 5.6,
    /// 8.9 → 7.6, 6.2 → 5.2; 1x512x28x28 (49): 11.6 → 9.7; but 1x256x56x56 (196): 6.1 → 9.9, 8x256x28x28 (392):
    /// 13.4 → 21.4, 8x64x32x32 (512): 2.0 → 2.2, 1x128x112x112 (784): 5.8 → 10.7. With 512 output channels
    /// Winograd's products run slower still and the line is 200: 4x256x28x28 → 512 (196): 22.2 → 19.8, 4x512x28x28
    /// (196): 42-51 → 40; the whole VGG-16 forward at batch 4, the two lines alternated in one process, took 3-9% less
    /// with 200 in four runs of seven. Once Winograd's transforms took whole rows of 4 tiles a vector, AlexNet's 13x13
    /// layers at batch 8 (128 tiles, by blocks on two threads) took 4.11, 5.48, 3.59 ms by Winograd against the direct
    /// kernel's 4.40, 5.99, 4.06: the line for fewer than 512 filters is 128. (Inference has its own rule: see
    /// <see cref="Choose"/>.)
    /// </summary>
    internal static long ChannelRowsMaxWinogradTiles(in ConvGeometry g) => g.OutChannels >= 512 ? 200 : 128;

    /// <summary>
    /// The algorithm for a forward over <paramref name="g"/>; <paramref name="inference"/>: no gradient is recorded,
    /// so Winograd keeps its transformed filters (<see cref="ConvWinograd.KeepsFilters"/>).
    /// </summary>
    public static ConvAlgorithm Choose(in ConvGeometry g, bool inference = false)
    {
        // 1x1 at unit stride reads no window (unpadded, it is one GEMM as it lies); depthwise has no channel sum
        // for a GEMM to exploit, so unfolding would only copy.
        if (ReadsNoWindow(g) || IsDepthwise(g)) return ConvAlgorithm.Direct;
        // With its filters kept, Winograd's 2.25x fewer multiplies are left with only the tiles' transforms to pay
        // for, and it wins wherever it runs by blocks, each reading all of the kept U (ms, channel-rows direct →
        // Winograd kept, 2 threads): 4x512x28x28 → 512 37.3 → 19.1, 4x256x28x28 → 512 18.0 → 10.7, AlexNet's 13x13
        // layers at batch 8 4.40 → 2.86, 5.99 → 4.03, 4.06 → 2.89. With fewer than 64 tiles a thread, by blocks it
        // lost inside VGG-16's forward at batch 1 (82.2 → 86.7 ms: U, 38 MB, from memory for every block of 24
        // tiles); by kept slivers, from 48 tiles (ConvWinograd.MinSliverTiles), it wins there: VGG-16's forward at
        // batch 1, captured once each way and alternated in one process, 82.0-83.4 → 75.5-76.0 ms (75.1 → 66.1 on
        // a quieter machine); at batch 4 (its 14x14 layers, 64 tiles) 240-253 → 240-250, even.
        if (inference && WinogradPays(g, inference) && ConvWinograd.KeepsFilters(g)) return ConvAlgorithm.Winograd;
        bool rows = ConvDirect.UsesChannelRows(g);
        if (WinogradPays(g) && !(rows && ConvWinograd.TileCount(g) < ChannelRowsMaxWinogradTiles(g))) return ConvAlgorithm.Winograd;
        if (ConvFft.Supports(g) && Math.Min(g.KernelHeight, g.KernelWidth) >= 7
            && FftCostFactor * ConvFft.EstimatedMacs(g) < g.Macs)
            return ConvAlgorithm.Fft;
        if (rows || (ShortSum(g) && ConvDirect.Tiled(g))) return ConvAlgorithm.Direct;
        return ConvAlgorithm.Im2colGemm;
    }

    /// <summary>
    /// Winograd F(4x4, 3x3) takes the shape and does fewer multiply-adds than the direct sum, from 16 channels; 5x5
    /// kernels (four 3x3 parts) only in inference, whose kept filters spare the four-times-deeper filter transform.
    /// </summary>
    private static bool WinogradPays(in ConvGeometry g, bool inference = false) =>
        ConvWinograd.Supports(g) && (inference || g.KernelHeight == 3) && g.InChannels >= WinogradMinChannels && g.OutChannels >= WinogradMinChannels
        && ConvWinograd.EstimatedMacs(g) < g.Macs;

    /// <summary>
    /// The data gradient's algorithm. At unit stride it is a forward convolution of dy (<see cref="ConvDataGradient"/>),
    /// so the forward's rules pick: direct where that pass sums few products (Og·KH·KW, not Cg·KH·KW), Winograd where
    /// it pays for that pass (the 3x3 benchmark layer's data gradient, 8x128x56x56: 30 -> 13 ms,
    /// 2 threads), else im2col. FFT shapes take im2col.
    /// </summary>
    public static ConvAlgorithm ChooseBackwardData(in ConvGeometry g)
    {
        if (ReadsNoWindow(g) || IsDepthwise(g)) return ConvAlgorithm.Direct;
        if (ConvDataGradient.TryAsForward(g, out var asForward))
        {
            if (ShortSum(asForward) && ConvDirect.Tiled(asForward)) return ConvAlgorithm.Direct;
            if (WinogradPays(asForward)) return ConvAlgorithm.Winograd;
        }
        return ConvAlgorithm.Im2colGemm;
    }

    /// <summary>
    /// The filter gradient's algorithm: direct where the forward's sum is short, Winograd where it pays for the forward
    /// and its per-thread sums fit (<see cref="ConvWinograd.TakesFilterGradient"/>), else im2col.
    /// </summary>
    public static ConvAlgorithm ChooseBackwardFilter(in ConvGeometry g)
    {
        if (ReadsNoWindow(g) || IsDepthwise(g) || (ShortSum(g) && ConvDirect.Tiled(g))) return ConvAlgorithm.Direct;
        if (WinogradPays(g) && ConvWinograd.TakesFilterGradient(g)) return ConvAlgorithm.Winograd;
        return ConvAlgorithm.Im2colGemm;
    }

    private static bool ReadsNoWindow(in ConvGeometry g) => g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideH == 1 && g.StrideW == 1;

    private static bool IsDepthwise(in ConvGeometry g) => g.Groups > 1 && g.Groups == g.InChannels;

    private static bool ShortSum(in ConvGeometry g) => (long)g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth <= DirectMaxTaps;

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
