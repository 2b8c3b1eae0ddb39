using System.Numerics;
using System.Runtime.InteropServices;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Convolution by the convolution theorem, for unit stride and dilation and one group (any kernel size):
/// every plane is zero-padded to a power-of-two PH×PW ≥ the padded input, transformed, and
/// Y[n,o] = Σ_c X[n,c]·conj(W[o,c]) (cross-correlation is the product with the conjugate), then inverted and
/// cropped to OH×OW. A plane of PH ≥ H + pads needs no more: the correlation's circular wrap only reaches
/// indices past the padded input, which the crop drops. Forward only: the backward passes use im2col.
/// </summary>
internal static class ConvFft
{
    /// <summary>Floats of spectra held at once (two per complex value); larger problems are done in blocks.</summary>
    private const long SpectrumBudget = 16L << 20;

    /// <summary>Whether FFT can compute this geometry: a test that, unlike <see cref="Unsupported"/>, builds no message.</summary>
    internal static bool Supports(in ConvGeometry g) => g.IsUnitStrideDense;

    /// <summary>Why FFT cannot compute this geometry, or null when it can.</summary>
    internal static string? Unsupported(in ConvGeometry g) =>
        Supports(g) ? null
            : $"FFT convolution needs stride 1, dilation 1 and groups 1, got stride {g.StrideH}x{g.StrideW}, dilation {g.DilationH}x{g.DilationW}, groups {g.Groups}";

    /// <summary>The transform sizes: powers of two covering the padded input.</summary>
    internal static (int Ph, int Pw) PlaneSize(in ConvGeometry g) =>
        (Fft.NextPowerOfTwo(g.InHeight + g.PadTop + g.PadBottom), Fft.NextPowerOfTwo(g.InWidth + g.PadLeft + g.PadRight));

    /// <summary>Rough multiply-adds: the transforms (≈ 2.5·S·log2 S each) plus the spectral products (4 per complex MAC); outputs are inverted two at a time.</summary>
    internal static double EstimatedMacs(in ConvGeometry g)
    {
        var (ph, pw) = PlaneSize(g);
        double s = (double)ph * pw, transform = 2.5 * s * Math.Log2(Math.Max(2, s));
        double n = g.Batch, c = g.InChannels, o = g.OutChannels;
        // A kernel plane's first pass only covers its KW nonzero columns: about half a transform.
        return (n * c + o * c * (0.5 + 0.5 * g.KernelWidth / pw) + n * o / 2) * transform + 4 * n * o * c * s;
    }

    /// <summary>Images and filters whose spectra are held at once, within <see cref="SpectrumBudget"/>.</summary>
    private static (int Images, int Filters) Blocks(in ConvGeometry g)
    {
        var (ph, pw) = PlaneSize(g);
        long perChannelSet = 2L * g.InChannels * ph * pw;
        return ((int)Math.Clamp(SpectrumBudget / perChannelSet, 1, Math.Max(1, g.Batch)),
            (int)Math.Clamp(SpectrumBudget / perChannelSet, 1, g.OutChannels));
    }

    private static long TransformWork(int s) => (long)(2.5 * s * Math.Log2(Math.Max(2, s)));

    private static long ProductWork(int c, int s) => 8L * c * s + TransformWork(s);

    /// <summary>
    /// The <see cref="ScratchPool"/> buffers the forward holds at once: the image and filter spectra of one block each,
    /// and a pair of complex accumulators per running output pair.
    /// </summary>
    internal static int[] Scratch(in ConvGeometry g)
    {
        var (ph, pw) = PlaneSize(g);
        int s = ph * pw;
        var (images, filters) = Blocks(g);
        long perChannelSet = 2L * g.InChannels * s;
        var buffers = new List<int> { (int)(images * perChannelSet), (int)(filters * perChannelSet) };
        buffers.AddRange(Enumerable.Repeat(4 * s, CpuParallel.Concurrency(images * ((filters + 1) / 2), ProductWork(g.InChannels, s))));
        return [.. buffers];
    }

    // x [N, C, H, W], w [O, C, KH, KW], bias [O] or null → y [N, O, OH, OW]
    public static void Forward(in ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y)
    {
        if (Unsupported(g) is { } why) throw new ArgumentException(why);
        var (ph, pw) = PlaneSize(g);
        int s = ph * pw, c = g.InChannels;
        long perChannelSet = 2L * c * s;
        if (perChannelSet > Array.MaxLength / 2)
            throw new ArgumentException($"ConvAlgorithm.Fft cannot run this convolution: the spectra of one image ({c} planes of {ph}x{pw}) exceed the largest array");
        var (imageBlock, outBlock) = Blocks(g);
        var xs = ScratchPool.Rent((int)(imageBlock * perChannelSet));
        var ws = ScratchPool.Rent((int)(outBlock * perChannelSet));
        long transformWork = TransformWork(s);
        try
        {
            for (int n0 = 0; n0 < g.Batch; n0 += imageBlock)
            {
                int nb = Math.Min(imageBlock, g.Batch - n0);
                // Spectra of the padded input planes: the image sits at (PadTop, PadLeft) in a zero plane.
                CpuParallel.For(nb * c, transformWork, new ImageSpectra(g, x, n0, xs));
                for (int o0 = 0; o0 < g.OutChannels; o0 += outBlock)
                {
                    int ob = Math.Min(outBlock, g.OutChannels - o0);
                    // Spectra of the filters, each tap at its own offset from the origin.
                    CpuParallel.For(ob * c, transformWork, new FilterSpectra(g, w, o0, ws));
                    // Two output planes per inverse transform: both are real, so the inverse of A + i·B has A's
                    // plane as its real part and B's as its imaginary part.
                    int pairs = (ob + 1) / 2;
                    CpuParallel.For(nb * pairs, ProductWork(c, s), new OutputPairs(g, xs, ws, bias, y, n0, o0, ob));
                }
            }
        }
        finally
        {
            ScratchPool.Return(xs);
            ScratchPool.Return(ws);
        }
    }

    /// <summary>The spectrum of input plane <c>item</c> of the block of images from n0, into xs.</summary>
    private readonly struct ImageSpectra(ConvGeometry g, float[] x, int n0, float[] xs) : CpuParallel.IItems
    {
        public void Run(int item)
        {
            var (ph, pw) = PlaneSize(g);
            int s = ph * pw, h = g.InHeight, wd = g.InWidth;
            Span<float> re = Re(xs, item, s), im = Im(xs, item, s);
            re.Clear();
            im.Clear();
            var src = x.AsSpan((n0 * g.InChannels + item) * h * wd, h * wd);
            for (int r = 0; r < h; r++) src.Slice(r * wd, wd).CopyTo(re.Slice((r + g.PadTop) * pw + g.PadLeft, wd));
            Fft.Forward2D(re, im, ph, pw, g.PadLeft + wd);
        }
    }

    /// <summary>The spectrum of filter plane <c>item</c> of the block of filters from o0, into ws.</summary>
    private readonly struct FilterSpectra(ConvGeometry g, float[] w, int o0, float[] ws) : CpuParallel.IItems
    {
        public void Run(int item)
        {
            var (ph, pw) = PlaneSize(g);
            int s = ph * pw, c = g.InChannels, kh = g.KernelHeight, kw = g.KernelWidth;
            Span<float> re = Re(ws, item, s), im = Im(ws, item, s);
            re.Clear();
            im.Clear();
            var src = w.AsSpan((o0 * c + item) * kh * kw, kh * kw);
            for (int r = 0; r < kh; r++) src.Slice(r * kw, kw).CopyTo(re.Slice(r * pw, kw));
            Fft.Forward2D(re, im, ph, pw, kw);
        }
    }

    /// <summary>
    /// Output pair <c>item</c> of the block of images from n0 and the block of ob filters from o0: the two planes'
    /// spectral sums over channels, inverted at once and cropped into y.
    /// </summary>
    private readonly struct OutputPairs(ConvGeometry g, float[] xs, float[] ws, float[]? bias, float[] y, int n0, int o0, int ob) : CpuParallel.IItems
    {
        public void Run(int item)
        {
            var (ph, pw) = PlaneSize(g);
            int s = ph * pw, c = g.InChannels, oh = g.OutHeight, ow = g.OutWidth, pairs = (ob + 1) / 2;
            int n = item / pairs, oa = 2 * (item % pairs), obb = oa + 1;
            bool two = obb < ob;
            var acc = ScratchPool.Rent(4 * s);
            Span<float> ar = acc.AsSpan(0, s), ai = acc.AsSpan(s, s), br = acc.AsSpan(2 * s, s), bi = acc.AsSpan(3 * s, s);
            acc.AsSpan(0, 4 * s).Clear();
            for (int ci = 0; ci < c; ci++)
            {
                Span<float> xr = Re(xs, n * c + ci, s), xi = Im(xs, n * c + ci, s);
                MultiplyConjugateAdd(xr, xi, Re(ws, oa * c + ci, s), Im(ws, oa * c + ci, s), ar, ai);
                if (two) MultiplyConjugateAdd(xr, xi, Re(ws, obb * c + ci, s), Im(ws, obb * c + ci, s), br, bi);
            }
            if (two)
                for (int k = 0; k < s; k++)
                {
                    float zr = ar[k] - bi[k], zi = ai[k] + br[k];
                    ar[k] = zr;
                    ai[k] = zi;
                }
            Fft.Inverse2D(ar, ai, ph, pw);
            Crop(ar, pw, oh, ow, bias is null ? 0f : bias[o0 + oa], y.AsSpan((((n0 + n) * g.OutChannels) + o0 + oa) * oh * ow, oh * ow));
            if (two)
                Crop(ai, pw, oh, ow, bias is null ? 0f : bias[o0 + obb], y.AsSpan((((n0 + n) * g.OutChannels) + o0 + obb) * oh * ow, oh * ow));
            ScratchPool.Return(acc);
        }
    }

    // dst [oh, ow] = the top-left corner of a plane of width pw, plus the bias.
    private static void Crop(ReadOnlySpan<float> plane, int pw, int oh, int ow, float bias, Span<float> dst)
    {
        for (int r = 0; r < oh; r++)
            System.Numerics.Tensors.TensorPrimitives.Add(plane.Slice(r * pw, ow), bias, dst.Slice(r * ow, ow));
    }

    // Plane i of a spectrum buffer: its real part, then its imaginary part.
    private static Span<float> Re(float[] buffer, int index, int s) => buffer.AsSpan(2 * index * s, s);
    private static Span<float> Im(float[] buffer, int index, int s) => buffer.AsSpan((2 * index + 1) * s, s);

    // (ar, ai) += (xr + i·xi)·(wr − i·wi)
    private static void MultiplyConjugateAdd(ReadOnlySpan<float> xr, ReadOnlySpan<float> xi, ReadOnlySpan<float> wr,
        ReadOnlySpan<float> wi, Span<float> ar, Span<float> ai)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vxr = MemoryMarshal.Cast<float, Vector<float>>(xr);
            var vxi = MemoryMarshal.Cast<float, Vector<float>>(xi);
            var vwr = MemoryMarshal.Cast<float, Vector<float>>(wr);
            var vwi = MemoryMarshal.Cast<float, Vector<float>>(wi);
            var var_ = MemoryMarshal.Cast<float, Vector<float>>(ar);
            var vai = MemoryMarshal.Cast<float, Vector<float>>(ai);
            for (int v = 0; v < var_.Length; v++)
            {
                var_[v] += vxr[v] * vwr[v] + vxi[v] * vwi[v];
                vai[v] += vxi[v] * vwr[v] - vxr[v] * vwi[v];
            }
            i = var_.Length * Vector<float>.Count;
        }
        for (; i < ar.Length; i++)
        {
            ar[i] += xr[i] * wr[i] + xi[i] * wi[i];
            ai[i] += xi[i] * wr[i] - xr[i] * wi[i];
        }
    }
}
