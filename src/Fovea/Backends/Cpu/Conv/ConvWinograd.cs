namespace Fovea.Backends.Cpu;

/// <summary>
/// Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
/// interpolation points 0, ±1, ±2, ∞) for 3x3 kernels at unit stride and dilation, one group, any zero padding.
/// Each 6x6 input tile d (tiles 4 apart, overlapping by 2) gives a 4x4 output tile Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A:
/// 36 multiplies instead of 144. Summed over channels, the element-wise products become 36 independent GEMMs
/// M_ξ [O, T] = U_ξ [O, C] · V_ξ [C, T] over T tiles. The tiles of the whole batch are numbered image by image, row
/// by row, and cut into blocks. With at least 64 tiles per thread the filters are transformed once, and blocks run
/// side by side, each taking its input transform, 36 GEMMs and output transform on one thread so that its V and M
/// are still in cache when the next phase reads them. With fewer (a small image at batch 1) the filters are split
/// into chunks instead, each transformed, multiplied and transformed back on one thread. The data gradient is this
/// forward over dy (<see cref="BackwardData"/>); the filter gradient reads the same tiles the other way round
/// (ConvWinograd.FilterGradient.cs). An inference pass keeps its transformed filters for the next one
/// (ConvWinograd.KeptFilters.cs); with 48 tiles to 64 a thread it then runs by filters from the kept U
/// (ConvWinograd.KeptSlivers.cs). A 5x5 kernel runs as four 3x3 parts (<see cref="Parts"/>).
/// </summary>
internal static partial class ConvWinograd
{
    /// <summary>Output (and input-tile) stride between neighbouring tiles, and the input tile's extent.</summary>
    private const int Step = 4, Extent = 6, Points = Extent * Extent;

    /// <summary>
    /// Most floats of V and M one block may hold (4 MB). While each block packed U_ξ again, 2^21 floats beat 2^19,
    /// 2^20 and 2^22 by 5-20% on 2 cores; with U packed once, smaller blocks cost nothing more and their V and M
    /// crowd the shared cache less. 2^20 against 2^21, x [N, C, S, S] → C filters, medians of 15 alternating rounds
    /// in one process (ms, 1 thread / 2 threads): 8x128x56 17.3 / 10.6 vs 17.5 / 11.8; 1x64x224 13.7 / 7.6 vs
    /// 13.7 / 7.9; 1x128x112 9.4 / 5.7 vs 10.0 / 6.1; 4x256x56 34.2 / 19.3 vs 33.8 / 19.9; 4x64x224 51.4 / 28.7 vs
    /// 53.3 / 30.8 (2^19: 17.9 / 11.1 on the first). Not a constant so that tests can force many blocks, and rows of
    /// tiles cut between them, on small shapes.
    /// </summary>
    internal static int TileBudget = 1 << 20;

    /// <summary>
    /// Tiles per thread from which the blocks run side by side. Below it the GEMMs would be only a vector or two wide,
    /// and each element of U, written whole and read back from memory, would serve a few multiply-adds; splitting
    /// by filters measured 1.5-2x faster at 16-49 tiles, even at 64-128 tiles, and 1.5x slower at 196.
    /// </summary>
    private const int MinParallelBlockTiles = 64;

    /// <summary>
    /// Most floats of a chunk of U when the work is split by filters (4 MB): the chunk is transformed and then
    /// multiplied while it is still in cache, and larger chunks mean fewer, wider GEMMs.
    /// </summary>
    private const int FilterChunkBudget = 1 << 20;

    /// <summary>
    /// Most floats of a whole U (16 MB) before the work is split by filters however many the tiles. VGG-16's layers
    /// with 512 filters or channels pass it; at 28x28, batch 4, they would otherwise run by blocks (U of 38 MB for
    /// 512 → 512): by filters they hold 11 MB of scratch instead of 61, and a VGG-16 batch-4 training process peaked 17 MB lower (its step
    /// measured 3% slower with this and the smaller im2col column budget, within this machine's noise). Not a
    /// constant so that tests can take this path on small shapes.
    /// </summary>
    internal static int MostFilterTransformFloats = 1 << 22;

    /// <summary>Fewest rows (tiles) a by-filters GEMM is given; see <see cref="ForwardByFilters"/>.</summary>
    private const int MinGemmRows = 8;

    /// <summary>Filters per chunk are a multiple of the widest GEMM register tile (32 columns), so no tile is part-empty but the last.</summary>
    private const int FilterChunkMultiple = 32;

    /// <summary>Whether an inference pass over this geometry keeps its transformed filters (run by blocks or by kept slivers).</summary>
    internal static bool KeepsFilters(in ConvGeometry g) => Keeps(MakePlan(g, keepFilters: true));

    /// <summary>Whether an inference pass with this plan keeps its filters: it has tiles, and runs them by blocks or by kept slivers.</summary>
    private static bool Keeps(in Plan p) => p.Tiles > 0 && (!p.ByFilters || p.KeptSlivers);

    /// <summary>Whether Winograd can compute this geometry: a test that, unlike <see cref="Unsupported"/>, builds no message.</summary>
    internal static bool Supports(in ConvGeometry g) => (g.KernelHeight, g.KernelWidth) is (3, 3) or (5, 5) && g.IsUnitStrideDense;

    /// <summary>Why Winograd cannot compute this geometry, or null when it can.</summary>
    internal static string? Unsupported(in ConvGeometry g) =>
        Supports(g) ? null
            : $"Winograd F(4x4,3x3) needs a 3x3 (or 5x5) kernel with stride 1, dilation 1 and groups 1, got {g.KernelHeight}x{g.KernelWidth} stride {g.StrideH}x{g.StrideW}, dilation {g.DilationH}x{g.DilationW}, groups {g.Groups}";

    /// <summary>
    /// The 3x3 parts the kernel is cut into: 1, or 4 for a 5x5 kernel, whose taps (3a + i, 3b + j) form part 2a + b
    /// (taps past the fifth row or column are zeros), applied to the input shifted by (3a, 3b). The parts are channels
    /// of one 3x3 convolution: 4C channels whose sum is the 5x5 one, so the 36 products are 4x as deep. The multiplies
    /// are then 9 per output against 25 direct, on F(4x4, 3x3)'s tiles and transforms.
    /// </summary>
    private static int Parts(in ConvGeometry g) => g.KernelHeight == 5 ? 4 : 1;

    /// <summary>The channels of the 3x3 sum: the input's, once per part.</summary>
    private static int Channels(in ConvGeometry g) => g.InChannels * Parts(g);

    /// <summary>Shift between a 5x5 kernel's parts, in rows or columns.</summary>
    private const int PartShift = 3;

    private static int PartsLength(in ConvGeometry g) => g.OutChannels * Channels(g) * 9;

    /// <summary>w [O, C, 5, 5] → [O, 4C, 3, 3] from the pool: channel q·C + c of filter o holds part q (<see cref="Parts"/>) of w[o, c].</summary>
    private static float[] SplitFilters(in ConvGeometry g, float[] w)
    {
        var parts = ScratchPool.Rent(PartsLength(g));
        CpuParallel.ForChunks(g.OutChannels, (long)Channels(g) * 9, new FilterParts(g.InChannels, w, parts));
        return parts;
    }

    private readonly struct FilterParts(int c, float[] w, float[] parts) : CpuParallel.IChunks
    {
        public void Run(int first, int end)
        {
            for (int o = first; o < end; o++)
                for (int q = 0; q < 4; q++)
                    for (int ci = 0; ci < c; ci++)
                    {
                        var src = w.AsSpan((o * c + ci) * 25, 25);
                        var dst = parts.AsSpan(((o * 4 + q) * c + ci) * 9, 9);
                        int r0 = PartShift * (q >> 1), c0 = PartShift * (q & 1);
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 3; j++)
                                dst[3 * i + j] = r0 + i < 5 && c0 + j < 5 ? src[(r0 + i) * 5 + c0 + j] : 0f;
                    }
        }
    }

    /// <summary>
    /// What the filter transform costs, in tiles' worth of GEMM work: with few tiles it is no longer small beside the
    /// products, since it writes and packs 36·O·C floats whatever the image size. Fitted to 1x512x7x7 → 512 (4 tiles,
    /// im2col 2x faster on 1 and 2 cores), 2x512x7x7 (8 tiles, im2col 1.6x faster), 4x512x7x7 and 1x256x14x14 (16 tiles
    /// on 7x7 or 14x14, even) against AlexNet's 13x13 layers at batch 1 (16 tiles covering 13x13 outputs: 192 → 384,
    /// 384 → 256, 256 → 256 took 1.06, 1.57, 1.04 ms by im2col against 1.49, 2.22, 1.27 by Winograd at 2 threads once
    /// the unfold copied shifted planes whole; 20 had sent them to Winograd). At 28 those go to im2col and the rest stay:
    /// `fovea bench` AlexNet inference at batch 1, 13.6 → 11.6 ms (medians of 9 alternating rounds), batch 8 and
    /// VGG-16 at batch 1 within noise.
    /// </summary>
    private const int FilterTransformTiles = 28;

    /// <summary>
    /// Winograd's work in multiply-adds, to set against the direct count <see cref="ConvGeometry.Macs"/>: the 36 GEMMs
    /// over the tiles (4x4 output tiles, so an output not a multiple of 4 pays for whole tiles) and the filter transform.
    /// </summary>
    internal static long EstimatedMacs(in ConvGeometry g) => (long)Points * Channels(g) * g.OutChannels * (TileCount(g) + FilterTransformTiles);

    /// <summary>The 4x4 output tiles of the batch: the width of each of the 36 products.</summary>
    internal static long TileCount(in ConvGeometry g) => (long)g.Batch * ((g.OutHeight + Step - 1) / Step) * ((g.OutWidth + Step - 1) / Step);

    /// <summary>
    /// How the work is cut up, and the layout of U, V [36, C, Ld] and M. With enough tiles, U holds every filter, each
    /// plane packed as the GEMM's left operand (PackedU; every block's products would otherwise pack it again), M is
    /// [36, O, Ld] (a tile per column) and the blocks run side by side. Otherwise (FilterChunk &gt; 0) the blocks run
    /// one after another, and within a block the filters are split into chunks, each with its own U [36, C, LdU] and
    /// an M of [36, Ld, FilterChunk] (a tile per row); kept for inference (KeptSlivers), U holds every filter instead,
    /// each plane as 32-filter slivers [C, 32] one after another. V's and M's rows are a vector longer than a block
    /// because the transforms read and write whole vectors of 16 tiles, and the last vector of a row of tiles may run
    /// past the block's end; U's rows are whole vectors for the same reason. The 36 planes of each lie
    /// <see cref="PlaneStride"/> apart.
    /// </summary>
    private readonly record struct Plan(int TilesHigh, int TilesWide, int Tiles, int BlockTiles, int Blocks,
        int FilterChunk, int FilterChunks, int LdU, int UPlane, int VPlane, int MPlane, Gemm.PackedALayout PackedU = default, bool KeptSlivers = false)
    {
        public int Ld => BlockTiles + Lanes;
        public bool ByFilters => FilterChunk > 0;
    }

    /// <summary>
    /// The work's cut; <paramref name="byFilters"/> false keeps blocks side by side however few the tiles.
    /// <paramref name="keepFilters"/>: an inference pass, whose U is kept (<see cref="KeptTransform"/>) and so is not
    /// limited by <see cref="MostFilterTransformFloats"/>; each of its blocks, which reads all of U, takes at least 64
    /// tiles. 4x512x28x28 → 512 (196 tiles, 2 threads): 25.6 ms in 8 blocks of 28 tiles, 19.8 in 2 of 98 alone;
    /// inside VGG-16's forward at batch 1, blocks four times the budget (16 MB of V and M each, on 224x224 images)
    /// made the pass 5% slower. With fewer than 64 tiles a thread but at least <see cref="MinSliverTiles"/>, a 3x3
    /// kernel runs by filters from U kept as slivers (<see cref="ForwardByKeptSlivers"/>) where the machine has AVX-512.
    /// </summary>
    private static Plan MakePlan(in ConvGeometry g, bool byFilters = true, bool keepFilters = false)
    {
        int c = Channels(g), o = g.OutChannels;
        int th = (g.OutHeight + Step - 1) / Step, tw = (g.OutWidth + Step - 1) / Step;
        int tiles = checked(g.Batch * th * tw), threads = CpuParallel.Threads;
        int most = Math.Max(keepFilters ? MinParallelBlockTiles : Lanes, TileBudget / (Points * (c + o)));
        byFilters = byFilters && (tiles < threads * MinParallelBlockTiles || !keepFilters && (long)Points * c * o > MostFilterTransformFloats);
        // By blocks, whole rounds of them, so that no thread idles through the last.
        int blocks = byFilters ? DivUp(tiles, most) : DivUp(Math.Max(threads, DivUp(tiles, most)), threads) * threads;
        int blockTiles = Math.Max(Lanes, DivUp(DivUp(tiles, Math.Max(blocks, 1)), Lanes) * Lanes);
        int ld = blockTiles + Lanes;
        blocks = DivUp(tiles, blockTiles);
        if (!byFilters)
        {
            var packed = Gemm.PackedA(Gemm.ActiveIsa, o, c);
            return new Plan(th, tw, tiles, blockTiles, blocks, 0, 0, 0, PlaneStride(packed.Size), PlaneStride(c * ld), PlaneStride(o * ld), packed);
        }
        // As many filters per chunk as the budget allows, but at least a chunk per thread.
        int fit = Math.Max(FilterChunkMultiple, FilterChunkBudget / (Points * c) / FilterChunkMultiple * FilterChunkMultiple);
        int chunks = DivUp(Math.Max(threads, DivUp(o, fit)), threads) * threads;
        int chunk = DivUp(DivUp(o, chunks), FilterChunkMultiple) * FilterChunkMultiple;
        if (keepFilters && KeepsSlivers && Parts(g) == 1 && tiles >= MinSliverTiles)
            return new Plan(th, tw, tiles, blockTiles, blocks, chunk, DivUp(o, chunk), 0, PlaneStride(DivUp(o, KeptSliver) * KeptSliver * c),
                PlaneStride(c * ld), PlaneStride(blockTiles * chunk), KeptSlivers: true);
        return new Plan(th, tw, tiles, blockTiles, blocks, chunk, DivUp(o, chunk), chunk,
            PlaneStride(c * chunk), PlaneStride(c * ld), PlaneStride(blockTiles * chunk));
    }

    /// <summary>
    /// Floats from one of the 36 planes to the next: each transform reads or writes all 36 at once, and with channel
    /// counts that are powers of two the planes would lie a multiple of 4 KB apart, all in the same few cache sets
    /// (the transforms measured 2-3x slower so). One cache line past a multiple of 4 KB spreads them over 36 sets.
    /// </summary>
    private static int PlaneStride(int floats) => floats <= 1024 ? floats : (floats - 16 + 1023) / 1024 * 1024 + 16;

    private static int DivUp(int a, int b) => (a + b - 1) / b;

    private static long BlockWork(in ConvGeometry g, int tiles) => (long)Points * g.OutChannels * Channels(g) * tiles;

    /// <summary>
    /// The <see cref="ScratchPool"/> buffers the forward holds at once: by blocks, the whole U (unless an inference
    /// pass keeps it: <see cref="KeptFloats"/>) and per block running at once its V and M; by filters, the block's V
    /// and per chunk running at once its U and M; by kept slivers, per thread its V and M.
    /// </summary>
    internal static int[] Scratch(in ConvGeometry g, bool keepFilters = false)
    {
        var p = MakePlan(g, keepFilters: keepFilters);
        if (p.Tiles == 0) return [];
        var buffers = new List<int>();
        // A 5x5 kernel's parts (while its filters are transformed: a kept U's first pass splits them too).
        if (Parts(g) > 1) buffers.Add(PartsLength(g));
        if (p.KeptSlivers)
        {
            for (int k = CpuParallel.Concurrency(p.FilterChunks, ChunkWork(g, p, Math.Min(p.BlockTiles, p.Tiles))); k > 0; k--)
            {
                buffers.Add(Points * p.VPlane);
                buffers.Add(Points * p.MPlane);
            }
            return [.. buffers];
        }
        if (p.ByFilters)
        {
            buffers.Add(Points * p.VPlane);
            for (int k = CpuParallel.Concurrency(p.FilterChunks, ChunkWork(g, p, Math.Min(p.BlockTiles, p.Tiles))); k > 0; k--)
            {
                buffers.Add(Points * p.UPlane);
                buffers.Add(Points * p.MPlane);
            }
            return [.. buffers];
        }
        if (!keepFilters) buffers.Add(Points * p.UPlane);
        for (int k = CpuParallel.Concurrency(p.Blocks, BlockWork(g, p.BlockTiles)); k > 0; k--)
        {
            buffers.Add(Points * p.VPlane);
            buffers.Add(Points * p.MPlane);
        }
        return [.. buffers];
    }

    private static long ChunkWork(in ConvGeometry g, in Plan p, int tiles) => (long)Points * p.FilterChunk * Channels(g) * tiles;

    /// <summary>
    /// The data gradient as this forward pass over dy with the turned filters (<see cref="ConvDataGradient"/>), where
    /// that pass is a 3x3 convolution Winograd takes.
    /// </summary>
    // dy [N, O, OH, OW], w [O, C, 3, 3] → dx [N, C, H, W]
    public static void BackwardData(in ConvGeometry g, float[] dy, float[] w, float[] dx)
    {
        if (!ConvDataGradient.TryAsForward(g, out var asForward))
            throw new ArgumentException("Winograd's data gradient needs unit stride and padding smaller than the kernel");
        if (Unsupported(asForward) is { } why) throw new ArgumentException($"Winograd cannot run this data gradient: {why}");
        float[] turned = ConvDataGradient.RentTurned(g, w);
        Forward(asForward, dy, turned, null, dx);
        ScratchPool.Return(turned);
    }

    /// <summary>The data gradient's buffers: the turned filters, then the forward's.</summary>
    internal static int[] DataScratch(in ConvGeometry g)
    {
        ConvDataGradient.TryAsForward(g, out var asForward);
        return [(int)g.WeightCount, .. Scratch(asForward)];
    }

    // x [N, C, H, W], w [O, C, 3, 3], bias [O] or null → y [N, O, OH, OW], max(y, 0) with relu. keepFilters: no
    // gradient is recorded, so the same weights are likely to come again; run by blocks or by kept slivers, the
    // transformed filters are then kept for them. frozen: w is promised not to change (Storage.Frozen), so what is
    // kept is used without comparing w again.
    public static void Forward(in ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y, bool keepFilters = false, bool relu = false,
        bool frozen = false)
    {
        if (Unsupported(g) is { } why) throw new ArgumentException(why);
        var p = MakePlan(g, keepFilters: keepFilters);
        if (p.Tiles == 0) return;
        // The output transforms clamp every result at this floor: −∞ leaves it as it is (NaN too), 0 is the ReLU.
        var floor = relu ? 0f : float.NegativeInfinity;
        // A 5x5 kernel's filters are split into their 3x3 parts first, unless kept filters spare the transform.
        bool keeps = keepFilters && Keeps(p);
        float[]? parts = Parts(g) > 1 && !keeps ? SplitFilters(g, w) : null;
        if (p.ByFilters && keeps) ForwardByKeptSlivers(g, p, x, w, bias, y, floor, frozen);
        else if (p.ByFilters) ForwardByFilters(g, p, x, parts ?? w, bias, y, floor);
        else ForwardByBlocks(g, p, x, parts ?? w, bias, y, keeps, floor, frozen);
        if (parts is not null) ScratchPool.Return(parts);
    }

    // Every filter transformed once into U, packed for the GEMM (or U kept from an earlier inference pass), then the
    // blocks side by side, each running its input transform, 36 GEMMs and output transform on one thread, so that its
    // V and M are still in cache when the next phase reads them.
    private static void ForwardByBlocks(in ConvGeometry g, Plan p, float[] x, float[] w, float[]? bias, float[] y, bool keepFilters, float floor,
        bool frozen)
    {
        float[] u;
        if (keepFilters) u = KeptTransform(g, p, w, frozen);
        else TransformEveryFilter(g, p, w, u = ScratchPool.Rent(Points * p.UPlane));
        CpuParallel.For(p.Blocks, BlockWork(g, p.BlockTiles), new TileBlocks(g, p, x, u, bias, y, floor));
        if (!keepFilters) ScratchPool.Return(u);
    }

    /// <summary>Every filter's transform into U as the plan lays it out: packed for the GEMM, or as 32-filter slivers.</summary>
    private static void TransformEveryFilter(in ConvGeometry g, in Plan p, float[] w, float[] u)
    {
        int group = p.KeptSlivers ? KeptSliver : g.OutChannels, runs = DivUp(Channels(g), TapChannels);
        CpuParallel.For(DivUp(g.OutChannels, group) * runs, (long)Points * group * TapChannels, new FilterTransforms(g, p, w, u, group, runs));
    }

    /// <summary>
    /// Item k: the filters of group k / runs (every filter, or one sliver) for the input channels of run k % runs
    /// (<see cref="TapChannels"/> of them). Slivers, [C', 32] each, lie one after another in each plane; the packed
    /// layout places every filter itself.
    /// </summary>
    private readonly struct FilterTransforms(ConvGeometry g, Plan p, float[] w, float[] u, int group, int runs) : CpuParallel.IItems
    {
        public void Run(int k)
        {
            int f0 = k / runs * group, run = k % runs;
            var layout = p.KeptSlivers ? new UPlaneLayout(KeptSliver) : new UPlaneLayout(0, p.PackedU);
            TransformFilters(g, w, f0, Math.Min(g.OutChannels, f0 + group), run * TapChannels, Math.Min(Channels(g), (run + 1) * TapChannels),
                u.AsSpan(f0 * Channels(g)), layout, p.UPlane);
        }
    }

    /// <summary>Block b of the tiles: its input transform, 36 GEMMs and output transform, on one thread.</summary>
    private readonly struct TileBlocks(ConvGeometry g, Plan p, float[] x, float[] u, float[]? bias, float[] y, float floor) : CpuParallel.IItems
    {
        public void Run(int b)
        {
            int c = Channels(g), o = g.OutChannels;
            int t0 = b * p.BlockTiles, count = Math.Min(p.BlockTiles, p.Tiles - t0);
            var v = ScratchPool.Rent(Points * p.VPlane);
            var m = ScratchPool.Rent(Points * p.MPlane);
            TransformInput(g, p, x, t0, count, 0, c, v);
            Multiply(p, count, u, v, m);
            TransformOutput(g, p, m, t0, count, 0, o, bias, y, floor);
            ScratchPool.Return(v);
            ScratchPool.Return(m);
        }
    }

    // Too few tiles for a block per thread: the input transform is split by channel, then the filters by chunks,
    // each chunk transforming its filters, multiplying and transforming its outputs on one thread. Its part of U is
    // then still in cache when the GEMMs read it: U is 4x the size of the weights, and with few tiles each of its
    // elements serves only a few multiply-adds, so writing it whole and reading it back from memory cost more than
    // the products. The GEMMs put the tiles down the rows (M_ξᵀ = V_ξᵀ U_ξ): with only a vector or two of tiles,
    // as columns they would leave the micro-kernel's 32-wide register tile mostly empty.
    private static void ForwardByFilters(in ConvGeometry g, Plan p, float[] x, float[] w, float[]? bias, float[] y, float floor)
    {
        int c = Channels(g);
        var v = ScratchPool.Rent(Points * p.VPlane);
        for (int b = 0; b < p.Blocks; b++)
        {
            int t0 = b * p.BlockTiles, count = Math.Min(p.BlockTiles, p.Tiles - t0);
            CpuParallel.For(c, (long)Points * count, new InputTransforms(g, p, x, t0, count, v));
            CpuParallel.For(p.FilterChunks, ChunkWork(g, p, count), new FilterChunkProducts(g, p, w, v, t0, count, bias, y, floor));
        }
        ScratchPool.Return(v);
    }

    /// <summary>The input transform of channel ci for the block's tiles [t0, t0 + count).</summary>
    private readonly struct InputTransforms(ConvGeometry g, Plan p, float[] x, int t0, int count, float[] v) : CpuParallel.IItems
    {
        public void Run(int ci) => TransformInput(g, p, x, t0, count, ci, ci + 1, v);
    }

    /// <summary>Chunk k of the filters for the block's tiles [t0, t0 + count): its filter transform, GEMMs and output transform, on one thread.</summary>
    private readonly struct FilterChunkProducts(ConvGeometry g, Plan p, float[] w, float[] v, int t0, int count, float[]? bias, float[] y, float floor)
        : CpuParallel.IItems
    {
        public void Run(int k)
        {
            int c = Channels(g), o = g.OutChannels;
            int o0 = k * p.FilterChunk, o1 = Math.Min(o, o0 + p.FilterChunk);
            var u = ScratchPool.Rent(Points * p.UPlane);
            var m = ScratchPool.Rent(Points * p.MPlane);
            TransformFilters(g, w, o0, o1, 0, c, u, new UPlaneLayout(p.LdU), p.UPlane);
            // M_ξᵀ [count, filters] = V_ξᵀ [count, C] · U_ξ [C, filters], with at least 8 rows: GEMM multiplies 4 or
            // fewer rows one at a time through TensorPrimitives, which on 4 tiles (an 8x8 image) took 10-20x as
            // long as one 8-row register tile. The extra rows read V's columns past the block's tiles, finite
            // values the first vector of tiles always writes, and land in rows of M that are never read.
            for (int xi = 0; xi < Points; xi++)
                Gemm.SgemmOneThread(true, false, Math.Max(count, MinGemmRows), o1 - o0, c, v.AsSpan(xi * p.VPlane), p.Ld,
                    u.AsSpan(xi * p.UPlane), p.LdU, 0f, m.AsSpan(xi * p.MPlane), p.FilterChunk);
            TransformOutputByFilters(g, p, m, t0, count, o0, o1, bias, y, floor);
            ScratchPool.Return(u);
            ScratchPool.Return(m);
        }
    }

    // M_ξ [O, count] = U_ξ [O, C] · V_ξ [C, count] for the 36 ξ, U_ξ packed.
    private static void Multiply(in Plan p, int count, float[] u, float[] v, float[] m)
    {
        for (int xi = 0; xi < Points; xi++)
            Gemm.SgemmPackedA(p.PackedU, u.AsSpan(xi * p.UPlane, p.UPlane), count,
                v.AsSpan(xi * p.VPlane), p.Ld, 0f, m.AsSpan(xi * p.MPlane), p.Ld);
    }
}
