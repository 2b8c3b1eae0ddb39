using Fovea.NN;

namespace Fovea.Models;

/// <summary>
/// torchvision's AlexNet (the "one weird trick" single-tower variant): 64, 192, 384, 256, 256 filters, an adaptive
/// average pool to 6x6, and a 4096-4096 classifier with dropout. Children and indices match torchvision, so its
/// state dict maps one to one. 61,100,840 parameters at 1000 classes. PyTorch's default initialisation.
/// </summary>
public sealed class AlexNet : Module
{
    public static int[] DefaultInputShape => [3, 224, 224];

    /// <param name="numClasses">Outputs of the last layer.</param>
    /// <param name="inputShape">(C, H, W); at least 63x63 so the last pool has an input. The adaptive pool keeps the
    /// classifier at 256·6·6 inputs whatever the size.</param>
    /// <param name="dropout">Dropout probability in the classifier.</param>
    /// <param name="generator">Random source for initial weights and dropout.</param>
    public AlexNet(int numClasses = 1000, int[]? inputShape = null, float dropout = 0.5f, Generator? generator = null)
    {
        ModelShape.CheckClasses("alexnet", numClasses);
        InputShape = ModelShape.Check("alexnet", inputShape, DefaultInputShape);
        var g = generator;
        Features = RegisterModule("features", new Sequential(
            new Conv2d(InputShape[0], 64, 11, stride: 4, padding: 2, generator: g),
            new ReLU(inplace: true),
            new MaxPool2d(3, 2),
            new Conv2d(64, 192, 5, padding: 2, generator: g),
            new ReLU(inplace: true),
            new MaxPool2d(3, 2),
            new Conv2d(192, 384, 3, padding: 1, generator: g),
            new ReLU(inplace: true),
            new Conv2d(384, 256, 3, padding: 1, generator: g),
            new ReLU(inplace: true),
            new Conv2d(256, 256, 3, padding: 1, generator: g),
            new ReLU(inplace: true),
            new MaxPool2d(3, 2)));
        Avgpool = RegisterModule("avgpool", new AdaptiveAvgPool2d(6));
        Classifier = RegisterModule("classifier", ModelShape.AlexNetHead(256 * 6 * 6, 4096, numClasses, dropout, g));
        ModelShape.Summarize("alexnet", this, InputShape);
    }

    public int[] InputShape { get; }
    public Sequential Features { get; }
    public AdaptiveAvgPool2d Avgpool { get; }
    public Sequential Classifier { get; }

    public override Tensor Forward(Tensor input) => Classifier.Forward(Avgpool.Forward(Features.Forward(input)).Flatten(1));
}
