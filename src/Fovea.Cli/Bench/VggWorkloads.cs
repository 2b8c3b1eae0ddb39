namespace Fovea.Cli.Bench;

/// <summary>torchvision's VGG-16 (no batch norm) at 3x224x224, 1000 classes.</summary>
internal static class VggWorkloads
{
    public static IEnumerable<BenchWorkload> All()
    {
        yield return new BenchWorkload("vgg16_infer_b1", 1, BenchUnit.Milliseconds, 0, Heavy: true, () => ModelWorkloads.Inference("vgg16", 1));
        yield return new BenchWorkload("vgg16_infer_b4", 4, BenchUnit.ImagesPerSecond, 0, Heavy: true, () => ModelWorkloads.Inference("vgg16", 4));
        yield return new BenchWorkload("vgg16_train_b4", 4, BenchUnit.Milliseconds, 0, Heavy: true, () => ModelWorkloads.Training("vgg16", 4));
    }
}
