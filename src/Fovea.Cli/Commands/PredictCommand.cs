using System.CommandLine;
using Fovea.IO;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea predict</c>: runs a checkpoint on an image or a .npy batch and prints the top-5 classes.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string?>("--checkpoint", "-c") { Description = "Checkpoint folder (or .safetensors file) written by 'fovea train' or 'fovea import'" };
        var modelFile = new Option<string?>("--model", "-m") { Description = "Or a model: an .onnx file (run on the raw .npy input) or a checkpoint folder" };
        var input = new Option<string>("--input", "-i") { Description = "A PNG/JPEG image of the model's input size, or a .npy batch [N, C, H, W] of raw pixels in [0, 1]", Required = true };
        var output = new Option<string?>("--output") { Description = "Write the raw outputs (logits) [N, classes] as float32 .npy" };
        var device = DeviceChoice.Option();
        var cmd = new Command("predict", "Classify an image or a .npy batch with a trained checkpoint; prints the top-5 classes with probabilities.")
        {
            checkpoint, modelFile, input, output, device,
        };
        cmd.SetAction(r => CliErrors.Run(() => Run(r.GetValue(checkpoint), r.GetValue(modelFile), r.GetValue(input)!, r.GetValue(output), r.GetValue(device)!)));
        return cmd;
    }

    private static int Run(string? checkpointPath, string? modelPath, string inputPath, string? outputPath, string deviceName)
    {
        if ((checkpointPath is null) == (modelPath is null)) throw new ArgumentException("give exactly one of --checkpoint or --model");
        var device = DeviceChoice.Resolve(deviceName);
        var (model, maybeCk) = ImportCommand.LoadAnyModel(modelPath ?? checkpointPath!);
        if (maybeCk is not { } ck)
        {
            if (!device.Equals(Device.Cpu)) throw new ArgumentException("a bare ONNX model runs on --device cpu only; import it with 'fovea import' to run it elsewhere");
            return ImportCommand.PredictRaw(model, inputPath, outputPath);
        }
        model.To(device);
        var shape = ck.GetInts("input_shape")!;
        if (!File.Exists(inputPath)) throw new FileNotFoundException($"no such input file: '{inputPath}'", inputPath);
        Tensor x;
        if (inputPath.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            x = Npy.Load(inputPath);
            if (x.Rank == shape.Length) x = x.Unsqueeze(0);
            if (x.Rank != 4 || x.Size(1) != shape[0] || x.Size(2) != shape[1] || x.Size(3) != shape[2])
                throw new ArgumentException($"input '{inputPath}' has shape {x.ShapeString}, the model expects [N, {string.Join(", ", shape)}]");
        }
        else x = ImageInput.Load(inputPath, shape);

        // The same normalisation the model was trained with.
        var mean = ck.Config["mean"].EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var std = ck.Config["std"].EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var norm = (x.To(device) - Tensor.FromArray(mean, [1, mean.Length, 1, 1], device)) / Tensor.FromArray(std, [1, std.Length, 1, 1], device);
        Tensor logits;
        using (GradMode.NoGrad()) logits = model.Forward(norm);
        var names = ck.Config.TryGetValue("class_names", out var cn) ? cn.EnumerateArray().Select(e => e.GetString() ?? "").ToArray() : null;
        var probs = Functional.Softmax(logits, 1);
        int k = Math.Min(5, logits.Size(1));
        var (values, indices) = probs.TopK(k, 1);
        var v = values.ToArray();
        var ix = indices.ToLongArray();
        for (int n = 0; n < logits.Size(0); n++)
        {
            var table = new Table().Title(logits.Size(0) > 1 ? $"sample {n}" : Markup.Escape(Path.GetFileName(inputPath)))
                .AddColumn("rank").AddColumn("class").AddColumn(new TableColumn("probability").RightAligned());
            for (int j = 0; j < k; j++)
            {
                long c = ix[n * k + j];
                table.AddRow($"{j + 1}", Markup.Escape(ClassLabel.Of(c, names?[c])), $"{v[n * k + j]:P2}");
            }
            AnsiConsole.Write(table);
        }
        if (outputPath is not null)
        {
            Npy.Save(outputPath, logits);
            CliErrors.Line($"wrote outputs {logits.ShapeString} to {outputPath}");
        }
        return 0;
    }
}
