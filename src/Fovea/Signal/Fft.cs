using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Fovea;

/// <summary>
/// Radix-2 complex fast Fourier transform, in place on split real and imaginary arrays whose length is a power
/// of two; 1-D and 2-D (row-major planes), in float or double. Forward is X[k] = Σ x[j]·e^(−2πi·jk/n); the
/// inverse includes the 1/n.
/// </summary>
public static class Fft
{
    /// <summary>The smallest power of two ≥ <paramref name="n"/> (1 for n ≤ 1).</summary>
    public static int NextPowerOfTwo(int n)
    {
        if (n > 1 << 30) throw new ArgumentException($"FFT length {n} is too large");
        return n <= 1 ? 1 : (int)BitOperations.RoundUpToPowerOf2((uint)n);
    }

    /// <summary>In-place forward transform of one sequence.</summary>
    public static void Forward<T>(Span<T> re, Span<T> im) where T : unmanaged, IFloatingPointIeee754<T> =>
        Transform(re, im, inverse: false);

    /// <summary>In-place inverse transform of one sequence, scaled by 1/n.</summary>
    public static void Inverse<T>(Span<T> re, Span<T> im) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Transform(re, im, inverse: true);
        Scale(re, im, T.One / T.CreateChecked(re.Length));
    }

    /// <summary>In-place forward transform of a row-major [rows, cols] plane (both powers of two).</summary>
    public static void Forward2D<T>(Span<T> re, Span<T> im, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T> =>
        Transform2D(re, im, rows, cols, inverse: false, cols);

    /// <summary>
    /// <see cref="Forward2D{T}(Span{T}, Span{T}, int, int)"/> for a plane known to be zero from column
    /// <paramref name="activeCols"/> on (a zero-padded image or kernel): the first pass skips those columns.
    /// </summary>
    internal static void Forward2D<T>(Span<T> re, Span<T> im, int rows, int cols, int activeCols) where T : unmanaged, IFloatingPointIeee754<T> =>
        Transform2D(re, im, rows, cols, inverse: false, Math.Clamp(activeCols, 1, cols));

    /// <summary>In-place inverse transform of a row-major [rows, cols] plane, scaled by 1/(rows·cols).</summary>
    public static void Inverse2D<T>(Span<T> re, Span<T> im, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Transform2D(re, im, rows, cols, inverse: true, cols);
        Scale(re[..(rows * cols)], im[..(rows * cols)], T.One / T.CreateChecked(rows * cols));
    }

    private static void Scale<T>(Span<T> re, Span<T> im, T s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < re.Length; i++)
        {
            re[i] *= s;
            im[i] *= s;
        }
    }

    private static void CheckLength(int n, int imLength)
    {
        if (n == 0 || (n & (n - 1)) != 0) throw new ArgumentException($"FFT length must be a power of two, got {n}");
        if (imLength != n) throw new ArgumentException($"real and imaginary parts differ in length: {n} vs {imLength}");
    }

    // Iterative Cooley–Tukey: bit-reversal permutation, then log2(n) stages of butterflies.
    private static void Transform<T>(Span<T> re, Span<T> im, bool inverse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = re.Length;
        CheckLength(n, im.Length);
        if (n == 1) return;
        var tw = Twiddles<T>.Get(n);
        BitReverse(re, im);
        for (int len = 2; len <= n; len <<= 1)
        {
            int half = len >> 1, step = n / len;
            for (int i = 0; i < n; i += len)
                for (int k = 0; k < half; k++)
                {
                    T wr = tw[2 * k * step], wi = tw[2 * k * step + 1];
                    if (inverse) wi = -wi;
                    int a = i + k, b = a + half;
                    T tr = wr * re[b] - wi * im[b], ti = wr * im[b] + wi * re[b];
                    re[b] = re[a] - tr;
                    im[b] = im[a] - ti;
                    re[a] += tr;
                    im[a] += ti;
                }
        }
    }

    private static void BitReverse<T>(Span<T> re, Span<T> im)
    {
        int n = re.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j |= bit;
            if (i < j)
            {
                (re[i], re[j]) = (re[j], re[i]);
                (im[i], im[j]) = (im[j], im[i]);
            }
        }
    }

    // The columns all at once: a column butterfly combines two whole rows, so the pass runs along contiguous
    // memory and vectorises. The rows get the same treatment through a transpose (when there are enough of them
    // to fill a vector); few rows are transformed one by one.
    private static void Transform2D<T>(Span<T> re, Span<T> im, int rows, int cols, bool inverse, int activeCols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckLength(rows, rows);
        CheckLength(cols, cols);
        int size = rows * cols;
        if (re.Length < size || im.Length < size)
            throw new ArgumentException($"plane {rows}x{cols} does not fit in buffers of {re.Length} and {im.Length}");
        ColumnPass(re, im, rows, cols, activeCols, inverse); // zero columns transform to zero columns
        if (rows < Vector<T>.Count || cols == 1)
        {
            for (int r = 0; r < rows; r++) Transform(re.Slice(r * cols, cols), im.Slice(r * cols, cols), inverse);
            return;
        }
        var scratch = System.Buffers.ArrayPool<T>.Shared.Rent(2 * size);
        try
        {
            Span<T> tr = scratch.AsSpan(0, size), ti = scratch.AsSpan(size, size);
            Transpose(re, tr, rows, cols);
            Transpose(im, ti, rows, cols);
            ColumnPass(tr, ti, cols, rows, rows, inverse);
            Transpose(tr, re, cols, rows);
            Transpose(ti, im, cols, rows);
        }
        finally
        {
            System.Buffers.ArrayPool<T>.Shared.Return(scratch);
        }
    }

    // dst [cols, rows] = srcᵀ, in 16x16 blocks so both sides stay in cache.
    private static void Transpose<T>(ReadOnlySpan<T> src, Span<T> dst, int rows, int cols)
    {
        const int block = 16;
        for (int r0 = 0; r0 < rows; r0 += block)
            for (int c0 = 0; c0 < cols; c0 += block)
            {
                int r1 = Math.Min(rows, r0 + block), c1 = Math.Min(cols, c0 + block);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++) dst[c * rows + r] = src[r * cols + c];
            }
    }

    // The 1-D transform down each of the first `width` columns of a [rows, cols] plane, with (those columns of)
    // whole rows as the butterflies' operands.
    private static void ColumnPass<T>(Span<T> re, Span<T> im, int rows, int cols, int width, bool inverse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 1) return;
        for (int i = 1, j = 0; i < rows; i++)
        {
            int bit = rows >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j |= bit;
            if (i < j)
            {
                SwapRows(re.Slice(i * cols, width), re.Slice(j * cols, width));
                SwapRows(im.Slice(i * cols, width), im.Slice(j * cols, width));
            }
        }
        var tw = Twiddles<T>.Get(rows);
        for (int len = 2; len <= rows; len <<= 1)
        {
            int half = len >> 1, step = rows / len;
            for (int i = 0; i < rows; i += len)
                for (int k = 0; k < half; k++)
                {
                    T wr = tw[2 * k * step], wi = tw[2 * k * step + 1];
                    if (inverse) wi = -wi;
                    int a = (i + k) * cols, b = (i + k + half) * cols;
                    Butterfly(re.Slice(a, width), im.Slice(a, width), re.Slice(b, width), im.Slice(b, width), wr, wi);
                }
        }
    }

    private static void SwapRows<T>(Span<T> a, Span<T> b)
    {
        for (int i = 0; i < a.Length; i++) (a[i], b[i]) = (b[i], a[i]);
    }

    // (a, b) ← (a + w·b, a − w·b), element-wise along two rows.
    private static void Butterfly<T>(Span<T> ar, Span<T> ai, Span<T> br, Span<T> bi, T wr, T wi) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && ar.Length >= Vector<T>.Count)
        {
            var var_ = MemoryMarshal.Cast<T, Vector<T>>(ar);
            var vai = MemoryMarshal.Cast<T, Vector<T>>(ai);
            var vbr = MemoryMarshal.Cast<T, Vector<T>>(br);
            var vbi = MemoryMarshal.Cast<T, Vector<T>>(bi);
            var vwr = new Vector<T>(wr);
            var vwi = new Vector<T>(wi);
            for (int v = 0; v < var_.Length; v++)
            {
                var tr = vwr * vbr[v] - vwi * vbi[v];
                var ti = vwr * vbi[v] + vwi * vbr[v];
                vbr[v] = var_[v] - tr;
                vbi[v] = vai[v] - ti;
                var_[v] += tr;
                vai[v] += ti;
            }
            i = var_.Length * Vector<T>.Count;
        }
        for (; i < ar.Length; i++)
        {
            T tr = wr * br[i] - wi * bi[i], ti = wr * bi[i] + wi * br[i];
            br[i] = ar[i] - tr;
            bi[i] = ai[i] - ti;
            ar[i] += tr;
            ai[i] += ti;
        }
    }

    /// <summary>cos and sin of 2πk/n for k &lt; n/2, interleaved, computed in double once per length and type.</summary>
    private static class Twiddles<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static readonly ConcurrentDictionary<int, T[]> Cache = new();

        public static T[] Get(int n) => Cache.GetOrAdd(n, static n =>
        {
            var t = new T[n];
            for (int k = 0; k < n / 2; k++)
            {
                double a = 2 * Math.PI * k / n;
                t[2 * k] = T.CreateChecked(Math.Cos(a));
                t[2 * k + 1] = T.CreateChecked(-Math.Sin(a));
            }
            return t;
        });
    }
}
