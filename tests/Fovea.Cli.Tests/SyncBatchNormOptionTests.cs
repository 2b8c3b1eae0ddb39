namespace Fovea.Cli.Tests;

/// <summary>fovea train --sync-batchnorm: accepted with replicas, refused without them. (That synchronised batch norm
/// trains like one model on the whole batch is shown in Fovea.Distributed.Tests.)</summary>
public class SyncBatchNormOptionTests
{
    [Fact]
    public void Without_replicas_or_ranks_it_is_a_one_line_error()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "train", "--sync-batchnorm", "--epochs", "1");
        Assert.NotEqual(0, r.Exit);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.Contains("--sync-batchnorm pools batch statistics over replicas or ranks", r.Err);
    }

    [Fact]
    public void Replicas_train_with_it()
    {
        var root = FoveaProcess.TempDir();
        ColourImages.RedAndBlue(root, train: 8, val: 4);
        var r = FoveaProcess.Run(root, "train", "--model", "lenet5", "--dataset", $"imagefolder:{root}", "--image-size", "28", "--epochs", "1",
            "--batch-size", "8", "--replicas", "2", "--sync-batchnorm", "--output", Path.Combine(root, "run"));
        Assert.True(r.Exit == 0, r.Err + r.Out);
        Assert.Contains("2 replicas", r.Out + r.Err);
        Assert.Contains("synchronised batch norm", r.Out + r.Err);
    }
}
