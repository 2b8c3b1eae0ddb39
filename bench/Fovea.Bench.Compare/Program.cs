using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Fovea.Backends.Cpu;
using Fovea.Cli.Bench;
using TorchSharp;

namespace Fovea.Bench.Compare;

/// <summary>
/// Fovea against TorchSharp (or, for the inference workloads, ONNX Runtime), workload by workload, in one process: both
/// sides are set up and warmed up, then timed runs alternate (Fovea, TorchSharp, TorchSharp, Fovea, ...) so that drift
/// in the machine's load falls on both. Other modes serve the separate-process measurements (peak memory, start to first
/// prediction).
/// </summary>
public static class Program
{
    private const string Usage = """
        usage:
          Fovea.Bench.Compare [compare] [-w NAME ...] [--runs N] [--threads T] [--quick] [--eager] [--json FILE]
              each workload on both sides, timed runs alternating; prints medians and Fovea/TorchSharp speed ratios
              (--eager: Fovea's model steps op by op through autograd, not replayed from a capture)
          Fovea.Bench.Compare ort [-w NAME ...] [--runs N] [--threads T] [--quick] [--eager] [--json FILE]
              as compare, against ONNX Runtime running Fovea's ONNX export of the same model and weights, for
              alexnet_infer_b1, alexnet_infer_b8, vgg16_infer_b1 and vgg16_infer_b4 (its output is checked against
              Fovea's first)
          Fovea.Bench.Compare single fovea|torch NAME [--steps N] [--threads T] [--eager]
              one side alone for N iterations (default 3) after setup, then the peak resident memory (for /usr/bin/time -v)
          Fovea.Bench.Compare make-checkpoint DIR
              writes DIR/checkpoint.safetensors (an untrained LeNet-5, as 'fovea train' would) and DIR/digit.npy for 'fovea predict'
          Fovea.Bench.Compare predict-torch
              the smallest TorchSharp program that builds LeNet-5 and classifies one image (start-to-first-prediction)
        """;

    public static int Main(string[] args)
    {
        try
        {
            var mode = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "compare";
            var rest = mode == "compare" && (args.Length == 0 || args[0].StartsWith('-')) ? args : args[1..];
            return mode switch
            {
                "compare" => Compare(new Options(rest), Rival.Torch),
                "ort" => Compare(new Options(rest), Rival.OnnxRuntime),
                "single" => Single(rest),
                "make-checkpoint" => FirstPrediction.MakeCheckpoint(rest.Length == 1 ? rest[0] : throw new ArgumentException("make-checkpoint DIR")),
                "predict-torch" => FirstPrediction.PredictTorch(),
                "-h" or "--help" or "help" => PrintUsage(0),
                _ => throw new ArgumentException($"unknown mode '{mode}'"),
            };
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"Fovea.Bench.Compare: {e.Message}");
            return PrintUsage(1);
        }
        catch (OrtWorkloads.MismatchException e)
        {
            Console.Error.WriteLine($"Fovea.Bench.Compare: {e.Message}");
            return 1;
        }
    }

    private static int PrintUsage(int code)
    {
        (code == 0 ? Console.Out : Console.Error).WriteLine(Usage);
        return code;
    }

    /// <summary>The options of the compare and single modes.</summary>
    private sealed class Options
    {
        public List<string> Workloads { get; } = [];
        public List<string> Positional { get; } = [];
        public int? Runs { get; private set; }
        public int Threads { get; private set; } = 2;
        public int Steps { get; private set; } = 3;
        public bool Quick { get; private set; }
        public string? Json { get; private set; }

        public Options(string[] args)
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                int NextInt() => int.TryParse(Next(), CultureInfo.InvariantCulture, out int v) && v > 0 ? v : throw new ArgumentException($"{args[i - 1]} needs a positive integer");
                switch (args[i])
                {
                    case "-w" or "--workload":
                        Workloads.Add(Next());
                        while (i + 1 < args.Length && !args[i + 1].StartsWith('-')) Workloads.Add(args[++i]);
                        break;
                    case "--runs": Runs = NextInt(); break;
                    case "--threads": Threads = NextInt(); break;
                    case "--steps": Steps = NextInt(); break;
                    case "--quick": Quick = true; break;
                    case "--eager": ModelWorkloads.Eager = true; break;
                    case "--json": Json = Next(); break;
                    default:
                        if (args[i].StartsWith('-')) throw new ArgumentException($"unknown option '{args[i]}'");
                        Positional.Add(args[i]);
                        break;
                }
            }
        }
    }

    internal static string LoadAverage()
    {
        try { return File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "unknown"; }
        catch (IOException) { return "unknown"; }
    }

    /// <summary>
    /// One workload's runs on both sides (the other side being the rival's); for the GEMM also the FMA peak's, each run
    /// just before one of Fovea's (empty otherwise).
    /// </summary>
    private sealed record Row(BenchWorkload Workload, List<double> Fovea, List<double> Other, int FoveaIterations, int OtherIterations,
        List<double> Peak)
    {
        public double FoveaMedian => BenchTimer.Median(Fovea);
        public double OtherMedian => BenchTimer.Median(Other);
        public double PeakMedian => BenchTimer.Median(Peak);

        /// <summary>Fovea's speed over the other side's: above 1, Fovea is faster.</summary>
        public double Ratio => Workload.HigherIsBetter ? FoveaMedian / OtherMedian : OtherMedian / FoveaMedian;
    }

    private static int Compare(Options o, Rival rival)
    {
        if (o.Positional.Count > 0) throw new ArgumentException($"unexpected argument '{o.Positional[0]}'");
        var selected = rival.Select(o.Workloads);
        CpuParallel.Threads = o.Threads;
        Console.WriteLine($"# Fovea vs {rival.Describe()}, " +
            $"{o.Threads} threads each, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}" +
            (rival.Settle > TimeSpan.Zero ? $", {rival.Settle.TotalMilliseconds:F0} ms pause before each timed run" : ""));
        Console.WriteLine($"# started {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}");
        Console.WriteLine($"# ratio = Fovea speed / {rival.Label} speed (above 1: Fovea faster); medians over alternating runs");
        var rows = new List<Row>();
        foreach (var w in selected)
        {
            // The GEMM's target is a share of the FMA peak, so the peak takes turns with it: timed apart, a change in
            // the machine's load between the two would move the share (one run's peak, measured first, was 8% above
            // the others').
            var peak = w.Name == "gemm_2048" ? BenchCatalog.Select(["fma_peak"])[0] : null;
            var row = CompareOne(w, BenchPlan.For(w, o.Quick, o.Runs), peak, o, rival);
            rows.Add(row);
            if (peak is not null)
                Console.WriteLine($"# float32 FMA peak, {o.Threads} threads: {Fmt(row.PeakMedian)} {peak.UnitLabel} " +
                    $"(fma_peak, median of {row.Peak.Count} runs, each just before one of Fovea's {w.Name} runs)");
            Console.WriteLine($"{w.Name,-22} fovea {Fmt(row.FoveaMedian),9} {w.UnitLabel,-8}  {rival.Key} {Fmt(row.OtherMedian),9} {w.UnitLabel,-8}  " +
                $"ratio {row.Ratio:F2}   (runs {row.Fovea.Count}, load {LoadAverage()})" +
                (peak is null ? "" : $"   of the FMA peak: fovea {100 * row.FoveaMedian / row.PeakMedian:F0}%, {rival.Key} {100 * row.OtherMedian / row.PeakMedian:F0}%"));
        }
        Console.WriteLine($"# finished {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine($"| workload | unit | Fovea median (min–max) | {rival.Label} median (min–max) | ratio |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var r in rows)
            Console.WriteLine($"| {r.Workload.Name} | {r.Workload.UnitLabel} | {Fmt(r.FoveaMedian)} ({Fmt(r.Fovea.Min())}–{Fmt(r.Fovea.Max())}) | " +
                $"{Fmt(r.OtherMedian)} ({Fmt(r.Other.Min())}–{Fmt(r.Other.Max())}) | {r.Ratio:F2} |");
        if (o.Json is { } path) File.WriteAllText(path, ToJson(rows, o.Threads, rival.Key));
        return 0;
    }

    /// <summary>
    /// Both sides' runs of w in turn; with <paramref name="peak"/> (the FMA peak, for the GEMM) one run of it before
    /// each of Fovea's, the figure that Fovea's share is taken of.
    /// </summary>
    private static Row CompareOne(BenchWorkload w, BenchPlan plan, BenchWorkload? peak, Options o, Rival rival)
    {
        var fovea = w.Setup();
        var (otherIteration, otherState) = rival.Setup(w, o.Threads);
        var peakIteration = peak?.Setup();
        try
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            // Warm both up first (JIT tiering on Fovea's side, libtorch's or ONNX Runtime's first-call costs on the other).
            int fi = BenchTimer.IterationsPerRun(BenchTimer.Warmup(fovea, plan), plan);
            int oi = BenchTimer.IterationsPerRun(BenchTimer.Warmup(otherIteration, plan), plan);
            var peakPlan = peak is null ? plan : BenchPlan.For(peak, o.Quick, o.Runs);
            int pi = peakIteration is null ? 0 : BenchTimer.IterationsPerRun(BenchTimer.Warmup(peakIteration, peakPlan), peakPlan);
            var f = new List<double>();
            var others = new List<double>();
            var p = new List<double>();
            double Time(Action iteration, int iterations)
            {
                if (rival.Settle > TimeSpan.Zero) Thread.Sleep(rival.Settle);
                return BenchTimer.Time(iteration, iterations);
            }
            void RunFovea()
            {
                if (peakIteration is not null) p.Add(peak!.Value(Time(peakIteration, pi)));
                f.Add(w.Value(Time(fovea, fi)));
            }
            for (int r = 0; r < plan.Runs; r++)
            {
                // F T, T F, F T, ...: neither side always runs right after the other.
                if (r % 2 == 0)
                {
                    RunFovea();
                    others.Add(w.Value(Time(otherIteration, oi)));
                }
                else
                {
                    others.Add(w.Value(Time(otherIteration, oi)));
                    RunFovea();
                }
            }
            return new Row(w, f, others, fi, oi, p);
        }
        finally
        {
            otherState.Dispose();
        }
    }

    private static int Single(string[] args)
    {
        var o = new Options(args);
        if (o.Positional.Count != 2 || o.Positional[0] is not ("fovea" or "torch"))
            throw new ArgumentException("single fovea|torch NAME [--steps N] [--threads T]");
        var w = BenchCatalog.Select([o.Positional[1]])[0];
        var clock = Stopwatch.StartNew();
        Action iteration;
        if (o.Positional[0] == "fovea")
        {
            CpuParallel.Threads = o.Threads;
            iteration = w.Setup();
        }
        else
        {
            torch.set_num_threads(o.Threads);
            iteration = TorchWorkloads.Setup(w.Name).Iteration;
        }
        var times = new List<double>();
        for (int i = 0; i < o.Steps; i++) times.Add(BenchTimer.Time(iteration, 1));
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine($"{o.Positional[0]} {w.Name}: {o.Steps} iterations, median {Fmt(w.Value(BenchTimer.Median(times)))} {w.UnitLabel}, " +
            $"total {clock.Elapsed.TotalSeconds:F1} s, peak working set {self.PeakWorkingSet64 / 1e9:F2} GB");
        return 0;
    }

    internal static string Fmt(double v) =>
        v >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString(v >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);

    /// <summary>The rows as JSON, the other side's keys named by <paramref name="other"/> (torchsharp, onnxruntime).</summary>
    private static string ToJson(List<Row> rows, int threads, string other)
    {
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartArray();
            foreach (var r in rows)
            {
                j.WriteStartObject();
                j.WriteString("workload", r.Workload.Name);
                j.WriteNumber("batch", r.Workload.Batch);
                j.WriteString("unit", r.Workload.UnitLabel);
                j.WriteNumber("threads", threads);
                j.WriteNumber("fovea_median", Math.Round(r.FoveaMedian, 4));
                j.WriteNumber($"{other}_median", Math.Round(r.OtherMedian, 4));
                j.WriteNumber("ratio", Math.Round(r.Ratio, 4));
                Runs("fovea_runs", r.Fovea);
                Runs($"{other}_runs", r.Other);
                j.WriteNumber("fovea_iterations_per_run", r.FoveaIterations);
                j.WriteNumber($"{other}_iterations_per_run", r.OtherIterations);
                if (r.Peak.Count > 0)
                {
                    j.WriteNumber("fma_peak_median", Math.Round(r.PeakMedian, 4));
                    Runs("fma_peak_runs", r.Peak);
                }
                j.WriteEndObject();
            }
            j.WriteEndArray();

            void Runs(string name, List<double> values)
            {
                j.WritePropertyName(name);
                j.WriteStartArray();
                foreach (var v in values) j.WriteNumberValue(Math.Round(v, 4));
                j.WriteEndArray();
            }
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
