namespace Fovea.Backends.Cpu;

/// <summary>
/// The one thread pool every CPU kernel uses, sized by <see cref="Threads"/>. Small work is not split:
/// callers pass the work per item so that loops too short to repay a hand-off run on the calling thread.
/// </summary>
/// <remarks>
/// A split loop that throws ends with an <see cref="AggregateException"/> holding what its bodies threw, as
/// Parallel.For's does. A loop started inside another's body runs on the thread that started it.
/// </remarks>
public static class CpuParallel
{
    private static int _threads = Environment.ProcessorCount;
    private static readonly ForkJoinPool Pool = new();

    /// <summary>How many threads kernels may use (default: all cores).</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1) throw new ArgumentException($"thread count must be at least 1, got {value}");
            _threads = value;
        }
    }

    /// <summary>Below this many multiply-adds (or element touches) a loop runs on one thread.</summary>
    public const long MinWorkPerThread = 1 << 15;

    /// <summary>
    /// How many items of <see cref="For"/> may run at once: 1 when the loop stays on the calling thread. Kernels that
    /// rent a work buffer per item hold this many at once, which is what a memory estimate must count.
    /// </summary>
    internal static int Concurrency(int count, long workPerItem)
    {
        int threads = Math.Min(_threads, count);
        return threads <= 1 || count * workPerItem < 2 * MinWorkPerThread ? 1 : threads;
    }

    /// <summary>Runs body(i) for i in [0, count), split over threads when count · workPerItem is large enough.</summary>
    public static void For(int count, long workPerItem, Action<int> body)
    {
        int threads = Concurrency(count, workPerItem);
        if (threads <= 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Pool.For(count, threads, body);
    }

    /// <summary>
    /// Part <paramref name="index"/> of [0, <paramref name="count"/>) cut into <paramref name="parts"/> contiguous runs
    /// whose lengths differ by at most one, as <see cref="ForChunks"/> cuts it; for kernels that keep a result per part
    /// and combine them in order.
    /// </summary>
    internal static (int Start, int End) Part(int count, int index, int parts) =>
        ((int)((long)count * index / parts), (int)((long)count * (index + 1) / parts));

    /// <summary>Splits [0, count) into at most Threads contiguous chunks and runs body(start, end) on each.</summary>
    public static void ForChunks(int count, long workPerItem, Action<int, int> body)
    {
        int threads = Math.Min(_threads, count);
        if (threads <= 1 || count * workPerItem < 2 * MinWorkPerThread)
        {
            body(0, count);
            return;
        }
        Pool.ForChunks(count, threads, body);
    }
}
