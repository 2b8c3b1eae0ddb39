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
    private int _column;

    public void Seek(int z, int k) => _column = z * S.Og * S.Taps + k;

    public readonly float Load(int row) => W[_column + row * S.Taps];
}

/// <summary>The im2col matrix [Cg·KH·KW, N·OH·OW] of group z, zero where a tap falls in the padding.</summary>
internal struct ConvPatches : IRightOperand<PatchColumn>
{
    public ArrayView<float> X;
    public ConvShape S;
    private PatchTap _tap;

    public readonly PatchColumn Column(int z, int col) => PatchColumn.Of(S, z, col);

    public void Seek(int z, int k) => _tap = PatchTap.Of(S, k);

    public readonly float Load(PatchColumn p) => p.Read(X, S, _tap.Channel, _tap.Dh, _tap.Dw);
}

/// <summary>Output cell (n, oh, ow) of group z, as its patch is read: the group's first input plane and the top-left tap's position.</summary>
internal struct PatchColumn
{
    public int Plane, Top, Left;

    public static PatchColumn Of(in ConvShape s, int z, int col)
    {
        int rows = s.ByOW.Div(col), n = s.ByOH.Div(rows), ow = s.ByOW.Rem(col, rows), oh = s.ByOH.Rem(rows, n);
        return new PatchColumn { Plane = (n * s.C + z * s.Cg) * s.H * s.W, Top = oh * s.SH - s.PT, Left = ow * s.SW - s.PL };
    }

    /// <summary>The input under the tap at (dh, dw) from the top-left one, in the plane <paramref name="channel"/> floats on; zero in the padding.</summary>
    public readonly float Read(ArrayView<float> x, in ConvShape s, int channel, int dh, int dw)
    {
        int ih = Top + dh, iw = Left + dw;
        if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) return 0f;
        return x[Plane + channel + ih * s.W + iw];
    }
}

/// <summary>Backward filter's B: the same patches, indexed [(n,oh,ow), (c,kh,kw)]; a column is a tap.</summary>
internal struct ConvPatchesTransposed : IRightOperand<PatchTap>
{
    public ArrayView<float> X;
    public ConvShape S;
    private PatchColumn _cell;

    public readonly PatchTap Column(int z, int col) => PatchTap.Of(S, col);

    public void Seek(int z, int k) => _cell = PatchColumn.Of(S, z, k);

    public readonly float Load(PatchTap tap) => _cell.Read(X, S, tap.Channel, tap.Dh, tap.Dw);
}

/// <summary>Tap (c, kh, kw): its channel's plane offset and its displacement from the top-left tap.</summary>
internal struct PatchTap
{
    public int Channel, Dh, Dw;

    /// <summary>Tap <paramref name="k"/> of a patch, numbered (c, kh, kw) as the weights are.</summary>
    public static PatchTap Of(in ConvShape s, int k)
    {
        int rows = s.ByKW.Div(k), c = s.ByKH.Div(rows), kw = s.ByKW.Rem(k, rows), kh = s.ByKH.Rem(rows, c);
        return new PatchTap { Channel = c * s.H * s.W, Dh = kh * s.DH, Dw = kw * s.DW };
    }
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
        int n = S.ByOH.Div(S.ByOW.Div(col)), plane = S.OH * S.OW;
        return (n * S.O + o) * plane + col - n * plane;
    }
}

/// <summary>Backward data's A: w[z·Og + o, c, kh, kw] as [Cg, (o,kh,kw)].</summary>
internal struct ConvWeightColumns : ILeftOperand
{
    public ArrayView<float> W;
    public ConvShape S;
    private int _column;

    public void Seek(int z, int k)
    {
        int khw = S.KH * S.KW, o = S.ByKH.Div(S.ByKW.Div(k)), tap = k - o * khw;
        _column = (z * S.Og + o) * S.Cg * khw + tap;
    }

    public readonly float Load(int row) => W[_column + row * S.KH * S.KW];
}

/// <summary>
/// Backward data's B [(o,kh,kw), (n,ih,iw)]: dy at the output cell (oh, ow) with oh·SH + kh·DH − PT = ih (and the same
/// across), or zero where no output cell's tap lands on (ih, iw).
/// </summary>
internal struct ConvGradientTaps : IRightOperand<InputCell>
{
    public ArrayView<float> Dy;
    public ConvShape S;
    private int _plane, _dh, _dw;

    public readonly InputCell Column(int z, int col)
    {
        int rows = S.ByW.Div(col), n = S.ByH.Div(rows), iw = S.ByW.Rem(col, rows), ih = S.ByH.Rem(rows, n);
        return new InputCell { Planes = (n * S.O + z * S.Og) * S.OH * S.OW, Top = ih + S.PT, Left = iw + S.PL };
    }

    public void Seek(int z, int k)
    {
        int rows = S.ByKW.Div(k), o = S.ByKH.Div(rows), kw = S.ByKW.Rem(k, rows), kh = S.ByKH.Rem(rows, o);
        _plane = o * S.OH * S.OW;
        _dh = kh * S.DH;
        _dw = kw * S.DW;
    }

    public readonly float Load(InputCell cell)
    {
        int th = cell.Top - _dh, tw = cell.Left - _dw;
        if (th < 0 || tw < 0) return 0f;
        int oh = S.BySH.Div(th), ow = S.BySW.Div(tw);
        if (S.BySH.Rem(th, oh) != 0 || S.BySW.Rem(tw, ow) != 0) return 0f;
        if (oh >= S.OH || ow >= S.OW) return 0f;
        return Dy[cell.Planes + _plane + oh * S.OW + ow];
    }
}

/// <summary>Input cell (n, ih, iw) of group z: where its image's dy planes of the group start, and its position plus the padding.</summary>
internal struct InputCell
{
    public int Planes, Top, Left;
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
        int n = S.ByH.Div(S.ByW.Div(col)), plane = S.H * S.W;
        return (n * S.C + z * S.Cg + row) * plane + col - n * plane;
    }
}

/// <summary>Backward filter's A: dy of group z as [Og, (n,oh,ow)].</summary>
internal struct ConvGradientRows : ILeftOperand
{
    public ArrayView<float> Dy;
    public ConvShape S;
    private int _column;

    public void Seek(int z, int k)
    {
        int n = S.ByOH.Div(S.ByOW.Div(k)), plane = S.OH * S.OW;
        _column = (n * S.O + z * S.Og) * plane + k - n * plane;
    }

    public readonly float Load(int row) => Dy[_column + row * S.OH * S.OW];
}

/// <summary>Backward filter's output: dw[z·Og + o, (c,kh,kw)], overwritten.</summary>
internal struct ConvWeightGradient : IGemmOutput
{
    public ArrayView<float> Dw;
    public ConvShape S;

    public readonly void Store(int z, int row, int col, float value) => Dw[(z * S.Og + row) * S.Taps + col] = value;

    public readonly void Add(int z, int row, int col, float value) => Atomic.Add(ref Dw[(z * S.Og + row) * S.Taps + col], value);
}
