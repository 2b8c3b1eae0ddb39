using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

[Collection(Support.SerialCollection.Name)]
public class SgdKernelTests
{
    // Long enough to be split over two threads in 16384-element blocks, with a tail that is not a whole vector.
    private const int N = 3 * 16384 + 5;

    [Theory]
    [InlineData(0.9f, 0f, false, 0f, false)]
    [InlineData(0.9f, 0f, false, 0f, true)]
    [InlineData(0.9f, 0.1f, true, 5e-4f, false)]
    [InlineData(0f, 0f, false, 1e-2f, false)]
    public void VectorAndThreadedUpdateEqualsThePlainLoopBitForBit(float momentum, float dampening, bool nesterov, float weightDecay, bool firstStep)
    {
        int saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = 2;
            var rng = new Random(7);
            float[] Random() => Enumerable.Range(0, N).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[] p = Random(), g = Random(), buf = Random();
            float[] p2 = (float[])p.Clone(), buf2 = (float[])buf.Clone();
            OptimizerKernels.Sgd(p, g, momentum == 0f ? null : buf, N, 0.05f, momentum, dampening, nesterov, weightDecay, firstStep);
            OptimizerKernels.SgdReference(p2, g, momentum == 0f ? default : buf2.AsSpan(), 0.05f, momentum, dampening, nesterov, weightDecay, firstStep);
            Assert.Equal(p2, p);
            Assert.Equal(buf2, buf);
        }
        finally
        {
            CpuParallel.Threads = saved;
        }
    }
}
