namespace Fovea.Cli.Bench;

/// <summary>torchvision's AlexNet at 3x224x224, 1000 classes.</summary>
internal static class AlexNetWorkloads
{
    public static IEnumerable<BenchWorkload> All()
    {
        yield return new BenchWorkload("alexnet_infer_b1", 1, BenchUnit.Milliseconds, 0, Heavy: false, () => ModelWorkloads.Inference("alexnet", 1));
        yield return new BenchWorkload("alexnet_infer_b8", 8, BenchUnit.ImagesPerSecond, 0, Heavy: false, () => ModelWorkloads.Inference("alexnet", 8));
        yield return new BenchWorkload("alexnet_train_b16", 16, BenchUnit.Milliseconds, 0, Heavy: true, () => ModelWorkloads.Training("alexnet", 16));
    }
}
