namespace Fovea.Cli.Bench;

/// <summary>How a workload's time per iteration is reported.</summary>
internal enum BenchUnit
{
    /// <summary>Milliseconds per iteration (lower is better).</summary>
    Milliseconds,

    /// <summary>Images per second: batch / seconds per iteration (higher is better).</summary>
    ImagesPerSecond,

    /// <summary>Billions of floating-point operations per second: flops per iteration / seconds (higher is better).</summary>
    GflopPerSecond,
}

/// <summary>
/// One named benchmark: the name, the batch it runs at, how its time is reported, and a factory that
/// builds its state (model, data, optimiser) and returns the action for one iteration. The same names and
/// shapes are given to TorchSharp by the side-by-side harness in bench/Fovea.Bench.Compare.
/// </summary>
/// <param name="Name">The workload name, e.g. <c>vgg16_train_b4</c>.</param>
/// <param name="Batch">Images (or rows) per iteration; 0 where a batch means nothing (GEMM).</param>
/// <param name="Unit">How the time per iteration is reported.</param>
/// <param name="FlopsPerIteration">For <see cref="BenchUnit.GflopPerSecond"/>: floating-point operations in one iteration.</param>
/// <param name="Heavy">Seconds per iteration rather than milliseconds: fewer runs, one iteration per run.</param>
/// <param name="Setup">Builds the state and returns one iteration; called once per measurement, outside the timing.</param>
internal sealed record BenchWorkload(string Name, int Batch, BenchUnit Unit, double FlopsPerIteration, bool Heavy, Func<Action> Setup)
{
    /// <summary>The unit as printed.</summary>
    public string UnitLabel => UnitText(Unit);

    /// <summary>Converts seconds per iteration into the reported value.</summary>
    public double Value(double secondsPerIteration) => Unit switch
    {
        BenchUnit.Milliseconds => secondsPerIteration * 1e3,
        BenchUnit.ImagesPerSecond => Batch / secondsPerIteration,
        BenchUnit.GflopPerSecond => FlopsPerIteration / secondsPerIteration / 1e9,
        _ => throw new InvalidOperationException($"unknown unit {Unit}"),
    };

    /// <summary>True when a larger reported value is better (throughputs); false for milliseconds.</summary>
    public bool HigherIsBetter => Unit != BenchUnit.Milliseconds;

    public static string UnitText(BenchUnit unit) => unit switch
    {
        BenchUnit.Milliseconds => "ms",
        BenchUnit.ImagesPerSecond => "images/s",
        BenchUnit.GflopPerSecond => "GFLOP/s",
        _ => unit.ToString(),
    };
}
