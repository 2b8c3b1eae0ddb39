namespace Fovea.Backends.Cpu;

public static partial class Gemm
{
    // A left operand packed once and multiplied many times: Winograd's U_ξ meets every block's V_ξ, and packing it
    // for each of those products copied it again per block (8 times per plane on 8x128x56x56). The layout is what
    // Blocked packs block by block, laid end to end, and depends on the kernel family, which the layout records so
    // that packing and products agree (tests switch the family in use while other tests run).

    /// <summary>
    /// Where op(A)[i, p] of an M×K left operand lies once packed whole for kernel family Isa: the Kc-deep slices of
    /// k one after another, each holding the Mr-row slivers of all M rows (zero-padded to Rows), each sliver a slice's
    /// steps of Mr consecutive rows. The block Blocked reads at rows ic of the slice at depth pc so starts
    /// pc·Rows + ic·kc floats in.
    /// </summary>
    internal readonly record struct PackedALayout(Isa Isa, int M, int K, int Mr, int Kc)
    {
        public int Rows => (M + Mr - 1) / Mr * Mr;

        public int Size => checked(Rows * K);

        public int Offset(int i, int p)
        {
            int pc = p / Kc * Kc, kc = Math.Min(Kc, K - pc);
            return pc * Rows + i / Mr * Mr * kc + (p - pc) * Mr + i % Mr;
        }
    }

    /// <summary>The packed layout of an m×k left operand for the kernel family <paramref name="isa"/>.</summary>
    internal static PackedALayout PackedA(Isa isa, int m, int k)
    {
        if (m <= 0 || k <= 0) throw new ArgumentException($"GEMM: a packed A needs positive sizes, got {m}×{k}");
        var cfg = Config(isa);
        return new PackedALayout(isa, m, k, cfg.Mr, EvenBlock(k, cfg.Kc, 1));
    }

    /// <summary>
    /// Packs all of op(A) in <paramref name="layout"/>, on the calling thread, with the packing each product does:
    /// the reference for callers that write the layout themselves.
    /// </summary>
    internal static unsafe void PackAWhole(in PackedALayout layout, bool transA, ReadOnlySpan<float> a, int lda, Span<float> packed)
    {
        int m = layout.M, k = layout.K;
        CheckOperand("A", a.Length, transA ? k : m, transA ? m : k, lda);
        if (packed.Length < layout.Size) throw new ArgumentException($"GEMM: packed A needs {layout.Size} floats, got {packed.Length}");
        fixed (float* pa = a, dst = packed)
            for (int pc = 0; pc < k; pc += layout.Kc)
                PackA(transA, pa, lda, 0, pc, m, Math.Min(layout.Kc, k - pc), layout.Mr, dst + (nint)pc * layout.Rows);
    }

    /// <summary>C = A·B + beta·C on the calling thread, with A packed in <paramref name="layout"/> and B stored K×n.</summary>
    internal static unsafe void SgemmPackedA(in PackedALayout layout, ReadOnlySpan<float> packedA, int n, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        int m = layout.M, k = layout.K;
        if (n <= 0) throw new ArgumentException($"GEMM with packed A needs a positive n, got {n}");
        if (packedA.Length < layout.Size) throw new ArgumentException($"GEMM: packed A needs {layout.Size} floats, got {packedA.Length}");
        CheckOperand("B", b.Length, k, n, ldb);
        CheckOperand("C", c.Length, m, n, ldc);
        fixed (float* pa = packedA, pb = b, pc = c)
            Blocked(Config(layout.Isa), false, false, m, n, k, null, 0, pb, ldb, beta, pc, ldc, pa, layout.Rows);
    }
}
