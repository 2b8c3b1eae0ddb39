using Fovea.Backends.Cpu;
using static Fovea.Tests.Support.Threads;

namespace Fovea.Tests.Kernels;

// Gemm.FrozenRow (one row times a frozen weight matrix, by rows of its kept transposed copy, zero inputs skipped)
// against the double-precision triple loop in GemmReference. Serial: it sets the pool's thread count.
[Collection(Support.SerialCollection.Name)]
public class GemmFrozenRowTests
{
    /// <summary>
    /// Outputs not a multiple of the vector width and below the prefetch distance, nonzero counts not a multiple of
    /// four, every input zero, and too few zeros (where the dot kernel reads W itself), on one thread and two.
    /// </summary>
    [Theory]
    [InlineData(1000, 37, 0.5, 0f)]
    [InlineData(17, 300, 0.3, 0.5f)]
    [InlineData(515, 9, 0.6, 0f)]
    [InlineData(2048, 130, 0.5, 1f)]
    [InlineData(64, 64, 1.0, 0f)]
    [InlineData(64, 64, 1.0, 0.5f)]
    [InlineData(33, 100, 0.0, 1f)]
    [InlineData(700, 211, 0.1, 0f)]
    public void MatchesReference(int n, int k, double zeroShare, float beta)
    {
        foreach (int threads in new[] { 1, 2 })
            OnThreads(threads, () =>
            {
                var rng = new Random(n * 31 + k);
                var w = Random(rng, n * k);
                var a = Random(rng, k);
                for (int p = 0; p < k; p++)
                    if (rng.NextDouble() < zeroShare) a[p] = 0f;
                var c = beta == 0f ? Enumerable.Repeat(float.NaN, n).ToArray() : Random(rng, n);
                var expected = beta == 0f ? new float[n] : (float[])c.Clone();
                GemmReference.Sgemm(false, true, 1, n, k, a, k, w, k, beta, expected, n);
                Run(n, k, a, w, beta, c);
                float abs = 1e-5f * MathF.Sqrt(k + 1);
                for (int j = 0; j < n; j++)
                    Assert.True(MathF.Abs(expected[j] - c[j]) <= abs + 1e-4f * MathF.Abs(expected[j]),
                        $"n={n} k={k} zeros={zeroShare} beta={beta} threads={threads}: c[{j}] = {c[j]}, expected {expected[j]}");
                Assert.Equal(sizeof(float) * (long)n * k, Gemm.KeptBytes(w));
            });
    }

    /// <summary>The kept copy is the transpose of the weights it was made from, and forgetting it drops it.</summary>
    [Fact]
    public void KeepsTheTransposeUntilForgotten()
    {
        var rng = new Random(4);
        int n = 70, k = 90;
        var w = Random(rng, n * k);
        var a = Random(rng, k);
        // Half the inputs zero, so that the rows are read (with too few zeros the dot kernel reads W itself).
        for (int p = 0; p < k; p += 2) a[p] = 0f;
        var first = new float[n];
        Run(n, k, a, w, 0f, first);
        // A changed weights array is not seen while the copy is kept: freezing promised it would not change.
        for (int i = 0; i < w.Length; i++) w[i] *= 2f;
        var stale = new float[n];
        Run(n, k, a, w, 0f, stale);
        Assert.Equal(first, stale);
        Gemm.ForgetKept(w);
        Assert.Equal(0, Gemm.KeptBytes(w));
        var fresh = new float[n];
        Run(n, k, a, w, 0f, fresh);
        for (int j = 0; j < n; j++) Assert.Equal(2f * first[j], fresh[j], 1e-4f * MathF.Abs(first[j]) + 1e-5f);
    }

    private static unsafe void Run(int n, int k, float[] a, float[] w, float beta, float[] c)
    {
        fixed (float* pa = a, pc = c) Gemm.FrozenRow(n, k, pa, w, beta, pc);
    }

    private static float[] Random(Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
