using TorchSharp;
using static TorchSharp.torch;

namespace Fovea.Bench.Compare;

// Inside namespace Fovea, a bare Tensor would name Fovea's; these files mean libtorch's.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>
/// The same networks as Fovea's model zoo, built from TorchSharp's torch.nn layers in torchvision's order (AlexNet,
/// VGG-16 with in-place ReLU as torchvision has it), with libtorch's default initialisation: the weights do not
/// change the time.
/// </summary>
internal static class TorchModels
{
    public static nn.Module<Tensor, Tensor> Create(string name) => name switch
    {
        "lenet5" => LeNet5(),
        "alexnet" => AlexNet(),
        "vgg16" => Vgg16(),
        _ => throw new ArgumentException($"no TorchSharp model '{name}'"),
    };

    /// <summary>(C, H, W) and classes, as in Fovea's ModelZoo.</summary>
    public static (long[] Shape, int Classes) Input(string name) => name == "lenet5" ? ([1, 28, 28], 10) : ([3, 224, 224], 1000);

    private static nn.Module<Tensor, Tensor> LeNet5() => nn.Sequential(
        nn.Conv2d(1, 6, 5, padding: 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10));

    private static nn.Module<Tensor, Tensor> AlexNet() => nn.Sequential(
        nn.Conv2d(3, 64, 11, stride: 4, padding: 2), nn.ReLU(true), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding: 2), nn.ReLU(true), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding: 1), nn.ReLU(true),
        nn.Conv2d(384, 256, 3, padding: 1), nn.ReLU(true),
        nn.Conv2d(256, 256, 3, padding: 1), nn.ReLU(true), nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d(6),
        nn.Flatten(),
        nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(true),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(true),
        nn.Linear(4096, 1000));

    private static nn.Module<Tensor, Tensor> Vgg16()
    {
        int[] config = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];
        var layers = new List<nn.Module<Tensor, Tensor>>();
        long channels = 3;
        foreach (int c in config)
        {
            if (c == 0) { layers.Add(nn.MaxPool2d(2, 2)); continue; }
            layers.Add(nn.Conv2d(channels, c, 3, padding: 1));
            layers.Add(nn.ReLU(true));
            channels = c;
        }
        layers.Add(nn.AdaptiveAvgPool2d(7));
        layers.Add(nn.Flatten());
        layers.Add(nn.Linear(512 * 7 * 7, 4096));
        layers.Add(nn.ReLU(true));
        layers.Add(nn.Dropout(0.5));
        layers.Add(nn.Linear(4096, 4096));
        layers.Add(nn.ReLU(true));
        layers.Add(nn.Dropout(0.5));
        layers.Add(nn.Linear(4096, 1000));
        return nn.Sequential(layers.ToArray());
    }
}
