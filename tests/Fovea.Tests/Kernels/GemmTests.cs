using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

// Gemm.Sgemm against the double-precision triple loop in GemmReference, over shapes that hit every path:
// the direct small-product path, full and edge register tiles, several cache blocks in each dimension,
// all four transpose combinations, padded leading dimensions, the three beta cases and every kernel family
// this CPU can run.
public class GemmTests
{
    private static readonly int[] Sizes = [0, 1, 2, 3, 7, 17, 31, 64, 65, 130, 257];

    // A spread over Sizes³ rather than the full product (which would take too long against the O(mnk)
    // double-precision reference): every size appears in every position, paired with small and large others.
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        var seen = new HashSet<(int, int, int)>();
        void Add(int m, int n, int k)
        {
            if (seen.Add((m, n, k))) data.Add(m, n, k);
        }
        for (int i = 0; i < Sizes.Length; i++)
        {
            int s = Sizes[i], t = Sizes[(i + 4) % Sizes.Length], u = Sizes[(i + 7) % Sizes.Length];
            Add(s, t, u);
            Add(t, s, u);
            Add(u, t, s);
            Add(s, s, s);
        }
        Add(1, 257, 130);
        Add(257, 1, 130);
        Add(130, 257, 1);
        Add(65, 65, 65);
        Add(31, 17, 257);
        // Column tails of exactly half a 32-wide tile (and a lone half tile), over whole 8-row tiles.
        Add(64, 48, 40);
        Add(40, 16, 64);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReferenceForAllTransposesAndBetas(int m, int n, int k)
    {
        var rng = new Random(1000 * m + 100 * n + k);
        float[] betas = [0f, 1f, 0.5f];
        // Big shapes take one beta per transpose case (rotating) so the reference stays within the time budget.
        bool big = (long)m * n * k > 1 << 20;
        int combo = 0;
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
            {
                for (int bi = 0; bi < betas.Length; bi++)
                    if (!big || bi == combo % betas.Length)
                        CheckAgainstReference(rng, transA, transB, m, n, k, betas[bi], padding: (m + n + k) % 3 * 5);
                combo++;
            }
    }

    [Fact]
    public void MatchesReferenceWhenLargerThanOneCacheBlockInEveryDimension()
    {
        // 520 rows > mc, 700 deep > kc: several A blocks and k slices; one transpose case each way keeps
        // the double-precision reference within the time budget.
        var rng = new Random(7);
        CheckAgainstReference(rng, false, false, 300, 520, 700, 0.5f, padding: 3);
        CheckAgainstReference(rng, true, true, 530, 70, 300, 0f, padding: 0);
    }

    [Fact]
    public void MatchesReferenceWiderThanOneBPanel()
    {
        // n > nc (4096) so the outer jc loop runs more than once; k small to keep the reference cheap. The second
        // takes two k slices, so the tile buffer is filled and written back once per panel.
        CheckAgainstReference(new Random(11), false, true, 13, 4500, 9, 1f, padding: 1);
        CheckAgainstReference(new Random(12), false, false, 20, 4200, 300, 0.5f, padding: 2);
    }

    // Products deeper than one k slice keep their running sums in a buffer of tiles unless it would pass
    // TileBufferLimit; with the limit at zero the same shapes accumulate in C itself.
    [Fact]
    public void MatchesReferenceAccumulatingInCWhenTheTileBufferWouldBeTooBig()
    {
        long saved = Gemm.TileBufferLimit;
        try
        {
            Gemm.TileBufferLimit = 0;
            var rng = new Random(13);
            CheckAgainstReference(rng, false, false, 300, 520, 700, 0.5f, padding: 3);
            CheckAgainstReference(rng, true, true, 530, 70, 300, 0f, padding: 0);
            CheckAgainstReference(rng, false, true, 67, 45, 260, 1f, padding: 2);
        }
        finally
        {
            Gemm.TileBufferLimit = saved;
        }
    }

    [Fact]
    public void EveryKernelFamilyThisCpuRunsMatchesReference()
    {
        var saved = Gemm.ActiveIsa;
        try
        {
            for (var isa = Gemm.Isa.Vector; isa <= Gemm.BestIsa; isa++)
            {
                Gemm.ActiveIsa = isa;
                var rng = new Random((int)isa);
                foreach (bool transA in new[] { false, true })
                    foreach (bool transB in new[] { false, true })
                    {
                        CheckAgainstReference(rng, transA, transB, 67, 45, 260, 0f, padding: 2);
                        CheckAgainstReference(rng, transA, transB, 7, 70, 33, 0.5f, padding: 0);
                    }
            }
        }
        finally
        {
            Gemm.ActiveIsa = saved;
        }
    }

    [Fact]
    public void OneAndTwoThreadsAgree()
    {
        int saved = CpuParallel.Threads;
        try
        {
            var rng = new Random(3);
            foreach (var (m, n, k) in new[] { (200, 90, 150), (40, 300, 150) })
            {
                var a = Random(rng, m * k);
                var b = Random(rng, k * n);
                var c1 = new float[m * n];
                var c2 = new float[m * n];
                CpuParallel.Threads = 1;
                Gemm.Sgemm(false, false, m, n, k, a, k, b, n, 0f, c1, n);
                CpuParallel.Threads = 2;
                Gemm.Sgemm(false, false, m, n, k, a, k, b, n, 0f, c2, n);
                var c3 = new float[m * n];
                Gemm.SgemmOneThread(false, false, m, n, k, a, k, b, n, 0f, c3, n); // two threads allowed, one used
                float tol = 1e-5f * MathF.Sqrt(k);
                for (int i = 0; i < c1.Length; i++)
                    Assert.True(MathF.Abs(c1[i] - c2[i]) <= tol + 1e-4f * MathF.Abs(c1[i]), $"{m}x{n}x{k} at {i}: {c1[i]} vs {c2[i]}");
                Assert.Equal(c1, c3);
            }
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }

    // A thread that has finished its rows takes tiles of the other thread's last k slice (Gemm.LastSlice). It runs them
    // with the owner's sums and packed operands, so the product must be the one-thread product bit for bit. Two busy
    // threads beside it make one part lag behind the other, so that tiles do change hands; StolenUnits shows they did.
    [Fact]
    public void LastSliceTilesTakenByTheOtherThreadGiveTheOneThreadProductBitForBit()
    {
        int saved = CpuParallel.Threads;
        bool stop = false;
        var busy = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            while (!Volatile.Read(ref stop)) Thread.SpinWait(1000);
        })).ToList();
        try
        {
            // Split by rows (m ≥ n), three k slices, edge tiles in both directions; A as stored and transposed, beta 0 and not.
            int m = 523, n = 301, k = 600;
            var rng = new Random(17);
            var a = Random(rng, m * k);
            var b = Random(rng, k * n);
            var c = Random(rng, m * n);
            busy.ForEach(t => t.Start());
            foreach (var (transA, beta) in new[] { (false, 0f), (true, 0.5f) })
            {
                int lda = transA ? m : k;
                var one = (float[])c.Clone();
                CpuParallel.Threads = 1;
                Gemm.Sgemm(transA, false, m, n, k, a, lda, b, n, beta, one, n);
                CpuParallel.Threads = 2;
                long before = Gemm.StolenUnits;
                var two = new float[m * n];
                for (int round = 0; round < 500 && Gemm.StolenUnits == before; round++)
                {
                    c.CopyTo(two, 0);
                    Gemm.Sgemm(transA, false, m, n, k, a, lda, b, n, beta, two, n);
                    Assert.Equal(one, two);
                }
                Assert.True(Gemm.StolenUnits > before, $"transA {transA}: in 500 products no thread took a tile of the other's last slice");
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            busy.ForEach(t => { if (t.IsAlive) t.Join(); });
            CpuParallel.Threads = saved;
        }
    }

    // Up to 8 rows of C (16 with B transposed) take the direct path, which splits C's columns over the threads once
    // the product is big enough; these shapes are, and they leave tails of columns (not a multiple of 4 or of the
    // 512-column unit) and of k (not a multiple of 4 or of the vector width).
    [Fact]
    public void FewRowProductsSplitOverThreadsMatchReference()
    {
        int saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = 2;
            var rng = new Random(11);
            foreach (var (m, n, k) in new[] { (1, 4099, 301), (5, 2053, 517), (8, 1029, 1031), (15, 1029, 1031) })
                foreach (bool transA in new[] { false, true })
                    foreach (bool transB in new[] { false, true })
                        foreach (float beta in new[] { 0f, 0.5f })
                            CheckAgainstReference(rng, transA, transB, m, n, k, beta, padding: 3);
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }

    [Fact]
    public void BetaZeroIgnoresNaNAndLeavesPaddingAlone()
    {
        // C with ldc > n: the gaps between rows belong to someone else and must survive.
        int m = 40, n = 50, k = 70, ldc = 53;
        var rng = new Random(5);
        var a = Random(rng, m * k);
        var b = Random(rng, k * n);
        var c = new float[(m - 1) * ldc + n];
        Array.Fill(c, float.NaN);
        for (int i = 0; i < m - 1; i++)
            for (int j = n; j < ldc; j++) c[i * ldc + j] = 42f;
        Gemm.Sgemm(false, false, m, n, k, a, k, b, n, 0f, c, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc && i * ldc + j < c.Length; j++)
                if (j < n) Assert.False(float.IsNaN(c[i * ldc + j]));
                else Assert.Equal(42f, c[i * ldc + j]);
    }

    // A packed once (Winograd's U_ξ) and multiplied by B as stored: edge slivers of rows, several k slices (k > kc),
    // several A blocks (m > mc) and every kernel family, whose packed layouts differ.
    [Fact]
    public void PackedOnceAMatchesReference()
    {
        for (var isa = Gemm.Isa.Vector; isa <= Gemm.BestIsa; isa++)
        {
            var rng = new Random(20 + (int)isa);
            foreach (bool transA in new[] { false, true })
            {
                CheckAgainstReference(rng, transA, false, 67, 45, 260, 0f, padding: 2, PackedOnce(isa));
                CheckAgainstReference(rng, transA, false, 128, 40, 128, 0.5f, padding: 0, PackedOnce(isa));
            }
        }
        CheckAgainstReference(new Random(29), true, false, 530, 70, 300, 0f, padding: 3, PackedOnce(Gemm.BestIsa));
    }

    private static Product PackedOnce(Gemm.Isa isa) => (transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc) =>
    {
        Assert.False(transB);
        var layout = Gemm.PackedA(isa, m, k);
        var packed = Filled(layout.Size, float.NaN);
        Gemm.PackAWhole(layout, transA, a, lda, packed);
        Gemm.SgemmPackedA(layout, packed, n, b, ldb, beta, c, ldc);
    };

    // PackedALayout.Offset, which Winograd's filter transform writes by, against what the packing does.
    [Fact]
    public void PackedLayoutOffsetsAreWherePackingPutsEachElement()
    {
        for (var isa = Gemm.Isa.Vector; isa <= Gemm.BestIsa; isa++)
            foreach (var (m, k) in new[] { (1, 1), (13, 7), (128, 128), (67, 260), (530, 300) })
            {
                var layout = Gemm.PackedA(isa, m, k);
                var a = new float[m * k];
                for (int i = 0; i < a.Length; i++) a[i] = i + 1;
                var packed = new float[layout.Size];
                Gemm.PackAWhole(layout, false, a, k, packed);
                for (int i = 0; i < m; i++)
                    for (int p = 0; p < k; p++)
                        Assert.True(packed[layout.Offset(i, p)] == a[i * k + p], $"{isa} {m}x{k}: A[{i},{p}]");
                Assert.Equal(m * k, packed.Count(v => v != 0f)); // the rest is the slivers' zero padding
            }
    }

    [Fact]
    public void RejectsOperandsTooShortForTheirShape()
    {
        var x = new float[10];
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 4, 4, x, 4, new float[16], 4, 0f, new float[16], 4));
        Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 2, new float[4], 1, new float[4], 2, 0f, new float[4], 2));
    }

    private delegate void Product(bool transA, bool transB, int m, int n, int k, float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc);

    private static void CheckAgainstReference(Random rng, bool transA, bool transB, int m, int n, int k, float beta, int padding, Product? product = null)
    {
        int lda = (transA ? m : k) + padding, ldb = (transB ? k : n) + padding, ldc = n + padding;
        int rowsA = transA ? k : m, rowsB = transB ? n : k;
        var a = Random(rng, Math.Max(0, rowsA * lda - padding));
        var b = Random(rng, Math.Max(0, rowsB * ldb - padding));
        var c = beta == 0f ? Filled(m * ldc, float.NaN) : Random(rng, m * ldc);
        var expected = (float[])c.Clone();
        if (beta == 0f) Array.Fill(expected, 0f);
        GemmReference.Sgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, expected, ldc);
        if (product != null) product(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
        else Gemm.Sgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);

        // Float accumulation over k terms of size ≤ 1: rounding grows like sqrt(k) in the typical case.
        float abs = 1e-5f * MathF.Sqrt(k + 1);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float e = expected[i * ldc + j], g = c[i * ldc + j];
                if (!(MathF.Abs(e - g) <= abs + 1e-4f * MathF.Abs(e)))
                    Assert.Fail($"transA={transA} transB={transB} m={m} n={n} k={k} beta={beta} pad={padding}: C[{i},{j}] = {g}, expected {e}");
            }
    }

    private static float[] Random(Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private static float[] Filled(int length, float value)
    {
        var x = new float[length];
        Array.Fill(x, value);
        return x;
    }
}
