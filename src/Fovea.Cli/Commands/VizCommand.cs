using System.CommandLine;
using Fovea.Data;
using Fovea.Data.Images;
using Fovea.Data.Transforms;
using Fovea.Data.WordNet;
using Fovea.IO;
using Fovea.NN;
using Fovea.Training;
using Fovea.Viz;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea viz</c>: PNG pictures of a checkpoint's filters, its activation maps on one image, a run's
/// training curves and its confusion matrix.</summary>
internal static class VizCommand
{
    public static Command Create()
    {
        var cmd = new Command("viz", "Draw pictures: first-layer filters, activation maps, training curves, confusion matrix (PNG).");
        cmd.Subcommands.Add(Filters());
        cmd.Subcommands.Add(Activations());
        cmd.Subcommands.Add(Curves());
        cmd.Subcommands.Add(Confusion());
        return cmd;
    }

    private static Option<string> CheckpointOption() =>
        new("--checkpoint", "-c") { Description = "Checkpoint folder (or .safetensors file) written by 'fovea train'", Required = true };

    private static Command Filters()
    {
        var checkpoint = CheckpointOption();
        var output = new Option<string>("--output", "-o") { Description = "PNG file to write", Required = true };
        var layer = new Option<string?>("--layer") { Description = "Conv2d layer to draw (default: the first, e.g. features.0)" };
        var scale = new Option<int?>("--scale") { Description = "Screen pixels per weight (default: cells about 64 pixels wide)" };
        var cmd = new Command("filters", "Draw a convolution's filters (the first by default) as a grid of small images, each stretched to full range.")
        {
            checkpoint, output, layer, scale,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var (model, _) = EvalCommand.LoadModel(r.GetValue(checkpoint)!);
            var (name, conv) = FindConv(model, r.GetValue(layer));
            using var bmp = FilterGrid.Render(conv.Weight, r.GetValue(scale));
            var path = r.GetValue(output)!;
            Png.Save(bmp, path);
            CliErrors.Line($"wrote {conv.Weight.Size(0)} filters of {name} ({conv.Weight.ShapeString}) to {path} ({bmp.Width}x{bmp.Height})");
            return 0;
        }));
        return cmd;
    }

    private static Command Activations()
    {
        var checkpoint = CheckpointOption();
        var input = new Option<string>("--input", "-i") { Description = "A PNG or JPEG image (resized by its shorter side and centre-cropped to the model's input)", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Folder for one PNG per conv layer (LAYER.png)", Required = true };
        var cmd = new Command("activations", "Draw the activation maps of every conv layer for one image: a grid per layer, one cell per channel.")
        {
            checkpoint, input, output,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var (model, ck) = EvalCommand.LoadModel(r.GetValue(checkpoint)!);
            var x = ModelInput.Load(r.GetValue(input)!, ck);
            var dir = r.GetValue(output)!;
            AtomicFile.CreateFolder(dir);
            foreach (var maps in ActivationMaps.Capture(model, x))
            {
                using var bmp = maps.Render();
                var path = Path.Combine(dir, maps.Name + ".png");
                Png.Save(bmp, path);
                CliErrors.Line($"{maps.Name}: {maps.Output.ShapeString} -> {path} ({bmp.Width}x{bmp.Height})");
            }
            return 0;
        }));
        return cmd;
    }

    private static Command Curves()
    {
        var run = new Option<string>("--run", "-r") { Description = "Run folder written by 'fovea train' (or its metrics.jsonl)", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "PNG file to write", Required = true };
        var width = new Option<int>("--width") { Description = "Width in pixels", DefaultValueFactory = _ => 1200 };
        var height = new Option<int>("--height") { Description = "Height in pixels", DefaultValueFactory = _ => 450 };
        var cmd = new Command("curves", "Plot loss and accuracy per epoch, train and test, from a run's metrics.jsonl.")
        {
            run, output, width, height,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var runPath = r.GetValue(run)!;
            var epochs = MetricsLog.Read(runPath);
            string? title = null;
            var ckPath = Directory.Exists(runPath) ? runPath : Path.GetDirectoryName(Path.GetFullPath(runPath))!;
            if (File.Exists(Checkpoint.ResolvePath(ckPath)))
            {
                var ck = Checkpoint.Load(ckPath);
                title = $"{ck.GetString("model")} on {ck.GetString("dataset")}";
            }
            using var bmp = TrainingCurves.Render(epochs, r.GetValue(width), r.GetValue(height), title);
            var path = r.GetValue(output)!;
            Png.Save(bmp, path);
            CliErrors.Line($"wrote curves of {epochs.Count} epoch{(epochs.Count == 1 ? "" : "s")} to {path} ({bmp.Width}x{bmp.Height})");
            return 0;
        }));
        return cmd;
    }

    private static Command Confusion()
    {
        var checkpoint = CheckpointOption();
        var output = new Option<string>("--output", "-o") { Description = "PNG file to write", Required = true };
        var dataDir = new Option<string?>("--data-dir") { Description = "Data folder (for an image-folder checkpoint: the folder of test images, default DATA_ROOT/val)" };
        var cmd = new Command("confusion", "Evaluate a checkpoint on its data set's test split (or an image folder's val/) and draw the confusion matrix as a heat map.")
        {
            checkpoint, output, dataDir,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var path = r.GetValue(checkpoint)!;
            var (model, ck) = EvalCommand.LoadModel(path);
            var dataset = ck.GetString("dataset") ?? throw new InvalidDataException($"checkpoint '{path}' names no data set");
            var (test, transforms, names, setName) = dataset == "imagefolder"
                ? ImageFolderTest(ck, r.GetValue(dataDir))
                : CatalogTest(dataset, r.GetValue(dataDir));
            using var loader = new DataLoader(test, 256, transforms: transforms);
            var m = Trainer.Evaluate(model, new CrossEntropyLoss(), loader.GetEpoch(0).Select(b => (b.Images, b.Labels)), test.ClassCount);
            using var bmp = ConfusionHeatmap.Render(m.Confusion, names,
                $"{ck.GetString("model")} on {setName}: top-1 error {m.Top1Error:P2} ({m.Count:N0} images)");
            var png = r.GetValue(output)!;
            Png.Save(bmp, png);
            CliErrors.Line($"top-1 error {m.Top1Error:P2} on {m.Count:N0} images; wrote the confusion matrix to {png} ({bmp.Width}x{bmp.Height})");
            return 0;
        }));
        return cmd;
    }

    private static (IDataset Test, ITransform[] Transforms, IReadOnlyList<string> Names, string SetName) CatalogTest(string dataset, string? dataDir)
    {
        var info = DatasetCatalog.Get(dataset);
        DataSources.Ensure(info.Name, dataDir, msg => Console.Error.WriteLine(msg));
        var test = DataSources.Load(info.Name, train: false, dataDir);
        return (test, info.EvalTransforms().ToArray(), info.ClassNames, $"{info.Name} test");
    }

    // A checkpoint trained on an image folder records dataset "imagefolder", data_root, resize, input_shape and the
    // class folder names; its test images are data_root/val (or --data-dir), read with those classes. Class names
    // that are wnids are shown with their WordNet names when WordNet is installed.
    private static (IDataset Test, ITransform[] Transforms, IReadOnlyList<string> Names, string SetName) ImageFolderTest(Checkpoint ck, string? dataDir)
    {
        var classes = ck.Config.TryGetValue("class_names", out var cn) ? cn.EnumerateArray().Select(e => e.GetString() ?? "").ToArray()
            : throw new InvalidDataException("the image-folder checkpoint has no class_names");
        var shape = ModelInput.InputShape(ck);
        int resize = ck.GetInt("resize") ?? shape[1];
        string dir = dataDir ?? Path.Combine(ck.GetString("data_root") ?? throw new InvalidDataException("the checkpoint has no data_root: pass --data-dir"), "val");
        if (!Directory.Exists(dir) && Directory.Exists(Path.Combine(dir, "val"))) dir = Path.Combine(dir, "val");
        var test = new ImageFolderDataset(dir, resize, shape[0], classes);
        var mean = ck.Config["mean"].EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var std = ck.Config["std"].EnumerateArray().Select(e => e.GetSingle()).ToArray();
        ITransform[] transforms = [new CenterCrop(shape[1], shape[2]), new Normalize(mean, std)];
        IReadOnlyList<string> names = classes;
        try
        {
            var wn = WordNetDatabase.Open();
            names = classes.Select(c => WordNetDatabase.IsWnid(c) && wn.TryGet(c) is { } s ? s.Name : c).ToArray();
        }
        catch (DatasetUnavailableException)
        {
        }
        return (test, transforms, names, dir);
    }

    private static (string Name, Conv2d Conv) FindConv(Module model, string? layer)
    {
        var convs = model.NamedModules().Where(m => m.Module is Conv2d).Select(m => (m.Name, Conv: (Conv2d)m.Module)).ToList();
        if (convs.Count == 0) throw new ArgumentException($"{model.TypeName} has no Conv2d layer");
        if (layer is null) return convs[0];
        foreach (var c in convs)
            if (c.Name == layer) return c;
        throw new ArgumentException($"no Conv2d layer '{layer}'; the conv layers are: {string.Join(", ", convs.Select(c => c.Name))}");
    }
}

/// <summary>Images made ready for a checkpoint's model: decoded, resized by the shorter side (to the checkpoint's
/// "resize" when it has one) and centre-cropped to the input size when it differs, and normalised with the mean and
/// std the model was trained with.</summary>
internal static class ModelInput
{
    public static Tensor Load(string path, Checkpoint ck) => Tensor.FromArray(Pixels(path, ck), [1, .. InputShape(ck)]);

    public static int[] InputShape(Checkpoint ck) => ck.GetInts("input_shape") ?? throw new InvalidDataException("the checkpoint has no input_shape");

    /// <summary>One normalised CHW sample of the checkpoint's input shape.</summary>
    public static float[] Pixels(string path, Checkpoint ck)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no such image: '{path}'", path);
        var shape = InputShape(ck);
        int c = shape[0], h = shape[1], w = shape[2];
        var (pixels, got) = ImageDecoder.Decode(path, c);
        var o = new float[c * h * w];
        if (got.Height == h && got.Width == w) pixels.AsSpan(0, o.Length).CopyTo(o);
        else
        {
            // Shorter side to the checkpoint's resize (an image-folder run: e.g. 256 for 224 crops) or else to the
            // larger of H and W, then the central H x W window, as evaluation does.
            int side = Math.Max(ck.GetInt("resize") ?? 0, Math.Max(h, w));
            var (rh, rw) = ImageResize.ShorterSideSize(got.Height, got.Width, side);
            ImageResize.ResizeWindow(pixels, got, o, rh, rw, CenterCrop.Offset(rh, h), CenterCrop.Offset(rw, w), h, w);
        }
        var mean = Floats(ck, "mean");
        var std = Floats(ck, "std");
        if (mean is not null && std is not null)
        {
            int plane = h * w;
            for (int ch = 0; ch < c; ch++)
            {
                float m = mean[mean.Length == 1 ? 0 : ch], s = std[std.Length == 1 ? 0 : ch];
                for (int i = 0; i < plane; i++) o[ch * plane + i] = (o[ch * plane + i] - m) / s;
            }
        }
        return o;
    }

    private static float[]? Floats(Checkpoint ck, string key) =>
        ck.Config.TryGetValue(key, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Array
            ? v.EnumerateArray().Select(e => e.GetSingle()).ToArray() : null;
}
