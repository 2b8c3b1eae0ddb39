using System.CommandLine;
using Fovea.Data.Images;
using Fovea.IO;
using Fovea.Viz;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea features</c>: one feature vector per image from any named layer of a checkpoint, saved as .npy.</summary>
internal static class FeaturesCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "Checkpoint folder (or .safetensors file) written by 'fovea train'", Required = true };
        var layer = new Option<string>("--layer", "-l") { Description = "Layer whose output to keep, by name: a leaf like classifier.4 or a block like features", Required = true };
        var input = new Option<string>("--input", "-i") { Description = "A folder of PNG/JPEG images (searched recursively, sorted), or one image", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The .npy file to write: float32 [N, D]; the image paths go to the same name with .txt", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Images per forward pass", DefaultValueFactory = _ => 32 };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("features", "Run a checkpoint's layers in order up to a named layer and save one feature vector per image as .npy.")
        {
            checkpoint, layer, input, output, batch, threads,
        };
        cmd.SetAction(r => CliErrors.Run(() => Run(r.GetValue(checkpoint)!, r.GetValue(layer)!, r.GetValue(input)!, r.GetValue(output)!,
            r.GetValue(batch), r.GetValue(threads))));
        return cmd;
    }

    private static int Run(string checkpointPath, string layer, string input, string output, int batchSize, int threads)
    {
        if (batchSize <= 0) throw new ArgumentException($"--batch-size must be positive, got {batchSize}");
        Backends.Cpu.CpuParallel.Threads = threads;
        var (model, ck) = EvalCommand.LoadModel(checkpointPath);
        var files = ImageFiles(input);
        var shape = ModelInput.InputShape(ck);
        int len = shape[0] * shape[1] * shape[2];
        // Fails early, listing the layers, when the name is wrong.
        if (!LayerTrace.Names(model).Contains(layer))
            throw new ArgumentException($"the model has no layer '{layer}'; its layers are: {string.Join(", ", LayerTrace.Names(model))}");
        var rows = new List<float[]>();
        int dim = -1;
        for (int start = 0; start < files.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, files.Count - start);
            var x = new float[n * len];
            for (int i = 0; i < n; i++) ModelInput.Pixels(files[start + i], ck).CopyTo(x.AsSpan(i * len, len));
            var y = LayerTrace.Run(model, Tensor.FromArray(x, [n, .. shape]), layer);
            var flat = (y.Rank > 2 ? y.Flatten(1) : y).Contiguous();
            dim = flat.Size(1);
            rows.Add(flat.ToArray());
        }
        var all = rows.SelectMany(r => r).ToArray();
        var features = Tensor.FromArray(all, [files.Count, dim]);
        Npy.Save(output, features);
        AtomicFile.Write(Path.ChangeExtension(output, ".txt"), s =>
        {
            using var w = new StreamWriter(s, leaveOpen: true);
            foreach (var f in files) w.WriteLine(f);
        });
        CliErrors.Line($"wrote {files.Count} feature vectors of {dim} values from layer {layer} to {output} (image list: {Path.ChangeExtension(output, ".txt")})");
        return 0;
    }

    private static List<string> ImageFiles(string input)
    {
        if (File.Exists(input)) return [input];
        if (!Directory.Exists(input)) throw new DirectoryNotFoundException($"no such image folder or file: '{input}'");
        var files = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Where(ImageDecoder.HasImageExtension)
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new InvalidDataException($"no .jpg/.jpeg/.png images under '{input}'");
        return files;
    }
}
