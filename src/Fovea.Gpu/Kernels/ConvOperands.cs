using ILGPU;

namespace Fovea.Gpu.Kernels;

// The operands that turn TiledGemm into the three convolutions (implicit GEMM: the unfolded patch matrix is
// addressed, never stored). The batch index z of the GEMM is the group; per group:
//   forward         y[o, (n,oh,ow)]   = Σ_(c,kh,kw)  w[o, (c,kh,kw)] · patch[(c,kh,kw), (n,oh,ow)]
//   backward data   dx[c, (n,ih,iw)]  = Σ_(o,kh,kw)  w[o, c, kh, kw] · dy at the output cell whose tap (kh,kw) reads (ih,iw)
//   backward filter dw[o, (c,kh,kw)]  = Σ_(n,oh,ow)  dy[n, o, oh, ow] · patch[(c,kh,kw), (n,oh,ow)]

/// <summary>Forward's A: the group's weights as [Og, Cg·KH·KW].</summary>
internal struct ConvWeightRows : ILeftOperand
{
    public ArrayView<float> W;
    public ConvShape S;

    public readonly float Load(int z, int row, int k) => W[(z * S.Og + row) * S.Taps + k];
}

/// <summary>The im2col matrix [Cg·KH·KW, N·OH·OW] of group z, zero where a tap falls in the padding.</summary>
internal struct ConvPatches : IRightOperand
{
    public ArrayView<float> X;
    public ConvShape S;

    public readonly float Load(int z, int k, int col) => Patch(X, S, z, k, col);

    public static float Patch(ArrayView<float> x, in ConvShape s, int z, int k, int col)
    {
        int kw = k % s.KW, kh = k / s.KW % s.KH, c = k / (s.KW * s.KH);
        int ow = col % s.OW, oh = col / s.OW % s.OH, n = col / (s.OW * s.OH);
        int ih = oh * s.SH + kh * s.DH - s.PT, iw = ow * s.SW + kw * s.DW - s.PL;
        if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) return 0f;
        return x[((n * s.C + z * s.Cg + c) * s.H + ih) * s.W + iw];
    }
}

/// <summary>Backward filter's B: the same patches, indexed [(n,oh,ow), (c,kh,kw)].</summary>
internal struct ConvPatchesTransposed : IRightOperand
{
    public ArrayView<float> X;
    public ConvShape S;

    public readonly float Load(int z, int k, int col) => ConvPatches.Patch(X, S, z, col, k);
}

/// <summary>Forward's output: y[n, z·Og + o, oh, ow] plus the bias when there is one.</summary>
internal struct ConvOutput : IGemmOutput
{
    public ArrayView<float> Y, Bias;
    public ConvShape S;
    public int HasBias;

    public readonly void Store(int z, int row, int col, float value)
    {
        int o = z * S.Og + row;
        Y[At(o, col)] = HasBias != 0 ? value + Bias[o] : value;
    }

    // A split launch starts from y filled with the bias (or zeros) and adds the splits' sums.
    public readonly void Add(int z, int row, int col, float value) => Atomic.Add(ref Y[At(z * S.Og + row, col)], value);

    private readonly int At(int o, int col)
    {
        int plane = S.OH * S.OW, n = col / plane;
        return (n * S.O + o) * plane + col % plane;
    }
}

/// <summary>Backward data's A: w[z·Og + o, c, kh, kw] as [Cg, (o,kh,kw)].</summary>
internal struct ConvWeightColumns : ILeftOperand
{
    public ArrayView<float> W;
    public ConvShape S;

    public readonly float Load(int z, int row, int k)
    {
        int khw = S.KH * S.KW, o = k / khw, tap = k % khw;
        return W[((z * S.Og + o) * S.Cg + row) * khw + tap];
    }
}

/// <summary>
/// Backward data's B [(o,kh,kw), (n,ih,iw)]: dy at the output cell (oh, ow) with oh·SH + kh·DH − PT = ih (and the same
/// across), or zero where no output cell's tap lands on (ih, iw).
/// </summary>
internal struct ConvGradientTaps : IRightOperand
{
    public ArrayView<float> Dy;
    public ConvShape S;

    public readonly float Load(int z, int k, int col)
    {
        int kw = k % S.KW, kh = k / S.KW % S.KH, o = k / (S.KW * S.KH);
        int iw = col % S.W, ih = col / S.W % S.H, n = col / (S.W * S.H);
        int th = ih + S.PT - kh * S.DH, tw = iw + S.PL - kw * S.DW;
        if (th < 0 || tw < 0 || th % S.SH != 0 || tw % S.SW != 0) return 0f;
        int oh = th / S.SH, ow = tw / S.SW;
        if (oh >= S.OH || ow >= S.OW) return 0f;
        return Dy[((n * S.O + z * S.Og + o) * S.OH + oh) * S.OW + ow];
    }
}

/// <summary>Backward data's output: dx[n, z·Cg + c, ih, iw], overwritten.</summary>
internal struct ConvInputGradient : IGemmOutput
{
    public ArrayView<float> Dx;
    public ConvShape S;

    public readonly void Store(int z, int row, int col, float value) => Dx[At(z, row, col)] = value;

    public readonly void Add(int z, int row, int col, float value) => Atomic.Add(ref Dx[At(z, row, col)], value);

    private readonly int At(int z, int row, int col)
    {
        int plane = S.H * S.W, n = col / plane;
        return (n * S.C + z * S.Cg + row) * plane + col % plane;
    }
}

/// <summary>Backward filter's A: dy of group z as [Og, (n,oh,ow)].</summary>
internal struct ConvGradientRows : ILeftOperand
{
    public ArrayView<float> Dy;
    public ConvShape S;

    public readonly float Load(int z, int row, int k)
    {
        int plane = S.OH * S.OW, n = k / plane;
        return Dy[(n * S.O + z * S.Og + row) * plane + k % plane];
    }
}

/// <summary>Backward filter's output: dw[z·Og + o, (c,kh,kw)], overwritten.</summary>
internal struct ConvWeightGradient : IGemmOutput
{
    public ArrayView<float> Dw;
    public ConvShape S;

    public readonly void Store(int z, int row, int col, float value) => Dw[(z * S.Og + row) * S.Taps + col] = value;

    public readonly void Add(int z, int row, int col, float value) => Atomic.Add(ref Dw[(z * S.Og + row) * S.Taps + col], value);
}
