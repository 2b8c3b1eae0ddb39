namespace Fovea.Gpu.Kernels;

/// <summary>
/// Division of a non-negative int by a divisor fixed for a whole launch, as a multiply-high, an add and a shift: a GPU
/// has no integer divide, and the convolutions' address arithmetic (splitting an index into image, row and column, or
/// into channel and tap) divides at every step of k. The multiplier is worked out on the host, once per launch.
/// <para>
/// Granlund and Montgomery, "Division by invariant integers using multiplication" (1994), section 4: with
/// l = ceil(log2 d) and m = floor(2^32 (2^l − d) / d) + 1, n / d = (mulhi(m, n) + n) >> l for every 32-bit n. Their
/// general form halves n − mulhi before adding so as not to overflow; for n &lt; 2^31 the sum fits in 32 bits as it is.
/// </para>
/// </summary>
internal struct FastDivisor
{
    public int D;
    public uint M;
    public int L;

    public static FastDivisor Of(int d)
    {
        if (d < 1) throw new ArgumentOutOfRangeException(nameof(d), d, "a divisor must be at least 1");
        int l = 0;
        while ((1L << l) < d) l++;
        return new FastDivisor { D = d, M = (uint)((1UL << 32) * ((1UL << l) - (ulong)d) / (ulong)d + 1), L = l };
    }

    /// <summary>n / D for 0 ≤ n &lt; 2^31.</summary>
    public readonly int Div(int n) => (int)(((uint)(((ulong)M * (uint)n) >> 32) + (uint)n) >> L);

    /// <summary>n % D for 0 ≤ n &lt; 2^31, given q = n / D.</summary>
    public readonly int Rem(int n, int q) => n - q * D;
}
