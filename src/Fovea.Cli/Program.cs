using System.CommandLine;
using Fovea.Cli.Commands;

namespace Fovea.Cli;

/// <summary>The fovea tool: one sub-command per file under Commands/.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("Fovea: train, evaluate, inspect and run convolutional neural networks on the CPU, in pure .NET.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(SummaryCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(WordNetCommand.Create());
        root.Subcommands.Add(VizCommand.Create());
        root.Subcommands.Add(FeaturesCommand.Create());
        var parsed = root.Parse(args);
        return parsed.Errors.Count > 0 ? CliErrors.Report(parsed) : parsed.Invoke();
    }
}
