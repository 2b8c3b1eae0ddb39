using Fovea.NN;

namespace Fovea.Models;

/// <summary>
/// LeNet-5 with ReLU and max pooling: conv 6@5x5 (padding 2), pool 2, conv 16@5x5, pool 2, then 120, 84 and the
/// classes. At 1x28x28 the second pool gives 16x5x5 = 400 features; other input sizes change that number (1x32x32
/// gives 16x6x6). Ten classes: 61,706 parameters. The ReLUs overwrite the layer outputs they follow (nothing reads
/// those afterwards), which spares a training step a pass over its largest activations.
/// </summary>
public sealed class LeNet5 : Module
{
    /// <summary>The default input: one MNIST image.</summary>
    public static int[] DefaultInputShape => [1, 28, 28];

    /// <param name="numClasses">Outputs of the last layer.</param>
    /// <param name="inputShape">(C, H, W); C is the first convolution's input channels (1 for MNIST, 3 for colour).</param>
    /// <param name="generator">Random source for the initial weights and dropout (PyTorch's default initialisation).</param>
    public LeNet5(int numClasses = 10, int[]? inputShape = null, Generator? generator = null)
    {
        ModelShape.CheckClasses("lenet5", numClasses);
        InputShape = ModelShape.Check("lenet5", inputShape, DefaultInputShape);
        Features = RegisterModule("features", new Sequential(
            new Conv2d(InputShape[0], 6, 5, padding: 2, generator: generator),
            new ReLU(inplace: true),
            new MaxPool2d(2),
            new Conv2d(6, 16, 5, generator: generator),
            new ReLU(inplace: true),
            new MaxPool2d(2)));
        int flat = ModelShape.FlattenedSize("lenet5", Features, InputShape);
        Classifier = RegisterModule("classifier", new Sequential(
            new Linear(flat, 120, generator: generator),
            new ReLU(inplace: true),
            new Linear(120, 84, generator: generator),
            new ReLU(inplace: true),
            new Linear(84, numClasses, generator: generator)));
    }

    /// <summary>The (C, H, W) input the model was built for.</summary>
    public int[] InputShape { get; }

    public Sequential Features { get; }
    public Sequential Classifier { get; }

    public override Tensor Forward(Tensor input) => Classifier.Forward(Features.Forward(input).Flatten(1));
}
