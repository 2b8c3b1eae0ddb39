using System.Numerics;
using System.Runtime.CompilerServices;

namespace Fovea.Backends.Cpu;

public static partial class Gemm
{
    // Products with few rows of C (a linear layer at batch 1 to 8, or 16 in its forward): packing B for an 8-row
    // tile would cost a full read and write of B, which is the layer's weight matrix and the whole cost, so
    // these stream B once from the caller's layout. They are memory-bound: the threads split the columns of
    // C, so each streams its own part of B.
    // op(B) transposed (B stored n×k, a layer's forward x·Wᵀ): C(i,j) is the dot product of A row i and B row j.
    //   Four B rows at a time against two rows of A at once: the 4·k block stays in L2 for the later rows.
    // op(B) not transposed (dX = dY·W): C's rows accumulate a(i,p)·B row p, a chunk of columns at a time.
    private const int SmallDotRows = 4, SmallColumnsUnit = 512;

    // A's rows gathered contiguous when A is stored transposed; per thread, kept for the thread's lifetime.
    [ThreadStatic] private static float[]? t_smallA;

    private static unsafe void Small(bool transA, bool transB, int m, int n, int k, float* a, nint lda,
        float* b, nint ldb, float beta, float* c, nint ldc, bool parallel)
    {
        if (transA)
        {
            float* rows = PackBuffer(ref t_smallA, (long)m * k);
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++) rows[i * k + p] = a[p * lda + i];
            a = rows;
            lda = k;
        }
        int unit = transB ? SmallDotRows : SmallColumnsUnit, units = (n + unit - 1) / unit;
        long workPerUnit = (long)m * unit * k;
        if (!parallel || CpuParallel.Threads <= 1 || units < 2 || units * workPerUnit < ParallelWork)
        {
            SmallColumns(transB, m, 0, n, k, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        var job = t_smallJob ??= new SmallJob();
        job.Set(transB, m, n, k, unit, a, lda, b, ldb, beta, c, ldc);
        try
        {
            CpuParallel.ForChunks(units, workPerUnit, job.Chunk);
        }
        finally
        {
            job.Clear();
        }
    }

    // Columns [j0, j1) of C.
    private static unsafe void SmallColumns(bool transB, int m, int j0, int j1, int k, float* a, nint lda,
        float* b, nint ldb, float beta, float* c, nint ldc)
    {
        if (transB) SmallDots(m, j0, j1, k, a, lda, b, ldb, beta, c, ldc);
        else SmallStrips(m, j0, j1, k, a, lda, b, ldb, beta, c, ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SmallDots(int m, int j0, int j1, int k, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        int j = j0;
        for (; j + SmallDotRows <= j1; j += SmallDotRows)
        {
            int i = 0;
            for (; i + 2 <= m; i += 2) Dots2x4(k, a + i * lda, a + (i + 1) * lda, b + j * ldb, ldb, beta, c + i * ldc + j, ldc);
            if (i < m) Dots1x4(k, a + i * lda, b + j * ldb, ldb, beta, c + i * ldc + j);
        }
        int w = Vector<float>.Count, kv = k - k % w;
        for (; j < j1; j++)
        {
            float* bj = b + j * ldb;
            for (int i = 0; i < m; i++)
            {
                float* ai = a + i * lda;
                Vector<float> s = default;
                for (int p = 0; p < kv; p += w) s = Vector.FusedMultiplyAdd(Vector.Load(ai + p), Vector.Load(bj + p), s);
                float d = Vector.Sum(s);
                for (int p = kv; p < k; p++) d += ai[p] * bj[p];
                Put(c + i * ldc + j, d, beta);
            }
        }
    }

    // Two rows of A against four rows of B: eight accumulators, six loads per eight multiply-adds.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Dots2x4(int k, float* a0, float* a1, float* b0, nint ldb, float beta, float* c, nint ldc)
    {
        int w = Vector<float>.Count, kv = k - k % w;
        float* b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        Vector<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector<float> s10 = default, s11 = default, s12 = default, s13 = default;
        for (int p = 0; p < kv; p += w)
        {
            var x0 = Vector.Load(a0 + p);
            var x1 = Vector.Load(a1 + p);
            var y = Vector.Load(b0 + p);
            s00 = Vector.FusedMultiplyAdd(x0, y, s00);
            s10 = Vector.FusedMultiplyAdd(x1, y, s10);
            y = Vector.Load(b1 + p);
            s01 = Vector.FusedMultiplyAdd(x0, y, s01);
            s11 = Vector.FusedMultiplyAdd(x1, y, s11);
            y = Vector.Load(b2 + p);
            s02 = Vector.FusedMultiplyAdd(x0, y, s02);
            s12 = Vector.FusedMultiplyAdd(x1, y, s12);
            y = Vector.Load(b3 + p);
            s03 = Vector.FusedMultiplyAdd(x0, y, s03);
            s13 = Vector.FusedMultiplyAdd(x1, y, s13);
        }
        float d00 = Vector.Sum(s00), d01 = Vector.Sum(s01), d02 = Vector.Sum(s02), d03 = Vector.Sum(s03);
        float d10 = Vector.Sum(s10), d11 = Vector.Sum(s11), d12 = Vector.Sum(s12), d13 = Vector.Sum(s13);
        for (int p = kv; p < k; p++)
        {
            float x0 = a0[p], x1 = a1[p];
            d00 += x0 * b0[p]; d01 += x0 * b1[p]; d02 += x0 * b2[p]; d03 += x0 * b3[p];
            d10 += x1 * b0[p]; d11 += x1 * b1[p]; d12 += x1 * b2[p]; d13 += x1 * b3[p];
        }
        Put(c, d00, beta); Put(c + 1, d01, beta); Put(c + 2, d02, beta); Put(c + 3, d03, beta);
        c += ldc;
        Put(c, d10, beta); Put(c + 1, d11, beta); Put(c + 2, d12, beta); Put(c + 3, d13, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Dots1x4(int k, float* a0, float* b0, nint ldb, float beta, float* c)
    {
        int w = Vector<float>.Count, kv = k - k % w;
        float* b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int p = 0; p < kv; p += w)
        {
            var x = Vector.Load(a0 + p);
            s0 = Vector.FusedMultiplyAdd(x, Vector.Load(b0 + p), s0);
            s1 = Vector.FusedMultiplyAdd(x, Vector.Load(b1 + p), s1);
            s2 = Vector.FusedMultiplyAdd(x, Vector.Load(b2 + p), s2);
            s3 = Vector.FusedMultiplyAdd(x, Vector.Load(b3 + p), s3);
        }
        float d0 = Vector.Sum(s0), d1 = Vector.Sum(s1), d2 = Vector.Sum(s2), d3 = Vector.Sum(s3);
        for (int p = kv; p < k; p++)
        {
            float x = a0[p];
            d0 += x * b0[p]; d1 += x * b1[p]; d2 += x * b2[p]; d3 += x * b3[p];
        }
        Put(c, d0, beta); Put(c + 1, d1, beta); Put(c + 2, d2, beta); Put(c + 3, d3, beta);
    }

    // Columns [j0, j1): B is read once, four rows at a time, each row as one long contiguous run (short runs
    // that jump a whole row between them defeat the prefetcher: 512-column chunks read B at 4-7 GB/s on
    // 4×25088×4096, dX of VGG's first classifier layer at batch 4). Each vector of the four rows is loaded once
    // and added into all m rows of C, whose columns [j0, j1) stay in L2 (at most 8 × 12544 × 4 B = 400 KB).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SmallStrips(int m, int j0, int j1, int k, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc)
    {
        int w = Vector<float>.Count, cols = j1 - j0, cv = cols - cols % w;
        for (int i = 0; i < m; i++)
        {
            float* ci = c + i * ldc + j0;
            if (beta == 0f) new Span<float>(ci, cols).Clear();
            else if (beta != 1f)
                for (int q = 0; q < cols; q++) ci[q] *= beta;
        }
        int p = 0;
        for (; p + 4 <= k; p += 4)
        {
            float* b0 = b + p * ldb + j0, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            for (int q = 0; q < cv; q += w)
            {
                var y0 = Vector.Load(b0 + q);
                var y1 = Vector.Load(b1 + q);
                var y2 = Vector.Load(b2 + q);
                var y3 = Vector.Load(b3 + q);
                float* ai = a + p;
                float* ci = c + j0 + q;
                for (int i = 0; i < m; i++, ai += lda, ci += ldc)
                {
                    var acc = Vector.FusedMultiplyAdd(new Vector<float>(ai[0]), y0, Vector.Load(ci));
                    acc = Vector.FusedMultiplyAdd(new Vector<float>(ai[1]), y1, acc);
                    acc = Vector.FusedMultiplyAdd(new Vector<float>(ai[2]), y2, acc);
                    Vector.FusedMultiplyAdd(new Vector<float>(ai[3]), y3, acc).Store(ci);
                }
            }
            for (int q = cv; q < cols; q++)
                for (int i = 0; i < m; i++)
                {
                    float* ai = a + i * lda + p;
                    c[i * ldc + j0 + q] += ai[0] * b0[q] + ai[1] * b1[q] + ai[2] * b2[q] + ai[3] * b3[q];
                }
        }
        for (; p < k; p++)
        {
            float* bp = b + p * ldb + j0;
            for (int i = 0; i < m; i++)
            {
                float av = a[i * lda + p];
                float* ci = c + i * ldc + j0;
                var v = new Vector<float>(av);
                int q = 0;
                for (; q < cv; q += w) Vector.FusedMultiplyAdd(v, Vector.Load(bp + q), Vector.Load(ci + q)).Store(ci + q);
                for (; q < cols; q++) ci[q] += av * bp[q];
            }
        }
    }

    // beta == 0 overwrites C without reading it (stale NaNs must not leak through).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Put(float* c, float value, float beta) => *c = beta == 0f ? value : value + beta * *c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Put(float* c, Vector<float> value, float beta)
    {
        if (beta != 0f) value = Vector.FusedMultiplyAdd(new Vector<float>(beta), Vector.Load(c), value);
        value.Store(c);
    }

    [ThreadStatic] private static SmallJob? t_smallJob;

    /// <summary>One parallel small product's arguments, with its delegate bound once per thread (no closure per call).</summary>
    private sealed unsafe class SmallJob
    {
        public readonly Action<int, int> Chunk;
        private bool _transB;
        private int _m, _n, _k, _unit;
        private float* _a, _b, _c;
        private nint _lda, _ldb, _ldc;
        private float _beta;

        public SmallJob() => Chunk = Run;

        public void Set(bool transB, int m, int n, int k, int unit, float* a, nint lda, float* b, nint ldb, float beta,
            float* c, nint ldc)
        {
            (_transB, _m, _n, _k, _unit) = (transB, m, n, k, unit);
            _a = a;
            _b = b;
            _c = c;
            (_lda, _ldb, _ldc, _beta) = (lda, ldb, ldc, beta);
        }

        public void Clear() => _a = _b = _c = null;

        // Units [start, end) of columns.
        private void Run(int start, int end) =>
            SmallColumns(_transB, _m, start * _unit, Math.Min(end * _unit, _n), _k, _a, _lda, _b, _ldb, _beta, _c, _ldc);
    }
}
