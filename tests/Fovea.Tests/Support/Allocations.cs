using Fovea.Backends.Cpu;

namespace Fovea.Tests.Support;

/// <summary>What code allocates on the managed heap, measured so that the test runner's own allocations do not count.</summary>
internal static class Allocations
{
    /// <summary>
    /// The fewest bytes allocated while <paramref name="run"/> ran, over up to 20 attempts 25 ms apart, with kernels on
    /// <paramref name="threads"/> threads after <paramref name="warmUps"/> runs. Warm more than once: buffers kept per
    /// thread (GEMM's packing, pooled scratch) fill when a thread first takes part, and which of the pool's threads
    /// joins a loop varies.
    /// </summary>
    /// <remarks>
    /// By default only the calling thread's bytes count. The process's total also holds what other tests running
    /// meanwhile and the test runner's threads allocate: bursts of up to hundreds of kilobytes, and a trickle of 168
    /// bytes that outlasted every one of twenty attempts at a 20-step replay in one CI run. The pool's workers run the
    /// same loop bodies the calling thread takes its share of, so a body that allocates shows there. With
    /// <paramref name="everyThread"/> the whole process counts, for the pool's own hand-off code, which only workers run.
    /// </remarks>
    public static long Least(Action run, int threads = 2, int warmUps = 3, bool everyThread = false)
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
                long before = Allocated(everyThread);
                run();
                least = Math.Min(least, Allocated(everyThread) - before);
            }
            return least;
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }

    private static long Allocated(bool everyThread) =>
        everyThread ? GC.GetTotalAllocatedBytes(precise: true) : GC.GetAllocatedBytesForCurrentThread();
}
