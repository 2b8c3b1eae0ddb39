using Fovea.NN;

namespace Fovea.Models;

/// <summary>
/// VGG (Simonyan and Zisserman 2014) in torchvision's layout: 3x3 convolutions with padding 1 (each followed by
/// BatchNorm2d when <c>batchNorm</c>, then ReLU), 2x2 max pools, an adaptive average pool to 7x7 and a
/// 4096-4096 classifier (Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear). Indices and names match torchvision.
/// Initialised as torchvision does: convolutions kaiming_normal (fan_out, relu) with zero bias, batch norm weight 1
/// and bias 0, linear layers normal(0, 0.01) with zero bias. VGG-16: 138,357,544 parameters.
/// </summary>
public sealed class VGG : Module
{
    private const int M = 0; // a max pool in a configuration

    /// <summary>torchvision's configurations A, B, D, E: output channels of each conv, 0 for a max pool.</summary>
    private static readonly Dictionary<int, int[]> Configs = new()
    {
        [11] = [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
        [13] = [64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M],
        [16] = [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M],
        [19] = [64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M],
    };

    public static int[] DefaultInputShape => [3, 224, 224];

    /// <summary>The depths there are: 11, 13, 16, 19 (weight layers).</summary>
    public static IReadOnlyList<int> Depths { get; } = [11, 13, 16, 19];

    /// <param name="depth">11, 13, 16 or 19.</param>
    /// <param name="batchNorm">Batch norm after each convolution (vgg16_bn and the like).</param>
    /// <param name="numClasses">Outputs of the last layer.</param>
    /// <param name="inputShape">(C, H, W), at least 32x32 for the five pools; the adaptive pool keeps the classifier at
    /// 512·7·7 inputs.</param>
    /// <param name="dropout">Dropout probability in the classifier.</param>
    /// <param name="generator">Random source for initial weights and dropout.</param>
    public VGG(int depth, bool batchNorm = false, int numClasses = 1000, int[]? inputShape = null, float dropout = 0.5f, Generator? generator = null)
    {
        if (!Configs.TryGetValue(depth, out var config))
            throw new ArgumentException($"VGG depth must be one of {string.Join(", ", Depths)}, got {depth}", nameof(depth));
        string name = $"vgg{depth}{(batchNorm ? "_bn" : "")}";
        ModelShape.CheckClasses(name, numClasses);
        InputShape = ModelShape.Check(name, inputShape, DefaultInputShape);
        Depth = depth;
        BatchNorm = batchNorm;
        var g = generator;
        var features = new Sequential();
        int channels = InputShape[0];
        foreach (int c in config)
        {
            if (c == M) { features.Add(new MaxPool2d(2, 2)); continue; }
            features.Add(new Conv2d(channels, c, 3, padding: 1, generator: g));
            if (batchNorm) features.Add(new BatchNorm2d(c));
            features.Add(new ReLU(inplace: true));
            channels = c;
        }
        Features = RegisterModule("features", features);
        Avgpool = RegisterModule("avgpool", new AdaptiveAvgPool2d(7));
        Classifier = RegisterModule("classifier", new Sequential(
            new Linear(512 * 7 * 7, 4096, generator: g),
            new ReLU(inplace: true),
            new Dropout(dropout, g),
            new Linear(4096, 4096, generator: g),
            new ReLU(inplace: true),
            new Dropout(dropout, g),
            new Linear(4096, numClasses, generator: g)));
        ModelShape.Summarize(name, this, InputShape);
        InitializeWeights(g);
    }

    public int Depth { get; }
    public bool BatchNorm { get; }
    public int[] InputShape { get; }
    public Sequential Features { get; }
    public AdaptiveAvgPool2d Avgpool { get; }
    public Sequential Classifier { get; }

    public override Tensor Forward(Tensor input) => Classifier.Forward(Avgpool.Forward(Features.Forward(input)).Flatten(1));

    /// <summary>torchvision's VGG initialisation (see the class remarks).</summary>
    private void InitializeWeights(Generator? g)
    {
        foreach (var (_, m) in NamedModules())
        {
            switch (m)
            {
                case Conv2d c:
                    Init.KaimingNormal(c.Weight, fanOut: true, nonlinearity: "relu", g: g);
                    if (c.Bias is { } cb) Init.Constant(cb, 0f);
                    break;
                case BatchNorm2d bn:
                    if (bn.Weight is { } w) Init.Constant(w, 1f);
                    if (bn.Bias is { } b) Init.Constant(b, 0f);
                    break;
                case Linear l:
                    Init.Normal(l.Weight, 0f, 0.01f, g);
                    if (l.Bias is { } lb) Init.Constant(lb, 0f);
                    break;
            }
        }
    }
}
