using Fovea.Data.Transforms;

namespace Fovea.Data.Images;

/// <summary>
/// An ImageNet-style data root, <c>ROOT/train/&lt;class&gt;/…</c> and <c>ROOT/val/&lt;class&gt;/…</c> (or <c>test/</c>),
/// opened with the AlexNet/VGG recipe: samples resized by the shorter side to <see cref="Resize"/> and
/// centre-cropped square; training transforms crop <see cref="Crop"/> at random, flip, jitter colours along
/// ImageNet's principal components and normalise; evaluation transforms take the centre crop and normalise.
/// The validation folder takes the training folder's classes, so labels agree.
/// </summary>
public sealed record ImageFolderSplits(ImageFolderDataset Train, ImageFolderDataset Test, int Resize, int Crop, int Channels, double PcaStd)
{
    /// <summary>The model's input (C, crop, crop).</summary>
    public int[] InputShape => [Channels, Crop, Crop];

    /// <summary>The normalisation's per-channel mean (ImageNet's).</summary>
    public float[] Mean => Channels == 3 ? ImageNetPreprocessing.Mean : [ImageNetPreprocessing.Mean.Average()];

    /// <summary>The normalisation's per-channel standard deviation (ImageNet's).</summary>
    public float[] Std => Channels == 3 ? ImageNetPreprocessing.Std : [ImageNetPreprocessing.Std.Average()];

    /// <summary>Random crop, flip, PCA lighting (colour only), normalisation.</summary>
    public ITransform[] TrainTransforms(bool augment = true) => augment
        ? ImageNetPreprocessing.Train(Crop, Channels, PcaStd)
        : ImageNetPreprocessing.Eval(Crop, Channels);

    /// <summary>Centre crop, normalisation.</summary>
    public ITransform[] EvalTransforms() => ImageNetPreprocessing.Eval(Crop, Channels);

    /// <summary>True when <paramref name="root"/> looks like an image-folder root (has a train/ folder).</summary>
    public static bool IsImageFolderRoot(string root) => Directory.Exists(Path.Combine(root, "train"));

    /// <summary>Opens <c>root/train</c> and <c>root/val</c> (or <c>root/test</c>).</summary>
    /// <param name="root">The data root.</param>
    /// <param name="resize">S: shorter side and square kept (256 for ImageNet).</param>
    /// <param name="crop">The model's input side (224 for ImageNet); at most <paramref name="resize"/>.</param>
    /// <param name="channels">3 (RGB) or 1 (grey).</param>
    /// <param name="pcaStd">AlexNet's colour jitter strength (0.1); 0 turns it off.</param>
    /// <param name="warn">Where warnings about unreadable files go (standard error when null).</param>
    public static ImageFolderSplits Open(string root, int resize = 256, int crop = 224, int channels = 3, double pcaStd = 0.1, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (crop > resize) throw new ArgumentException($"the crop ({crop}) must not exceed the resized side ({resize})");
        var trainDir = Path.Combine(root, "train");
        if (!Directory.Exists(trainDir)) throw new DirectoryNotFoundException($"no '{trainDir}': an image-folder root holds train/<class>/ and val/<class>/");
        var testDir = new[] { "val", "test" }.Select(d => Path.Combine(root, d)).FirstOrDefault(Directory.Exists)
            ?? throw new DirectoryNotFoundException($"no '{Path.Combine(root, "val")}' (or test/) beside '{trainDir}'");
        var train = new ImageFolderDataset(trainDir, resize, channels, warn: warn);
        var test = new ImageFolderDataset(testDir, resize, channels, classes: train.ClassNames, warn: warn);
        return new ImageFolderSplits(train, test, resize, crop, channels, pcaStd);
    }
}
