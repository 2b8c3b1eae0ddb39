using Fovea.NN;

namespace Fovea.Models.Tests;

public class ModelZooTests
{
    [Fact]
    public void NamesListEveryModel()
    {
        Assert.Equal(
            ["lenet5", "alexnet", "alexnet_2012", "zfnet", "zfnet_512", "vgg11", "vgg13", "vgg16", "vgg19",
             "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"],
            ModelZoo.Names);
    }

    [Fact]
    public void UnknownNameListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create("resnet50"));
        Assert.Contains("resnet50", e.Message);
        foreach (var name in ModelZoo.Names) Assert.Contains(name, e.Message);
        Assert.Throws<ArgumentException>(() => ModelZoo.DefaultInputShape("googlenet"));
    }

    [Fact]
    public void DefaultInputShapes()
    {
        Assert.Equal([1, 28, 28], ModelZoo.DefaultInputShape("lenet5"));
        Assert.Equal([3, 224, 224], ModelZoo.DefaultInputShape("alexnet"));
        Assert.Equal([3, 227, 227], ModelZoo.DefaultInputShape("alexnet_2012"));
        Assert.Equal([3, 224, 224], ModelZoo.DefaultInputShape("zfnet"));
        Assert.Equal([3, 224, 224], ModelZoo.DefaultInputShape("vgg16_bn"));
        Assert.Equal(10, ModelZoo.DefaultNumClasses("lenet5"));
        Assert.Equal(1000, ModelZoo.DefaultNumClasses("vgg11"));
        // Callers cannot change the zoo's defaults through the returned array.
        ModelZoo.DefaultInputShape("lenet5")[0] = 3;
        Assert.Equal(1, ModelZoo.DefaultInputShape("lenet5")[0]);
    }

    [Fact]
    public void CreateIsCaseInsensitiveAndHonoursClassesAndChannels()
    {
        var m = (LeNet5)ModelZoo.Create("LeNet5", 7, [3, 32, 32], new Generator(0));
        Assert.Equal([6, 3, 5, 5], m.StateDict()["features.0.weight"].Shape);
        Assert.Equal([7, 84], m.StateDict()["classifier.4.weight"].Shape);
        Assert.Equal(10, ((Linear)ModelZoo.Create("lenet5").NamedModules().Last().Module).OutFeatures);
    }

    [Fact]
    public void SameSeedSameWeights()
    {
        var a = ModelZoo.Create("lenet5", generator: new Generator(42)).StateDict();
        var b = ModelZoo.Create("lenet5", generator: new Generator(42)).StateDict();
        var c = ModelZoo.Create("lenet5", generator: new Generator(43)).StateDict();
        Assert.Equal(a["features.3.weight"].ToArray(), b["features.3.weight"].ToArray());
        Assert.NotEqual(a["features.3.weight"].ToArray(), c["features.3.weight"].ToArray());
    }

    [Fact]
    public void InputTooSmallNamesTheLayer()
    {
        // AlexNet at 32x32: conv1 → 7, pool → 3, conv2 → 3, pool → 1, conv3-5 → 1, and the last 3x3 pool has no room.
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create("alexnet", 10, [3, 32, 32]));
        Assert.Contains("features.12", e.Message);
        Assert.Contains("MaxPool2d", e.Message);
        Assert.Contains("[1, 256, 1, 1]", e.Message);
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("lenet5", 10, [1, 4, 4]));
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("lenet5", 10, [28, 28]));
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("lenet5", 0));
    }

    [Fact]
    public void VggInitialisationFollowsTorchvision()
    {
        var vgg = SharedModels.Vgg16;
        // conv: kaiming normal, fan_out = 64·3·3, gain √2 → std = √(2/576) ≈ 0.0589; bias zero.
        var w = vgg.StateDict()["features.0.weight"].ToArray();
        Assert.InRange(Std(w), 0.0589 * 0.9, 0.0589 * 1.1);
        Assert.All(vgg.StateDict()["features.0.bias"].ToArray(), v => Assert.Equal(0f, v));
        // linear: normal(0, 0.01); bias zero.
        var fc = vgg.StateDict()["classifier.6.weight"].ToArray();
        Assert.InRange(Std(fc), 0.0099, 0.0101);
        Assert.All(vgg.StateDict()["classifier.6.bias"].ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void VggBatchNormStartsAtIdentity()
    {
        var sd = SharedModels.Vgg11Bn.StateDict();
        Assert.All(sd["features.1.weight"].ToArray(), v => Assert.Equal(1f, v));
        Assert.All(sd["features.1.bias"].ToArray(), v => Assert.Equal(0f, v));
        Assert.All(sd["features.1.running_var"].ToArray(), v => Assert.Equal(1f, v));
        Assert.All(sd["features.1.running_mean"].ToArray(), v => Assert.Equal(0f, v));
    }

    private static double Std(float[] v)
    {
        double mean = v.Average(x => (double)x);
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
    }
}
