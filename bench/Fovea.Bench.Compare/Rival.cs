using Fovea.Cli.Bench;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;

namespace Fovea.Bench.Compare;

/// <summary>
/// The library Fovea is timed against in one process: TorchSharp (the compare mode) or ONNX Runtime (the ort mode).
/// </summary>
/// <param name="Label">Its name in the header and the table.</param>
/// <param name="Key">Its name in the result lines and the JSON's keys.</param>
/// <param name="Describe">Version and settings, for the first header line.</param>
/// <param name="Select">The workloads named (all it has when none is); an unknown name throws ArgumentException.</param>
/// <param name="Setup">One iteration of the workload at the thread count, and the native state to free afterwards.</param>
/// <param name="Settle">
/// A pause before each timed run (either side's), so that no thread the previous run left spinning takes a core from
/// it. ONNX Runtime's intra-op workers spin on after a Run returns: on the 2-core VM the process used 36 ms of CPU in
/// the 40 ms after a Run, and none in the 40 ms after that. Unpaused, that ran into the Fovea run that followed, up to
/// a third of a one-iteration VGG-16 batch-1 run (two rounds each: Fovea's median 100 and 109 ms with no pause, 91 ms
/// with 60 ms, 91 and 98 ms with 200 ms). Fovea's workers spin for 50 µs (ForkJoinPool). TorchSharp's side has no
/// pause, so the compare mode's runs stay as they have always been.
/// </param>
internal sealed record Rival(string Label, string Key, Func<string> Describe, Func<IEnumerable<string>, IReadOnlyList<BenchWorkload>> Select,
    Func<BenchWorkload, int, (Action Iteration, IDisposable State)> Setup, TimeSpan Settle)
{
    public static Rival Torch { get; } = new(
        "TorchSharp", "torchsharp",
        () => $"TorchSharp {typeof(torch).Assembly.GetName().Version} (libtorch {torch.__version__})",
        // The FMA peak has no TorchSharp side: it is what the GEMM row is measured against.
        names => BenchCatalog.Select(names).Where(w => w.Name != "fma_peak").ToList(),
        (w, threads) =>
        {
            torch.set_num_threads(threads);
            return TorchWorkloads.Setup(w.Name);
        },
        TimeSpan.Zero);

    public static Rival OnnxRuntime { get; } = new(
        "ONNX Runtime", "onnxruntime",
        () => $"ONNX Runtime {OrtEnv.Instance().GetVersionString()} (CPU provider, {OrtWorkloads.Settings})",
        OrtWorkloads.Select,
        OrtWorkloads.Setup,
        TimeSpan.FromMilliseconds(100));
}
