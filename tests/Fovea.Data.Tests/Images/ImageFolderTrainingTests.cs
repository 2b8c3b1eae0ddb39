using Fovea.Data.Images;
using Fovea.NN;
using Fovea.Optim;
using Fovea.Training;
using SkiaSharp;

namespace Fovea.Data.Tests.Images;

/// <summary>The whole path on real JPEG files: folders → decode on workers → ImageNet recipe → a small CNN learns
/// the classes → centre-crop and ten-crop evaluation.</summary>
public sealed class ImageFolderTrainingTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Three classes told apart by colour and stripe direction, drawn at varied sizes with noise.
    private void Make(string split, int perClass, int seed)
    {
        var rng = new Random(seed);
        string[] classes = ["n01_red_vertical", "n02_green_horizontal", "n03_blue_diagonal"];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < perClass; i++)
            {
                int w = rng.Next(24, 48), h = rng.Next(24, 48), phase = rng.Next(8);
                TestImages.WriteColour(Path.Combine(_dir.Path, split, classes[c], $"{i:D3}.jpg"), w, h, (x, y) =>
                {
                    int t = c == 0 ? x : c == 1 ? y : x + y;
                    bool on = (t + phase) / 3 % 2 == 0;
                    int noise = rng.Next(-30, 30);
                    byte hi = (byte)Math.Clamp(200 + noise, 0, 255), lo = (byte)Math.Clamp(40 + noise, 0, 255);
                    byte v = on ? hi : lo;
                    return c == 0 ? new SKColor(v, lo, lo) : c == 1 ? new SKColor(lo, v, lo) : new SKColor(lo, lo, v);
                }, SKEncodedImageFormat.Jpeg, 90);
            }
    }

    [Fact]
    public void A_small_cnn_learns_an_image_folder_with_the_imagenet_recipe()
    {
        Make("train", 24, 1);
        Make("val", 8, 2);
        var splits = ImageFolderSplits.Open(_dir.Path, resize: 20, crop: 16, warn: _ => { });
        Assert.Equal(72, splits.Train.Count);
        Assert.Equal(24, splits.Test.Count);
        Assert.Equal([3, 16, 16], splits.InputShape);

        var g = new Generator(7);
        var model = new Sequential(
            new Conv2d(3, 8, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(16 * 4 * 4, 3, generator: g));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new SGD(model.Parameters(), 0.05f, momentum: 0.9f));
        using var train = new DataLoader(splits.Train, 12, shuffle: true, seed: 1, transforms: splits.TrainTransforms(), numWorkers: 2);
        using var val = new DataLoader(splits.Test, 12, transforms: splits.EvalTransforms());
        for (int epoch = 0; epoch < 6; epoch++)
            trainer.TrainEpoch(train.GetEpoch(epoch).Select(b => (b.Images, b.Labels)), 3, epoch, train.BatchesPerEpoch);
        model.Eval();
        var m = trainer.Evaluate(val.GetEpoch(0).Select(b => (b.Images, b.Labels)), 3);
        Assert.True(m.Top1Accuracy >= 0.9, $"centre-crop accuracy {m.Top1Accuracy:P1}");

        // Ten crops of the 20x20 samples (normalised only) give a comparable result.
        using var tenLoader = new DataLoader(splits.Test, 12, transforms: ImageNetPreprocessing.EvalTenCrop());
        var ten = TenCrop.Evaluate(model, tenLoader.GetEpoch(0).Select(b => (b.Images, b.Labels)), 16, 3);
        Assert.Equal(24, ten.Count);
        Assert.True(ten.Top1Accuracy >= 0.9, $"ten-crop accuracy {ten.Top1Accuracy:P1}");
    }
}
