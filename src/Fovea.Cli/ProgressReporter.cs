using Fovea.Training;
using Spectre.Console;

namespace Fovea.Cli;

/// <summary>
/// A progress bar per epoch (loss, accuracy, images/s, time left) on a terminal; when output is redirected or CI is
/// set, Spectre draws nothing, so plain lines are printed a few times per epoch instead.
/// </summary>
internal sealed class ProgressReporter(int epochs, int batchesPerEpoch)
{
    private static bool Interactive =>
        AnsiConsole.Profile.Capabilities.Interactive && Environment.GetEnvironmentVariable("CI") is null or "" or "false";

    public ClassificationMetrics Run(int epoch, Func<Action<BatchProgress>, ClassificationMetrics> train)
    {
        if (!Interactive)
        {
            int every = Math.Max(1, batchesPerEpoch / 4);
            return train(p =>
            {
                if (p.Batch % every == 0 && p.Batch < p.Batches)
                    CliErrors.Line($"  epoch {epoch + 1}/{epochs} batch {p.Batch}/{p.Batches}: loss {p.Loss:F4} acc {p.Accuracy:P2} {p.ImagesPerSecond:N0} img/s");
            });
        }
        ClassificationMetrics? result = null;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"epoch {epoch + 1}/{epochs}", maxValue: batchesPerEpoch);
                result = train(p =>
                {
                    task.Value = p.Batch;
                    task.Description = $"epoch {epoch + 1}/{epochs} loss {p.Loss:F4} acc {p.Accuracy:P1} {p.ImagesPerSecond:N0} img/s";
                });
                task.Value = batchesPerEpoch;
            });
        return result!;
    }
}
