using System.Text.Json;
using Fovea.Inspection;
using Fovea.NN;

namespace Fovea.Models.Tests;

public class SummaryTests
{
    [Fact]
    public void AlexNetMacsMatchTheLayerTable()
    {
        // Worked by hand from torchvision's AlexNet at 224: conv maps 55, 27, 13, 13, 13;
        // MACs = out channels · out height · out width · in channels · k · k.
        long conv = 64L * 55 * 55 * 3 * 11 * 11     //  70,276,800
                  + 192L * 27 * 27 * 64 * 5 * 5     // 223,948,800
                  + 384L * 13 * 13 * 192 * 3 * 3    // 112,140,288
                  + 256L * 13 * 13 * 384 * 3 * 3    // 149,520,384
                  + 256L * 13 * 13 * 256 * 3 * 3;   //  99,680,256
        long fc = 9216L * 4096 + 4096L * 4096 + 4096L * 1000;
        Assert.Equal(655_566_528L, conv);
        Assert.Equal(58_621_952L, fc);

        var s = ModelSummary.Compute(SharedModels.AlexNet, [3, 224, 224]);
        Assert.Equal(conv + fc, s.TotalMacs); // 714,188,480 ≈ 0.71 GMACs (ptflops's 714,197,696 adds 9,216 for the adaptive pool)
        Assert.Equal(70_276_800L, s["features.0"].Macs);
        Assert.Equal(0L, s["features.2"].Macs);
        Assert.Equal(2 * (conv + fc), ModelSummary.Compute(SharedModels.AlexNet, [3, 224, 224], batch: 2).TotalMacs);
    }

    [Fact]
    public void Vgg16MacsMatchTheLayerTable()
    {
        // (in, out, map side) of VGG-16's thirteen 3x3 convs at 224.
        (long In, long Out, long Side)[] convs =
        [
            (3, 64, 224), (64, 64, 224), (64, 128, 112), (128, 128, 112),
            (128, 256, 56), (256, 256, 56), (256, 256, 56),
            (256, 512, 28), (512, 512, 28), (512, 512, 28),
            (512, 512, 14), (512, 512, 14), (512, 512, 14),
        ];
        long expected = convs.Sum(c => c.Side * c.Side * c.Out * c.In * 9) + 25088L * 4096 + 4096L * 4096 + 4096L * 1000;
        Assert.Equal(15_470_264_320L, expected); // ≈ 15.5 GMACs

        var s = ModelSummary.Compute(SharedModels.Vgg16, [3, 224, 224]);
        Assert.Equal(expected, s.TotalMacs);
        Assert.Equal(138_357_544L, s.TotalParams);
        Assert.Equal([1, 512, 7, 7], s["avgpool"].OutputShape);
        // Five 2x2 pools: jump 32; thirteen 3x3 convs and five pools: r = 1 + Σ (k − 1)·j = 212.
        Assert.Equal(new Size2(32, 32), s["features.30"].Jump);
        Assert.Equal(new Size2(212, 212), s["features.30"].ReceptiveField);
    }

    [Fact]
    public void AdaptivePoolKeepsTheClassifierForOtherSizes()
    {
        var alex = ModelSummary.Compute(SharedModels.AlexNet, [3, 256, 256]);
        Assert.Equal([1, 256, 7, 7], alex["features.12"].OutputShape); // 256 → 63 → 31 → 31 → 15 → 15 → 7
        Assert.Equal([1, 256, 6, 6], alex["avgpool"].OutputShape);
        Assert.Equal([1, 1000], alex.OutputShape);
        var vgg = ModelSummary.Compute(SharedModels.Vgg16, [3, 32, 32]);
        Assert.Equal([1, 512, 1, 1], vgg["features.30"].OutputShape);
        Assert.Equal([1, 512, 7, 7], vgg["avgpool"].OutputShape);
        Assert.Equal(new Size2(212, 212), vgg["avgpool"].ReceptiveField); // 1 → 7 copies one cell: no wider field
    }

    [Fact]
    public void FirstDenseComparisonForLeNet()
    {
        var s = ModelSummary.Compute(new LeNet5(10), [1, 28, 28]);
        var d = s.FirstDenseComparison!;
        Assert.Equal("classifier.0", d.LayerName);
        Assert.Equal(784, d.InputFeatures);
        Assert.Equal(120, d.Units);
        Assert.Equal(784L * 120 + 120, d.DenseParams);
        Assert.Equal(156L + 2_416 + 48_120, d.ActualParams);
    }

    [Fact]
    public void FirstDenseComparisonForAlexNet()
    {
        var d = ModelSummary.Compute(SharedModels.AlexNet, [3, 224, 224]).FirstDenseComparison!;
        Assert.Equal("classifier.1", d.LayerName);
        Assert.Equal(3L * 224 * 224, d.InputFeatures);
        Assert.Equal(150_528L * 4096 + 4096, d.DenseParams); // 616,566,784: ten times the whole network
        Assert.Equal(2_469_696L + 37_752_832, d.ActualParams); // the five convs and the first Linear
        Assert.True(d.Ratio > 15);
    }

    [Fact]
    public void JsonHasTheRequiredKeys()
    {
        var s = ModelSummary.Compute(new LeNet5(10), [1, 28, 28]);
        using var doc = JsonDocument.Parse(s.ToJson());
        var root = doc.RootElement;
        Assert.Equal(61_706, root.GetProperty("total_params").GetInt64());
        Assert.Equal(s.TotalMacs, root.GetProperty("total_macs").GetInt64());
        Assert.Equal([1, 1, 28, 28], root.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt32()));
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(11, layers.Count);
        foreach (var l in layers)
            foreach (var key in new[] { "name", "type", "output_shape", "params", "macs" })
                Assert.True(l.TryGetProperty(key, out _), $"layer without {key}: {l}");
        var conv2 = layers[3];
        Assert.Equal("features.3", conv2.GetProperty("name").GetString());
        Assert.Equal("Conv2d", conv2.GetProperty("type").GetString());
        Assert.Equal(14, conv2.GetProperty("receptive_field").GetInt32());
        Assert.Equal(2, conv2.GetProperty("jump").GetInt32());
        Assert.Equal([1, 16, 10, 10], conv2.GetProperty("output_shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.False(layers[1].TryGetProperty("receptive_field", out _)); // ReLU
        var dense = root.GetProperty("first_dense");
        Assert.Equal("classifier.0", dense.GetProperty("layer").GetString());
        Assert.Equal(94_200, dense.GetProperty("dense_params").GetInt64());
    }

    [Fact]
    public void InputTooSmallNamesLayerAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelSummary.Compute(new LeNet5(10), [1, 6, 6]));
        // 6 → conv (pad 2) 6 → pool 3 → 5x5 conv on 3x3 fails.
        Assert.Contains("features.3", e.Message);
        Assert.Contains("Conv2d", e.Message);
        Assert.Contains("[1, 6, 3, 3]", e.Message);
        Assert.Throws<ArgumentException>(() => ModelSummary.Compute(new LeNet5(10), [3, 28, 28])); // wrong channels
        Assert.Throws<ArgumentException>(() => ModelSummary.Compute(new LeNet5(10), [1, 28, 28], batch: 0));
        Assert.Throws<ArgumentException>(() => ModelSummary.Compute(new LeNet5(10), [1, 0, 28]));
    }

    [Fact]
    public void ShapesOfOtherLayers()
    {
        var model = new Sequential(
            new Conv2d(3, 8, 3, stride: 2, padding: 1, dilation: 2, paddingMode: PadMode.Reflect),
            new BatchNorm2d(8),
            new LeakyReLU(),
            new AvgPool2d(3, 2, padding: 1, ceilMode: true),
            new AdaptiveAvgPool2d((3, 2)),
            new Flatten(),
            new Dropout(0.1f),
            new Linear(48, 5));
        var s = ModelSummary.Compute(model, [3, 20, 20], batch: 4);
        // conv: dilated kernel 5, (20 + 2 − 5) / 2 + 1 = 9; r = 5, j = 2.
        Assert.Equal([4, 8, 9, 9], s["0"].OutputShape);
        Assert.Equal(4L * 8 * 9 * 9 * 3 * 3 * 3, s["0"].Macs);
        Assert.Equal(new Size2(5, 5), s["0"].ReceptiveField);
        Assert.Equal(16, s["1"].Params);
        // avg pool 3/2 pad 1 ceil: ceil((9 + 2 − 3) / 2) + 1 = 5; r = 5 + 2·2 = 9, j = 4.
        Assert.Equal([4, 8, 5, 5], s["3"].OutputShape);
        Assert.Equal(new Size2(9, 9), s["3"].ReceptiveField);
        Assert.Equal(new Size2(4, 4), s["3"].Jump);
        // adaptive 5 → 3: windows [0,2), [1,4), [3,5): widest 3, smallest step 1; 5 → 2: [0,3), [2,5).
        Assert.Equal([4, 8, 3, 2], s["4"].OutputShape);
        Assert.Equal(new Size2(9 + 2 * 4, 9 + 2 * 4), s["4"].ReceptiveField);
        Assert.Equal([4, 48], s["5"].OutputShape);
        Assert.Equal([4, 5], s["7"].OutputShape);
        Assert.Equal(4L * 48 * 5, s["7"].Macs);
        Assert.Equal(s.Layers.Sum(l => l.Params), s.TotalParams);
    }

    [Fact]
    public void ReflectPaddingMustBeSmallerThanTheInput()
    {
        var model = new Sequential(new Conv2d(1, 1, 5, padding: 4, paddingMode: PadMode.Reflect));
        var e = Assert.Throws<ArgumentException>(() => ModelSummary.Compute(model, [1, 4, 4]));
        Assert.Contains("reflect", e.Message);
        Assert.Equal([1, 1, 9, 9], ModelSummary.Compute(model, [1, 5, 5]).OutputShape); // 5 + 8 − 5 + 1
    }

    [Fact]
    public void Conv1dAndLinearOverSequences()
    {
        var model = new Sequential(new Conv1d(2, 4, 5, stride: 2), new ReLU(), new Linear(6, 3));
        var s = ModelSummary.Compute(model, [2, 16]);
        // (16 − 5) / 2 + 1 = 6; the Linear acts on the last dimension of [N, 4, 6].
        Assert.Equal([1, 4, 6], s["0"].OutputShape);
        Assert.Equal(4L * 6 * 2 * 5, s["0"].Macs);
        Assert.Equal(new Size2(1, 5), s["0"].ReceptiveField);
        Assert.Equal([1, 4, 3], s["2"].OutputShape);
        Assert.Equal(4L * 6 * 3, s["2"].Macs);
        Assert.Contains("\"receptive_field\": [\n", s.ToJson().Replace("\r", ""));
    }

    [Fact]
    public void UnknownLayerIsNotSupported()
    {
        var e = Assert.Throws<NotSupportedException>(() => ModelSummary.Compute(new Sequential(new Custom()), [1, 2, 2]));
        Assert.Contains("Custom", e.Message);
    }

    [Fact]
    public void TableMentionsEveryLayer()
    {
        var text = ModelSummary.Compute(new LeNet5(10), [1, 28, 28]).ToString();
        Assert.Contains("features.3 (Conv2d)", text);
        Assert.Contains("61,706", text);
    }

    private sealed class Custom : Module
    {
        public override Tensor Forward(Tensor input) => input;
    }
}
