using Fovea.Backends.Cpu;

namespace Fovea.Tests.Support;

/// <summary>Runs a body with the pool at a given thread count, restored after; for tests in the serial collection.</summary>
public static class Threads
{
    /// <summary>Runs <paramref name="body"/> with the pool at <paramref name="threads"/> threads, restored after.</summary>
    public static void OnThreads(int threads, Action body)
    {
        int saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = threads;
            body();
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }
}
