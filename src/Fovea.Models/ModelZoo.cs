using Fovea.NN;

namespace Fovea.Models;

/// <summary>
/// The models by name, as torchvision names them (<c>vgg16_bn</c>), plus <c>lenet5</c>, <c>alexnet_2012</c> (the
/// paper's two towers as grouped convolutions), <c>zfnet</c> and <c>zfnet_512</c>.
/// </summary>
public static class ModelZoo
{
    private static readonly (string Name, Func<int, int[]?, Generator?, Module> Make, int[] Input, int Classes)[] Entries =
    [
        ("lenet5", (n, s, g) => new LeNet5(n, s, g), LeNet5.DefaultInputShape, 10),
        ("alexnet", (n, s, g) => new AlexNet(n, s, generator: g), AlexNet.DefaultInputShape, 1000),
        ("alexnet_2012", (n, s, g) => new AlexNet2012(n, s, generator: g), AlexNet2012.DefaultInputShape, 1000),
        ("zfnet", (n, s, g) => new ZFNet(n, s, wide: false, generator: g), ZFNet.DefaultInputShape, 1000),
        ("zfnet_512", (n, s, g) => new ZFNet(n, s, wide: true, generator: g), ZFNet.DefaultInputShape, 1000),
        ("vgg11", (n, s, g) => new VGG(11, false, n, s, generator: g), VGG.DefaultInputShape, 1000),
        ("vgg13", (n, s, g) => new VGG(13, false, n, s, generator: g), VGG.DefaultInputShape, 1000),
        ("vgg16", (n, s, g) => new VGG(16, false, n, s, generator: g), VGG.DefaultInputShape, 1000),
        ("vgg19", (n, s, g) => new VGG(19, false, n, s, generator: g), VGG.DefaultInputShape, 1000),
        ("vgg11_bn", (n, s, g) => new VGG(11, true, n, s, generator: g), VGG.DefaultInputShape, 1000),
        ("vgg13_bn", (n, s, g) => new VGG(13, true, n, s, generator: g), VGG.DefaultInputShape, 1000),
        ("vgg16_bn", (n, s, g) => new VGG(16, true, n, s, generator: g), VGG.DefaultInputShape, 1000),
        ("vgg19_bn", (n, s, g) => new VGG(19, true, n, s, generator: g), VGG.DefaultInputShape, 1000),
    ];

    /// <summary>Every model name, in the order above.</summary>
    public static IReadOnlyList<string> Names { get; } = Entries.Select(e => e.Name).ToArray();

    /// <summary>
    /// Builds a freshly initialised model.
    /// </summary>
    /// <param name="name">One of <see cref="Names"/> (case-insensitive).</param>
    /// <param name="numClasses">Outputs of the last layer; null for the model's usual number (<see cref="DefaultNumClasses"/>:
    /// 10 for lenet5, 1000 for the ImageNet models).</param>
    /// <param name="inputShape">(C, H, W); null for <see cref="DefaultInputShape"/>. C sets the first convolution's input
    /// channels; models without an adaptive pool size their first Linear from H and W.</param>
    /// <param name="generator">Random source for the initial weights and for dropout.</param>
    /// <exception cref="ArgumentException">An unknown name (the message lists the known ones), or an input shape too
    /// small for some layer (the message names the layer).</exception>
    public static Module Create(string name, int? numClasses = null, int[]? inputShape = null, Generator? generator = null)
    {
        var e = Find(name);
        return e.Make(numClasses ?? e.Classes, inputShape ?? e.Input, generator);
    }

    /// <summary>The (C, H, W) input the model is built for by default.</summary>
    public static int[] DefaultInputShape(string name) => (int[])Find(name).Input.Clone();

    /// <summary>The number of classes the model has by default: 10 for lenet5 (MNIST), 1000 for the others (ImageNet).</summary>
    public static int DefaultNumClasses(string name) => Find(name).Classes;

    private static (string Name, Func<int, int[]?, Generator?, Module> Make, int[] Input, int Classes) Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var e in Entries)
            if (string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase)) return e;
        throw new ArgumentException($"unknown model '{name}'; known models: {string.Join(", ", Names)}", nameof(name));
    }
}
