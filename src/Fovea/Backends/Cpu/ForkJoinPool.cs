using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Long-lived worker threads that run one loop at a time together with the thread that asked for it. Unlike
/// Parallel.For (about 1.6 KB of tasks and closures per call) it allocates nothing per loop, and a worker that has
/// just finished a loop spins a little before it blocks, so the back-to-back small kernels of a small network do
/// not each pay for waking a thread.
/// </summary>
/// <remarks>
/// A loop is offered to the workers as a number of seats; a worker that takes a seat takes items from a shared
/// counter until none are left, then checks out. The caller takes items too, then closes the seats nobody took,
/// so it waits only for the workers that actually joined, never for one that was slow to wake.
/// </remarks>
internal sealed unsafe class ForkJoinPool
{
    // Set for good on the workers and, while it takes part, on the caller: any loop started there is nested.
    [ThreadStatic] private static bool t_inLoop;

    // How long an idle worker watches for the next loop before it blocks. On two cores a loop of two 1 µs items took
    // 1.7 µs with this spin and 5 µs with none (Parallel.For: 12 µs), and LeNet-5 training steps were about 10%
    // slower with none; 200 µs was no faster. Idle for longer, the worker blocks and costs nothing.
    private static readonly long SpinTicks = Stopwatch.Frequency * 50 / 1_000_000;

    // Open step scopes (Hold): while any is open, idle workers watch for the next loop however long it takes, as the
    // step's next kernel is on its way. Blocked, a worker misses loops: on this 2-vCPU machine a worker that has
    // blocked for a while (100 ms between AlexNet forwards at batch 1) took about 1 ms to wake, every time, so it
    // joined half of a forward's 13 loops, late, and the forward ran as slowly as on one thread (15.7 against 8.4 ms).
    // Held through each replay, such forwards took 13.5 ms (median of ten runs of eleven); the rest of the gap stays
    // after the workers are awake, and is not explained.
    private int _holds;

    private readonly object _gate = new();
    private readonly ManualResetEventSlim _workersDone = new(false);
    private int _workerCount, _busy, _sleepers, _seats, _unfinished;
    private long _generation;

    // The loop in progress, fixed from its publication until every worker that joined it has checked out: the body
    // is a struct on the caller's stack, which stays put until the caller returns, after every worker has checked
    // out; Run&lt;T&gt; reads it there as its own type, so no delegate or boxed copy is made per loop.
    private nint _body, _run;
    private int _items, _chunkedCount, _next;
    private List<Exception>? _errors;

    /// <summary>Runs body.Run(i) for i in [0, count) on <paramref name="threads"/> threads, the caller one of them.</summary>
    public void For<T>(int count, int threads, T body) where T : struct, CpuParallel.IItems =>
        Run(count, threads, 0, Unsafe.AsPointer(ref body), &RunItem<T>);

    /// <summary>Runs body.Run(start, end) on each of <see cref="CpuParallel.Part"/>(count, t, parts) for t in [0, parts).</summary>
    public void ForChunks<T>(int count, int parts, T body) where T : struct, CpuParallel.IChunks =>
        Run(parts, parts, count, Unsafe.AsPointer(ref body), &RunChunk<T>);

    // Item i of a loop of `items`; chunkedCount is what ForChunks cuts into that many parts.
    private static void RunItem<T>(void* body, int i, int items, int chunkedCount) where T : struct, CpuParallel.IItems =>
        Unsafe.AsRef<T>(body).Run(i);

    private static void RunChunk<T>(void* body, int t, int parts, int count) where T : struct, CpuParallel.IChunks
    {
        var (start, end) = CpuParallel.Part(count, t, parts);
        if (end > start) Unsafe.AsRef<T>(body).Run(start, end);
    }

    private void Run(int items, int threads, int chunkedCount, void* body, delegate*<void*, int, int, int, void> run)
    {
        if (t_inLoop) Inline(items, chunkedCount, body, run);
        else if (!TryRun(threads, items, chunkedCount, body, run)) Fallback(items, threads, chunkedCount, (nint)body, (nint)run);
    }

    // Apart from Run because the compiler allocates a lambda's captures where the method starts, taken or not. The
    // body's frame outlives Parallel.For, which returns only when every item has run.
    private static void Fallback(int items, int threads, int chunkedCount, nint body, nint run) =>
        Parallel.For(0, items, new ParallelOptions { MaxDegreeOfParallelism = threads },
            i => ((delegate*<void*, int, int, int, void>)run)((void*)body, i, items, chunkedCount));

    // A loop inside a loop's body runs on the thread that reached it: the other threads are busy with the outer
    // loop, and handing it to them would wait on ourselves. Its exceptions are wrapped as a split loop's are.
    private static void Inline(int items, int chunkedCount, void* body, delegate*<void*, int, int, int, void> run)
    {
        try
        {
            for (int i = 0; i < items; i++) run(body, i, items, chunkedCount);
        }
        catch (Exception e) { throw new AggregateException(e); }
    }

    // False when another caller's loop holds the pool: waiting for it could be as long as that loop, or for ever
    // when that caller waits on us, so the loop goes to Parallel.For instead.
    private bool TryRun(int threads, int items, int chunkedCount, void* body, delegate*<void*, int, int, int, void> run)
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        List<Exception>? errors;
        try
        {
            int seats = threads - 1;
            StartWorkers(seats);
            (_body, _run) = ((nint)body, (nint)run);
            (_items, _chunkedCount, _next) = (items, chunkedCount, 0);
            _unfinished = threads;
            _workersDone.Reset();
            // Interlocked writes: the loop's fields above are visible to whoever reads the seats or the generation.
            Interlocked.Exchange(ref _seats, seats);
            Interlocked.Increment(ref _generation);
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_gate)
                    for (int i = 0; i < seats; i++) Monitor.Pulse(_gate);

            t_inLoop = true;
            RunItems();
            t_inLoop = false;

            int unclaimed = Interlocked.Exchange(ref _seats, 0);
            if (Interlocked.Add(ref _unfinished, -(unclaimed + 1)) != 0) _workersDone.Wait();
            errors = _errors;
            (_body, _run, _errors) = (0, 0, null);
        }
        finally { Volatile.Write(ref _busy, 0); }
        if (errors is not null) throw new AggregateException(errors);
        return true;
    }

    /// <summary>
    /// Keeps the workers watching for loops until <see cref="Release"/>, and wakes those that block, so that they are
    /// ready for the first loop of what follows (a captured step's replay).
    /// </summary>
    public void Hold()
    {
        Interlocked.Increment(ref _holds);
        if (Volatile.Read(ref _sleepers) == 0) return;
        lock (_gate)
        {
            // A new generation with no seats: each worker wakes, finds no loop, and watches again.
            Interlocked.Increment(ref _generation);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Ends a <see cref="Hold"/>: with none left, idle workers block after their usual short spin.</summary>
    public void Release() => Interlocked.Decrement(ref _holds);

    /// <summary>Workers blocked now, waiting for a loop.</summary>
    internal int Sleepers => Volatile.Read(ref _sleepers);

    // Only grows: DataParallel lowers Threads for every step and restores it after, and a pool that shrank to
    // match would start and stop threads every step. Workers beyond a loop's seats stay blocked.
    private void StartWorkers(int count)
    {
        for (; _workerCount < count; _workerCount++)
            new Thread(WorkerLoop) { IsBackground = true, Name = $"fovea-cpu-{_workerCount + 1}" }.Start();
    }

    private void WorkerLoop()
    {
        t_inLoop = true;
        long seen = 0;
        while (true)
        {
            seen = AwaitLoop(seen);
            if (!TakeSeat()) continue;
            RunItems();
            if (Interlocked.Decrement(ref _unfinished) == 0) _workersDone.Set();
        }
    }

    private long AwaitLoop(long seen)
    {
        long start = Stopwatch.GetTimestamp();
        var spinner = new SpinWait();
        while (Volatile.Read(ref _generation) == seen)
        {
            if (Volatile.Read(ref _holds) > 0 || Stopwatch.GetTimestamp() - start < SpinTicks)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            lock (_gate)
            {
                // Counted before the generation is read again, as TryRun bumps the generation before it reads the
                // count: a new loop either is seen here or finds this worker counted and pulses it.
                Interlocked.Increment(ref _sleepers);
                while (Volatile.Read(ref _generation) == seen) Monitor.Wait(_gate);
                Interlocked.Decrement(ref _sleepers);
            }
        }
        return Volatile.Read(ref _generation);
    }

    // A seat may belong to a later loop than the generation this worker saw; it then joins that one, which is
    // just as right: the seat, the items and the check-out all belong to the loop the seat came from.
    private bool TakeSeat()
    {
        int seats = Volatile.Read(ref _seats);
        while (seats > 0)
        {
            int seen = Interlocked.CompareExchange(ref _seats, seats - 1, seats);
            if (seen == seats) return true;
            seats = seen;
        }
        return false;
    }

    private void RunItems()
    {
        var body = (void*)_body;
        var run = (delegate*<void*, int, int, int, void>)_run;
        var (items, chunkedCount) = (_items, _chunkedCount);
        for (int i; (i = Interlocked.Increment(ref _next) - 1) < items;)
        {
            try
            {
                run(body, i, items, chunkedCount);
            }
            catch (Exception e)
            {
                lock (_gate) (_errors ??= []).Add(e);
                // As Parallel.For does: items already running finish, no new ones start.
                Interlocked.Exchange(ref _next, items);
            }
        }
    }
}
