using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Convolution as unfold + matrix product, per image and per group: y_g = w_g [Og, K] · col [K, P] with
/// K = Cg·KH·KW and P = OH·OW; ∇filter dw_g += dy_g · colᵀ; ∇data col = w_gᵀ · dy_g folded back (col2im).
/// Images are split over the CPU pool, each worker with its own column buffer (rented from <see cref="ScratchPool"/>,
/// so steady-state calls allocate nothing); a single image leaves the threading to GEMM.
/// </summary>
internal static class ConvIm2col
{
    /// <summary>A 1x1 kernel with unit stride and no padding reads the image as it lies: col is x itself.</summary>
    internal static bool NeedsUnfold(in ConvGeometry g) =>
        !(g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideH == 1 && g.StrideW == 1
          && g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0);

    /// <summary>
    /// Most floats in one column buffer (4 MB); larger matrices are built a band of output rows at a time, so a
    /// big image with a big kernel (or many threads) cannot ask for gigabytes. At 16 MB, VGG-16's 512-channel filter
    /// gradients at 28x28 took a 14.5 MB column per thread, the largest conv scratch of its training step (a batch-4
    /// process peaked 16 MB higher); in bands of 8 rows the step measured within noise of it. Not a constant so that
    /// tests can force banding on small shapes; any value gives the same results.
    /// </summary>
    internal static int ColumnBudget = 1 << 20;

    /// <summary>Output rows per band: all of them when the matrix fits the budget (or needs no unfolding).</summary>
    private static int BandRows(in ConvGeometry g)
    {
        if (!NeedsUnfold(g)) return g.OutHeight;
        long rowFloats = (long)g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth * g.OutWidth;
        return (int)Math.Clamp(ColumnBudget / rowFloats, 1, Math.Max(1, g.OutHeight));
    }

    private static int ColumnLength(in ConvGeometry g, int bandRows) =>
        NeedsUnfold(g) ? g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth * bandRows * g.OutWidth : 0;

    /// <summary>Chunks of images the forward and data-gradient passes split the batch into, one column buffer each.</summary>
    private static int ImageChunks(in ConvGeometry g) => Math.Max(1, Math.Min(CpuParallel.Threads, g.Batch));

    /// <summary>
    /// Chunks of images a filter-gradient pass sums separately (each chunk after the first into its own partial); the
    /// direct kernels' filter gradients split the batch the same way.
    /// </summary>
    internal static int FilterChunks(in ConvGeometry g)
    {
        int chunks = Math.Min(CpuParallel.Threads, g.Batch);
        return chunks <= 1 || g.Macs < 2 * CpuParallel.MinWorkPerThread ? 1 : chunks;
    }

    /// <summary>The <see cref="ScratchPool"/> buffers the forward or the data-gradient pass holds at once: a column buffer per running chunk.</summary>
    internal static int[] ImageScratch(in ConvGeometry g)
    {
        int chunks = ImageChunks(g), colLength = ColumnLength(g, BandRows(g));
        return colLength == 0 ? [] : Enumerable.Repeat(colLength, CpuParallel.Concurrency(chunks, g.Macs / chunks)).ToArray();
    }

    /// <summary>
    /// The <see cref="ScratchPool"/> buffers the filter-gradient pass holds at once: per chunk a column buffer, and for
    /// every chunk after the first its partial filter gradient (several chunks only when the work is large enough to
    /// run them all side by side).
    /// </summary>
    internal static int[] FilterScratch(in ConvGeometry g)
    {
        int chunks = FilterChunks(g), colLength = ColumnLength(g, BandRows(g));
        var buffers = new List<int>();
        for (int t = 0; t < chunks; t++)
        {
            if (t > 0) buffers.Add((int)g.WeightCount);
            if (colLength > 0) buffers.Add(colLength);
        }
        return [.. buffers];
    }

    // x [N, C, H, W], w [O, Cg, KH, KW], bias [O] or null → y [N, O, OH, OW]
    public static void Forward(in ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y)
    {
        int band = BandRows(g);
        // One image a thread keeps every thread busy; with fewer images than threads they share each image's unfold,
        // as GEMM shares its product (AlexNet's first layer at batch 1: 1.0 ms of unfolding on one thread).
        bool ownThread = ImageChunks(g) >= CpuParallel.Threads;
        ForEachImage(g, ColumnLength(g, band), new ForwardImage(g, x, w, bias, y, band, ownThread));
    }

    /// <summary>The forward of image n, band by band through the column buffer col.</summary>
    private readonly struct ForwardImage(ConvGeometry g, float[] x, float[] w, float[]? bias, float[] y, int band, bool ownThread) : IImages
    {
        public void Run(int n, float[] col)
        {
            int k = g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth, p = g.OutHeight * g.OutWidth;
            int og = g.OutChannelsPerGroup, inGroup = g.InChannelsPerGroup * g.InHeight * g.InWidth;
            bool unfold = NeedsUnfold(g);
            int ow = g.OutWidth;
            for (int gi = 0; gi < g.Groups; gi++)
            {
                var xg = x.AsSpan(n * g.InputImageSize + gi * inGroup, inGroup);
                var yg = y.AsSpan(n * g.OutputImageSize + gi * og * p);
                if (!unfold)
                {
                    Product(ownThread, false, false, og, p, k, w.AsSpan(gi * og * k), k, xg, p, 0f, yg, p);
                    continue;
                }
                // y_g[:, band] = w_g · col(band): the band's output cells are columns r0·OW.. of each plane (ldc = P).
                for (int r0 = 0; r0 < g.OutHeight; r0 += band)
                {
                    int rows = Math.Min(band, g.OutHeight - r0), cols = rows * ow;
                    if (!ownThread) UnfoldSplit(g, x, n * g.InputImageSize + gi * inGroup, inGroup, col, r0, rows);
                    else Im2Col.Unfold(g, xg, col, r0, rows);
                    Product(ownThread, false, false, og, cols, k, w.AsSpan(gi * og * k), k, col.AsSpan(0, k * cols), cols, 0f, yg[(r0 * ow)..], p);
                }
            }
            if (bias is not null) AddBias(bias, y.AsSpan(n * g.OutputImageSize, g.OutputImageSize), p);
        }
    }

    // dy [N, O, OH, OW], w [O, Cg, KH, KW] → dx [N, C, H, W]
    public static void BackwardData(in ConvGeometry g, float[] dy, float[] w, float[] dx)
    {
        int band = BandRows(g);
        bool ownThread = ImageChunks(g) >= CpuParallel.Threads;
        ForEachImage(g, ColumnLength(g, band), new DataGradientImage(g, dy, w, dx, band, ownThread));
    }

    /// <summary>The data gradient of image n, band by band through the column buffer col.</summary>
    private readonly struct DataGradientImage(ConvGeometry g, float[] dy, float[] w, float[] dx, int band, bool ownThread) : IImages
    {
        public void Run(int n, float[] col)
        {
            int k = g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth, p = g.OutHeight * g.OutWidth;
            int og = g.OutChannelsPerGroup, inGroup = g.InChannelsPerGroup * g.InHeight * g.InWidth;
            bool unfold = NeedsUnfold(g);
            int ow = g.OutWidth;
            var dxn = dx.AsSpan(n * g.InputImageSize, g.InputImageSize);
            if (unfold) dxn.Clear();
            for (int gi = 0; gi < g.Groups; gi++)
            {
                var dyg = dy.AsSpan(n * g.OutputImageSize + gi * og * p, og * p);
                var dxg = dxn.Slice(gi * inGroup, inGroup);
                if (!unfold)
                {
                    // 1x1, stride 1, no padding: the fold is the identity, so the product lands in dx directly.
                    Product(ownThread, true, false, k, p, og, w.AsSpan(gi * og * k), k, dyg, p, 0f, dxg, p);
                    continue;
                }
                for (int r0 = 0; r0 < g.OutHeight; r0 += band)
                {
                    int rows = Math.Min(band, g.OutHeight - r0), cols = rows * ow;
                    Product(ownThread, true, false, k, cols, og, w.AsSpan(gi * og * k), k, dyg[(r0 * ow)..], p, 0f, col, cols);
                    Im2Col.FoldAccumulate(g, col, dxg, r0, rows);
                }
            }
        }
    }

    // x [N, C, H, W], dy [N, O, OH, OW] → dw [O, Cg, KH, KW], db [O] when not null
    public static void BackwardFilter(in ConvGeometry g, float[] x, float[] dy, float[] dw, float[]? db)
    {
        int band = BandRows(g), weights = (int)g.WeightCount;

        // Each chunk of images sums into its own partial dw; the partials are then added in chunk order, so the
        // result does not depend on thread timing.
        int chunks = FilterChunks(g);
        bool ownThread = chunks >= CpuParallel.Threads;
        var partials = ScratchPool.RentSlots(chunks);
        CpuParallel.For(chunks, g.Macs / chunks, new FilterGradientChunk(g, x, dy, dw, band, chunks, ownThread, partials));
        for (int t = 1; t < chunks; t++)
        {
            TensorPrimitives.Add(dw.AsSpan(0, weights), partials[t].AsSpan(0, weights), dw.AsSpan(0, weights));
            ScratchPool.Return(partials[t]);
        }
        ScratchPool.ReturnSlots(partials);
        if (db is not null) BiasGradient(g, dy, db);
    }

    /// <summary>Chunk t of the images' filter gradient, into dw (the first chunk) or a partial of its own.</summary>
    private readonly struct FilterGradientChunk(ConvGeometry g, float[] x, float[] dy, float[] dw, int band, int chunks, bool ownThread,
        float[][] partials) : CpuParallel.IItems
    {
        public void Run(int t)
        {
            int k = g.InChannelsPerGroup * g.KernelHeight * g.KernelWidth, p = g.OutHeight * g.OutWidth;
            int og = g.OutChannelsPerGroup, inGroup = g.InChannelsPerGroup * g.InHeight * g.InWidth;
            int ow = g.OutWidth, weights = (int)g.WeightCount, colLength = ColumnLength(g, band);
            bool unfold = NeedsUnfold(g);
            var (start, end) = CpuParallel.Part(g.Batch, t, chunks);
            float[] part = t == 0 ? dw : ScratchPool.Rent(weights);
            float[]? col = colLength > 0 ? ScratchPool.Rent(colLength) : null;
            part.AsSpan(0, weights).Clear();
            for (int n = start; n < end; n++)
                for (int gi = 0; gi < g.Groups; gi++)
                {
                    var xg = x.AsSpan(n * g.InputImageSize + gi * inGroup, inGroup);
                    var dyg = dy.AsSpan(n * g.OutputImageSize + gi * og * p);
                    if (!unfold)
                    {
                        Product(ownThread, false, true, og, k, p, dyg, p, xg, p, 1f, part.AsSpan(gi * og * k), k);
                        continue;
                    }
                    // dw_g += dy_g[:, band] · col(band)ᵀ, band by band.
                    for (int r0 = 0; r0 < g.OutHeight; r0 += band)
                    {
                        int rows = Math.Min(band, g.OutHeight - r0), cols = rows * ow;
                        Im2Col.Unfold(g, xg, col!, r0, rows);
                        Product(ownThread, false, true, og, k, cols, dyg[(r0 * ow)..], p, col.AsSpan(0, k * cols), cols, 1f, part.AsSpan(gi * og * k), k);
                    }
                }
            if (col is not null) ScratchPool.Return(col);
            partials[t] = part;
        }
    }

    /// <summary>db[o] = Σ_{n, oh, ow} dy[n, o, oh, ow], summed in double.</summary>
    internal static void BiasGradient(in ConvGeometry g, float[] dy, float[] db)
    {
        var sums = new BiasSums(g, dy, db);
        long cells = (long)g.Batch * g.OutChannels * g.OutHeight * g.OutWidth;
        if (cells < MinParallelBiasCells)
            for (int o = 0; o < g.OutChannels; o++) sums.Run(o);
        else CpuParallel.For(g.OutChannels, cells / g.OutChannels, sums);
    }

    /// <summary>
    /// Fewest cells of dy whose bias sums are split between threads: a sum reads each cell once, so below a few
    /// megabytes the hand-off is a large share of it (LeNet-5's at batch 256, 0.4-1.2 M cells, measured no faster
    /// split); 8x128x56x56 (3.2 M) gained 0.25 ms of 10.7 at 2 threads.
    /// </summary>
    private const long MinParallelBiasCells = 1 << 21;

    /// <summary>Filter o's bias gradient: the sum of its output planes' gradients over the batch.</summary>
    private readonly struct BiasSums(ConvGeometry g, float[] dy, float[] db) : CpuParallel.IItems
    {
        public void Run(int o)
        {
            int p = g.OutHeight * g.OutWidth;
            double s = 0;
            for (int n = 0; n < g.Batch; n++) s += TensorPrimitives.Sum(dy.AsSpan((n * g.OutChannels + o) * p, p));
            db[o] = (float)s;
        }
    }

    /// <summary>y[o, :] += bias[o] over one image's planes of <paramref name="plane"/> cells.</summary>
    internal static void AddBias(float[] bias, Span<float> y, int plane)
    {
        for (int o = 0; o < y.Length / plane; o++) // the bias storage may be longer than O
        {
            var row = y.Slice(o * plane, plane);
            TensorPrimitives.Add(row, bias[o], row);
        }
    }

    /// <summary>
    /// One product of a pass. When the pass's chunks of images fill the threads, each product stays on its chunk's
    /// thread: split again, half of it only queues behind the other chunks (AlexNet's first two layers at batch 8,
    /// 2 threads: forward 8.8 -> 5.5 ms and 16.5 -> 13.9 ms).
    /// </summary>
    private static void Product(bool ownThread, bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (ownThread) Gemm.SgemmOneThread(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
        else Gemm.Sgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }

    // Im2Col.Unfold of one image's group (x[offset, offset + length)) with its kernel rows split over the threads.
    private static void UnfoldSplit(in ConvGeometry g, float[] x, int offset, int length, float[] col, int row0, int rows) =>
        CpuParallel.ForChunks(g.InChannelsPerGroup * g.KernelHeight, (long)g.KernelWidth * rows * g.OutWidth,
            new UnfoldKernelRows(g, x, offset, length, col, row0, rows));

    /// <summary><see cref="UnfoldSplit"/>'s kernel rows [first, end).</summary>
    private readonly struct UnfoldKernelRows(ConvGeometry g, float[] x, int offset, int length, float[] col, int row0, int rows) : CpuParallel.IChunks
    {
        public void Run(int first, int end) => Im2Col.Unfold(g, x.AsSpan(offset, length), col, row0, rows, first, end);
    }

    /// <summary>What <see cref="ForEachImage{T}"/> does with image n and its chunk's column buffer: a struct, so that no delegate is made per call.</summary>
    private interface IImages
    {
        void Run(int n, float[] col);
    }

    /// <summary>
    /// Runs body.Run(n, col) for every image: one image runs here (GEMM threads itself); several are split into
    /// contiguous chunks over the pool, each chunk renting one column buffer.
    /// </summary>
    private static void ForEachImage<T>(in ConvGeometry g, int colLength, T body) where T : struct, IImages
    {
        int chunks = ImageChunks(g);
        CpuParallel.For(chunks, g.Macs / Math.Max(1, chunks), new ImageChunk<T>(g.Batch, chunks, colLength, body));
    }

    /// <summary><see cref="ForEachImage{T}"/>'s chunk t of the images.</summary>
    private readonly struct ImageChunk<T>(int batch, int chunks, int colLength, T body) : CpuParallel.IItems where T : struct, IImages
    {
        public void Run(int t)
        {
            var (start, end) = CpuParallel.Part(batch, t, chunks);
            float[] col = colLength > 0 ? ScratchPool.Rent(colLength) : [];
            for (int n = start; n < end; n++) body.Run(n, col);
            if (colLength > 0) ScratchPool.Return(col);
        }
    }
}
