using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Fovea.Backends.Cpu;

public static partial class Gemm
{
    /// <summary>A micro-kernel with its tile shape and the cache blocking that suits it.</summary>
    /// <remarks>
    /// <c>HalfKernel</c>, where present, is an MR×(NR/2) tile for the last B sliver when at most NR/2
    /// columns remain; that sliver is then packed NR/2 wide.
    /// </remarks>
    private sealed unsafe class KernelConfig(int mr, int nr, int kc, int mc, int nc,
        delegate*<int, float*, float*, float*, nint, float, void> kernel,
        delegate*<int, float*, float*, float*, nint, float, void> halfKernel = null)
    {
        public readonly int Mr = mr, Nr = nr, Kc = kc, Mc = mc, Nc = nc;
        public readonly delegate*<int, float*, float*, float*, nint, float, void> Kernel = kernel, HalfKernel = halfKernel;

        // Width of the packed sliver that starts at column jr of an nc-wide panel.
        public int SliverWidth(int jr, int nc) => HalfKernel != null && nc - jr <= Nr / 2 ? Nr / 2 : Nr;
    }

    // Blocking for the machine it was tuned on (AMD EPYC, CPUID family 26, Zen 5: 48 KB L1d and 1 MB L2 per
    // core, L3 shared), following the BLIS analysis:
    // - kc: the kernel re-reads one kc×NR B sliver for every MR-row sliver of A, so BLIS sizes it for L1.
    //   At kc = 256 the sliver is 32 KB, two thirds of the L1d, beside the A sliver's 8 KB, and a deeper
    //   slice halves the C tile loads and stores per FMA against kc = 128. Measured on 2048³ with the first
    //   6×32 tile (before C prefetching): 256 beat 128 by ~15% and 192 by ~5%; with the 8×32 tile, and again
    //   with the tile buffer below, kc from 128 to 512 came out within the shared machine's noise (±3%), so
    //   256 stayed.
    // - mc: the packed mc×kc A block is re-read for every B sliver, so it should stay in L2: 480×256×4 B =
    //   480 KB, half the 1 MB L2, leaving room for the B slivers streaming through.
    // - nc: the packed kc×nc B panel is re-read for every A block and lives in L3: 256×4096×4 B = 4 MB per
    //   thread, well inside the shared 32 MB.
    private static readonly unsafe KernelConfig Avx512Config = new(Avx512Mr, Avx512Nr, 256, 480, 4096, &KernelAvx512, &KernelAvx512Half);
    // Same reasoning on a 16-wide sliver (16 KB of B at kc = 256) for AVX2 parts with 32 KB L1d and 256 KB+
    // L2 (120×256×4 B = 120 KB of A). Not tuned on such a machine: the AVX2 and Vector kernels are checked
    // and timed here only by forcing them on this Zen 5.
    private static readonly unsafe KernelConfig Avx2Config = new(Avx2Mr, Avx2Nr, 256, 120, 4096, &KernelAvx2);
    private static readonly unsafe KernelConfig VectorConfig = new(VectorMr, VectorNr, 256, 96, 4096, &KernelVector);

    private static KernelConfig Config(Isa isa) => isa switch
    {
        Isa.Avx512 => Avx512Config,
        Isa.Avx2 => Avx2Config,
        _ => VectorConfig,
    };

    // Packing buffers, one pair per thread, grown on demand and kept for the thread's lifetime: the
    // steady-state training loop packs into the same memory every step and allocates nothing.
    // Allocated on the pinned heap so their addresses can be used without fixed, and aligned to 64 bytes
    // so every packed vector load is a single cache line.
    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;
    [ThreadStatic] private static float[]? t_tiles;

    /// <summary>
    /// The most floats of C a thread keeps in tile order between k slices (16 MB): a thread's share of a
    /// 2048² product at nc = 4096 is 8 MB. Bigger parts of C are accumulated where they lie. Settable so that
    /// tests can run both ways on small shapes.
    /// </summary>
    internal static long TileBufferLimit { get; set; } = 1 << 22;

    private static unsafe float* PackBuffer(ref float[]? buffer, long floats)
    {
        if (buffer == null || buffer.Length < floats + 16)
            buffer = GC.AllocateUninitializedArray<float>(checked((int)floats + 16), pinned: true);
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)((p + 63) & ~(nint)63);
    }

    // Splits C between the pool's threads along its larger dimension, in whole tiles. Each thread runs the
    // whole blocked loop nest on its part with its own packing buffers, so there is one hand-off per call
    // and no barrier inside. The price is that both threads pack the operand they share (B when m is split,
    // A when n is), which is why the split goes along the larger dimension: that shared operand is the
    // smaller one, and packing it is O(1/extent) of the work. Split by rows, a thread that is done with its
    // part helps finish the others' last k slice (LastSlice).
    private static unsafe void BlockedParallel(KernelConfig cfg, bool transA, bool transB, int m, int n, int k,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        bool splitRows = m >= n;
        int tile = splitRows ? cfg.Mr : cfg.Nr;
        int tiles = ((splitRows ? m : n) + tile - 1) / tile;
        long workPerTile = (long)tile * (splitRows ? n : m) * k;
        if (CpuParallel.Threads <= 1 || tiles < 2 || tiles * workPerTile < ParallelWork)
        {
            Blocked(cfg, transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        int parts = Math.Min(CpuParallel.Threads, tiles);
        LastSlice* shares = stackalloc LastSlice[parts];
        new Span<LastSlice>(shares, parts).Clear();
        CpuParallel.ForChunks(tiles, workPerTile,
            new ParallelTiles(cfg, splitRows, transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, splitRows ? shares : null, parts));
    }

    /// <summary>A parallel call's arguments: its items are tiles of MR rows of C, or of NR columns when split by columns.</summary>
    private readonly unsafe struct ParallelTiles(KernelConfig cfg, bool splitRows, bool transA, bool transB, int m, int n, int k,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc, LastSlice* shares, int parts) : CpuParallel.IChunks
    {
        public void Run(int start, int end)
        {
            if (splitRows)
            {
                // Tiles [start, end) of MR rows: rows of op(A) and of C. They share their last slice only as the
                // part they were planned as: Threads may have changed since, and the pool cut the tiles otherwise.
                int part = 0, tiles = (m + cfg.Mr - 1) / cfg.Mr;
                while (part < parts && CpuParallel.Part(tiles, part, parts) != (start, end)) part++;
                bool planned = shares != null && part < parts;
                Blocked(cfg, transA, transB, Rows(start, end), n, k, RowsOfA(start), lda, b, ldb, beta, c + start * cfg.Mr * ldc, ldc,
                    share: planned ? shares + part : null);
                if (!planned) return;
                // Then the last slices of the parts still running, from their ends.
                for (int other = 0; other < parts; other++)
                {
                    if (other == part || Volatile.Read(ref shares[other].Open) == 0) continue;
                    // This thread's packed B is that slice already: its own part ended with the same slice of B.
                    var (s0, s1) = CpuParallel.Part(tiles, other, parts);
                    int mo = Rows(s0, s1), kcB = EvenBlock(k, cfg.Kc, 1);
                    float* packA = PackBuffer(ref t_packA, (long)EvenBlock(mo, cfg.Mc, cfg.Mr) * kcB);
                    float* packB = PackBuffer(ref t_packB, (long)EvenBlock(n, cfg.Nc, cfg.Nr) * kcB);
                    int stolen = RunLastSlice(cfg, shares + other, true, transA, mo, n, k, RowsOfA(s0), lda, packA, packB, beta, c + s0 * cfg.Mr * ldc, ldc);
                    if (stolen > 0) Interlocked.Add(ref s_stolenUnits, stolen);
                }
            }
            else
            {
                // Tiles [start, end) of NR columns: columns of op(B) and of C.
                int j0 = start * cfg.Nr, j1 = Math.Min(end * cfg.Nr, n);
                float* bj = transB ? b + j0 * ldb : b + j0;
                Blocked(cfg, transA, transB, m, j1 - j0, k, a, lda, bj, ldb, beta, c + j0, ldc);
            }
        }

        private int Rows(int start, int end) => Math.Min(end * cfg.Mr, m) - start * cfg.Mr;

        private float* RowsOfA(int start) => transA ? a + start * cfg.Mr : a + start * cfg.Mr * lda;
    }

    // Going parallel costs a hand-off to CpuParallel's workers (a few µs, more when the other core is busy) while the
    // single-thread kernel does ~50 multiply-adds per ns, so below about a million multiply-adds (≈100³,
    // ~20 µs on one thread) the second thread cannot repay its start. CpuParallel's generic threshold
    // (2^16 element touches) is tuned for element-wise loops and would split 40³ products, which measured
    // slower on two threads than on one.
    private const long ParallelWork = 1 << 20;

    // The five BLIS loops on one thread: jc over nc-wide panels of B, pc over kc-deep slices (pack B),
    // ic over mc-tall blocks of A (pack A, unless packedA holds all of op(A) in a PackedALayout whose padded row
    // count is packedRows), then jr/ir over NR×MR register tiles.
    //
    // When k takes more than one slice, the tiles' running sums live between slices in a buffer of whole
    // tiles laid end to end in the order the loops visit them, and only the last slice writes C. A tile of C
    // itself is MR rows a leading dimension apart (a page each at n = 2048, and a power-of-two stride that
    // crowds a few cache sets), which the hardware prefetcher does not follow; a buffered tile is one
    // contiguous run, read back in the order it was written. On two threads 2048³ ran 2-5% faster, 512³ 12%.
    // Edge tiles are whole in the buffer too, so the last slice's write-back is the only place that knows
    // about edges.
    private static unsafe void Blocked(KernelConfig cfg, bool transA, bool transB, int m, int n, int k,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc, float* packedA = null, int packedRows = 0,
        LastSlice* share = null)
    {
        int mr = cfg.Mr, nr = cfg.Nr;
        // Equal-sized blocks rather than full blocks plus a sliver: k = 300 with kc = 256 runs as 2×150
        // instead of 256 + 44, which would pay a full C load/store for 44 steps of work.
        int kcB = EvenBlock(k, cfg.Kc, 1), mcB = EvenBlock(m, cfg.Mc, mr), ncB = EvenBlock(n, cfg.Nc, nr);
        float* packA = PackBuffer(ref t_packA, (long)mcB * kcB);
        float* packB = PackBuffer(ref t_packB, (long)ncB * kcB);
        float* edge = stackalloc float[mr * nr];
        long tileFloats = (long)(m / mcB * mcB + (m % mcB + mr - 1) / mr * mr) * ((Math.Min(ncB, n) + nr - 1) / nr * nr);
        float* tiles = k > kcB && tileFloats <= TileBufferLimit ? PackBuffer(ref t_tiles, tileFloats) : null;

        for (int jc = 0; jc < n; jc += ncB)
        {
            int nc = Math.Min(ncB, n - jc);
            for (int pc = 0; pc < k; pc += kcB)
            {
                int kc = Math.Min(kcB, k - pc);
                bool first = pc == 0, last = pc + kc >= k;
                // The first k slice applies beta; later slices accumulate onto what it wrote.
                float betaK = first ? beta : 1f;
                PackB(cfg, transB, b, ldb, pc, jc, kc, nc, packB);
                if (last && tiles != null && share != null && nc == n)
                {
                    OpenLastSlice(share, tiles, (m + mcB - 1) / mcB * ((n + nr - 1) / nr));
                    RunLastSlice(cfg, share, false, transA, m, n, k, a, lda, packA, packB, beta, c, ldc);
                    continue;
                }
                float* tile = tiles;
                for (int ic = 0; ic < m; ic += mcB)
                {
                    int mc = Math.Min(mcB, m - ic);
                    if (packedA == null) PackA(transA, a, lda, ic, pc, mc, kc, mr, packA);
                    else packA = packedA + (nint)pc * packedRows + (nint)ic * kc;
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr), width = cfg.SliverWidth(jr, nc);
                        var kernel = width == nr ? cfg.Kernel : cfg.HalfKernel;
                        float* bs = packB + (nint)jr * kc;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* cs = c + (ic + ir) * ldc + jc + jr;
                            float* ap = packA + (nint)ir * kc;
                            if (tiles != null)
                            {
                                // beta reaches C with the last slice's write-back, so the buffer starts from zero.
                                kernel(kc, ap, bs, tile, width, first ? 0f : 1f);
                                if (last) WriteBack(tile, width, cs, ldc, rows, cols, beta);
                                tile += mr * width;
                            }
                            else if (rows == mr && cols == width)
                                kernel(kc, ap, bs, cs, ldc, betaK);
                            else
                            {
                                // Edge tile: compute the full (zero-padded) tile aside, write back the valid part.
                                kernel(kc, ap, bs, edge, width, 0f);
                                WriteBack(edge, width, cs, ldc, rows, cols, betaK);
                            }
                        }
                    }
                }
            }
        }
    }

    private static int EvenBlock(int extent, int block, int multiple)
    {
        int blocks = (extent + block - 1) / block;
        int size = (extent + blocks - 1) / blocks;
        return (size + multiple - 1) / multiple * multiple;
    }

    // C = tile + beta·C over the valid rows × cols (beta == 0: C is not read). It writes every tile of C
    // when the sums are buffered, so it goes a vector at a time; the tile was just stored and is in L1. Compiled
    // optimized from the first call: left to tiering, it cost a 64×3025×363 product a quarter of its time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WriteBack(float* tile, int ldt, float* c, nint ldc, int rows, int cols, float beta)
    {
        int w = Vector<float>.Count, vcols = cols - cols % w;
        var bv = new Vector<float>(beta);
        for (int i = 0; i < rows; i++, tile += ldt, c += ldc)
        {
            int j = 0;
            if (beta == 0f)
            {
                for (; j < vcols; j += w) Vector.Store(Vector.Load(tile + j), c + j);
                for (; j < cols; j++) c[j] = tile[j];
            }
            else
            {
                for (; j < vcols; j += w) Vector.Store(Vector.FusedMultiplyAdd(bv, Vector.Load(c + j), Vector.Load(tile + j)), c + j);
                for (; j < cols; j++) c[j] = MathF.FusedMultiplyAdd(beta, c[j], tile[j]);
            }
        }
    }
}
