using Fovea.IO;
using Fovea.Models;
using Fovea.Training;
using TorchSharp;

namespace Fovea.Bench.Compare;


/// <summary>
/// Start-to-first-prediction: a LeNet-5 checkpoint and an input for <c>fovea predict</c>, and the smallest TorchSharp
/// program doing the same work (build LeNet-5, classify one 28x28 image, print the top class).
/// </summary>
internal static class FirstPrediction
{
    public static int MakeCheckpoint(string dir)
    {
        Directory.CreateDirectory(dir);
        var model = ModelZoo.Create("lenet5", 10, [1, 28, 28], new Generator(1));
        Checkpoint.Of(model, null, new Dictionary<string, object?>
        {
            ["model"] = "lenet5",
            ["dataset"] = "mnist",
            ["classes"] = 10,
            ["input_shape"] = new[] { 1, 28, 28 },
            ["mean"] = new[] { 0.1307f },
            ["std"] = new[] { 0.3081f },
        }).Save(dir);
        Npy.Save(Path.Combine(dir, "digit.npy"), Fovea.Tensor.Uniform([1, 1, 28, 28], 0f, 1f, new Generator(2)));
        Console.WriteLine($"wrote {Checkpoint.ResolvePath(dir)} and {Path.Combine(dir, "digit.npy")}");
        return 0;
    }

    public static int PredictTorch()
    {
        var model = TorchModels.Create("lenet5");
        model.eval();
        using var _ = torch.no_grad();
        var x = (torch.rand(1, 1, 28, 28) - 0.1307f) / 0.3081f;
        var probs = torch.nn.functional.softmax(model.forward(x), 1);
        var (values, indices) = probs.topk(1, 1);
        Console.WriteLine($"class {indices.item<long>()} probability {values.item<float>():P2}");
        return 0;
    }
}
