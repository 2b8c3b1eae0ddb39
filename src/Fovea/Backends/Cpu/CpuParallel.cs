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

    /// <summary>
    /// While the returned scope is open, idle workers keep watching for loops instead of blocking between them: a
    /// step's kernels follow each other closely, and a blocked worker can be slow to wake (ForkJoinPool.Hold).
    /// </summary>
    internal static HeldWorkers HoldWorkers()
    {
        Pool.Hold();
        return new HeldWorkers();
    }

    internal readonly struct HeldWorkers : IDisposable
    {
        public void Dispose() => Pool.Release();
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

    /// <summary>
    /// A loop's body: a struct holding what the loop reads, so that starting the loop allocates nothing. A lambda would
    /// allocate its captures and a delegate on every call, tens of kilobytes in each training step.
    /// </summary>
    public interface IItems
    {
        /// <summary>Item <paramref name="i"/> of the loop.</summary>
        void Run(int i);
    }

    /// <summary>A <see cref="ForChunks{T}"/> body; see <see cref="IItems"/>.</summary>
    public interface IChunks
    {
        /// <summary>The items [<paramref name="start"/>, <paramref name="end"/>).</summary>
        void Run(int start, int end);
    }

    /// <summary>Runs body.Run(i) for i in [0, count), split over threads when count · workPerItem is large enough.</summary>
    public static void For<T>(int count, long workPerItem, T body) where T : struct, IItems
    {
        int threads = Concurrency(count, workPerItem);
        if (threads <= 1)
        {
            for (int i = 0; i < count; i++) body.Run(i);
            return;
        }
        Pool.For(count, threads, body);
    }

    /// <summary><see cref="For{T}"/> with a delegate, for code that can afford to allocate one per call.</summary>
    public static void For(int count, long workPerItem, Action<int> body) => For(count, workPerItem, new Items(body));

    private readonly struct Items(Action<int> body) : IItems
    {
        public void Run(int i) => body(i);
    }

    private readonly struct Chunks(Action<int, int> body) : IChunks
    {
        public void Run(int start, int end) => body(start, end);
    }

    /// <summary>
    /// Part <paramref name="index"/> of [0, <paramref name="count"/>) cut into <paramref name="parts"/> contiguous runs
    /// whose lengths differ by at most one, as <see cref="ForChunks"/> cuts it; for kernels that keep a result per part
    /// and combine them in order.
    /// </summary>
    internal static (int Start, int End) Part(int count, int index, int parts) =>
        ((int)((long)count * index / parts), (int)((long)count * (index + 1) / parts));

    /// <summary>Splits [0, count) into at most Threads contiguous chunks and runs body.Run(start, end) on each.</summary>
    public static void ForChunks<T>(int count, long workPerItem, T body) where T : struct, IChunks
    {
        int threads = Math.Min(_threads, count);
        if (threads <= 1 || count * workPerItem < 2 * MinWorkPerThread)
        {
            body.Run(0, count);
            return;
        }
        Pool.ForChunks(count, threads, body);
    }

    /// <summary><see cref="ForChunks{T}"/> with a delegate, for code that can afford to allocate one per call.</summary>
    public static void ForChunks(int count, long workPerItem, Action<int, int> body) => ForChunks(count, workPerItem, new Chunks(body));
}
