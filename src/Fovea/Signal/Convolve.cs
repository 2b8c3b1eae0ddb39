namespace Fovea;

/// <summary>Which part of the full discrete convolution <see cref="Signal.Convolve(ReadOnlySpan{double}, ReadOnlySpan{double}, ConvolveMode, bool)"/> returns (numpy.convolve's modes).</summary>
public enum ConvolveMode
{
    /// <summary>Every point of overlap: length M + N − 1.</summary>
    Full,
    /// <summary>Length max(M, N), centred on the full result as numpy centres it.</summary>
    Same,
    /// <summary>Only where the shorter sequence lies wholly inside the longer: length max(M, N) − min(M, N) + 1.</summary>
    Valid,
}

/// <summary>1-D signal processing on sequences.</summary>
public static class Signal
{
    /// <summary>
    /// The discrete linear convolution (a ∗ v)[k] = Σ_i a[i]·v[k − i], exactly as numpy.convolve: the arguments
    /// are swapped when v is the longer, <see cref="ConvolveMode.Same"/> starts the full result at
    /// (min(M, N) − 1) / 2, and <see cref="ConvolveMode.Valid"/> at min(M, N) − 1. With <paramref name="useFft"/>
    /// the product of spectra gives the same values up to rounding.
    /// </summary>
    /// <exception cref="ArgumentException">a or v is empty.</exception>
    public static double[] Convolve(ReadOnlySpan<double> a, ReadOnlySpan<double> v, ConvolveMode mode = ConvolveMode.Full, bool useFft = false)
    {
        if (a.IsEmpty) throw new ArgumentException("a cannot be empty", nameof(a));
        if (v.IsEmpty) throw new ArgumentException("v cannot be empty", nameof(v));
        if (v.Length > a.Length)
        {
            var t = a;
            a = v;
            v = t;
        }
        int n = a.Length, m = v.Length;
        var (start, length) = mode switch
        {
            ConvolveMode.Full => (0, n + m - 1),
            ConvolveMode.Same => ((m - 1) / 2, n),
            ConvolveMode.Valid => (m - 1, n - m + 1),
            _ => throw new ArgumentException($"unknown convolve mode {(int)mode}", nameof(mode)),
        };
        return useFft ? ByFft(a, v, start, length) : Direct(a, v, start, length);
    }

    /// <summary>The single-precision form of <see cref="Convolve(ReadOnlySpan{double}, ReadOnlySpan{double}, ConvolveMode, bool)"/> (computed in double).</summary>
    public static float[] Convolve(ReadOnlySpan<float> a, ReadOnlySpan<float> v, ConvolveMode mode = ConvolveMode.Full, bool useFft = false)
    {
        var ad = new double[a.Length];
        var vd = new double[v.Length];
        for (int i = 0; i < a.Length; i++) ad[i] = a[i];
        for (int i = 0; i < v.Length; i++) vd[i] = v[i];
        var r = Convolve(ad, vd, mode, useFft);
        var f = new float[r.Length];
        for (int i = 0; i < r.Length; i++) f[i] = (float)r[i];
        return f;
    }

    // Only the requested outputs: k in [start, start + length) of the full result, a the longer (n ≥ m).
    private static double[] Direct(ReadOnlySpan<double> a, ReadOnlySpan<double> v, int start, int length)
    {
        int n = a.Length, m = v.Length;
        var y = new double[length];
        for (int j = 0; j < length; j++)
        {
            int k = start + j;
            double s = 0;
            for (int i = Math.Max(0, k - m + 1), hi = Math.Min(k, n - 1); i <= hi; i++) s += a[i] * v[k - i];
            y[j] = s;
        }
        return y;
    }

    // Zero-pad both to a power of two ≥ n + m − 1 (so the circular product has no wrap), multiply spectra, invert.
    private static double[] ByFft(ReadOnlySpan<double> a, ReadOnlySpan<double> v, int start, int length)
    {
        int p = Fft.NextPowerOfTwo(a.Length + v.Length - 1);
        double[] ar = new double[p], ai = new double[p], vr = new double[p], vi = new double[p];
        a.CopyTo(ar);
        v.CopyTo(vr);
        Fft.Forward<double>(ar, ai);
        Fft.Forward<double>(vr, vi);
        for (int i = 0; i < p; i++)
        {
            double re = ar[i] * vr[i] - ai[i] * vi[i];
            ai[i] = ar[i] * vi[i] + ai[i] * vr[i];
            ar[i] = re;
        }
        Fft.Inverse<double>(ar, ai);
        return ar.AsSpan(start, length).ToArray();
    }
}
