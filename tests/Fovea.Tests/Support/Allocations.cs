using Fovea.Backends.Cpu;

namespace Fovea.Tests.Support;

/// <summary>What code allocates on the managed heap, measured so that the test runner's own allocations do not count.</summary>
internal static class Allocations
{
    /// <summary>
    /// The fewest bytes the process allocated while <paramref name="run"/> ran, over up to 20 attempts 25 ms apart, with
    /// kernels on <paramref name="threads"/> threads after <paramref name="warmUps"/> runs. Warm more than once: buffers
    /// kept per thread (GEMM's packing, pooled scratch) fill when a thread first takes part, and which of the pool's
    /// threads joins a loop varies. Anything else in the process can allocate meanwhile: the test runner's threads do,
    /// around a loop that only spins as much as around a kernel, in bursts of up to hundreds of kilobytes and a trickle
    /// of 168 bytes that once outlasted ten attempts 20 ms apart. Code that allocates does so in every attempt.
    /// </summary>
    public static long Least(Action run, int threads = 2, int warmUps = 3)
    {
        int saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = threads;
            for (int i = 0; i < warmUps; i++) run();
            long least = long.MaxValue;
            for (int attempt = 0; attempt < 20 && least > 0; attempt++)
            {
                if (attempt > 0) Thread.Sleep(25);
                long before = GC.GetTotalAllocatedBytes(precise: true);
                run();
                least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
            }
            return least;
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }
}
