using System.CommandLine;
using System.Globalization;
using Fovea.Inspection;
using Fovea.Models;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea summary</c>: the lecture's arithmetic per layer (output size (D−K+2P)/S+1, parameters N·M·K·K + bias,
/// multiply-adds, receptive field and jump), totals, and what a dense layer on the raw image would cost.
/// </summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = $"Model: {string.Join(", ", ModelZoo.Names)}" };
        var checkpoint = new Option<string?>("--checkpoint", "-c") { Description = "Summarise a checkpoint instead: one written by 'fovea train' or 'fovea import'" };
        var input = new Option<string?>("--input") { Description = "Input size CxHxW (default: the model's own, e.g. 1x28x28 for lenet5, 3x224x224 for vgg16)" };
        var classes = new Option<int>("--classes") { Description = "Number of classes", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print JSON: total_params, total_macs and layers (name, type, output_shape, params, macs, receptive_field)" };
        var cmd = new Command("summary", "Show each layer's output shape, parameters, multiply-adds and receptive field.") { model, checkpoint, input, classes, json };
        cmd.SetAction(r => CliErrors.Run(() => r.GetValue(checkpoint) is { } ck
            ? RunCheckpoint(ck, r.GetValue(json))
            : Run(r.GetValue(model) ?? throw new ArgumentException("summary needs --model NAME or --checkpoint OUT"), r.GetValue(input), r.GetValue(classes), r.GetValue(json))));
        return cmd;
    }

    internal static int[] ParseShape(string text)
    {
        var parts = text.Split('x', 'X', ',');
        if (parts.Length != 3 || parts.Any(p => !int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v <= 0))
            throw new ArgumentException($"--input must look like CxHxW with positive sizes (e.g. 3x224x224), got '{text}'");
        return parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    private static int RunCheckpoint(string path, bool json)
    {
        var (model, ck) = ImportCommand.LoadAnyModel(path);
        var shape = ck?.GetInts("input_shape") ?? (model as Onnx.OnnxModel)?.InputShape?[1..]
            ?? throw new InvalidDataException($"'{path}' records no input shape");
        var s = model is Onnx.OnnxModel graph ? Onnx.OnnxSummary.Compute(graph, shape) : ModelSummary.Compute(model, shape);
        return Print(s, ck?.GetString("model") ?? Path.GetFileName(path), shape, ck?.GetInt("classes") ?? s.OutputShape[^1], json);
    }

    private static int Run(string name, string? inputText, int classes, bool json)
    {
        if (!ModelZoo.Names.Contains(name)) throw new ArgumentException($"unknown model '{name}' (known: {string.Join(", ", ModelZoo.Names)})");
        var shape = inputText is null ? ModelZoo.DefaultInputShape(name) : ParseShape(inputText);
        int n = classes > 0 ? classes : name == "lenet5" ? 10 : 1000;
        return Print(ModelSummary.Compute(ModelZoo.Create(name, n, shape), shape), name, shape, n, json);
    }

    private static int Print(ModelSummary s, string name, int[] shape, int n, bool json)
    {
        if (json)
        {
            CliErrors.Line(s.ToJson());
            return 0;
        }
        var t = new Table().Title($"{name}, input {string.Join("x", shape)}, {n} classes")
            .AddColumn("layer").AddColumn("type").AddColumn("output").AddColumn(new TableColumn("params").RightAligned())
            .AddColumn(new TableColumn("multiply-adds").RightAligned()).AddColumn(new TableColumn("receptive field").RightAligned())
            .AddColumn(new TableColumn("jump").RightAligned());
        foreach (var l in s.Layers)
            t.AddRow(l.Name, l.Type, string.Join("x", l.OutputShape.Skip(1)), l.Params.ToString("N0", CultureInfo.InvariantCulture),
                l.Macs.ToString("N0", CultureInfo.InvariantCulture), l.ReceptiveField?.ToString() ?? "", l.Jump?.ToString() ?? "");
        AnsiConsole.Write(t);
        CliErrors.Line($"total parameters: {s.TotalParams:N0}   total multiply-adds: {s.TotalMacs:N0}");
        if (s.FirstDenseComparison is { } d)
            CliErrors.Line($"a dense layer from the raw {d.InputFeatures:N0}-value image to {d.LayerName}'s {d.Units:N0} units would need " +
                $"{d.DenseParams:N0} parameters; the whole network has {s.TotalParams:N0}");
        return 0;
    }
}
