using System.CommandLine;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Fovea.Backends.Cpu;
using Fovea.Cli.Bench;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea bench</c>: times Fovea's CPU path on the issue's workloads (GEMM, one convolution, LeNet-5, AlexNet and
/// VGG-16 inference and training) and prints median, min and max over several runs after a warm-up.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var workloads = new Option<string[]>("--workload", "-w")
        {
            Description = $"Workloads to run (default: all): {string.Join(", ", BenchCatalog.Names)}",
            AllowMultipleArgumentsPerToken = true,
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print a JSON list of {workload, batch, median, min, max, unit, runs, iterations_per_run, allocated_bytes_per_iteration, gen0_collections}",
        };
        var runs = new Option<int?>("--runs") { Description = "Timed runs per workload (default: 7, or 3 for the seconds-long ones)" };
        var threads = new Option<int>("--threads") { Description = "CPU threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var quick = new Option<bool>("--quick") { Description = "Shorter warm-up and fewer runs (3, or 2 for the seconds-long ones): a rough figure fast" };
        var eager = new Option<bool>("--eager")
        {
            Description = "Run model steps op by op through autograd instead of replaying a captured step (how the CPU runs them by default)",
        };
        var device = DeviceChoice.Option();
        device.Description = "Where the model workloads (LeNet-5, AlexNet, VGG-16) run: cpu, cuda, cuda:N or ilgpu-cpu; gemm and conv workloads always time the CPU kernels";
        var cmd = new Command("bench", "Time Fovea on standard workloads (matrix product, convolution, LeNet-5, AlexNet, VGG-16); prints median, min and max.")
        {
            workloads, json, runs, threads, quick, eager, device,
        };
        cmd.SetAction(r => CliErrors.Run(() => Run(r.GetValue(workloads), r.GetValue(json), r.GetValue(runs), r.GetValue(threads), r.GetValue(quick), r.GetValue(eager), r.GetValue(device)!)));
        return cmd;
    }

    private static int Run(string[]? names, bool json, int? runs, int threads, bool quick, bool eager, string deviceName)
    {
        ModelWorkloads.Device = DeviceChoice.Resolve(deviceName);
        ModelWorkloads.Eager = eager;
        var selected = BenchCatalog.Select(names);
        if (runs is < 1) throw new ArgumentException($"--runs must be at least 1, got {runs}");
        if (threads < 1) throw new ArgumentException($"--threads must be at least 1, got {threads}");
        CpuParallel.Threads = threads;
        if (RuntimeFeature.IsDynamicCodeSupported && ModelWorkloads.Device.Backend is Gpu.GpuBackend gpu) Console.Error.WriteLine($"fovea bench: model workloads on {ModelWorkloads.Device} ({gpu.Description})");
        Console.Error.WriteLine($"fovea bench: {threads} threads, {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, " +
            $"{Simd()}, load average {LoadAverage() ?? "unknown"}");

        var results = new List<BenchResult>();
        foreach (var w in selected)
        {
            Console.Error.Write($"  {w.Name} ...");
            var r = BenchRunner.Measure(w, BenchPlan.For(w, quick, runs));
            Console.Error.WriteLine($" {Format(r.Median)} {w.UnitLabel}");
            results.Add(r);
        }
        if (json) CliErrors.Line(ToJson(results));
        else foreach (var line in Table(results)) CliErrors.Line(line);
        return 0;
    }

    /// <summary>The widest SIMD the CPU offers (what the GEMM micro-kernel is chosen by).</summary>
    internal static string Simd() => System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "AVX-512"
        : System.Runtime.Intrinsics.X86.Avx2.IsSupported ? "AVX2" : $"Vector<float> x{System.Numerics.Vector<float>.Count}";

    /// <summary>The 1-minute load average (Linux), to note how busy the machine was.</summary>
    internal static string? LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    internal static string Format(double v) =>
        v >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString(v >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);

    private static IEnumerable<string> Table(IReadOnlyList<BenchResult> results)
    {
        string[] header = ["workload", "batch", "median", "min", "max", "unit", "allocated/iteration", "gen0 GCs"];
        var rows = results.Select(r => new[]
        {
            r.Workload.Name, r.Workload.Batch > 0 ? r.Workload.Batch.ToString(CultureInfo.InvariantCulture) : "-",
            Format(r.Median), Format(r.Min), Format(r.Max), r.Workload.UnitLabel,
            $"{r.AllocatedBytesPerIteration.ToString("N0", CultureInfo.InvariantCulture)} B", r.Gen0Collections.ToString(CultureInfo.InvariantCulture),
        }).ToList();
        var width = Enumerable.Range(0, header.Length).Select(c => rows.Select(r => r[c].Length).Append(header[c].Length).Max()).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((s, c) => c == 0 || c == 5 ? s.PadRight(width[c]) : s.PadLeft(width[c]))).TrimEnd();
        yield return Line(header);
        yield return Line(width.Select(n => new string('-', n)).ToArray());
        foreach (var r in rows) yield return Line(r);
    }

    private static string ToJson(IReadOnlyList<BenchResult> results)
    {
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartArray();
            foreach (var r in results)
            {
                j.WriteStartObject();
                j.WriteString("workload", r.Workload.Name);
                j.WriteNumber("batch", r.Workload.Batch);
                j.WriteNumber("median", Math.Round(r.Median, 4));
                j.WriteNumber("min", Math.Round(r.Min, 4));
                j.WriteNumber("max", Math.Round(r.Max, 4));
                j.WriteString("unit", r.Workload.UnitLabel);
                j.WriteNumber("runs", r.Values.Count);
                j.WriteNumber("iterations_per_run", r.IterationsPerRun);
                j.WriteNumber("allocated_bytes_per_iteration", Math.Round(r.AllocatedBytesPerIteration, 1));
                j.WriteNumber("gen0_collections", r.Gen0Collections);
                j.WriteEndObject();
            }
            j.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
