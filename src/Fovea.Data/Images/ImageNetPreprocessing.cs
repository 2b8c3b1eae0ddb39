using Fovea.Data.Transforms;

namespace Fovea.Data.Images;

/// <summary>
/// The ImageNet recipes of AlexNet and VGG as loader transforms, for samples an <see cref="ImageFolderDataset"/>
/// has already resized (shorter side 256, central 256×256). Training: a random 224×224 crop, a horizontal flip
/// with probability ½, PCA colour jitter, then per-channel normalisation. Evaluation: the central 224×224 crop and
/// normalisation (or ten crops, <see cref="TenCrop"/>).
/// </summary>
public static class ImageNetPreprocessing
{
    /// <summary>ImageNet's per-channel RGB mean in [0, 1] (torchvision's constants).</summary>
    public static float[] Mean => [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet's per-channel RGB standard deviation in [0, 1].</summary>
    public static float[] Std => [0.229f, 0.224f, 0.225f];

    /// <summary>Normalisation with ImageNet's statistics (for 3 channels; a grey model gets their averages).</summary>
    public static Normalize Normalize(int channels = 3) => channels == 3
        ? new Normalize(Mean, Std)
        : new Normalize([Mean.Average()], [Std.Average()]);

    /// <summary>Training transforms: random crop, flip, PCA lighting (RGB only, when <paramref name="pcaStd"/> &gt; 0), normalisation.</summary>
    public static ITransform[] Train(int crop = 224, int channels = 3, double pcaStd = 0.1)
    {
        var list = new List<ITransform> { new RandomCrop(crop), new RandomHorizontalFlip() };
        if (channels == 3 && pcaStd > 0) list.Add(new PcaLighting(pcaStd));
        list.Add(Normalize(channels));
        return list.ToArray();
    }

    /// <summary>Evaluation transforms: centre crop, normalisation.</summary>
    public static ITransform[] Eval(int crop = 224, int channels = 3) => [new CenterCrop(crop), Normalize(channels)];

    /// <summary>Evaluation transforms for <see cref="TenCrop"/>: normalisation only (the crops are cut from the batch).</summary>
    public static ITransform[] EvalTenCrop(int channels = 3) => [Normalize(channels)];
}
