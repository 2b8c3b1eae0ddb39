namespace Fovea.Gpu.Kernels;

/// <summary>
/// <see cref="ConvGeometry"/> flattened to plain fields for kernels (a kernel cannot call the record's computed
/// properties' host code paths, so every derived size is computed once here).
/// </summary>
internal struct ConvShape
{
    public int N, C, H, W, O, KH, KW, SH, SW, PT, PL, DH, DW, Groups, OH, OW, Cg, Og;

    /// <summary>Taps per output: Cg·KH·KW.</summary>
    public readonly int Taps => Cg * KH * KW;

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
    };
}
