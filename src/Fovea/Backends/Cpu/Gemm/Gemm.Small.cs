using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>
    /// How far ahead (floats) the dot kernels touch each of their four rows of B: the hardware prefetcher alone kept
    /// too few lines in flight over four streams per thread. 512 (2 KB) beat 256, 1024 and 2048; a linear layer's
    /// forward at batch 1 (9216 -> 4096) went from 33-41 to 57-63 GB/s of weights, at batch 4 from 29-33 to 38-42.
    /// </summary>
    private const int PrefetchAhead = 512;

    // Touches the line PrefetchAhead floats past p in each of four rows of B (a hint: it cannot fault past the end).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchRows(float* b0, float* b1, float* b2, float* b3, int p)
    {
        if (!Sse.IsSupported) return;
        Sse.Prefetch0(b0 + p + PrefetchAhead);
        Sse.Prefetch0(b1 + p + PrefetchAhead);
        Sse.Prefetch0(b2 + p + PrefetchAhead);
        Sse.Prefetch0(b3 + p + PrefetchAhead);
    }

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
        CpuParallel.ForChunks(units, workPerUnit, new SmallUnits(transB, m, n, k, unit, a, lda, b, ldb, beta, c, ldc));
    }

    // Units [start, end) of columns.
    private readonly unsafe struct SmallUnits(bool transB, int m, int n, int k, int unit, float* a, nint lda, float* b, nint ldb,
        float beta, float* c, nint ldc) : CpuParallel.IChunks
    {
        public void Run(int start, int end) =>
            SmallColumns(transB, m, start * unit, Math.Min(end * unit, n), k, a, lda, b, ldb, beta, c, ldc);
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
            if (Vector512.IsHardwareAccelerated)
                for (; i + 4 <= m; i += 4) Dots4x4(k, a + i * lda, lda, b + j * ldb, ldb, beta, c + i * ldc + j, ldc);
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

    // Four rows of A against four rows of B, 16 lanes at a time: sixteen accumulators, eight loads per sixteen
    // multiply-adds. The four rows of B (4·k floats) do not fit in L1, and with two rows of A at a time their loads
    // from L2 were the limit: a linear layer's forward at batch 8 (8 x 9216 -> 4096) ran at 87 GFLOP/s.
    // Needs AVX-512's 32 vector registers: with 16 the accumulators would spill.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Dots4x4(int k, float* a0, nint lda, float* b0, nint ldb, float beta, float* c, nint ldc)
    {
        const int w = 16;
        int kv = k - k % w;
        float* a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        float* b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default;
        Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default;
        for (int p = 0; p < kv; p += w)
        {
            PrefetchRows(b0, b1, b2, b3, p);
            var y0 = Vector512.Load(b0 + p);
            var y1 = Vector512.Load(b1 + p);
            var y2 = Vector512.Load(b2 + p);
            var y3 = Vector512.Load(b3 + p);
            var x = Vector512.Load(a0 + p);
            s00 = Vector512.FusedMultiplyAdd(x, y0, s00);
            s01 = Vector512.FusedMultiplyAdd(x, y1, s01);
            s02 = Vector512.FusedMultiplyAdd(x, y2, s02);
            s03 = Vector512.FusedMultiplyAdd(x, y3, s03);
            x = Vector512.Load(a1 + p);
            s10 = Vector512.FusedMultiplyAdd(x, y0, s10);
            s11 = Vector512.FusedMultiplyAdd(x, y1, s11);
            s12 = Vector512.FusedMultiplyAdd(x, y2, s12);
            s13 = Vector512.FusedMultiplyAdd(x, y3, s13);
            x = Vector512.Load(a2 + p);
            s20 = Vector512.FusedMultiplyAdd(x, y0, s20);
            s21 = Vector512.FusedMultiplyAdd(x, y1, s21);
            s22 = Vector512.FusedMultiplyAdd(x, y2, s22);
            s23 = Vector512.FusedMultiplyAdd(x, y3, s23);
            x = Vector512.Load(a3 + p);
            s30 = Vector512.FusedMultiplyAdd(x, y0, s30);
            s31 = Vector512.FusedMultiplyAdd(x, y1, s31);
            s32 = Vector512.FusedMultiplyAdd(x, y2, s32);
            s33 = Vector512.FusedMultiplyAdd(x, y3, s33);
        }
        Span<float> d = stackalloc float[16];
        d[0] = Vector512.Sum(s00); d[1] = Vector512.Sum(s01); d[2] = Vector512.Sum(s02); d[3] = Vector512.Sum(s03);
        d[4] = Vector512.Sum(s10); d[5] = Vector512.Sum(s11); d[6] = Vector512.Sum(s12); d[7] = Vector512.Sum(s13);
        d[8] = Vector512.Sum(s20); d[9] = Vector512.Sum(s21); d[10] = Vector512.Sum(s22); d[11] = Vector512.Sum(s23);
        d[12] = Vector512.Sum(s30); d[13] = Vector512.Sum(s31); d[14] = Vector512.Sum(s32); d[15] = Vector512.Sum(s33);
        for (int i = 0; i < 4; i++)
        {
            float* ai = a0 + i * lda;
            for (int p = kv; p < k; p++)
            {
                float x = ai[p];
                d[4 * i] += x * b0[p]; d[4 * i + 1] += x * b1[p]; d[4 * i + 2] += x * b2[p]; d[4 * i + 3] += x * b3[p];
            }
            for (int jj = 0; jj < 4; jj++) Put(c + i * ldc + jj, d[4 * i + jj], beta);
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
            if ((p & 15) == 0) PrefetchRows(b0, b1, b2, b3, p); // a 64-byte line holds 16 floats
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
            if ((p & 15) == 0) PrefetchRows(b0, b1, b2, b3, p); // a 64-byte line holds 16 floats
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
}
