using Fovea.NN;
using Fovea.Tests.Support;

namespace Fovea.Tests.Memory;

/// <summary>
/// Convolution, pooling, linear, matmul and element-wise outputs and gradients start in uninitialised buffers
/// (<see cref="Tensor.Empty"/>): in a step they are pooled buffers still holding what their last user wrote. Every
/// kernel must write them whole, so here the pool holds NaN where a step reuses a buffer, and the results must equal
/// those over zeroed buffers.
/// </summary>
[Collection(Support.SerialCollection.Name)]
public class UninitializedOutputTests
{
    public static TheoryData<ConvAlgorithm, int, int, int, int, int> Cases() => new()
    {
        // algorithm, batch, channels, size, kernel, stride: the backward's algorithms follow the shape (Winograd's
        // data and filter gradients on the 3x3 layer with enough tiles, im2col on the strided 5x5, the direct
        // kernel's 1x1 path).
        { ConvAlgorithm.Winograd, 2, 16, 40, 3, 1 },
        { ConvAlgorithm.Im2colGemm, 2, 8, 17, 5, 2 },
        { ConvAlgorithm.Direct, 2, 8, 13, 3, 1 },
        { ConvAlgorithm.Direct, 2, 8, 9, 1, 1 },
        { ConvAlgorithm.Fft, 1, 4, 20, 7, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvolutionWritesItsOutputAndGradientsWholeOverDirtyBuffers(ConvAlgorithm algorithm, int batch, int channels, int size, int kernel, int stride)
    {
        var clean = Run(algorithm, batch, channels, size, kernel, stride, dirt: 0f);
        var dirty = Run(algorithm, batch, channels, size, kernel, stride, dirt: float.NaN);
        foreach (var (name, expected, actual) in new[] { ("y", clean.Y, dirty.Y), ("dx", clean.Dx, dirty.Dx), ("dw", clean.Dw, dirty.Dw), ("db", clean.Db, dirty.Db) })
        {
            Assert.DoesNotContain(actual, float.IsNaN);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{algorithm} {name}: a step over dirty buffers differs from one over zeroed buffers");
        }
    }

    private record Results(float[] Y, float[] Dx, float[] Dw, float[] Db);

    // Two steps on one fresh layer: the second adds to the gradients the first left (so its weight gradients go
    // into step buffers, not Grad), and x reaches the conv through a product, so dx is a step buffer too.
    private static Results Run(ConvAlgorithm algorithm, int batch, int channels, int size, int kernel, int stride, float dirt)
    {
        int outSize = (size + 2 * (kernel / 2) - kernel) / stride + 1, filters = 12;
        var x = Tensor.Randn([batch, channels, size, size], new Generator(7));
        x.RequiresGrad = true;
        var w = new Parameter(Tensor.Randn([filters, channels, kernel, kernel], new Generator(8)) * 0.1f);
        var b = new Parameter(Tensor.Randn([filters], new Generator(9)));
        float[] y = [];
        for (int step = 0; step < 2; step++)
        {
            using (StepMemory.Begin())
            {
                // Three buffers of every length the step rents, left holding dirt, come back to the pool here.
                foreach (int[] shape in new[] { x.Shape, [batch, filters, outSize, outSize], w.Shape, b.Shape })
                    for (int k = 0; k < 3; k++) Tensor.Full(shape, dirt);
            }
            using (StepMemory.Begin())
            {
                int p = kernel / 2;
                var h = Functional.Conv2d(x * 2f, w, b, (stride, stride), (p, p, p, p), algorithm: algorithm);
                y = h.ToArray();
                Squares(h).Backward();
            }
        }
        return new Results(y, x.Grad!.ToArray(), w.Grad!.ToArray(), b.Grad!.ToArray());
    }

    private static Tensor Squares(Tensor y) => (y * y).Sum();

    [Fact]
    public void ALeafInputsGradientIsWrittenIntoItsGradAndOverItsClearedBuffer()
    {
        var conv = new Conv2d(16, 16, 3, padding: 1, generator: new Generator(10));
        var x = Tensor.Randn([2, 16, 40, 40], new Generator(11));
        x.RequiresGrad = true;
        using (StepMemory.Begin()) Squares(conv.Forward(x)).Backward();
        var first = x.Grad!.ToArray();
        var buffer = x.Grad!.Storage;

        // Cleared (as zero_grad) and poisoned: the next backward must write every element of the buffer again.
        x.Grad.Backend.Fill(buffer, float.NaN);
        x.ClearGrad();
        using (StepMemory.Begin()) Squares(conv.Forward(x)).Backward();
        Assert.Same(buffer, x.Grad!.Storage);
        Assert.Equal(first, x.Grad.ToArray());

        // Not cleared: the second gradient adds to the first, as in PyTorch.
        using (StepMemory.Begin()) Squares(conv.Forward(x)).Backward();
        var twice = x.Grad!.ToArray();
        for (int i = 0; i < twice.Length; i++) Assert.Equal(2 * first[i], twice[i], 1e-4f * (1 + Math.Abs(twice[i])));
    }

    // Every op that starts its output uninitialised, forward and backward: conv, ReLU, max and average pooling, the
    // element-wise product, sum and sigmoid, linear, tanh, matmul, leaky ReLU.
    private static Tensor Loss(Tensor x, Parameter[] p, Tensor labels)
    {
        var h = Functional.Conv2d(x, p[0], p[1], padding: (1, 1, 1, 1)).Relu();
        h = Functional.MaxPool2d(h, (2, 2));
        h = Functional.AvgPool2d(h * 1.5f + h.Sigmoid(), (2, 2));
        h = Functional.Linear(h.Reshape([h.Size(0), -1]), p[2], p[3]).Tanh();
        return Functional.NllLoss(Functional.LogSoftmax(h.MatMul(p[4]).LeakyRelu(), 1), labels);
    }

    private static float[][] Gradients(bool inSteps)
    {
        var g = new Generator(12);
        Parameter[] p =
        [
            new(Tensor.Randn([6, 3, 3, 3], g) * 0.3f), new(Tensor.Randn([6], g)),
            new(Tensor.Randn([10, 6 * 4 * 4], g) * 0.1f), new(Tensor.Randn([10], g)), new(Tensor.Randn([10, 5], g) * 0.3f),
        ];
        var x = Tensor.Randn([4, 3, 16, 16], new Generator(13));
        var labels = Tensor.FromArray(new long[] { 0, 3, 4, 1 }, [4]);
        if (!inSteps)
        {
            Loss(x, p, labels).Backward();
            return [.. p.Select(q => q.Grad!.ToArray())];
        }
        // The second step rents every buffer the first gave back, each filled with NaN on its return.
        StepMemory.PoisonReleased = true;
        try
        {
            for (int step = 0; step < 2; step++)
            {
                foreach (var q in p) q.ClearGrad();
                using (StepMemory.Begin()) Loss(x, p, labels).Backward();
            }
            return [.. p.Select(q => q.Grad!.ToArray())];
        }
        finally { StepMemory.PoisonReleased = false; }
    }

    [Fact]
    public void EveryOpWritesItsOutputsWholeOverPoisonedBuffers()
    {
        var expected = Gradients(inSteps: false);
        var actual = Gradients(inSteps: true);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.DoesNotContain(actual[i], float.IsNaN);
            Close.Assert(expected[i], actual[i], $"parameter {i}");
        }
    }
}
