using TorchSharp;
using static TorchSharp.torch;

namespace Fovea.Bench.Compare;

// Inside namespace Fovea, a bare Tensor would name Fovea's; these files mean libtorch's.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>
/// TorchSharp's side of each workload, by the same name and with the same shapes as Fovea's (src/Fovea.Cli/Bench).
/// Setup returns one iteration and the native state to free when the workload is done; each iteration frees its
/// temporaries with a dispose scope, as a careful TorchSharp program does.
/// </summary>
internal static class TorchWorkloads
{
    public static (Action Iteration, IDisposable State) Setup(string name)
    {
        torch.manual_seed(5);
        return name switch
        {
            "gemm_2048" => Gemm(),
            "conv3x3_128_56_fwd" => Conv(backward: false),
            "conv3x3_128_56_fwdbwd" => Conv(backward: true),
            "lenet5_train_b64" => Training("lenet5", 64),
            "lenet5_train_b256" => Training("lenet5", 256),
            "lenet5_infer_b256" => Inference("lenet5", 256),
            "alexnet_infer_b1" => Inference("alexnet", 1),
            "alexnet_infer_b8" => Inference("alexnet", 8),
            "alexnet_train_b16" => Training("alexnet", 16),
            "vgg16_infer_b1" => Inference("vgg16", 1),
            "vgg16_infer_b4" => Inference("vgg16", 4),
            "vgg16_train_b4" => Training("vgg16", 4),
            _ => throw new ArgumentException($"no TorchSharp workload '{name}'"),
        };
    }

    private static (Action, IDisposable) Gemm()
    {
        const int n = 2048;
        var a = torch.rand(n, n) * 2 - 1;
        var b = torch.rand(n, n) * 2 - 1;
        var c = torch.zeros(n, n);
        // C = 0·C + A·B in place, so neither side allocates the 16 MB result per call.
        return (() => c.addmm_(a, b, beta: 0, alpha: 1), new Owned(a, b, c));
    }

    private static (Action, IDisposable) Conv(bool backward)
    {
        var x = torch.randn(8, 128, 56, 56);
        var w = (torch.randn(128, 128, 3, 3) * 0.03f).requires_grad_(backward);
        var bias = torch.randn(128).requires_grad_(backward);
        if (!backward)
        {
            return (() =>
            {
                using var _ = torch.no_grad();
                using var scope = torch.NewDisposeScope();
                nn.functional.conv2d(x, w, bias, padding: [1, 1]);
            }, new Owned(x, w, bias));
        }
        x.requires_grad_(true);
        var dy = torch.randn(8, 128, 56, 56);
        return (() =>
        {
            using var scope = torch.NewDisposeScope();
            x.grad?.Dispose();
            w.grad?.Dispose();
            bias.grad?.Dispose();
            x.grad = null;
            w.grad = null;
            bias.grad = null;
            nn.functional.conv2d(x, w, bias, padding: [1, 1]).backward([dy]);
        }, new Owned(x, w, bias, dy));
    }

    private static (Tensor X, Tensor Y) Data(string model, int batch)
    {
        var (shape, classes) = TorchModels.Input(model);
        return (torch.randn([batch, .. shape]), torch.randint(classes, [batch], ScalarType.Int64));
    }

    private static (Action, IDisposable) Inference(string model, int batch)
    {
        var net = TorchModels.Create(model);
        net.eval();
        var (x, y) = Data(model, batch);
        return (() =>
        {
            using var _ = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            net.forward(x);
        }, new Owned(x, y, net));
    }

    private static (Action, IDisposable) Training(string model, int batch)
    {
        var net = TorchModels.Create(model);
        net.train();
        var (x, y) = Data(model, batch);
        var loss = nn.CrossEntropyLoss();
        var opt = torch.optim.SGD(net.parameters(), 0.01, momentum: 0.9);
        return (() =>
        {
            using var scope = torch.NewDisposeScope();
            opt.zero_grad();
            loss.forward(net.forward(x), y).backward();
            opt.step();
        }, new Owned(x, y, net, loss, opt));
    }

    /// <summary>Frees a workload's tensors and modules.</summary>
    private sealed class Owned(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var i in items) i.Dispose();
        }
    }
}
