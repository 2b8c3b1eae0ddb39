using System.Collections.Concurrent;
using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

// Serial: the tests set the process-wide thread count, and one counts every byte the process allocates.
[Collection(Support.SerialCollection.Name)]
public class CpuParallelTests
{
    // Enough work per item that any loop of two or more items is split.
    private const long Split = CpuParallel.MinWorkPerThread;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static void WithThreads(int threads, Action test)
    {
        int saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = threads;
            // A deadlock fails the test instead of hanging the run.
            var run = Task.Run(test);
            Assert.True(Task.WaitAny([run], Patience) == 0, "the loop did not finish");
            run.GetAwaiter().GetResult();
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }

    private static void AssertEachOnce(int[] hits) =>
        Assert.True(hits.All(h => h == 1),
            $"(index, times run): {string.Join(", ", hits.Select((h, i) => (i, h)).Where(p => p.h != 1))}");

    private static List<(int, int)> Parts(int count, int threads)
    {
        int parts = Math.Min(threads, count);
        return Enumerable.Range(0, parts).Select(t => CpuParallel.Part(count, t, parts)).Where(p => p.End > p.Start)
            .Select(p => (p.Start, p.End)).ToList();
    }

    public static TheoryData<int, int> Shapes()
    {
        var data = new TheoryData<int, int>();
        foreach (int threads in new[] { 1, 2, 3, 4, 2 * Environment.ProcessorCount + 1 })
            foreach (int count in new[] { 0, 1, 2, 3, 5, 64, 1000 })
                data.Add(threads, count);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForRunsEveryIndexExactlyOnce(int threads, int count) => WithThreads(threads, () =>
    {
        for (int round = 0; round < 20; round++)
        {
            var hits = new int[count];
            CpuParallel.For(count, Split, i => Interlocked.Increment(ref hits[i]));
            AssertEachOnce(hits);
        }
    });

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ForChunksRunsEveryPartExactlyOnce(int threads, int count) => WithThreads(threads, () =>
    {
        for (int round = 0; round < 20; round++)
        {
            var chunks = new ConcurrentBag<(int, int)>();
            CpuParallel.ForChunks(count, Split, (start, end) => chunks.Add((start, end)));
            Assert.Equal(count == 0 ? [(0, 0)] : Parts(count, threads), chunks.Order().ToList());
        }
    });

    [Fact]
    public void ASplitLoopRunsOnAsManyThreadsAsAsked()
    {
        // Each item waits for all the others, so the loop ends only if every item has a thread of its own.
        const int threads = 4;
        WithThreads(threads, () =>
        {
            using var all = new Barrier(threads);
            var seen = new ConcurrentDictionary<int, bool>();
            CpuParallel.For(threads, Split, _ =>
            {
                seen[Environment.CurrentManagedThreadId] = true;
                Assert.True(all.SignalAndWait(Patience));
            });
            Assert.Equal(threads, seen.Count);
        });
    }

    [Theory]
    [InlineData(1, Split)]
    [InlineData(4, 1)]
    public void OneThreadOrLittleWorkStaysOnTheCallingThread(int threads, long workPerItem) => WithThreads(threads, () =>
    {
        int caller = Environment.CurrentManagedThreadId;
        var seen = new ConcurrentDictionary<int, bool>();
        CpuParallel.For(1000, workPerItem, _ => seen[Environment.CurrentManagedThreadId] = true);
        CpuParallel.ForChunks(1000, workPerItem, (_, _) => seen[Environment.CurrentManagedThreadId] = true);
        Assert.Equal([caller], seen.Keys);
    });

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void NestedLoopsFinishAndRunEveryIndexOnce(int threads) => WithThreads(threads, () =>
    {
        const int outer = 8, inner = 50;
        var hits = new int[outer * inner];
        CpuParallel.For(outer, Split, i =>
            CpuParallel.ForChunks(inner, Split, (start, end) =>
            {
                for (int j = start; j < end; j++)
                    CpuParallel.For(1, Split, _ => Interlocked.Increment(ref hits[i * inner + j]));
            }));
        AssertEachOnce(hits);

        hits = new int[outer * inner];
        CpuParallel.ForChunks(outer, Split, (start, end) =>
        {
            for (int i = start; i < end; i++)
                CpuParallel.For(inner, Split, j => Interlocked.Increment(ref hits[i * inner + j]));
        });
        AssertEachOnce(hits);
    });

    [Fact]
    public void ConcurrentCallersEachGetTheirOwnItems() => WithThreads(2, () =>
    {
        const int callers = 4, calls = 1000, count = 16;
        var failures = new int[callers];
        var threads = Enumerable.Range(0, callers).Select(c => new Thread(() =>
        {
            for (int call = 0; call < calls; call++)
            {
                var hits = new int[count];
                if (call % 2 == 0) CpuParallel.For(count, Split, i => Interlocked.Increment(ref hits[i]));
                else CpuParallel.ForChunks(count, Split, (start, end) =>
                {
                    for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
                });
                if (hits.Any(h => h != 1)) failures[c]++;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(Patience)));
        Assert.Equal(new int[callers], failures);
    });

    [Fact]
    public void AHeldPoolsWorkersWatchInsteadOfBlockingUntilReleased()
    {
        var pool = new ForkJoinPool();
        static bool Within(Func<bool> condition)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!condition())
            {
                if (clock.Elapsed > Patience) return false;
                Thread.Sleep(1);
            }
            return true;
        }
        var hits = new int[64];
        pool.For(hits.Length, 3, new CountHits(hits));
        AssertEachOnce(hits);
        Assert.True(Within(() => pool.Sleepers == 2), $"idle workers should block after their spin, {pool.Sleepers} of 2 did");

        pool.Hold();
        Assert.True(Within(() => pool.Sleepers == 0), "a hold should wake the blocked workers");
        Thread.Sleep(50);
        Assert.Equal(0, pool.Sleepers);
        Array.Clear(hits);
        pool.For(hits.Length, 3, new CountHits(hits));
        AssertEachOnce(hits);

        pool.Release();
        Assert.True(Within(() => pool.Sleepers == 2), "released, idle workers should block again");
    }

    private readonly struct CountHits(int[] hits) : CpuParallel.IItems
    {
        public void Run(int i) => Interlocked.Increment(ref hits[i]);
    }

    [Fact]
    public void ACallerDoesNotWaitForAnotherCallersLoop() => WithThreads(2, () =>
    {
        // The first loop holds the pool until the second has finished: if the second waited for the pool, the first
        // would give up waiting instead.
        using var inside = new ManualResetEventSlim();
        using var secondDone = new ManualResetEventSlim();
        var first = Task.Run(() =>
        {
            bool sawSecond = false;
            CpuParallel.For(2, Split, i =>
            {
                if (i != 0) return;
                inside.Set();
                sawSecond = secondDone.Wait(Patience);
            });
            return sawSecond;
        });
        Assert.True(inside.Wait(Patience));
        var hits = new int[16];
        CpuParallel.For(hits.Length, Split, i => Interlocked.Increment(ref hits[i]));
        secondDone.Set();
        AssertEachOnce(hits);
        Assert.True(first.Result);
    });

    [Fact]
    public void AnExceptionReachesTheCallerAndThePoolStillWorks() => WithThreads(2, () =>
    {
        int caller = Environment.CurrentManagedThreadId;
        for (int round = 0; round < 10; round++)
        {
            // Both items run at once, so one of the two throws on a worker thread and one on the caller.
            using var both = new Barrier(2);
            var onWorker = Assert.Throws<AggregateException>(() => CpuParallel.For(2, Split, _ =>
            {
                both.SignalAndWait(Patience);
                if (Environment.CurrentManagedThreadId != caller) throw new InvalidOperationException("worker");
            }));
            Assert.Equal("worker", Assert.IsType<InvalidOperationException>(Assert.Single(onWorker.InnerExceptions)).Message);

            var inChunk = Assert.Throws<AggregateException>(() => CpuParallel.ForChunks(100, Split, (start, _) =>
            {
                if (start == 0) throw new ArgumentException("first chunk");
            }));
            Assert.IsType<ArgumentException>(Assert.Single(inChunk.InnerExceptions));

            var nested = Assert.Throws<AggregateException>(() => CpuParallel.For(2, Split, _ =>
                CpuParallel.For(2, Split, j => { if (j == 1) throw new FormatException(); })));
            Assert.IsType<FormatException>(nested.Flatten().InnerExceptions[0]);

            var hits = new int[100];
            CpuParallel.For(100, Split, i => Interlocked.Increment(ref hits[i]));
            AssertEachOnce(hits);
        }
    });

    private static readonly int[] Counts = new int[64];
    private static readonly Action<int> CountItem = i => Interlocked.Increment(ref Counts[i]);
    private static readonly Action<int, int> CountChunk = (start, end) =>
    {
        for (int i = start; i < end; i++) Interlocked.Increment(ref Counts[i]);
    };

    [Fact]
    public void AWarmLoopAllocatesNothing() => WithThreads(2, () =>
    {
        const int calls = 1000;
        int runs = 0;
        void Loops()
        {
            runs++;
            for (int call = 0; call < calls; call++)
            {
                CpuParallel.For(Counts.Length, Split, CountItem);
                CpuParallel.ForChunks(Counts.Length, Split, CountChunk);
            }
        }
        Assert.Equal(0, Support.Allocations.Least(Loops, threads: 2, warmUps: 1, everyThread: true));
        Assert.All(Counts, c => Assert.Equal(2 * calls * runs, c));
    });
}
