namespace Fovea.Gpu.Kernels;

/// <summary>
/// A strided view of rank up to 8 passed by value to a kernel: maps a row-major linear index over the shape to an
/// element offset. Kernels cannot index arrays held on the host, so the dims are fields, unrolled.
/// </summary>
internal struct StridedIndex
{
    public const int MaxRank = 8;

    public int Rank, Offset;
    public int S0, S1, S2, S3, S4, S5, S6, S7;
    public int T0, T1, T2, T3, T4, T5, T6, T7;

    public static StridedIndex Create(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, int offset)
    {
        if (shape.Length > MaxRank) throw new NotSupportedException($"the GPU backend handles strided views of rank up to {MaxRank}, got rank {shape.Length}");
        Span<int> s = stackalloc int[MaxRank], t = stackalloc int[MaxRank];
        s.Fill(1);
        t.Clear();
        shape.CopyTo(s);
        strides.CopyTo(t);
        return new StridedIndex
        {
            Rank = shape.Length,
            Offset = offset,
            S0 = s[0],
            S1 = s[1],
            S2 = s[2],
            S3 = s[3],
            S4 = s[4],
            S5 = s[5],
            S6 = s[6],
            S7 = s[7],
            T0 = t[0],
            T1 = t[1],
            T2 = t[2],
            T3 = t[3],
            T4 = t[4],
            T5 = t[5],
            T6 = t[6],
            T7 = t[7],
        };
    }

    /// <summary>The element offset of the <paramref name="linear"/>-th element in row-major order.</summary>
    public readonly int At(int linear)
    {
        // Peel dims from the last: unused dims have size 1 and stride 0, so the unrolled steps are harmless.
        int r = linear, o = Offset;
        o += r % S7 * T7; r /= S7;
        o += r % S6 * T6; r /= S6;
        o += r % S5 * T5; r /= S5;
        o += r % S4 * T4; r /= S4;
        o += r % S3 * T3; r /= S3;
        o += r % S2 * T2; r /= S2;
        o += r % S1 * T1; r /= S1;
        o += r % S0 * T0;
        return o;
    }
}
