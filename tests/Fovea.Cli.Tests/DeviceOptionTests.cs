namespace Fovea.Cli.Tests;

/// <summary>fovea train, eval and predict with --device: the GPU kernels on ILGPU's CPU accelerator, and the errors for devices that are not there.</summary>
public class DeviceOptionTests
{
    [Fact]
    public void A_missing_gpu_is_a_one_line_error_listing_the_devices()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "train", "--device", "cuda:64", "--epochs", "1");
        Assert.NotEqual(0, r.Exit);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.Contains("cuda:64", r.Err);
        Assert.Contains("devices found: cpu", r.Err);
        Assert.Contains("ilgpu-cpu", r.Err);
    }

    [Fact]
    public void Replicas_on_cuda_need_one_gpu_each()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "train", "--device", "cuda", "--replicas", "64", "--epochs", "1");
        Assert.NotEqual(0, r.Exit);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.Contains("--replicas 64 --device cuda puts one replica on each GPU", r.Err);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("eval", "--checkpoint", "run")]
    [InlineData("predict", "--checkpoint", "run", "--input", "x.png")]
    public void An_unknown_device_is_a_one_line_error(params string[] command)
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), [.. command, "--device", "tpu"]);
        Assert.NotEqual(0, r.Exit);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.Contains("unknown device 'tpu'", r.Err);
    }

    [Fact]
    public void Trains_and_evaluates_on_the_ilgpu_cpu_device()
    {
        var root = FoveaProcess.TempDir();
        // Two classes told apart by colour: a few images, since the CPU accelerator runs kernels slowly.
        ColourImages.RedAndBlue(root, train: 8, val: 4);
        var run = Path.Combine(root, "run");
        var r = FoveaProcess.Run(root, "train", "--model", "lenet5", "--dataset", $"imagefolder:{root}", "--image-size", "28", "--epochs", "1",
            "--batch-size", "8", "--device", "ilgpu-cpu", "--output", run);
        Assert.True(r.Exit == 0, r.Err + r.Out);
        Assert.Contains("device ilgpu-cpu:0", r.Out);
        Assert.Contains("epoch 1/1: train loss", r.Out);
        var e = FoveaProcess.Run(root, "eval", "--checkpoint", run, "--device", "ilgpu-cpu");
        Assert.True(e.Exit == 0, e.Err + e.Out);
        Assert.Contains("on imagefolder test (8 images)", e.Out);
    }
}
