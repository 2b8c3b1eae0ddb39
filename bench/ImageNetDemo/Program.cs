using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Fovea;
using Fovea.Data;
using Fovea.Data.Images;
using Fovea.Data.WordNet;
using Fovea.Models;
using Fovea.NN;
using Fovea.Optim;
using Fovea.Training;
using Fovea.Viz;

// usage: ImageNetDemo ROOT OUT [epochs] [resize] [crop] [model]
// ROOT holds train/<wnid>/*.jpg and val/<wnid>/*.jpg. Writes OUT/checkpoint.safetensors and OUT/metrics.jsonl in
// the shapes `fovea train` writes (so `fovea viz` and `fovea features` read them), plus OUT/confusion.png.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: ImageNetDemo ROOT OUT [epochs=5] [resize=72] [crop=64] [model=alexnet]");
    return 2;
}
string root = args[0], outDir = args[1];
int epochs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
int resize = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 72;
int crop = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 64;
string modelName = args.Length > 5 ? args[5] : "alexnet";
Directory.CreateDirectory(outDir);

var splits = ImageFolderSplits.Open(root, resize, crop);
var wordnet = WordNetDatabase.Open();
var names = splits.Train.ClassNames.Select(w => wordnet.TryGet(w)?.Name ?? w).ToArray();
Console.WriteLine($"{splits.Train.Count} train / {splits.Test.Count} val images, {splits.Train.ClassCount} classes: " +
    string.Join(", ", splits.Train.ClassNames.Zip(names, (w, n) => $"{w} {n}")));

Generator.ManualSeed(1);
var model = ModelZoo.Create(modelName, splits.Train.ClassCount, splits.InputShape, new Generator(1));
var opt = new SGD(model.Parameters(), 0.01f, momentum: 0.9f, weightDecay: 5e-4f);
var trainer = new Trainer(model, new CrossEntropyLoss(), opt);
using var train = new DataLoader(splits.Train, 64, shuffle: true, seed: 1, transforms: splits.TrainTransforms(), numWorkers: 2);
using var val = new DataLoader(splits.Test, 128, transforms: splits.EvalTransforms(), numWorkers: 2);
var metricsPath = Path.Combine(outDir, "metrics.jsonl");
File.Delete(metricsPath);
ClassificationMetrics? test = null;
for (int epoch = 0; epoch < epochs; epoch++)
{
    var clock = Stopwatch.StartNew();
    var tr = trainer.TrainEpoch(train.GetEpoch(epoch).Select(b => (b.Images, b.Labels)), splits.Train.ClassCount, epoch, train.BatchesPerEpoch);
    test = trainer.Evaluate(val.GetEpoch(0).Select(b => (b.Images, b.Labels)), splits.Train.ClassCount);
    var line = new Dictionary<string, object>
    {
        ["epoch"] = epoch + 1,
        ["train_loss"] = Math.Round(tr.Loss, 6),
        ["train_accuracy"] = Math.Round(tr.Top1Accuracy, 6),
        ["test_loss"] = Math.Round(test.Loss, 6),
        ["test_accuracy"] = Math.Round(test.Top1Accuracy, 6),
        ["test_top5_accuracy"] = Math.Round(test.Top5Accuracy, 6),
        ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
    };
    File.AppendAllText(metricsPath, JsonSerializer.Serialize(line) + "\n");
    Console.WriteLine($"epoch {epoch + 1}/{epochs}: train loss {tr.Loss:F4} acc {tr.Top1Accuracy:P2} | val loss {test.Loss:F4} " +
        $"acc {test.Top1Accuracy:P2} top-5 {test.Top5Accuracy:P2} | {clock.Elapsed.TotalSeconds:F1} s");
}
Checkpoint.Of(model, opt, new Dictionary<string, object?>
{
    ["model"] = modelName,
    ["dataset"] = "imagefolder",
    ["data_root"] = Path.GetFullPath(root),
    ["classes"] = splits.Train.ClassCount,
    ["class_names"] = splits.Train.ClassNames,
    ["input_shape"] = splits.InputShape,
    ["resize"] = resize,
    ["mean"] = splits.Mean,
    ["std"] = splits.Std,
    ["epoch"] = epochs,
    ["epochs"] = epochs,
    ["lr"] = opt.LearningRate,
}).Save(outDir);

model.Eval();
using var tenLoader = new DataLoader(splits.Test, 64, transforms: ImageNetPreprocessing.EvalTenCrop(), numWorkers: 2);
var ten = TenCrop.Evaluate(model, tenLoader.GetEpoch(0).Select(b => (b.Images, b.Labels)), crop, splits.Train.ClassCount);
Console.WriteLine($"val top-1 error: centre crop {test!.Top1Error:P2}, ten crops {ten.Top1Error:P2}");
// "Wrong kind of shoe, but footwear": predictions that share an ancestor with the true class count as matches.
foreach (var (wnid, what) in new[] { ("n03380867", "footwear"), ("n03051540", "clothing"), ("n03122748", "covering") })
{
    double acc = WordNetDatabase.HierarchicalAccuracy(test.Confusion, splits.Train.ClassNames,
        (t, p) => wordnet.ShareAncestor(t, p, wnid));
    Console.WriteLine($"val accuracy counting any two {what} classes as a match: {acc:P2}");
}
using var bmp = ConfusionHeatmap.Render(test.Confusion, names, $"{modelName} on {Path.GetFileName(Path.GetFullPath(root))} val: top-1 error {test.Top1Error:P2}");
Png.Save(bmp, Path.Combine(outDir, "confusion.png"));
Console.WriteLine($"wrote {Checkpoint.ResolvePath(outDir)}, {metricsPath} and {Path.Combine(outDir, "confusion.png")}");
return 0;
