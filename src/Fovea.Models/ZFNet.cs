using Fovea.NN;

namespace Fovea.Models;

/// <summary>
/// ZFNet (Zeiler and Fergus 2013, Fig. 3): AlexNet with a 7x7 stride-2 first layer and a stride-2 second layer, on one
/// device. At 224x224 its maps are 110, 55, 26, 13, 13, 13, 6. The wide variant (<c>zfnet_512</c>, the lecture's) has
/// 512, 1024, 512 filters in layers 3, 4, 5 instead of 384, 384, 256. Local contrast normalisation across maps is
/// AlexNet's LocalResponseNorm(5, 1e-4, 0.75, 2). PyTorch's default initialisation.
/// </summary>
public sealed class ZFNet : Module
{
    public static int[] DefaultInputShape => [3, 224, 224];

    /// <param name="numClasses">Outputs of the last layer.</param>
    /// <param name="inputShape">(C, H, W); the first Linear's in-features follow from it.</param>
    /// <param name="wide">Layers 3, 4, 5 with 512, 1024, 512 filters (zfnet_512).</param>
    /// <param name="dropout">Dropout probability before the first two fully connected layers.</param>
    /// <param name="generator">Random source for initial weights and dropout.</param>
    public ZFNet(int numClasses = 1000, int[]? inputShape = null, bool wide = false, float dropout = 0.5f, Generator? generator = null)
    {
        string name = wide ? "zfnet_512" : "zfnet";
        ModelShape.CheckClasses(name, numClasses);
        InputShape = ModelShape.Check(name, inputShape, DefaultInputShape);
        Wide = wide;
        var (c3, c4, c5) = wide ? (512, 1024, 512) : (384, 384, 256);
        var g = generator;
        // The paper gives the map sizes (110, 55, 26, 13, 6) but not the paddings; these reproduce them at 224:
        //   conv1 7x7/2 pad 1: (224 + 2 − 7) / 2 + 1 = 110 (pad 0 would give 109);
        //   pool1 3/2 pad 1:   (110 + 2 − 3) / 2 + 1 = 55  (pad 0 gives 54);
        //   conv2 5x5/2 pad 0: (55 − 5) / 2 + 1 = 26;
        //   pool2 3/2 pad 1:   (26 + 2 − 3) / 2 + 1 = 13  (pad 0 gives 12);
        //   conv3-5 3x3 pad 1 keep 13; pool5 3/2 pad 0: (13 − 3) / 2 + 1 = 6.
        // Padded pools rather than ceil mode: both give these sizes here, padding keeps the windows symmetric.
        Features = RegisterModule("features", new Sequential(
            new Conv2d(InputShape[0], 96, 7, stride: 2, padding: 1, generator: g), // 0
            new ReLU(inplace: true),
            new MaxPool2d(3, 2, padding: 1),
            new LocalResponseNorm(5, 1e-4f, 0.75f, 2f),
            new Conv2d(96, 256, 5, stride: 2, generator: g),                      // 4
            new ReLU(inplace: true),
            new MaxPool2d(3, 2, padding: 1),
            new LocalResponseNorm(5, 1e-4f, 0.75f, 2f),
            new Conv2d(256, c3, 3, padding: 1, generator: g),                     // 8
            new ReLU(inplace: true),
            new Conv2d(c3, c4, 3, padding: 1, generator: g),                      // 10
            new ReLU(inplace: true),
            new Conv2d(c4, c5, 3, padding: 1, generator: g),                      // 12
            new ReLU(inplace: true),
            new MaxPool2d(3, 2)));
        int flat = ModelShape.FlattenedSize(name, Features, InputShape);
        Classifier = RegisterModule("classifier", ModelShape.AlexNetHead(flat, 4096, numClasses, dropout, g));
    }

    public int[] InputShape { get; }
    public bool Wide { get; }
    public Sequential Features { get; }
    public Sequential Classifier { get; }

    public override Tensor Forward(Tensor input) => Classifier.Forward(Features.Forward(input).Flatten(1));
}
