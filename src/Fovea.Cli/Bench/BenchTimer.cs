using System.Diagnostics;

namespace Fovea.Cli.Bench;

/// <summary>How long to warm up and how many timed runs to make.</summary>
/// <param name="WarmupSeconds">Run iterations untimed for at least this long (JIT tiering: the first calls run
/// unoptimised code, and tier-1 code arrives in the background after ~30 calls).</param>
/// <param name="MinWarmupIterations">And at least this many iterations.</param>
/// <param name="Runs">Timed runs; the report is their median, min and max.</param>
/// <param name="RunSeconds">Each run repeats the iteration until about this long has passed (at least once), so
/// millisecond workloads are not timed one call at a time.</param>
internal sealed record BenchPlan(double WarmupSeconds, int MinWarmupIterations, int Runs, double RunSeconds)
{
    /// <summary>
    /// The default plan for a workload: light ones warm up 2 s and make 7 runs of 0.5 s; heavy ones (up to seconds
    /// per iteration) warm up 2 s too, at least 2 iterations, and make 3 runs of one iteration. Heavy ones once warmed
    /// up with 2 iterations alone: VGG-16's forward at batch 1 (75 ms) then ran its timed runs while tier-1 code was
    /// still being compiled on one of the two cores, 134-182 ms in `fovea bench` against 72-84 ms warmed up for 3 s.
    /// </summary>
    public static BenchPlan For(BenchWorkload w, bool quick, int? runs)
    {
        var plan = (w.Heavy, quick) switch
        {
            (false, false) => new BenchPlan(2.0, 3, 7, 0.5),
            (false, true) => new BenchPlan(0.5, 2, 3, 0.25),
            (true, false) => new BenchPlan(2.0, 2, 3, 0.0),
            (true, true) => new BenchPlan(0.0, 1, 2, 0.0),
        };
        return runs is { } r ? plan with { Runs = r } : plan;
    }
}

/// <summary>Timing primitives shared by <c>fovea bench</c> and the side-by-side harness.</summary>
internal static class BenchTimer
{
    /// <summary>Runs <paramref name="iteration"/> untimed per the plan; returns the seconds per iteration seen last.</summary>
    public static double Warmup(Action iteration, BenchPlan plan)
    {
        var total = Stopwatch.StartNew();
        double last = 0;
        for (int i = 0; i < plan.MinWarmupIterations || total.Elapsed.TotalSeconds < plan.WarmupSeconds; i++)
            last = Time(iteration, 1);
        return last;
    }

    /// <summary>How many iterations make one run of about <see cref="BenchPlan.RunSeconds"/>.</summary>
    public static int IterationsPerRun(double secondsPerIteration, BenchPlan plan) =>
        secondsPerIteration <= 0 ? 1 : (int)Math.Clamp(Math.Ceiling(plan.RunSeconds / secondsPerIteration), 1, 1_000_000);

    /// <summary>Seconds per iteration over <paramref name="iterations"/> back-to-back iterations.</summary>
    public static double Time(Action iteration, int iterations)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++) iteration();
        return Stopwatch.GetElapsedTime(start).TotalSeconds / iterations;
    }

    /// <summary>Median of the values (the mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values");
        var s = values.Order().ToArray();
        int m = s.Length / 2;
        return s.Length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}

/// <summary>
/// A workload's timed runs (the reported value per run), with the managed bytes the process allocated and the gen-0
/// collections over all of them (any thread, so a background thread of the runtime counts too).
/// </summary>
internal sealed record BenchResult(BenchWorkload Workload, IReadOnlyList<double> Values, int IterationsPerRun, long AllocatedBytes, int Gen0Collections)
{
    public double AllocatedBytesPerIteration => (double)AllocatedBytes / (Values.Count * (long)IterationsPerRun);

    public double Median => BenchTimer.Median(Values);
    public double Min => Values.Min();
    public double Max => Values.Max();
}

/// <summary>Measures Fovea alone: set up, warm up, then timed runs.</summary>
internal static class BenchRunner
{
    public static BenchResult Measure(BenchWorkload w, BenchPlan plan)
    {
        var iteration = w.Setup();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        double perIteration = BenchTimer.Warmup(iteration, plan);
        int iterations = BenchTimer.IterationsPerRun(perIteration, plan);
        var values = new List<double>(plan.Runs);
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        int gen0 = GC.CollectionCount(0);
        for (int r = 0; r < plan.Runs; r++) values.Add(w.Value(BenchTimer.Time(iteration, iterations)));
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        return new BenchResult(w, values, iterations, allocated, GC.CollectionCount(0) - gen0);
    }
}
