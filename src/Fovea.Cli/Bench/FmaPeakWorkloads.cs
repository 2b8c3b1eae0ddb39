using System.Runtime.Intrinsics;
using Fovea.Backends.Cpu;

namespace Fovea.Cli.Bench;

/// <summary>
/// The machine's float32 multiply-add peak, the figure the GEMM's target is a share of: on each of the bench's
/// threads, <see cref="Chains"/> independent chains of fused multiply-adds on the widest vectors the CPU runs, with
/// nothing read from memory. The same total work is split over however many threads run it.
/// </summary>
internal static class FmaPeakWorkloads
{
    /// <summary>
    /// Independent accumulators per thread: two FMA pipes with a 4-cycle latency need 8 in flight to stay busy; 12
    /// leave slack and, with the two constants, still fit AVX2's 16 registers.
    /// </summary>
    private const int Chains = 12;

    /// <summary>Multiply-adds per chain in one iteration, over all threads (about 20 ms on one core at 200 GFLOP/s).</summary>
    private const long Steps = 1 << 23;

    private static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;

    public static IEnumerable<BenchWorkload> All()
    {
        yield return new BenchWorkload("fma_peak", 0, BenchUnit.GflopPerSecond, 2.0 * Chains * Lanes * Steps, Heavy: false, Setup);
    }

    private static Action Setup() => () =>
    {
        int threads = CpuParallel.Threads;
        CpuParallel.For(threads, Chains * Steps / threads, new Share(Steps / threads));
    };

    // One thread's part; the sum is kept so that the JIT cannot drop the chains.
    private readonly struct Share(long steps) : CpuParallel.IItems
    {
        public void Run(int i) => Sink = Vector512.IsHardwareAccelerated ? Chains512(steps) : Chains256(steps);
    }

    internal static float Sink;

    private static float Chains512(long steps)
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        for (long i = 0; i < steps; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c); a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c); a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    private static float Chains256(long steps)
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        for (long i = 0; i < steps; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c); a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c); a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c); a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c); a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c); a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c); a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
