namespace Fovea.Cli.Bench;

/// <summary>LeNet-5 on 1x28x28 images, 10 classes: training steps at batch 64 and 256, inference at 256.</summary>
internal static class LeNetWorkloads
{
    public static IEnumerable<BenchWorkload> All()
    {
        yield return new BenchWorkload("lenet5_train_b64", 64, BenchUnit.ImagesPerSecond, 0, Heavy: false, () => ModelWorkloads.Training("lenet5", 64));
        yield return new BenchWorkload("lenet5_train_b256", 256, BenchUnit.ImagesPerSecond, 0, Heavy: false, () => ModelWorkloads.Training("lenet5", 256));
        yield return new BenchWorkload("lenet5_infer_b256", 256, BenchUnit.ImagesPerSecond, 0, Heavy: false, () => ModelWorkloads.Inference("lenet5", 256));
    }
}
