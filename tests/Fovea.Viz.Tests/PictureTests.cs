using Fovea.Models;
using Fovea.NN;
using Fovea.Viz;
using SkiaSharp;

namespace Fovea.Viz.Tests;

/// <summary>Each picture is a valid PNG of the expected size whose pixels follow the weights or the numbers.
/// Set FOVEA_VIZ_KEEP=DIR to keep the pictures for looking at.</summary>
public sealed class PictureTests
{
    private static SKBitmap RoundTrip(SKBitmap bmp, string name)
    {
        var bytes = Png.Encode(bmp);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        if (Environment.GetEnvironmentVariable("FOVEA_VIZ_KEEP") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            File.WriteAllBytes(Path.Combine(keep, name), bytes);
        }
        var decoded = SKBitmap.Decode(bytes);
        Assert.NotNull(decoded);
        Assert.Equal(bmp.Width, decoded.Width);
        Assert.Equal(bmp.Height, decoded.Height);
        return decoded;
    }

    // The copy must stay alive until its pixels are read: as a temporary it could be finalized (its native pixels
    // unmapped) while ToArray, whose allocation can start a collection, was still reading them, and the test host
    // crashed or read garbage.
    private static byte[] Pixels(SKBitmap bmp)
    {
        using var copy = bmp.Copy(SKColorType.Rgba8888);
        return copy.GetPixelSpan().ToArray();
    }

    [Fact]
    public void Filter_grid_lays_out_every_filter_and_follows_the_weights()
    {
        var w = Tensor.Randn([6, 3, 5, 5], new Generator(1));
        var bmp = RoundTrip(FilterGrid.Render(w, scale: 4, gap: 2), "filters.png");
        // 6 filters: 3 columns x 2 rows of 20x20 cells with 2-pixel gaps.
        Assert.Equal(3 * 20 + 4 * 2, bmp.Width);
        Assert.Equal(2 * 20 + 3 * 2, bmp.Height);

        // Each filter is stretched on its own: its largest weight is full brightness in its channel.
        var wa = w.ToArray();
        int max = Array.IndexOf(wa, wa[..75].Max()); // filter 0
        int c = max / 25, y = max % 25 / 5, x = max % 5;
        var px = bmp.GetPixel(2 + x * 4 + 1, 2 + y * 4 + 1);
        Assert.Equal(255, c == 0 ? px.Red : c == 1 ? px.Green : px.Blue);

        var w2 = w.Clone();
        var changed = w2.ToArray();
        changed[75 + 30] = 10f; // filter 1
        var other = RoundTrip(FilterGrid.Render(Tensor.FromArray(changed, [6, 3, 5, 5]), scale: 4, gap: 2), "filters2.png");
        Assert.NotEqual(Pixels(bmp), Pixels(other));
        // Filter 0's cell is untouched by a change to filter 1.
        for (int yy = 2; yy < 22; yy++)
            for (int xx = 2; xx < 22; xx++) Assert.Equal(bmp.GetPixel(xx, yy), other.GetPixel(xx, yy));
    }

    [Fact]
    public void Grey_and_many_channel_filters_render_as_grey()
    {
        var bmp = FilterGrid.Render(Tensor.Randn([4, 1, 3, 3], new Generator(2)), scale: 2, gap: 1);
        Assert.Equal(2 * 6 + 3, bmp.Width);
        var p = bmp.GetPixel(1, 1);
        Assert.True(p.Red == p.Green && p.Green == p.Blue);
        var many = FilterGrid.Render(Tensor.Randn([2, 16, 3, 3], new Generator(2)), scale: 2, gap: 1);
        var q = many.GetPixel(1, 1);
        Assert.True(q.Red == q.Green && q.Green == q.Blue);
        Assert.Throws<ArgumentException>(() => FilterGrid.Render(Tensor.Zeros(3, 3)));
    }

    [Fact]
    public void Lenet_activation_maps_cover_every_convolution_and_follow_the_weights()
    {
        var model = new LeNet5(10, [1, 28, 28], new Generator(3));
        model.Eval();
        var x = Tensor.Uniform([1, 1, 28, 28], generator: new Generator(4));
        var maps = ActivationMaps.Capture(model, x);
        Assert.Equal(["features.0", "features.3"], maps.Select(m => m.Name));
        Assert.Equal([1, 6, 28, 28], maps[0].Output.Shape);
        Assert.Equal([1, 16, 10, 10], maps[1].Output.Shape);
        Assert.True(maps[0].Output.ToArray().All(v => v >= 0)); // the ReLU after the conv is what is shown

        var first = RoundTrip(maps[0].Render(scale: 2, gap: 2), "act-features.0.png");
        Assert.Equal(3 * 56 + 4 * 2, first.Width);
        Assert.Equal(2 * 56 + 3 * 2, first.Height);
        var second = RoundTrip(maps[1].Render(), "act-features.3.png"); // 16 maps of 10x10, scale 5
        Assert.Equal(4 * 50 + 5 * 2, second.Width);

        // Other first-layer weights, other maps.
        var conv = (Conv2d)model.Features[0];
        var before = Pixels(first);
        var wt = conv.Weight.ToArray();
        for (int i = 0; i < wt.Length; i++) wt[i] = -wt[i] + 0.01f * i;
        conv.Weight.CopyFrom(Tensor.FromArray(wt, conv.Weight.Shape));
        var after = Pixels(ActivationMaps.Capture(model, x)[0].Render(scale: 2, gap: 2));
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Running_layers_one_by_one_matches_forward_and_stops_at_a_named_layer()
    {
        var model = new LeNet5(10, [1, 28, 28], new Generator(5));
        model.Eval();
        var x = Tensor.Uniform([2, 1, 28, 28], generator: new Generator(6));
        Assert.True(LayerTrace.MatchesForward(model, x));
        Assert.Equal([2, 16, 5, 5], LayerTrace.Run(model, x, "features").Shape);
        Assert.Equal([2, 120], LayerTrace.Run(model, x, "classifier.0").Shape);
        Assert.Equal([2, 84], LayerTrace.Run(model, x, "classifier.3").Shape);
        var e = Assert.Throws<ArgumentException>(() => LayerTrace.Run(model, x, "fc7"));
        Assert.Contains("classifier.4", e.Message);

        var alex = ModelZoo.Create("alexnet", 5, [3, 64, 64], new Generator(7));
        alex.Eval();
        Assert.True(LayerTrace.MatchesForward(alex, Tensor.Uniform([1, 3, 64, 64], generator: new Generator(8))));
    }

    private static IReadOnlyList<EpochMetrics> WriteMetrics(string dir, double shift = 0)
    {
        var lines = Enumerable.Range(1, 8).Select(e =>
            $"{{\"epoch\":{e},\"train_loss\":{2.3 / e + shift:R},\"train_accuracy\":{1 - 0.9 / e:R},\"test_loss\":{2.4 / e + 0.05 + shift:R},\"test_accuracy\":{0.97 - 0.9 / e:R},\"lr\":0.01}}");
        File.WriteAllLines(Path.Combine(dir, "metrics.jsonl"), lines);
        return MetricsLog.Read(dir);
    }

    [Fact]
    public void Metrics_file_reads_every_epoch_and_rejects_garbage()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-viz").FullName;
        var m = WriteMetrics(dir);
        Assert.Equal(8, m.Count);
        Assert.Equal(new EpochMetrics(2, 1.15, 0.55, 1.25, 0.52), m[1] with { TestLoss = Math.Round(m[1].TestLoss, 10), TestAccuracy = Math.Round(m[1].TestAccuracy, 10) });
        File.WriteAllText(Path.Combine(dir, "bad.jsonl"), "{\"epoch\":1}\nnot json\n");
        var e = Assert.Throws<InvalidDataException>(() => MetricsLog.Read(Path.Combine(dir, "bad.jsonl")));
        Assert.Contains(":2:", e.Message);
        Assert.Throws<FileNotFoundException>(() => MetricsLog.Read(Path.Combine(dir, "nothing")));
    }

    [Fact]
    public void Training_curves_are_a_png_of_the_asked_size_that_follows_the_numbers()
    {
        var dir = Directory.CreateTempSubdirectory("fovea-viz").FullName;
        var bmp = RoundTrip(TrainingCurves.Render(WriteMetrics(dir), 1000, 400, "lenet5 on mnist"), "curves.png");
        Assert.Equal(1000, bmp.Width);
        Assert.Equal(400, bmp.Height);
        var other = TrainingCurves.Render(WriteMetrics(dir, shift: 1.0), 1000, 400, "lenet5 on mnist");
        Assert.NotEqual(Pixels(bmp), Pixels(other));
        // Both series' colours appear in both halves (ScottPlot's first two category colours).
        var colours = Pixels(bmp);
        Assert.True(CountNear(colours, 0x1f, 0x77, 0xb4) > 100);
        Assert.True(CountNear(colours, 0xff, 0x7f, 0x0e) > 100);
    }

    [Fact]
    public void Curves_draw_text_so_a_font_was_found()
    {
        // A plot with a title and axis labels has many dark anti-aliased text pixels; without a font it has only
        // the frame and tick marks. Compare against the same plot with the labels removed.
        var dir = Directory.CreateTempSubdirectory("fovea-viz").FullName;
        var m = WriteMetrics(dir);
        var bmp = TrainingCurves.Render(m, 800, 400, "a rather long title with many letters in it");
        int dark = CountDark(Pixels(bmp));
        var plain = TrainingCurves.Render(m, 800, 400, null);
        Assert.True(dark > CountDark(Pixels(plain)) + 200, $"title added only {dark - CountDark(Pixels(plain))} dark pixels: is a font installed (fonts-dejavu-core)?");
    }

    [Fact]
    public void Confusion_heat_map_shades_by_row_fraction_and_follows_the_counts()
    {
        var conf = new long[,] { { 50, 0, 0 }, { 10, 30, 10 }, { 0, 0, 5 } };
        var bmp = RoundTrip(ConfusionHeatmap.Render(conf, ["cat", "dog", "bird"], "test set"), "confusion.png");
        var again = ConfusionHeatmap.Render(conf, ["cat", "dog", "bird"], "test set");
        Assert.Equal(bmp.Width, again.Width);
        Assert.True(bmp.Width > 3 * 56 && bmp.Height > 3 * 56);
        var conf2 = (long[,])conf.Clone();
        conf2[1, 1] = 0;
        conf2[1, 2] = 40;
        Assert.NotEqual(Pixels(again), Pixels(ConfusionHeatmap.Render(conf2, ["cat", "dog", "bird"], "test set")));
        Assert.Equal(new SKColor(8, 48, 107), ConfusionHeatmap.Shade(1));
        Assert.Equal(SKColors.White, ConfusionHeatmap.Shade(0));
        // A thousand classes: one pixel-ish cell each, no text, still a picture.
        var big = new long[200, 200];
        for (int i = 0; i < 200; i++) big[i, i] = 3;
        var bigBmp = RoundTrip(ConfusionHeatmap.Render(big), "confusion-200.png");
        Assert.True(bigBmp.Width >= 200 * 2);
    }

    private static int CountNear(byte[] rgba, int r, int g, int b)
    {
        int n = 0;
        for (int i = 0; i < rgba.Length; i += 4)
            if (Math.Abs(rgba[i] - r) < 12 && Math.Abs(rgba[i + 1] - g) < 12 && Math.Abs(rgba[i + 2] - b) < 12) n++;
        return n;
    }

    private static int CountDark(byte[] rgba)
    {
        int n = 0;
        for (int i = 0; i < rgba.Length; i += 4)
            if (rgba[i] < 100 && rgba[i + 1] < 100 && rgba[i + 2] < 100) n++;
        return n;
    }
}
