using System.Text.Json;
using SkiaSharp;

namespace Fovea.Cli.Tests;

/// <summary>fovea train and eval on an ImageNet-layout folder of real image files (written here with SkiaSharp).</summary>
public class ImageFolderTrainTests
{
    [Fact]
    public void TrainsAndEvaluatesOnClassFolders()
    {
        var root = FoveaProcess.TempDir();
        // Two WordNet-named classes told apart by colour, images of varied sizes, JPEG and PNG mixed.
        foreach (var (split, count) in new[] { ("train", 40), ("val", 10) })
            foreach (var (wnid, colour) in new[] { ("n04133789", new SKColor(200, 40, 40)), ("n03595614", new SKColor(40, 60, 200)) })
            {
                var d = Directory.CreateDirectory(Path.Combine(root, split, wnid)).FullName;
                for (int i = 0; i < count; i++) ColourImages.Write(d, $"{wnid}_{i}", colour, 30 + i % 9, 30 + i % 9 + i % 7, i, jpeg: i % 2 == 0);
            }
        var run = Path.Combine(root, "run");
        var r = FoveaProcess.Run(root, "train", "--model", "lenet5", "--dataset", $"imagefolder:{root}", "--image-size", "28", "--epochs", "3",
            "--batch-size", "16", "--output", run);
        Assert.True(r.Exit == 0, r.Err + r.Out);
        var line = JsonDocument.Parse(File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Last()).RootElement;
        Assert.True(line.GetProperty("test_accuracy").GetDouble() >= 0.9, line.ToString());
        var e = FoveaProcess.Run(root, "eval", "--checkpoint", run);
        Assert.True(e.Exit == 0, e.Err);
        Assert.Contains("on imagefolder test (20 images)", e.Out);
        Assert.Contains("n04133789", e.Out);
        // Ten-crop averaging, and error at the level of a WordNet ancestor both classes share (entity) and one they
        // do not (footwear, n03380867: a sandal is a shoe and so footwear; a jersey is not).
        var t = FoveaProcess.Run(root, "eval", "--checkpoint", run, "--ten-crop", "--ancestor", "n00001740");
        Assert.True(t.Exit == 0, t.Err);
        Assert.Contains("ten crops", t.Out);
        Assert.Contains("at the level of n00001740 (entity): accuracy 100.00 %", t.Out);
        var f = FoveaProcess.Run(root, "eval", "--checkpoint", run, "--ancestor", "n03380867");
        Assert.True(f.Exit == 0, f.Err);
        Assert.Contains("(footwear", f.Out);
    }
}
