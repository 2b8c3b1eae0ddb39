namespace Fovea.Cli.Tests;

/// <summary>One short MNIST training run shared by the eval and predict tests.</summary>
public sealed class TrainedRun
{
    public TrainedRun()
    {
        Dir = FoveaProcess.TempDir();
        var r = FoveaProcess.Run(Dir, "train", "--epochs", "1", "--output", Dir, "--seed", "5");
        Assert.True(r.Exit == 0, r.Err + r.Out);
        Output = r.Out;
    }

    public string Dir { get; }
    public string Output { get; }
}
