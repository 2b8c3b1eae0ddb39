using Fovea.Cli.Bench;
using Fovea.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Fovea.Bench.Compare;

/// <summary>
/// ONNX Runtime's side of the inference workloads: the zoo model Fovea's workload times, with its weights, exported by
/// <see cref="OnnxExporter"/> and run by an <see cref="InferenceSession"/> on the CPU provider, on the same input.
/// Before any timing, ONNX Runtime's output is checked against Fovea's forward of that input.
/// </summary>
internal static class OrtWorkloads
{
    /// <summary>The largest difference allowed, as a share of the largest magnitude in Fovea's output.</summary>
    public const double Tolerance = 1e-3;

    public const string Settings = "graph optimisation ORT_ENABLE_ALL, sequential execution, one inter-op thread; Fovea's model frozen (Module.Freeze)";

    /// <summary>The workloads ONNX Runtime has, each with the zoo model it runs.</summary>
    private static readonly Dictionary<string, string> Models = new(StringComparer.OrdinalIgnoreCase)
    {
        ["alexnet_infer_b1"] = "alexnet",
        ["alexnet_infer_b8"] = "alexnet",
        ["vgg16_infer_b1"] = "vgg16",
        ["vgg16_infer_b4"] = "vgg16",
    };

    /// <summary>The workloads named, in the order given; the four, in the issue's order, when none is.</summary>
    /// <exception cref="ArgumentException">A name ONNX Runtime has no workload for; the message lists the four.</exception>
    public static IReadOnlyList<BenchWorkload> Select(IEnumerable<string> names)
    {
        var wanted = names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (wanted.Count == 0) return BenchCatalog.All.Where(w => Models.ContainsKey(w.Name)).ToList();
        foreach (var n in wanted.Where(n => !Models.ContainsKey(n)))
            throw new ArgumentException($"the ort mode has no workload '{n}' (it has {string.Join(", ", Models.Keys)})");
        return BenchCatalog.Select(wanted);
    }

    /// <summary>
    /// The session for <paramref name="w"/>'s model on <paramref name="threads"/> threads, checked against Fovea's
    /// output; one iteration is one Run on the workload's batch.
    /// </summary>
    /// <exception cref="MismatchException">ONNX Runtime's output is not Fovea's within <see cref="Tolerance"/>.</exception>
    public static (Action Iteration, IDisposable State) Setup(BenchWorkload w, int threads)
    {
        // The model and input Fovea's workload builds for itself: the same seed gives the same weights and input.
        // Frozen, as Fovea's timed side runs it (ModelWorkloads.Inference), so that the check covers the kernels timed.
        var (net, x, _) = ModelWorkloads.Build(Models[w.Name], w.Batch);
        float[] expected;
        net.Eval().Freeze();
        using (GradMode.NoGrad()) expected = net.Forward(x).ToArray();

        // The threads Fovea's kernels get, inside each operator; operators one after another, as Fovea runs its layers.
        var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        string path = Path.Combine(Path.GetTempPath(), $"fovea-bench-{w.Name}-{Environment.ProcessId}.onnx");
        InferenceSession session;
        try
        {
            OnnxExporter.Save(net, x.Shape, path);
            session = new InferenceSession(path, options);
        }
        finally
        {
            File.Delete(path);
        }

        // Input and output over preallocated arrays, so that a run allocates no tensors, as Fovea's replayed step does not.
        var input = OrtValue.CreateTensorValueFromMemory(x.Contiguous().ToArray(), x.Shape.Select(d => (long)d).ToArray());
        var output = new float[expected.Length];
        var outputValue = OrtValue.CreateTensorValueFromMemory(output, [w.Batch, expected.Length / w.Batch]);
        var runOptions = new RunOptions();
        string[] inputNames = [session.InputNames[0]], outputNames = [session.OutputNames[0]];
        OrtValue[] inputs = [input], outputs = [outputValue];
        void Iteration() => session.Run(runOptions, inputNames, inputs, outputNames, outputs);

        var state = new Owned(runOptions, outputValue, input, session, options);
        try
        {
            Iteration();
            Check(w.Name, expected, output);
        }
        catch
        {
            state.Dispose();
            throw;
        }
        return (Iteration, state);
    }

    private static void Check(string name, float[] expected, float[] actual)
    {
        double scale = 0, diff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            diff = Math.Max(diff, Math.Abs(expected[i] - (double)actual[i]));
        }
        // NaN fails the comparison too.
        if (!(diff <= Tolerance * scale))
            throw new MismatchException($"{name}: ONNX Runtime's output differs from Fovea's on the same input: max abs diff {diff:G3} " +
                $"over max abs value {scale:G3} is {diff / scale:G3}, above {Tolerance:G3}; the two sides would not run the same model");
        Console.WriteLine($"# {name}: ONNX Runtime's output matches Fovea's, max abs diff {diff:G3} over max abs value {scale:G3} ({diff / scale:G3})");
    }

    /// <summary>ONNX Runtime computes something other than Fovea's model: no timing of it would mean anything.</summary>
    public sealed class MismatchException(string message) : Exception(message);

    /// <summary>Frees a session and its values, in the order given.</summary>
    private sealed class Owned(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var i in items) i.Dispose();
        }
    }
}
