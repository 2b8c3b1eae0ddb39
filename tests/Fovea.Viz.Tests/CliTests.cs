using System.Text.Json;
using Fovea.IO;
using Fovea.Models;
using Fovea.Training;
using SkiaSharp;

namespace Fovea.Viz.Tests;

/// <summary>The fovea wordnet, viz and features commands, run as a separate process on a checkpoint made here
/// (a freshly initialised LeNet-5: no training needed to check the plumbing).</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fovea-viz-cli").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private (int Exit, string Out, string Err) Fovea(params string[] args) => FoveaProcess.Run(_dir, args);

    private string Lenet(int seed)
    {
        var dir = Path.Combine(_dir, $"run{seed}");
        Directory.CreateDirectory(dir);
        var model = new LeNet5(10, [1, 28, 28], new Generator(seed));
        Checkpoint.Of(model, null, new Dictionary<string, object?>
        {
            ["model"] = "lenet5",
            ["dataset"] = "mnist",
            ["classes"] = 10,
            ["input_shape"] = new[] { 1, 28, 28 },
            ["mean"] = new[] { 0.1307f },
            ["std"] = new[] { 0.3081f },
        }).Save(dir);
        File.WriteAllLines(Path.Combine(dir, "metrics.jsonl"),
        [
            "{\"epoch\":1,\"train_loss\":0.9,\"train_accuracy\":0.7,\"test_loss\":0.5,\"test_accuracy\":0.85}",
            "{\"epoch\":2,\"train_loss\":0.4,\"train_accuracy\":0.88,\"test_loss\":0.35,\"test_accuracy\":0.9}",
            "{\"epoch\":3,\"train_loss\":0.3,\"train_accuracy\":0.91,\"test_loss\":0.3,\"test_accuracy\":0.92}",
        ]);
        return dir;
    }

    private string Digit(string name, int width, int height)
    {
        var path = Path.Combine(_dir, "images", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                byte v = (byte)(Math.Abs(x - width / 2) + Math.Abs(y - height / 2) < width / 3 ? 255 : 0);
                bmp.SetPixel(x, y, new SKColor(v, v, v));
            }
        using var data = bmp.Encode(name.EndsWith(".png") ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, 95);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    private static SKBitmap ReadPng(string path)
    {
        Assert.True(File.Exists(path), path);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal((byte)0x89, bytes[0]);
        return SKBitmap.Decode(bytes);
    }

    [Fact]
    public void Wordnet_prints_ancestors_and_json()
    {
        var r = Fovea("wordnet", "n02084071", "--json");
        Assert.True(r.Exit == 0, r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        var o = doc.RootElement;
        Assert.Equal("n02084071", o.GetProperty("wnid").GetString());
        Assert.Equal("dog", o.GetProperty("name").GetString());
        var ancestors = o.GetProperty("ancestors").EnumerateArray().Select(a => (a.GetProperty("wnid").GetString(), a.GetProperty("name").GetString())).ToList();
        Assert.Contains(("n02083346", "canine"), ancestors);
        Assert.Contains(("n01317541", "domestic animal"), ancestors);
        Assert.Contains(("n00001740", "entity"), ancestors);

        var text = Fovea("wordnet", "n02123045");
        Assert.Equal(0, text.Exit);
        Assert.Contains("tabby", text.Out);
        Assert.Contains("n02121808 domestic cat", text.Out);

        var bad = Fovea("wordnet", "n99999999");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("n99999999 is not a synset", bad.Err);
        Assert.DoesNotContain("   at ", bad.Err);
    }

    [Fact]
    public void Viz_filters_activations_and_curves_write_pngs_that_follow_the_weights()
    {
        var run1 = Lenet(1);
        var run2 = Lenet(2);
        var f1 = Path.Combine(_dir, "f1.png");
        var f2 = Path.Combine(_dir, "f2.png");
        var r = Fovea("viz", "filters", "--checkpoint", run1, "--output", f1);
        Assert.True(r.Exit == 0, r.Err);
        Assert.Contains("features.0", r.Out);
        Assert.Equal(0, Fovea("viz", "filters", "--checkpoint", run2, "--output", f2).Exit);
        var b1 = ReadPng(f1);
        var b2 = ReadPng(f2);
        Assert.Equal((3 * 60 + 4 * 2, 2 * 60 + 3 * 2), (b1.Width, b1.Height)); // 6 filters of 5x5 at 12 px per weight
        Assert.NotEqual(b1.Bytes, b2.Bytes);

        var img = Digit("d.png", 28, 28);
        var act = Path.Combine(_dir, "act");
        r = Fovea("viz", "activations", "--checkpoint", run1, "--input", img, "--output", act);
        Assert.True(r.Exit == 0, r.Err);
        Assert.Equal((176, 118), (ReadPng(Path.Combine(act, "features.0.png")).Width, ReadPng(Path.Combine(act, "features.0.png")).Height));
        Assert.True(File.Exists(Path.Combine(act, "features.3.png")));
        // A bigger JPEG is resized and centre-cropped to the model's 28x28.
        Assert.Equal(0, Fovea("viz", "activations", "--checkpoint", run1, "--input", Digit("big.jpg", 40, 56), "--output", act).Exit);

        var curves = Path.Combine(_dir, "c.png");
        r = Fovea("viz", "curves", "--run", run1, "--output", curves, "--width", "900", "--height", "300");
        Assert.True(r.Exit == 0, r.Err);
        var c = ReadPng(curves);
        Assert.Equal((900, 300), (c.Width, c.Height));

        var missing = Fovea("viz", "curves", "--run", _dir, "--output", curves);
        Assert.Equal(1, missing.Exit);
        Assert.Contains("metrics", missing.Err);
    }

    [Fact]
    public void Viz_confusion_evaluates_an_image_folder_checkpoint_on_its_val_folder()
    {
        // Two classes named by wnids (dog, tabby), colour JPEGs of varied sizes under DATA/val/<wnid>/.
        var data = Path.Combine(_dir, "data");
        string[] classes = ["n02084071", "n02123045"];
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 3; i++)
            {
                var path = Path.Combine(data, "val", classes[c], $"{i}.jpg");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var bmp = new SKBitmap(new SKImageInfo(30 + 7 * i, 40, SKColorType.Rgba8888, SKAlphaType.Unpremul));
                bmp.Erase(c == 0 ? new SKColor(200, 40, 40) : new SKColor(40, 40, 200));
                using var jpg = bmp.Encode(SKEncodedImageFormat.Jpeg, 90);
                File.WriteAllBytes(path, jpg.ToArray());
            }
        var run = Path.Combine(_dir, "folder-run");
        Checkpoint.Of(new LeNet5(2, [3, 28, 28], new Generator(4)), null, new Dictionary<string, object?>
        {
            ["model"] = "lenet5",
            ["dataset"] = "imagefolder",
            ["data_root"] = data,
            ["classes"] = 2,
            ["class_names"] = classes,
            ["input_shape"] = new[] { 3, 28, 28 },
            ["resize"] = 32,
            ["mean"] = new[] { 0.485f, 0.456f, 0.406f },
            ["std"] = new[] { 0.229f, 0.224f, 0.225f },
        }).Save(run);
        var png = Path.Combine(_dir, "confusion.png");
        var r = Fovea("viz", "confusion", "--checkpoint", run, "--output", png);
        Assert.True(r.Exit == 0, r.Err + r.Out);
        Assert.Contains("on 6 images", r.Out);
        var bmpOut = ReadPng(png);
        Assert.True(bmpOut.Width > 2 * 56 && bmpOut.Height > 2 * 56);
    }

    [Fact]
    public void Features_saves_one_vector_per_image_from_the_named_layer()
    {
        var run = Lenet(3);
        Digit("a.png", 28, 28);
        Digit("b.jpg", 30, 36);
        Digit("sub/c.png", 28, 28);
        var npy = Path.Combine(_dir, "out", "features.npy");
        var r = Fovea("features", "--checkpoint", run, "--layer", "classifier.3", "--input", Path.Combine(_dir, "images"), "--output", npy);
        Assert.True(r.Exit == 0, r.Err);
        var t = Npy.Load(npy);
        Assert.Equal([3, 84], t.Shape);
        Assert.Equal(3, File.ReadAllLines(Path.ChangeExtension(npy, ".txt")).Length);
        Assert.True(t.ToArray().All(v => v >= 0)); // classifier.3 is the ReLU after the 84-wide Linear

        r = Fovea("features", "--checkpoint", run, "--layer", "features", "--input", Path.Combine(_dir, "images", "a.png"), "--output", npy);
        Assert.True(r.Exit == 0, r.Err);
        Assert.Equal([1, 16 * 5 * 5], Npy.Load(npy).Shape);

        var bad = Fovea("features", "--checkpoint", run, "--layer", "fc7", "--input", Path.Combine(_dir, "images"), "--output", npy);
        Assert.Equal(1, bad.Exit);
        Assert.Contains("classifier.4", bad.Err);
    }
}
