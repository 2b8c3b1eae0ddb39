using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fovea.Backends.Cpu;

// One row of inputs times a large frozen weight matrix, as a linear layer's forward at batch 1 runs it: from a kept
// transposed copy, a row of the copy per input, skipping the inputs that are zero.
public static partial class Gemm
{
    /// <summary>
    /// Smallest frozen weight matrix (floats) worth a transposed copy: 8 MB, which comes from memory on every call, so
    /// its bytes are the whole cost. In cache the dot kernel wins: 1024x1024 without zeros took 0.21-0.24 ms by rows
    /// against 0.16 by dots.
    /// </summary>
    private const long MinRowsFloats = 1 << 21;

    /// <summary>Most outputs: each thread's partial sums (n floats) stay in L2 while the rows stream past them.</summary>
    private const int MaxRowsOutputs = 1 << 14;

    /// <summary>Transposed copies [k, n] of frozen weight matrices [n, k], by the weights array.</summary>
    private static readonly ConditionalWeakTable<float[], float[]> KeptTransposes = new();

    /// <summary>
    /// Whether one row times a frozen [n, k] weight matrix goes by rows (<see cref="FrozenRow"/>), keeping a
    /// transposed copy of the matrix: large matrices, where the machine has AVX-512.
    /// </summary>
    internal static bool KeepsRows(int n, int k) => Vector512.IsHardwareAccelerated && (long)n * k >= MinRowsFloats && n <= MaxRowsOutputs;

    /// <summary>Floats of the one scratch buffer <see cref="FrozenRow"/> lends: each thread's partial sums and the nonzero inputs' indices.</summary>
    internal static int RowsScratch(int n, int k) => CpuParallel.Threads * n + k;

    /// <summary>Bytes kept for the weights array <paramref name="w"/>: its transposed copy; 0 if none.</summary>
    internal static long KeptBytes(float[] w) => KeptTransposes.TryGetValue(w, out var t) ? sizeof(float) * (long)t.Length : 0;

    /// <summary>Drops the transposed copy kept for the weights array <paramref name="w"/>, if any.</summary>
    internal static void ForgetKept(float[] w) => KeptTransposes.Remove(w);

    /// <summary>
    /// c = beta·c + a·Wᵀ for one row a [k] and a frozen W [n, k] (<paramref name="w"/>, rows k apart), by the rows of
    /// W's kept transposed copy: c gathers a(p)·(row p of Wᵀ) over the inputs p that are not zero, so a zero input's
    /// row is never read. After a ReLU and a pool, 29% of AlexNet's fc6 inputs and 50% of fc7's are zero; with
    /// fewer than an eighth zero, the dot kernel reads W itself. The threads split the rows, each summing into its
    /// own partial c, added up in order at the end. A zero input skips its row even where that row holds an
    /// infinity, which the dot product would turn into NaN.
    /// </summary>
    internal static unsafe void FrozenRow(int n, int k, float* a, float[] w, float beta, float* c)
    {
        var wt = KeptTransposes.TryGetValue(w, out var kept) ? kept : KeepTranspose(w, n, k);
        int parts = CpuParallel.Threads;
        var scratch = ScratchPool.Rent(RowsScratch(n, k));
        fixed (float* s = scratch, pt = wt, pw = w)
        {
            int* nonzero = (int*)(s + (long)parts * n);
            int count = 0;
            for (int p = 0; p < k; p++)
                if (a[p] != 0f) nonzero[count++] = p;
            if (8L * count > 7L * k) Small(false, true, 1, n, k, a, k, pw, k, beta, c, n, parallel: true);
            else
            {
                CpuParallel.For(parts, (long)count * n / parts, new RowParts(n, count, parts, pt, a, nonzero, s));
                for (int j = 0; j < n; j++)
                {
                    float sum = 0f;
                    for (int q = 0; q < parts; q++) sum += s[(long)q * n + j];
                    Put(c + j, sum, beta);
                }
            }
        }
        ScratchPool.Return(scratch);
    }

    /// <summary>Part <c>part</c> of the nonzero inputs, summed into its own n partial sums.</summary>
    private readonly unsafe struct RowParts(int n, int count, int parts, float* wt, float* a, int* nonzero, float* partial) : CpuParallel.IItems
    {
        public void Run(int part)
        {
            var (q0, q1) = CpuParallel.Part(count, part, parts);
            float* acc = partial + (long)part * n;
            new Span<float>(acc, n).Clear();
            Rows(n, wt, a, nonzero, q0, q1, acc);
        }
    }

    /// <summary>
    /// acc [n] += a(p)·(row p of wt) for p = nonzero[q], q in [q0, q1): eight rows at a time, then one. Eight against
    /// four (ms, 2 threads, alternated): 9216x4096 at 30% zeros 2.62-2.76 → 2.47-2.57, 4096x1000 at 50% 0.29-0.32
    /// → 0.26-0.28: half the passes over the partial sums. Each row is touched <see cref="PrefetchAhead"/> floats
    /// ahead, as the dot kernels touch theirs (512 beat 256, 1024 and 2048 here too, four rows at a time). The rows
    /// are not consecutive in memory, so near a row's end it touches the next eight rows' starts instead: without
    /// that, the first 2 KB of every row came without a prefetch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Rows(int n, float* wt, float* a, int* nonzero, int q0, int q1, float* acc)
    {
        int vectorEnd = n - n % Vector512<float>.Count, ahead = Math.Max(0, vectorEnd - PrefetchAhead);
        float* Row(int q) => wt + (long)nonzero[Math.Min(q, q1 - 1)] * n;
        int q = q0;
        for (; q + 8 <= q1; q += 8)
        {
            float* r0 = Row(q), r1 = Row(q + 1), r2 = Row(q + 2), r3 = Row(q + 3), r4 = Row(q + 4), r5 = Row(q + 5), r6 = Row(q + 6), r7 = Row(q + 7);
            // The next eight rows, shifted back a row, so that t + PrefetchAhead past them is the next rows' start.
            float* n0 = Row(q + 8) - n, n1 = Row(q + 9) - n, n2 = Row(q + 10) - n, n3 = Row(q + 11) - n;
            float* n4 = Row(q + 12) - n, n5 = Row(q + 13) - n, n6 = Row(q + 14) - n, n7 = Row(q + 15) - n;
            float a0 = a[nonzero[q]], a1 = a[nonzero[q + 1]], a2 = a[nonzero[q + 2]], a3 = a[nonzero[q + 3]];
            float a4 = a[nonzero[q + 4]], a5 = a[nonzero[q + 5]], a6 = a[nonzero[q + 6]], a7 = a[nonzero[q + 7]];
            Vector512<float> x0 = Vector512.Create(a0), x1 = Vector512.Create(a1), x2 = Vector512.Create(a2), x3 = Vector512.Create(a3);
            Vector512<float> x4 = Vector512.Create(a4), x5 = Vector512.Create(a5), x6 = Vector512.Create(a6), x7 = Vector512.Create(a7);
            int t = 0;
            for (; t < ahead; t += Vector512<float>.Count)
            {
                PrefetchRows(r0, r1, r2, r3, t);
                PrefetchRows(r4, r5, r6, r7, t);
                EightRows(acc + t, r0 + t, r1 + t, r2 + t, r3 + t, r4 + t, r5 + t, r6 + t, r7 + t, x0, x1, x2, x3, x4, x5, x6, x7);
            }
            for (; t < vectorEnd; t += Vector512<float>.Count)
            {
                PrefetchRows(n0, n1, n2, n3, t);
                PrefetchRows(n4, n5, n6, n7, t);
                EightRows(acc + t, r0 + t, r1 + t, r2 + t, r3 + t, r4 + t, r5 + t, r6 + t, r7 + t, x0, x1, x2, x3, x4, x5, x6, x7);
            }
            for (; t < n; t++) acc[t] += a0 * r0[t] + a1 * r1[t] + a2 * r2[t] + a3 * r3[t] + a4 * r4[t] + a5 * r5[t] + a6 * r6[t] + a7 * r7[t];
        }
        for (; q < q1; q++)
        {
            float* r = Row(q);
            float x = a[nonzero[q]];
            var xv = Vector512.Create(x);
            int t = 0;
            for (; t < vectorEnd; t += Vector512<float>.Count)
                Vector512.FusedMultiplyAdd(xv, Vector512.Load(r + t), Vector512.Load(acc + t)).Store(acc + t);
            for (; t < n; t++) acc[t] += x * r[t];
        }
    }

    // acc += x0·r0 + ... + x7·r7 over one vector, as two chains of four so the eight loads overlap.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void EightRows(float* acc, float* r0, float* r1, float* r2, float* r3, float* r4, float* r5, float* r6, float* r7,
        Vector512<float> x0, Vector512<float> x1, Vector512<float> x2, Vector512<float> x3,
        Vector512<float> x4, Vector512<float> x5, Vector512<float> x6, Vector512<float> x7)
    {
        var s0 = Vector512.FusedMultiplyAdd(x0, Vector512.Load(r0), Vector512.Load(acc));
        var s1 = Vector512.Multiply(x1, Vector512.Load(r1));
        s0 = Vector512.FusedMultiplyAdd(x2, Vector512.Load(r2), s0);
        s1 = Vector512.FusedMultiplyAdd(x3, Vector512.Load(r3), s1);
        s0 = Vector512.FusedMultiplyAdd(x4, Vector512.Load(r4), s0);
        s1 = Vector512.FusedMultiplyAdd(x5, Vector512.Load(r5), s1);
        s0 = Vector512.FusedMultiplyAdd(x6, Vector512.Load(r6), s0);
        s1 = Vector512.FusedMultiplyAdd(x7, Vector512.Load(r7), s1);
        (s0 + s1).Store(acc);
    }

    // The first call's copy, apart so that a warm call makes no closure.
    private static float[] KeepTranspose(float[] w, int n, int k) => KeptTransposes.GetValue(w, _ => Transpose(w, n, k));

    /// <summary>W [n, k] transposed into a new [k, n] array, in 64x64 blocks split between the threads.</summary>
    private static float[] Transpose(float[] w, int n, int k)
    {
        var t = GC.AllocateUninitializedArray<float>(checked(n * k));
        CpuParallel.For((n + TransposeBlock - 1) / TransposeBlock, (long)TransposeBlock * k, new TransposeBlocks(w, t, n, k));
        return t;
    }

    private const int TransposeBlock = 64;

    /// <summary>Rows [64·i, 64·i + 64) of W into columns of the copy.</summary>
    private readonly struct TransposeBlocks(float[] w, float[] t, int n, int k) : CpuParallel.IItems
    {
        public void Run(int i)
        {
            int j0 = i * TransposeBlock, j1 = Math.Min(n, j0 + TransposeBlock);
            for (int p0 = 0; p0 < k; p0 += TransposeBlock)
            {
                int p1 = Math.Min(k, p0 + TransposeBlock);
                for (int p = p0; p < p1; p++)
                    for (int j = j0; j < j1; j++) t[(long)p * n + j] = w[(long)j * k + p];
            }
        }
    }
}
