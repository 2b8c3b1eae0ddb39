using Fovea.NN;
using Fovea.Optim;

namespace Fovea.Distributed.Tests;

/// <summary>
/// The small CNN the equivalence tests train (conv, ReLU, max pool, linear; no batch norm or dropout, so replicas
/// and ranks must agree with one process to float rounding), and a fixed synthetic data set. Shared with the MPI
/// test driver, which compiles this file too.
/// </summary>
public static class SmallCnn
{
    public const int Classes = 3;

    public static Sequential Create(int seed = 7)
    {
        var g = new Generator(seed);
        return new Sequential(
            new Conv2d(1, 4, 3, padding: 1, generator: g),
            new ReLU(),
            new MaxPool2d(2),
            new Flatten(),
            new Linear(4 * 4 * 4, Classes, generator: g));
    }

    /// <summary>A fixed batch of <paramref name="count"/> 1x8x8 images with labels 0..2.</summary>
    public static (Tensor Images, Tensor Labels) Data(int count, int seed = 11)
    {
        var g = new Generator(seed);
        var x = Tensor.Randn([count, 1, 8, 8], g);
        var labels = new long[count];
        for (int i = 0; i < count; i++) labels[i] = g.NextInt(Classes);
        return (x, Tensor.FromArray(labels, [count]));
    }

    public static SGD Optimizer(Module m) => new(m.Parameters(), lr: 0.1f, momentum: 0.9f);

    /// <summary>Trains one model on the whole batch for <paramref name="steps"/> steps; the reference.</summary>
    public static Sequential TrainSingle(Tensor images, Tensor labels, int steps)
    {
        var m = Create();
        var opt = Optimizer(m);
        var loss = new CrossEntropyLoss();
        for (int s = 0; s < steps; s++)
        {
            opt.ZeroGrad();
            loss.Forward(m.Forward(images), labels).Backward();
            opt.Step();
        }
        return m;
    }

    /// <summary>Every parameter's values end to end.</summary>
    public static float[] Flat(Module m) => m.Parameters().SelectMany(p => p.ToArray()).ToArray();

    /// <summary>max |a - b| / max(1, max |b|): relative to the weights' scale.</summary>
    public static double MaxRelativeDifference(float[] a, float[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths differ: {a.Length} and {b.Length}");
        double scale = 1e-3, diff = 0;
        for (int i = 0; i < b.Length; i++) scale = Math.Max(scale, Math.Abs(b[i]));
        for (int i = 0; i < a.Length; i++) diff = Math.Max(diff, Math.Abs(a[i] - b[i]));
        return diff / scale;
    }
}
