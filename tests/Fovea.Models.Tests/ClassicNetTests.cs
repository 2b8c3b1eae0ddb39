using Fovea.Inspection;
using Fovea.NN;

namespace Fovea.Models.Tests;

/// <summary>LeNet-5, AlexNet 2012 and ZFNet: layer tables checked against numbers worked from the papers' figures.</summary>
public class ClassicNetTests
{
    [Fact]
    public void LeNet5ParamsPerLayer()
    {
        var s = ModelSummary.Compute(new LeNet5(10, generator: new Generator(0)), [1, 28, 28]);
        // conv1 6·(1·5·5)+6, conv2 16·(6·5·5)+16, fc 400·120+120, 120·84+84, 84·10+10.
        Assert.Equal(156, s["features.0"].Params);
        Assert.Equal(2_416, s["features.3"].Params);
        Assert.Equal(48_120, s["classifier.0"].Params);
        Assert.Equal(10_164, s["classifier.2"].Params);
        Assert.Equal(850, s["classifier.4"].Params);
        Assert.Equal(61_706, s.TotalParams);
    }

    [Fact]
    public void LeNet5LayerTable()
    {
        var s = ModelSummary.Compute(new LeNet5(10), [1, 28, 28], batch: 2);
        (string Name, string Type, int[] Shape)[] expected =
        [
            ("features.0", "Conv2d", [2, 6, 28, 28]),
            ("features.1", "ReLU", [2, 6, 28, 28]),
            ("features.2", "MaxPool2d", [2, 6, 14, 14]),
            ("features.3", "Conv2d", [2, 16, 10, 10]),
            ("features.4", "ReLU", [2, 16, 10, 10]),
            ("features.5", "MaxPool2d", [2, 16, 5, 5]),
            ("classifier.0", "Linear", [2, 120]),
            ("classifier.1", "ReLU", [2, 120]),
            ("classifier.2", "Linear", [2, 84]),
            ("classifier.3", "ReLU", [2, 84]),
            ("classifier.4", "Linear", [2, 10]),
        ];
        Assert.Equal(expected.Select(e => e.Name), s.Layers.Select(l => l.Name));
        Assert.Equal(expected.Select(e => e.Type), s.Layers.Select(l => l.Type));
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i].Shape, s.Layers[i].OutputShape);
        Assert.Equal([2, 1, 28, 28], s.InputShape);
        Assert.Equal([2, 10], s.OutputShape);
    }

    [Fact]
    public void LeNet5ReceptiveFields()
    {
        var s = ModelSummary.Compute(new LeNet5(10), [1, 28, 28]);
        // r_out = r_in + (k − 1)·j_in, j_out = j_in·s, from r = j = 1 at the pixels.
        int r = 1, j = 1;
        r += (5 - 1) * j; j *= 1; Assert.Equal((5, 1), (r, j));   // conv1 5x5/1
        r += (2 - 1) * j; j *= 2; Assert.Equal((6, 2), (r, j));   // pool1 2/2
        r += (5 - 1) * j; j *= 1; Assert.Equal((14, 2), (r, j));  // conv2 5x5/1
        r += (2 - 1) * j; j *= 2; Assert.Equal((16, 4), (r, j));  // pool2 2/2

        Assert.Equal(new Size2(5, 5), s["features.0"].ReceptiveField);
        Assert.Equal(new Size2(6, 6), s["features.2"].ReceptiveField);
        Assert.Equal(new Size2(14, 14), s["features.3"].ReceptiveField);
        Assert.Equal(new Size2(16, 16), s["features.5"].ReceptiveField);
        Assert.Equal([1, 2, 2, 4], new[] { "features.0", "features.2", "features.3", "features.5" }.Select(n => s[n].Jump!.Value.H));
        // Element-wise and dense layers report no field of their own.
        Assert.Null(s["features.1"].ReceptiveField);
        Assert.Null(s["classifier.0"].ReceptiveField);
    }

    [Fact]
    public void LeNet5At32x32SizesItsFirstLinear()
    {
        // 32 → conv (pad 2) 32 → pool 16 → conv 12 → pool 6: 16·6·6 = 576 features.
        var m = new LeNet5(10, [1, 32, 32]);
        Assert.Equal(576, ((Linear)m.Classifier[0]).InFeatures);
        var s = ModelSummary.Compute(m, [1, 32, 32]);
        Assert.Equal([1, 16, 6, 6], s["features.5"].OutputShape);
    }

    [Fact]
    public void LeNet5ClassifierRuns()
    {
        // Only the dense half: the convolution kernels are not part of this project.
        var m = new LeNet5(10, generator: new Generator(1));
        var y = m.Classifier.Forward(Tensor.Randn([3, 400], new Generator(2)));
        Assert.Equal([3, 10], y.Shape);
    }

    [Fact]
    public void AlexNet2012MapsAt227()
    {
        var m = new AlexNet2012(generator: new Generator(0));
        var s = ModelSummary.Compute(m, [3, 227, 227]);
        // conv1, pool1, conv2, pool2, conv3, conv4, conv5, pool5.
        string[] maps = ["features.0", "features.3", "features.4", "features.7", "features.8", "features.10", "features.12", "features.14"];
        Assert.Equal([55, 27, 27, 13, 13, 13, 13, 6], maps.Select(n => s[n].OutputShape[2]));
        Assert.Equal([96, 96, 256, 256, 384, 384, 256, 256], maps.Select(n => s[n].OutputShape[1]));
        Assert.Equal([1, 256, 6, 6], s["features.14"].OutputShape);
        Assert.Equal(9216, ((Linear)m.Classifier[1]).InFeatures);
        Assert.Equal("LocalResponseNorm", s["features.2"].Type);
        Assert.Equal([55, 55], s["features.2"].OutputShape[2..]);
    }

    [Fact]
    public void AlexNet2012TowersAreGroupedConvolutions()
    {
        var m = new AlexNet2012(generator: new Generator(0));
        Assert.Equal([4, 10, 12], m.GroupedConvIndices);
        Assert.All(m.GroupedConvIndices, i => Assert.Equal(2, ((Conv2d)m.Features[i]).Groups));
        Assert.Equal(1, ((Conv2d)m.Features[8]).Groups);
        var sd = m.StateDict();
        // Each conv2 filter sees its own tower's 48 maps; conv3's see all 256.
        Assert.Equal([256, 48, 5, 5], sd["features.4.weight"].Shape);
        Assert.Equal([384, 256, 3, 3], sd["features.8.weight"].Shape);
        Assert.Equal([384, 192, 3, 3], sd["features.10.weight"].Shape);
        Assert.Equal([256, 192, 3, 3], sd["features.12.weight"].Shape);
        // 96·3·121+96, 256·48·25+256, 384·256·9+384, 384·192·9+384, 256·192·9+256, 9216·4096+4096, 4096·4096+4096, 4096·1000+1000.
        long expected = 34_944 + 307_456 + 885_120 + 663_936 + 442_624 + 37_752_832 + 16_781_312 + 4_097_000;
        Assert.Equal(60_965_224L, expected);
        Assert.Equal(expected, ModelSummary.Compute(m, [3, 227, 227]).TotalParams);
    }

    [Fact]
    public void ZFNetMaps()
    {
        var s = ModelSummary.Compute(new ZFNet(generator: new Generator(0)), [3, 224, 224]);
        // conv1, pool1, conv2, pool2, conv3, conv4, conv5, pool5.
        string[] maps = ["features.0", "features.2", "features.4", "features.6", "features.8", "features.10", "features.12", "features.14"];
        Assert.Equal([110, 55, 26, 13, 13, 13, 13, 6], maps.Select(n => s[n].OutputShape[2]));
        Assert.Equal([110, 55, 26, 13, 13, 13, 13, 6], maps.Select(n => s[n].OutputShape[3]));
        Assert.Equal([96, 96, 256, 256, 384, 384, 256, 256], maps.Select(n => s[n].OutputShape[1]));
        Assert.Equal([1, 4096], s["classifier.1"].OutputShape);
        Assert.Equal("LocalResponseNorm", s["features.3"].Type);
    }

    [Fact]
    public void ZFNet512IsWider()
    {
        var m = (ZFNet)ModelZoo.Create("zfnet_512", 10, generator: new Generator(0));
        var s = ModelSummary.Compute(m, [3, 224, 224]);
        Assert.True(m.Wide);
        Assert.Equal([512, 1024, 512], new[] { "features.8", "features.10", "features.12" }.Select(n => s[n].OutputShape[1]));
        Assert.Equal(512 * 6 * 6, ((Linear)m.Classifier[1]).InFeatures);
        Assert.Equal([1, 10], s.OutputShape);
    }
}
