using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Fovea.Inspection;
using Fovea.Models;
using Fovea.NN;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea summary</c>: the lecture's arithmetic per layer (output size (D−K+2P)/S+1, parameters N·M·K·K + bias,
/// multiply-adds, receptive field and jump), totals, and what a dense layer on the raw image would cost; with
/// <c>--batch</c> or <c>--fit</c>, the memory a training step and inference need on the CPU backend.
/// </summary>
internal static class SummaryCommand
{
    /// <summary>What the memory options asked for: the batch, the optimiser, and the budget to fit, if any.</summary>
    private sealed record MemoryRequest(int Batch, FootprintOptimizer Optimizer, long? Budget);

    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = $"Model: {string.Join(", ", ModelZoo.Names)}" };
        var checkpoint = new Option<string?>("--checkpoint", "-c") { Description = "Summarise a checkpoint instead: one written by 'fovea train' or 'fovea import'" };
        var input = new Option<string?>("--input") { Description = "Input size CxHxW (default: the model's own, e.g. 1x28x28 for lenet5, 3x224x224 for vgg16)" };
        var classes = new Option<int>("--classes") { Description = "Number of classes", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print JSON: total_params, total_macs and layers (name, type, output_shape, params, macs, receptive_field); with --batch also memory" };
        var batch = new Option<int?>("--batch", "-b") { Description = "Add the memory of a training step and of inference at this batch: parameters, gradients, optimizer state, activations, the backward's peak, workspace" };
        var optimizer = new Option<string>("--optimizer") { Description = "Optimizer whose state the memory counts: sgd (momentum), adam or adamw", DefaultValueFactory = _ => "sgd" };
        optimizer.AcceptOnlyFromAmong("sgd", "adam", "adamw");
        var momentum = new Option<float>("--momentum") { Description = "SGD momentum (0: no momentum buffer)", DefaultValueFactory = _ => 0.9f };
        var fit = new Option<string?>("--fit") { Description = "Print the largest batch whose training step fits in this many bytes, e.g. 16GB or 12GiB" };
        var cmd = new Command("summary", "Show each layer's output shape, parameters, multiply-adds and receptive field, and with --batch its memory.")
        {
            model, checkpoint, input, classes, json, batch, optimizer, momentum, fit,
        };
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var memory = Memory(r.GetValue(batch), r.GetValue(optimizer)!, r.GetValue(momentum), r.GetValue(fit));
            return r.GetValue(checkpoint) is { } ck
                ? RunCheckpoint(ck, r.GetValue(json), memory)
                : Run(r.GetValue(model) ?? throw new ArgumentException("summary needs --model NAME or --checkpoint OUT"), r.GetValue(input), r.GetValue(classes),
                    r.GetValue(json), memory);
        }));
        return cmd;
    }

    private static MemoryRequest? Memory(int? batch, string optimizer, float momentum, string? fit)
    {
        if (batch is <= 0) throw new ArgumentException($"--batch must be a positive number of images, got {batch}");
        if (momentum < 0) throw new ArgumentException($"--momentum must not be negative, got {momentum}");
        long? budget = fit is null ? null : ByteSize.Parse(fit, "--fit");
        if (batch is null && budget is null) return null;
        var kind = optimizer == "sgd" ? momentum > 0 ? FootprintOptimizer.SgdMomentum : FootprintOptimizer.Sgd : FootprintOptimizer.Adam;
        return new MemoryRequest(batch ?? 1, kind, budget);
    }

    internal static int[] ParseShape(string text)
    {
        var parts = text.Split('x', 'X', ',');
        if (parts.Length != 3 || parts.Any(p => !int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v <= 0))
            throw new ArgumentException($"--input must look like CxHxW with positive sizes (e.g. 3x224x224), got '{text}'");
        return parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    private static int RunCheckpoint(string path, bool json, MemoryRequest? memory)
    {
        var (model, ck) = ImportCommand.LoadAnyModel(path);
        var shape = ck?.GetInts("input_shape") ?? (model as Onnx.OnnxModel)?.InputShape?[1..]
            ?? throw new InvalidDataException($"'{path}' records no input shape");
        if (model is Onnx.OnnxModel graph)
        {
            if (memory is not null) throw new NotSupportedException("--batch and --fit estimate the memory of Fovea's own layers; an imported ONNX graph is not modelled");
            var s = Onnx.OnnxSummary.Compute(graph, shape);
            return Print(s, null, null, ck?.GetString("model") ?? Path.GetFileName(path), shape, ck?.GetInt("classes") ?? s.OutputShape[^1], json);
        }
        return Summarise(model, ck?.GetString("model") ?? Path.GetFileName(path), shape, ck?.GetInt("classes"), json, memory);
    }

    private static int Run(string name, string? inputText, int classes, bool json, MemoryRequest? memory)
    {
        if (!ModelZoo.Names.Contains(name)) throw new ArgumentException($"unknown model '{name}' (known: {string.Join(", ", ModelZoo.Names)})");
        var shape = inputText is null ? ModelZoo.DefaultInputShape(name) : ParseShape(inputText);
        int n = classes > 0 ? classes : name == "lenet5" ? 10 : 1000;
        return Summarise(ModelZoo.Create(name, n, shape), name, shape, n, json, memory);
    }

    private static int Summarise(Module model, string name, int[] shape, int? classes, bool json, MemoryRequest? memory)
    {
        int batch = memory?.Batch ?? 1;
        var s = ModelSummary.Compute(model, shape, batch);
        var footprint = memory is null ? null : MemoryFootprint.Estimate(model, shape, batch, memory.Optimizer);
        int? fitted = memory?.Budget is { } budget ? MemoryFootprint.LargestBatch(model, shape, budget, memory.Optimizer) : null;
        return Print(s, footprint, fitted is { } f ? (memory!.Budget!.Value, f) : null, name, shape, classes ?? s.OutputShape[^1], json);
    }

    private static int Print(ModelSummary s, MemoryFootprint? memory, (long Budget, int Batch)? fit, string name, int[] shape, int n, bool json)
    {
        if (json)
        {
            var text = s.ToJson(memory);
            if (fit is { } jf)
            {
                var node = JsonNode.Parse(text)!;
                node["fit"] = new JsonObject
                {
                    ["budget_bytes"] = jf.Budget,
                    ["largest_batch"] = jf.Batch,
                    ["at_search_limit"] = jf.Batch == MemoryFootprint.DefaultMaxBatch,
                };
                text = node.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
            }
            CliErrors.Line(text);
            return 0;
        }
        var t = new Table().Title($"{name}, input {string.Join("x", shape)}, {n} classes{(memory is null ? "" : $", batch {memory.Batch}")}")
            .AddColumn("layer").AddColumn("type").AddColumn("output").AddColumn(new TableColumn("params").RightAligned())
            .AddColumn(new TableColumn("multiply-adds").RightAligned()).AddColumn(new TableColumn("receptive field").RightAligned())
            .AddColumn(new TableColumn("jump").RightAligned());
        if (memory is not null)
            foreach (var c in new[] { "params+grads+optim", "activations", "backward peak", "workspace" }) t.AddColumn(new TableColumn(c).RightAligned());
        for (int i = 0; i < s.Layers.Count; i++)
        {
            var l = s.Layers[i];
            var cells = new List<string>
            {
                l.Name, l.Type, string.Join("x", l.OutputShape.Skip(1)), l.Params.ToString("N0", CultureInfo.InvariantCulture),
                l.Macs.ToString("N0", CultureInfo.InvariantCulture), l.ReceptiveField?.ToString() ?? "", l.Jump?.ToString() ?? "",
            };
            if (memory?.Layers[i] is { } m)
                cells.AddRange([ByteSize.Format(m.ParametersBytes + m.GradientsBytes + m.OptimizerBytes), ByteSize.Format(m.ActivationsBytes),
                    ByteSize.Format(m.BackwardBytes), ByteSize.Format(m.WorkspaceBytes)]);
            t.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(t);
        CliErrors.Line($"total parameters: {s.TotalParams:N0}   total multiply-adds: {s.TotalMacs:N0}");
        if (s.FirstDenseComparison is { } d)
            CliErrors.Line($"a dense layer from the raw {d.InputFeatures:N0}-value image to {d.LayerName}'s {d.Units:N0} units would need " +
                $"{d.DenseParams:N0} parameters; the whole network has {s.TotalParams:N0}");
        if (memory is not null)
        {
            string optimizer = memory.Optimizer switch { FootprintOptimizer.Adam => "adam", FootprintOptimizer.SgdMomentum => "sgd with momentum", _ => "sgd" };
            CliErrors.Line($"training step at batch {memory.Batch} ({optimizer}): {ByteSize.Format(memory.TrainingBytes)} = parameters {ByteSize.Format(memory.ParametersBytes)}"
                + $" + gradients {ByteSize.Format(memory.GradientsBytes)} + optimizer {ByteSize.Format(memory.OptimizerBytes)}"
                + $" + input {ByteSize.Format(memory.InputBytes + memory.LabelBytes)} + activations {ByteSize.Format(memory.ActivationsBytes)}"
                + $" + loss {ByteSize.Format(memory.LossBytes)} + backward peak {ByteSize.Format(memory.BackwardBytes)} + workspace {ByteSize.Format(memory.WorkspaceBytes)}");
            CliErrors.Line($"inference at batch {memory.Batch}: {ByteSize.Format(memory.InferenceBytes)}");
        }
        if (fit is { } f)
            CliErrors.Line(f.Batch > 0
                ? $"largest batch whose training step fits in {f.Budget:N0} bytes ({ByteSize.Format(f.Budget)}): {f.Batch:N0}"
                    + (f.Batch == MemoryFootprint.DefaultMaxBatch ? " or more (the search stops there)" : "")
                : $"not even a batch of 1 fits in {f.Budget:N0} bytes ({ByteSize.Format(f.Budget)})");
        return 0;
    }
}
