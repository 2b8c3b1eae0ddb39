namespace Fovea.Gpu.Kernels;

/// <summary>
/// <see cref="ConvGeometry"/> flattened to plain fields for kernels (a kernel cannot call the record's computed
/// properties' host code paths, so every derived size is computed once here).
/// </summary>
internal struct ConvShape
{
    public int N, C, H, W, O, KH, KW, SH, SW, PT, PL, DH, DW, Groups, OH, OW, Cg, Og;

    // The divisors the operands split indices by: a tap index k by KW then KH, an output cell by OW then OH, an input
    // cell by W then H, and a gradient tap's offset by the strides.
    public FastDivisor ByKW, ByKH, ByOW, ByOH, ByW, ByH, BySH, BySW;

    /// <summary>Taps per output: Cg·KH·KW.</summary>
    public readonly int Taps => Cg * KH * KW;

    // An empty input or output (a batch of zero images, a 0-pixel input) launches no loads, but every divisor must exist.
    private static FastDivisor Divisor(int d) => FastDivisor.Of(Math.Max(1, d));

    public static ConvShape From(in ConvGeometry g) => new()
    {
        N = g.Batch,
        C = g.InChannels,
        H = g.InHeight,
        W = g.InWidth,
        O = g.OutChannels,
        KH = g.KernelHeight,
        KW = g.KernelWidth,
        SH = g.StrideH,
        SW = g.StrideW,
        PT = g.PadTop,
        PL = g.PadLeft,
        DH = g.DilationH,
        DW = g.DilationW,
        Groups = g.Groups,
        OH = g.OutHeight,
        OW = g.OutWidth,
        Cg = g.InChannelsPerGroup,
        Og = g.OutChannelsPerGroup,
        ByKW = Divisor(g.KernelWidth),
        ByKH = Divisor(g.KernelHeight),
        ByOW = Divisor(g.OutWidth),
        ByOH = Divisor(g.OutHeight),
        ByW = Divisor(g.InWidth),
        ByH = Divisor(g.InHeight),
        BySH = Divisor(g.StrideH),
        BySW = Divisor(g.StrideW),
    };
}
