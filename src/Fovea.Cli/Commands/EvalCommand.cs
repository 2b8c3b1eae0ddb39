using System.CommandLine;
using System.Globalization;
using Fovea.Data;
using Fovea.Models;
using Fovea.NN;
using Fovea.Training;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea eval</c>: top-1 and top-5 error, per-class accuracy and the confusion matrix of a checkpoint.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint", "-c") { Description = "Checkpoint folder (or .safetensors file) written by 'fovea train'", Required = true };
        var dataDir = new Option<string?>("--data-dir") { Description = "Data folder" };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var tenCrop = new Option<bool>("--ten-crop") { Description = "Image folders: average the predictions of AlexNet's ten crops (corners, centre, and their mirror images)" };
        var ancestor = new Option<string?>("--ancestor") { Description = "Classes named by WordNet ids: also count a prediction right when it shares this ancestor with the truth (e.g. n02084071, dog)" };
        var wordnet = new Option<string?>("--wordnet") { Description = "WordNet 3.0 dict folder (default: where Debian's wordnet-base installs it)" };
        var device = DeviceChoice.Option();
        var cmd = new Command("eval", "Evaluate a checkpoint on its data set's test split: top-1/top-5 error, per-class accuracy, confusion matrix.")
        {
            checkpoint, dataDir, threads, tenCrop, ancestor, wordnet, device,
        };
        cmd.SetAction(r => CliErrors.Run(() => Run(r.GetValue(checkpoint)!, r.GetValue(dataDir), r.GetValue(threads), r.GetValue(tenCrop),
            r.GetValue(ancestor), r.GetValue(wordnet), r.GetValue(device)!)));
        return cmd;
    }

    private static int Run(string path, string? dataDir, int threads, bool tenCrop, string? ancestor, string? wordnet, string deviceName)
    {
        Backends.Cpu.CpuParallel.Threads = threads;
        var device = DeviceChoice.Resolve(deviceName);
        if (tenCrop && !device.Equals(Device.Cpu)) throw new ArgumentException("--ten-crop runs on --device cpu only");
        var (model, maybeCk) = ImportCommand.LoadAnyModel(path);
        model.To(device);
        var ck = maybeCk ?? throw new ArgumentException($"'{path}' is a bare ONNX file: import it and train or fine-tune it on a data set first");
        var info = TrainingData.ForCheckpoint(ck, dataDir, msg => Console.Error.WriteLine(msg));
        ClassificationMetrics m;
        if (tenCrop)
        {
            if (info.Name != TrainingData.ImageFolderName)
                throw new ArgumentException($"--ten-crop needs a checkpoint trained on an image folder; this one is on {info.Name}");
            // The data set yields the resized square; the ten crops are cut from it and their predictions averaged.
            int crop = ck.GetInt("crop") ?? info.InputShape[1];
            using var tenLoader = new DataLoader(info.Test, 32, transforms: Data.Images.ImageNetPreprocessing.EvalTenCrop(info.InputShape[0]));
            using (GradMode.NoGrad()) m = Data.Images.TenCrop.Evaluate(model.Eval(), tenLoader.GetEpoch(0).Select(b => (b.Images, b.Labels)), crop, info.Classes);
        }
        else
        {
            using var loader = new DataLoader(info.Test, 256, transforms: info.EvalTransforms);
            m = Trainer.Evaluate(model, new CrossEntropyLoss(), loader.GetEpoch(0).Select(b => (b.Images, b.Labels)), info.Classes);
        }

        CliErrors.Line($"{ck.GetString("model")} on {info.Name} test ({m.Count:N0} images{(tenCrop ? ", ten crops" : "")}): top-1 error {m.Top1Error:P2}, top-5 error {m.Top5Error:P2}, loss {m.Loss:F4}");
        if (ancestor is not null)
        {
            // ILSVRC-style error at a coarser level of WordNet: "wrong dog breed but right dog" counts as right.
            var db = Data.WordNet.WordNetDatabase.Open(wordnet);
            var name = db.Get(ancestor).Name;
            double hier = Data.WordNet.WordNetDatabase.HierarchicalAccuracy(m.Confusion, info.Train.ClassNames, (t, p) => db.ShareAncestor(t, p, ancestor));
            CliErrors.Line($"at the level of {ancestor} ({name}): accuracy {hier:P2}, error {1 - hier:P2}");
        }
        var names = info.Train.ClassNames;
        var perClass = m.PerClassAccuracy();
        var table = new Table().AddColumn("class").AddColumn(new TableColumn("accuracy").RightAligned());
        for (int c = 0; c < names.Count; c++) table.AddRow(Markup.Escape(names[c]), perClass[c].ToString("P2", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        var conf = m.Confusion;
        var ct = new Table().Title("confusion matrix (rows: true class, columns: predicted)").AddColumn("");
        for (int c = 0; c < names.Count; c++) ct.AddColumn(new TableColumn(c.ToString(CultureInfo.InvariantCulture)).RightAligned());
        for (int r = 0; r < names.Count; r++)
        {
            var row = new List<string> { Markup.Escape(ClassLabel.Of(r, names[r])) };
            for (int c = 0; c < names.Count; c++) row.Add(conf[r, c].ToString(CultureInfo.InvariantCulture));
            ct.AddRow(row.ToArray());
        }
        AnsiConsole.Write(ct);
        return 0;
    }

    /// <summary>Rebuilds the checkpoint's model from its config and loads its weights.</summary>
    internal static (Module Model, Checkpoint Checkpoint) LoadModel(string path)
    {
        var ck = Checkpoint.Load(path);
        var name = ck.GetString("model") ?? throw new InvalidDataException($"checkpoint '{path}' names no model (not written by 'fovea train'?)");
        var shape = ck.GetInts("input_shape") ?? throw new InvalidDataException($"checkpoint '{path}' has no input_shape");
        var classes = ck.GetInt("classes") ?? throw new InvalidDataException($"checkpoint '{path}' has no class count");
        var model = ModelZoo.Create(name, classes, shape);
        try { model.LoadStateDict(ck.Weights); }
        catch (ArgumentException e) { throw new InvalidDataException($"checkpoint '{path}' does not fit model {name}: {e.Message}", e); }
        model.Eval();
        return (model, ck);
    }
}
