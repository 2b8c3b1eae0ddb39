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
        var cmd = new Command("eval", "Evaluate a checkpoint on its data set's test split: top-1/top-5 error, per-class accuracy, confusion matrix.")
        {
            checkpoint, dataDir, threads,
        };
        cmd.SetAction(r => CliErrors.Run(() => Run(r.GetValue(checkpoint)!, r.GetValue(dataDir), r.GetValue(threads))));
        return cmd;
    }

    private static int Run(string path, string? dataDir, int threads)
    {
        Backends.Cpu.CpuParallel.Threads = threads;
        var (model, maybeCk) = ImportCommand.LoadAnyModel(path);
        var ck = maybeCk ?? throw new ArgumentException($"'{path}' is a bare ONNX file: import it and train or fine-tune it on a data set first");
        var info = TrainingData.ForCheckpoint(ck, dataDir, msg => Console.Error.WriteLine(msg));
        using var loader = new DataLoader(info.Test, 256, transforms: info.EvalTransforms);
        var m = Trainer.Evaluate(model, new CrossEntropyLoss(), loader.GetEpoch(0).Select(b => (b.Images, b.Labels)), info.Classes);

        CliErrors.Line($"{ck.GetString("model")} on {info.Name} test ({m.Count:N0} images): top-1 error {m.Top1Error:P2}, top-5 error {m.Top5Error:P2}, loss {m.Loss:F4}");
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
            var row = new List<string> { $"{r} {Markup.Escape(names[r])}" };
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
