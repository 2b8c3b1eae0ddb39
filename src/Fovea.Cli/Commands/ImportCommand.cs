using System.CommandLine;
using Fovea.IO;
using Fovea.NN;
using Fovea.Onnx;
using Fovea.Training;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea import model.onnx --output OUT</c>: turns an ONNX model into a Fovea checkpoint folder. The weights go to
/// OUT/checkpoint.safetensors under their ONNX (state-dict) names; the graph itself, which no zoo entry can rebuild,
/// is kept beside them as OUT/model.onnx, and the config names the model <c>onnx:&lt;file name&gt;</c>.
/// </summary>
internal static class ImportCommand
{
    /// <summary>The graph's file inside a checkpoint folder written by <c>fovea import</c>.</summary>
    public const string GraphFileName = "model.onnx";

    public static Command Create()
    {
        var file = new Argument<string>("model") { Description = "The .onnx file to import" };
        var output = new Option<string>("--output", "-o") { Description = "Checkpoint folder to write", Required = true };
        var input = new Option<string?>("--input") { Description = "Input size CxHxW when the graph does not declare a static one" };
        var cmd = new Command("import", "Import an ONNX model as a Fovea checkpoint (weights under their ONNX names, the graph kept beside them).")
        {
            file, output, input,
        };
        cmd.SetAction(r => CliErrors.Run(() => Run(r.GetValue(file)!, r.GetValue(output)!, r.GetValue(input))));
        return cmd;
    }

    private static int Run(string path, string outDir, string? inputText)
    {
        int[]? shape = inputText is null ? null : [1, .. SummaryCommand.ParseShape(inputText)];
        var model = OnnxImporter.Load(path, shape);
        var inputShape = model.InputShape
            ?? throw new ArgumentException($"{Path.GetFileName(path)} declares no static input shape: give one with --input CxHxW");
        Tensor y;
        // The declared batch, not 1: exporters may bake the traced batch size into Reshape shapes.
        using (GradMode.NoGrad()) y = model.Forward(Tensor.Zeros(inputShape));
        int channels = inputShape[1];
        var config = new Dictionary<string, object?>
        {
            ["model"] = "onnx:" + Path.GetFileName(path),
            ["classes"] = y.Rank >= 2 ? y.Size(1) : y.NumEl,
            ["input_shape"] = inputShape[1..],
            // ONNX graphs carry no input normalisation of their own: identity, so predict feeds the raw input.
            ["mean"] = Enumerable.Repeat(0f, channels).ToArray(),
            ["std"] = Enumerable.Repeat(1f, channels).ToArray(),
            ["onnx_opset"] = model.Opset,
        };
        AtomicFile.CreateFolder(outDir);
        Checkpoint.Of(model, null, config).Save(outDir);
        File.Copy(path, Path.Combine(outDir, GraphFileName), overwrite: true);
        CliErrors.Line($"imported {Path.GetFileName(path)} (opset {model.Opset}, {model.NamedParameters().Count()} parameters, output {y.ShapeString}) into {outDir}");
        return 0;
    }

    /// <summary>
    /// Loads a model from an .onnx file (checkpoint null), a checkpoint folder written by <c>fovea import</c> (the
    /// graph from OUT/model.onnx, the weights from the checkpoint) or any other checkpoint (through
    /// <see cref="EvalCommand.LoadModel"/>). Used by predict and export; eval, summary and train --resume would need
    /// the same fallback to accept imported checkpoints.
    /// </summary>
    /// <summary>True when <paramref name="path"/> is a checkpoint folder (or file) with an imported graph beside it.</summary>
    internal static bool HasGraph(string path)
    {
        var folder = path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? Path.GetDirectoryName(Path.GetFullPath(path))! : path;
        return File.Exists(Path.Combine(folder, GraphFileName));
    }

    internal static (Module Model, Checkpoint? Checkpoint) LoadAnyModel(string path)
    {
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            return File.Exists(path) ? (OnnxImporter.Load(path), null) : throw new FileNotFoundException($"no such ONNX model: '{path}'", path);
        var folder = path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? Path.GetDirectoryName(Path.GetFullPath(path))! : path;
        var graph = Path.Combine(folder, GraphFileName);
        if (!File.Exists(graph)) return EvalCommand.LoadModel(path);
        var ck = Checkpoint.Load(path);
        var shape = ck.GetInts("input_shape");
        var model = OnnxImporter.Load(graph, shape is null ? null : [1, .. shape]);
        try { model.LoadStateDict(ck.Weights); }
        catch (ArgumentException e) { throw new InvalidDataException($"checkpoint '{path}' does not fit its graph {graph}: {e.Message}", e); }
        model.Eval();
        return (model, ck);
    }

    /// <summary>predict --model FILE.onnx: the model on a .npy batch as it is (no normalisation), outputs to float32 .npy.</summary>
    internal static int PredictRaw(Module model, string inputPath, string? outputPath)
    {
        if (!File.Exists(inputPath)) throw new FileNotFoundException($"no such input file: '{inputPath}'", inputPath);
        if (!inputPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"an ONNX model takes a .npy batch as input, got '{inputPath}'");
        var x = IO.Npy.Load(inputPath);
        if (x.DType != DType.Float32) throw new ArgumentException($"input '{inputPath}' must hold floats, got {x.DType}");
        if (model is OnnxModel { InputShape: { } s } && x.Rank == s.Length - 1) x = x.Unsqueeze(0);
        Tensor y;
        using (GradMode.NoGrad()) y = model.Forward(x);
        if (y.Rank == 2)
        {
            var top = y.ArgMax(1).ToLongArray();
            for (int n = 0; n < top.Length; n++) CliErrors.Line($"sample {n}: class {top[n]}");
        }
        if (outputPath is not null)
        {
            IO.Npy.Save(outputPath, y.Contiguous());
            CliErrors.Line($"wrote outputs {y.ShapeString} to {outputPath}");
        }
        return 0;
    }
}
