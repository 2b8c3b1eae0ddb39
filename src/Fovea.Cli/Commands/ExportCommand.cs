using System.CommandLine;
using Fovea.Models;
using Fovea.Onnx;

namespace Fovea.Cli.Commands;

/// <summary>
/// <c>fovea export</c>: writes a checkpoint (<c>--checkpoint OUT</c>) or a zoo model with fresh weights
/// (<c>--model NAME [--classes N] [--input CxHxW]</c>) as an ONNX file whose initializers carry the state-dict names.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string?>("--checkpoint", "-c") { Description = "Checkpoint folder (from 'fovea train' or 'fovea import') to export" };
        var model = new Option<string?>("--model", "-m") { Description = $"Or a zoo model with fresh weights: {string.Join(", ", ModelZoo.Names)}" };
        var classes = new Option<int>("--classes") { Description = "Number of classes for --model (default: the model's own)", DefaultValueFactory = _ => 0 };
        var input = new Option<string?>("--input") { Description = "Input size CxHxW for --model (default: the model's own)" };
        var output = new Option<string>("--output", "-o") { Description = "The .onnx file to write", Required = true };
        var opset = new Option<int>("--opset") { Description = "ONNX opset of the default domain (9 to 21)", DefaultValueFactory = _ => 13 };
        var cmd = new Command("export", "Export a checkpoint or a zoo model to ONNX.")
        {
            checkpoint, model, classes, input, output, opset,
        };
        cmd.SetAction(r => CliErrors.Run(() => Run(r.GetValue(checkpoint), r.GetValue(model), r.GetValue(classes), r.GetValue(input),
            r.GetValue(output)!, r.GetValue(opset))));
        return cmd;
    }

    private static int Run(string? checkpointPath, string? modelName, int classes, string? inputText, string output, int opset)
    {
        if ((checkpointPath is null) == (modelName is null))
            throw new ArgumentException("give exactly one of --checkpoint OUT or --model NAME");
        NN.Module net;
        int[] shape;
        string what;
        if (checkpointPath is not null)
        {
            var (m, ck) = ImportCommand.LoadAnyModel(checkpointPath);
            shape = ck?.GetInts("input_shape") ?? (m as OnnxModel)?.InputShape?[1..]
                ?? throw new InvalidDataException($"checkpoint '{checkpointPath}' has no input_shape");
            net = m;
            what = ck?.GetString("model") ?? checkpointPath;
        }
        else
        {
            shape = inputText is null ? ModelZoo.DefaultInputShape(modelName!) : SummaryCommand.ParseShape(inputText);
            net = ModelZoo.Create(modelName!, classes > 0 ? classes : null, shape, new Generator(0));
            what = modelName!;
        }
        net.Eval();
        OnnxExporter.Save(net, [1, .. shape], output, opset);
        CliErrors.Line($"exported {what} (input [N, {string.Join(", ", shape)}], opset {(net is OnnxModel o ? o.Opset : opset)}) to {output}");
        return 0;
    }
}
