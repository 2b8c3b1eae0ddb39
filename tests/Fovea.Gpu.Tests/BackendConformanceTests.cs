using Fovea.NN;
using Fovea.Optim;

namespace Fovea.Gpu.Tests;

/// <summary>
/// The conformance suite: every backend op, forward and backward, through the Tensor / Functional / Module API, on
/// each device of <see cref="Conformance.Devices"/> against the CPU backend, from random inputs of odd sizes.
/// </summary>
public sealed class BackendConformanceTests
{
    public static TheoryData<string> Devices => [.. Conformance.Devices()];

    private static readonly int[] A = [3, 5, 7];

    [Theory, MemberData(nameof(Devices))]
    public void Binary_ops_broadcast(string device)
    {
        Conformance.Check(device, [A, [5, 1]], t => t[0] + t[1]);
        Conformance.Check(device, [A, [7]], t => t[0] - t[1]);
        Conformance.Check(device, [[1, 5, 1], A], t => t[0] * t[1]);
        Conformance.Check(device, [A, A], t => t[0] / (t[1].Abs() + 0.5f));
        Conformance.Check(device, [A, [3, 1, 7]], t => t[0].Maximum(t[1]));
        Conformance.Check(device, [A, []], t => t[0].Minimum(t[1]));
    }

    [Theory, MemberData(nameof(Devices))]
    public void Unary_ops(string device)
    {
        int[][] x = [[4, 9]];
        Conformance.Check(device, x, t => t[0].Neg());
        Conformance.Check(device, x, t => t[0].Exp());
        Conformance.Check(device, x, t => t[0].Log(), 0.2f, 3f);
        Conformance.Check(device, x, t => t[0].Sqrt(), 0.2f, 3f);
        Conformance.Check(device, x, t => t[0].Abs());
        Conformance.Check(device, x, t => t[0].Relu());
        // The ReLU keeps a mask of 64-bit words for its backward: two whole words and part of a third.
        Conformance.Check(device, [[3, 50]], t => t[0].Relu());
        Conformance.Check(device, x, t => t[0].LeakyRelu(0.1f));
        Conformance.Check(device, x, t => t[0].Sigmoid());
        Conformance.Check(device, x, t => t[0].Tanh());
        Conformance.Check(device, x, t => t[0].Square());
        Conformance.Check(device, x, t => t[0].Reciprocal(), 0.5f, 2f);
        Conformance.Check(device, x, t => t[0] + 0.25f);
        Conformance.Check(device, x, t => t[0] * -1.5f);
        Conformance.Check(device, x, t => t[0].Pow(1.7f), 0.2f, 2f);
        Conformance.Check(device, x, t => t[0].Pow(3f));
    }

    [Theory, MemberData(nameof(Devices))]
    public void Reductions(string device)
    {
        Conformance.Check(device, [A], t => t[0].Sum(2));
        Conformance.Check(device, [A], t => t[0].Mean(1));
        Conformance.Check(device, [A], t => t[0].Max(0, keepDim: true));
        Conformance.Check(device, [A], t => t[0].Min(2));
        Conformance.Check(device, [[301]], t => t[0].Sum());
        Conformance.Check(device, [[5, 77]], t => t[0].Mean(1));
        var x = Tensor.Uniform(A, -1f, 1f, new Generator(3));
        Assert.Equal(x.ArgMax(1).ToLongArray(), x.To(Conformance.Resolve(device)).ArgMax(1).ToLongArray());
    }

    [Theory, MemberData(nameof(Devices))]
    public void Views_copies_gather_and_cat(string device)
    {
        Conformance.Check(device, [A], t => t[0].Permute(2, 0, 1).Contiguous());
        Conformance.Check(device, [A], t => t[0].Slice(2, 1, 6, 2).Contiguous());
        Conformance.Check(device, [[3, 5], [2, 5]], t => Tensor.Cat([t[0], t[1]], 0));
        Conformance.Check(device, [[3, 2], [3, 5]], t => Tensor.Cat([t[0], t[1]], 1));
        var index = Tensor.FromArray(new long[] { 0, 4, 4, 2, 1, 3 }, [3, 2, 1]);
        Conformance.Check(device, [[3, 5, 1]], t => t[0].Gather(1, index.To(t[0].Device)));
    }

    [Theory, MemberData(nameof(Devices))]
    public void Matrix_products(string device)
    {
        Conformance.Check(device, [[7, 5], [5, 9]], t => t[0].MatMul(t[1]));
        Conformance.Check(device, [[3, 4, 6], [6, 5]], t => t[0].MatMul(t[1]));
        Conformance.Check(device, [[5, 7], [9, 5]], t => t[0].T.MatMul(t[1].T));
        Conformance.Check(device, [[2, 3, 17, 19], [2, 3, 19, 18]], t => t[0].MatMul(t[1]));
    }

    [Theory, MemberData(nameof(Devices))]
    public void Long_sums_split_along_k(string device)
    {
        // k of 260-360 with a handful of output blocks: split on CUDA and on the tiled CPU device (not on the plain one).
        Conformance.Check(device, [[5, 300], [300, 7]], t => t[0].MatMul(t[1]));
        Conformance.Check(device, [[3, 6, 260], [3, 260, 5]], t => t[0].MatMul(t[1]));
        Conformance.Check(device, [[1, 40, 6, 6], [3, 40, 3, 3], [3]], t => Functional.Conv2d(t[0], t[1], t[2], padding: (1, 1, 1, 1)));
        Conformance.Check(device, [[1, 60, 5, 5], [4, 30, 3, 3]], t => Functional.Conv2d(t[0], t[1], groups: 2));
        Conformance.Check(device, [[1, 3, 6, 6], [40, 3, 3, 3]], t => Functional.Conv2d(t[0], t[1], padding: (1, 1, 1, 1)));
    }

    [Fact]
    public void A_split_covers_k_in_whole_steps_of_the_group_width()
    {
        var backend = GpuDevices.BackendOf(Conformance.Resolve(Conformance.TiledCpu));
        foreach (int k in new[] { 64, 65, 300, 1000, 4099 })
        {
            var (config, splits, chunk) = backend.Plan(5, 7, k, 1, canSplit: true);
            Assert.True(splits > 1, $"k = {k}: not split");
            Assert.Equal(0, chunk % backend.Tile);
            Assert.True((splits - 1) * chunk < k && splits * chunk >= k, $"k = {k}: {splits} splits of {chunk}");
            Assert.Equal(splits, config.GridDim.Z);
        }
        Assert.Equal(1, backend.Plan(5, 7, 300, 1, canSplit: false).Splits);
        Assert.Equal(1, backend.Plan(5, 7, 63, 1, canSplit: true).Splits); // two splits would be under 8 steps each
        Assert.Equal(1, backend.Plan(5, 7, 0, 1, canSplit: true).Splits);
    }

    [Fact]
    public void Changing_the_tile_side_reloads_the_product_kernels()
    {
        // A backend of its own: the products below leave it on a side the suite's shared devices do not use.
        var device = GpuDevices.Get("ilgpu-cpu:7");
        var backend = GpuDevices.BackendOf(device);
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Tile = 8);
        var g = new Generator(11);
        var a = Tensor.Uniform([9, 70], -1f, 1f, g);
        var b = Tensor.Uniform([70, 11], -1f, 1f, g);
        var expected = a.MatMul(b).ToArray();
        // A kernel compiled for one side and launched with groups of another would leave outputs unwritten or wrong.
        foreach (int side in new[] { 1, 4, 1 })
        {
            backend.Tile = side;
            Conformance.AssertClose($"product with {side} x {side} groups", expected, a.To(device).MatMul(b.To(device)).ToArray());
        }
    }

    [Theory, MemberData(nameof(Devices))]
    public void Convolutions_every_geometry_option(string device)
    {
        Conformance.Check(device, [[2, 3, 9, 8], [5, 3, 3, 3], [5]], t => Functional.Conv2d(t[0], t[1], t[2]));
        Conformance.Check(device, [[2, 3, 9, 8], [4, 3, 3, 2]], t => Functional.Conv2d(t[0], t[1], stride: (2, 3), padding: (1, 0, 2, 1)));
        Conformance.Check(device, [[1, 2, 11, 10], [3, 2, 3, 3], [3]], t => Functional.Conv2d(t[0], t[1], t[2], dilation: (2, 3), padding: (2, 2, 2, 2)));
        Conformance.Check(device, [[2, 6, 7, 7], [4, 3, 3, 3], [4]], t => Functional.Conv2d(t[0], t[1], t[2], groups: 2, stride: (2, 2), padding: (1, 1, 1, 1)));
        Conformance.Check(device, [[2, 4, 5, 5], [4, 1, 3, 3]], t => Functional.Conv2d(t[0], t[1], groups: 4, padding: (1, 1, 1, 1)));
        Conformance.Check(device, [[2, 3, 13], [5, 3, 4], [5]], t => Functional.Conv1d(t[0], t[1], t[2], stride: 2, padding: (1, 2), dilation: 2));
        Conformance.Check(device, [[2, 5, 6, 6], [7, 5, 1, 1]], t => Functional.Conv2d(t[0], t[1]));
    }

    // The ReLU Sequential fuses in inference: unrecorded, the backend's Conv2d applies it (a pass after the split
    // sums here); recorded, it stays an op of its own with its own backward. 40 channels split the sum on the tiled device.
    [Theory, MemberData(nameof(Devices))]
    public void Convolution_with_its_ReLU(string device)
    {
        Conformance.Check(device, [[2, 40, 6, 6], [33, 40, 3, 3], [33]], t => Functional.Conv2d(t[0], t[1], t[2], padding: (1, 1, 1, 1), relu: true), backward: false);
        Conformance.Check(device, [[2, 3, 7, 6], [5, 3, 3, 3], [5]], t => Functional.Conv2d(t[0], t[1], t[2], relu: true));
    }

    [Theory, MemberData(nameof(Devices))]
    public void Padding_modes(string device)
    {
        foreach (var mode in Enum.GetValues<PadMode>())
            Conformance.Check(device, [[2, 3, 5, 6]], t => Functional.Pad(t[0], 2, 1, 1, 3, mode, 0.5f));
        Conformance.Check(device, [[2, 3, 7]], t => Functional.Pad(t[0], 3, 2, 0, 0, PadMode.Reflect));
    }

    [Theory, MemberData(nameof(Devices))]
    public void Pooling(string device)
    {
        int[][] x = [[2, 3, 9, 11]];
        Conformance.Check(device, x, t => Functional.MaxPool2d(t[0], (3, 3), (2, 2)));
        Conformance.Check(device, x, t => Functional.MaxPool2d(t[0], (2, 3), (2, 2), (1, 1), ceilMode: true));
        Conformance.Check(device, x, t => Functional.MaxPool2d(t[0], (2, 2), (1, 2), dilation: (2, 2)));
        Conformance.Check(device, x, t => Functional.AvgPool2d(t[0], (3, 3), (2, 2), (1, 1)));
        Conformance.Check(device, x, t => Functional.AvgPool2d(t[0], (3, 2), (2, 2), (1, 1), ceilMode: true, countIncludePad: false));
        Conformance.Check(device, x, t => Functional.SumPool2d(t[0], (2, 2)));
        Conformance.Check(device, x, t => Functional.AdaptiveAvgPool2d(t[0], (4, 3)));
        Conformance.Check(device, x, t => Functional.AdaptiveAvgPool2d(t[0], (1, 1)));
    }

    [Theory, MemberData(nameof(Devices))]
    public void Softmax_and_losses(string device)
    {
        Conformance.Check(device, [[4, 7]], t => Functional.Softmax(t[0], 1));
        Conformance.Check(device, [[3, 5, 4]], t => Functional.Softmax(t[0], 1));
        Conformance.Check(device, [[3, 5, 4]], t => Functional.LogSoftmax(t[0], -1));
        var labels = Tensor.FromArray(new long[] { 2, 0, 6, 3, 3 }, [5]);
        Conformance.Check(device, [[5, 7]], t => Functional.CrossEntropy(t[0], labels.To(t[0].Device)));
        Conformance.Check(device, [[5, 7]], t => Functional.CrossEntropy(t[0], labels.To(t[0].Device), labelSmoothing: 0.1f));
        Conformance.Check(device, [[5, 7]], t => Functional.NllLoss(Functional.LogSoftmax(t[0], 1), labels.To(t[0].Device), Reduction.Sum));
        Conformance.Check(device, [[4, 6], [4, 6]], t => Functional.MseLoss(t[0], t[1]));
    }

    [Theory, MemberData(nameof(Devices))]
    public void Normalisations(string device)
    {
        Conformance.Check(device, [[4, 3, 5, 6], [3], [3]], t =>
            Functional.BatchNorm(t[0], null, null, t[1], t[2], training: true), 0.5f, 2f);
        Conformance.Check(device, [[6, 5]], t => Functional.BatchNorm(t[0], null, null, null, null, training: true));
        Conformance.Check(device, [[2, 7, 3, 4]], t => Functional.LocalResponseNorm(t[0], 5, 1e-2f, 0.75f, 2f));
        Conformance.Check(device, [[2, 4, 6]], t => Functional.LocalResponseNorm(t[0], 2, 0.5f, 0.6f, 1f));
        // Evaluation uses the running statistics, which training updated the same way on both devices.
        Conformance.Check(device, [[4, 3, 5, 5]], t =>
        {
            var bn = new BatchNorm2d(3).To(t[0].Device);
            using (GradMode.NoGrad()) bn.Forward(t[0] * 2f + 1f);
            return bn.Eval().Forward(t[0]);
        });
    }

    [Theory, MemberData(nameof(Devices))]
    public void Optimizer_steps(string device)
    {
        foreach (var make in new Func<Parameter[], Optimizer>[]
                 {
                     p => new SGD(p, 0.1f),
                     p => new SGD(p, 0.1f, momentum: 0.9f, dampening: 0.1f, weightDecay: 0.01f),
                     p => new SGD(p, 0.1f, momentum: 0.9f, nesterov: true),
                     p => new Adam(p, 0.01f, weightDecay: 0.01f),
                     p => new AdamW(p, 0.01f),
                 })
        {
            Conformance.AssertClose("parameters after 3 steps", Steps(Device.Cpu, make), Steps(Conformance.Resolve(device), make));
        }
    }

    // Three updates of a 37-element parameter from fixed gradients; returns the parameter.
    private static float[] Steps(Device device, Func<Parameter[], Optimizer> make)
    {
        var g = new Generator(11);
        var p = new Parameter(Tensor.Uniform([37], -1f, 1f, g).To(device));
        var opt = make([p]);
        for (int i = 0; i < 3; i++)
        {
            opt.ZeroGrad();
            var target = Tensor.Uniform([37], -1f, 1f, g).To(device);
            ((p - target).Square().Sum()).Backward();
            opt.Step();
        }
        return p.ToArray();
    }

    [Theory, MemberData(nameof(Devices))]
    public void Dropout_keeps_a_fraction_one_minus_p_and_scales_them(string device)
    {
        var d = Conformance.Resolve(device);
        var x = Tensor.Ones([4001], d);
        x.RequiresGrad = true;
        var y = Functional.Dropout(x, 0.3f, training: true, new Generator(5));
        var values = y.ToArray();
        Assert.All(values, v => Assert.True(v == 0f || Math.Abs(v - 1f / 0.7f) < 1e-6f, $"mask value {v}"));
        double kept = values.Count(v => v != 0f) / (double)values.Length;
        Assert.InRange(kept, 0.7 - 0.03, 0.7 + 0.03);
        y.Sum().Backward();
        Assert.Equal(values, x.Grad!.ToArray());
        // Another seed draws another mask.
        Assert.NotEqual(values, Functional.Dropout(Tensor.Ones([4001], d), 0.3f, true, new Generator(6)).ToArray());
    }
}
