using Fovea.NN;

namespace Fovea.Models;

/// <summary>
/// AlexNet as in Krizhevsky, Sutskever and Hinton (2012), on one device: the paper's two towers (one per GPU) are
/// expressed as grouped convolutions with groups = 2. Conv2, conv4 and conv5 only see the maps of their own tower;
/// conv1 (whose two halves see the same image) and conv3 (where the towers exchange) are dense, as are the fully
/// connected layers. Each conv is followed by ReLU; conv1 and conv2 by local response normalisation (n=5,
/// α=1e-4, β=0.75, k=2) and overlapping max pooling (3/2). At 227x227: maps 55, 27, 27, 13, 13, 13, 13, 6 and
/// 60,965,224 parameters at 1000 classes.
/// </summary>
public sealed class AlexNet2012 : Module
{
    /// <summary>227x227: with an 11x11 stride-4 unpadded conv1 this gives the paper's 55x55 maps (224 would not).</summary>
    public static int[] DefaultInputShape => [3, 227, 227];

    /// <summary>How many towers (groups of the grouped convolutions).</summary>
    public const int Towers = 2;

    /// <param name="numClasses">Outputs of the last layer.</param>
    /// <param name="inputShape">(C, H, W); the first Linear's in-features follow from it.</param>
    /// <param name="dropout">Dropout probability before the first two fully connected layers.</param>
    /// <param name="generator">Random source for initial weights (PyTorch's default) and dropout.</param>
    public AlexNet2012(int numClasses = 1000, int[]? inputShape = null, float dropout = 0.5f, Generator? generator = null)
    {
        ModelShape.CheckClasses("alexnet_2012", numClasses);
        InputShape = ModelShape.Check("alexnet_2012", inputShape, DefaultInputShape);
        var g = generator;
        Features = RegisterModule("features", new Sequential(
            new Conv2d(InputShape[0], 96, 11, stride: 4, generator: g),          // 0  conv1
            new ReLU(inplace: true),
            new LocalResponseNorm(5, 1e-4f, 0.75f, 2f),
            new MaxPool2d(3, 2),
            new Conv2d(96, 256, 5, padding: 2, groups: Towers, generator: g),   // 4  conv2, per tower
            new ReLU(inplace: true),
            new LocalResponseNorm(5, 1e-4f, 0.75f, 2f),
            new MaxPool2d(3, 2),
            new Conv2d(256, 384, 3, padding: 1, generator: g),                  // 8  conv3, towers exchange
            new ReLU(inplace: true),
            new Conv2d(384, 384, 3, padding: 1, groups: Towers, generator: g),  // 10 conv4, per tower
            new ReLU(inplace: true),
            new Conv2d(384, 256, 3, padding: 1, groups: Towers, generator: g),  // 12 conv5, per tower
            new ReLU(inplace: true),
            new MaxPool2d(3, 2)));
        int flat = ModelShape.FlattenedSize("alexnet_2012", Features, InputShape);
        Classifier = RegisterModule("classifier", ModelShape.AlexNetHead(flat, 4096, numClasses, dropout, g));
        GroupedConvIndices = Features.Layers.Select((l, i) => (l, i)).Where(t => t.l is Conv2d { Groups: > 1 }).Select(t => t.i).ToArray();
    }

    public int[] InputShape { get; }
    public Sequential Features { get; }
    public Sequential Classifier { get; }

    /// <summary>
    /// Indices in <see cref="Features"/> of the grouped (per-tower) convolutions: 4, 10 and 12. Splitting the towers
    /// across devices cuts each of these along its groups; the others need both towers' maps.
    /// </summary>
    public IReadOnlyList<int> GroupedConvIndices { get; }

    public override Tensor Forward(Tensor input) => Classifier.Forward(Features.Forward(input).Flatten(1));
}
