using Fovea.Data;
using Fovea.Data.Images;
using Fovea.Data.Transforms;

namespace Fovea.Cli;

/// <summary>
/// What training needs of a data set, whichever kind it is: the two splits, image shape, normalisation, the
/// transforms, defaults for the recipe, and what a checkpoint must record to find the data again.
/// </summary>
internal sealed record TrainingData(string Name, IDataset Train, IDataset Test, int[] InputShape, float[] Mean, float[] Std,
    Func<bool, IEnumerable<ITransform>> TrainTransforms, IEnumerable<ITransform> EvalTransforms, string Folder,
    int DefaultEpochs, bool DefaultAugment, float DefaultWeightDecay, float DefaultLabelSmoothing, Dictionary<string, object?> Config)
{
    public const string ImageFolderPrefix = "imagefolder:";

    /// <summary>The data-set name an image-folder checkpoint records (its root is recorded as data_root).</summary>
    public const string ImageFolderName = "imagefolder";

    public int Classes => Train.ClassCount;

    /// <summary>MNIST-style names from <see cref="DatasetCatalog"/>, or <c>imagefolder:ROOT</c> with ROOT/train and ROOT/val.</summary>
    public static TrainingData Open(string dataset, string? dataDir, int imageSize, Action<string> log)
    {
        if (dataset.StartsWith(ImageFolderPrefix, StringComparison.OrdinalIgnoreCase))
        {
            var root = dataset[ImageFolderPrefix.Length..];
            // AlexNet's recipe: the shorter side to 8/7 of the crop (256 for 224), random crops and flips, PCA lighting.
            int resize = (int)Math.Round(imageSize * 8 / 7.0);
            var sp = ImageFolderSplits.Open(root, resize, imageSize, warn: log);
            return new TrainingData(ImageFolderName, sp.Train, sp.Test, sp.InputShape, sp.Mean, sp.Std, sp.TrainTransforms,
                sp.EvalTransforms(), root, DefaultEpochs: 10, DefaultAugment: true, DefaultWeightDecay: 5e-4f, DefaultLabelSmoothing: 0f,
                new() { ["data_root"] = Path.GetFullPath(root), ["resize"] = resize, ["crop"] = imageSize });
        }
        var info = DatasetCatalog.Get(dataset);
        var folder = DataSources.Ensure(info.Name, dataDir, log);
        return new TrainingData(info.Name, DataSources.Load(info.Name, train: true, dataDir), DataSources.Load(info.Name, train: false, dataDir),
            info.InputShape, info.Mean, info.Std, info.TrainTransforms, info.EvalTransforms(), folder, info.DefaultEpochs, info.DefaultAugment,
            info.DefaultWeightDecay, info.DefaultLabelSmoothing, []);
    }

    /// <summary>The test split a checkpoint was trained against, for eval.</summary>
    public static TrainingData ForCheckpoint(Training.Checkpoint ck, string? dataDir, Action<string> log)
    {
        var name = ck.GetString("dataset") ?? throw new InvalidDataException("the checkpoint names no data set");
        if (name != ImageFolderName) return Open(name, dataDir, 0, log);
        var root = dataDir ?? ck.GetString("data_root") ?? throw new InvalidDataException("the checkpoint records no data_root: pass --data-dir ROOT");
        return Open(ImageFolderPrefix + root, dataDir, ck.GetInt("crop") ?? 224, log);
    }
}
