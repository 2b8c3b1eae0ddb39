using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

/// <summary>The vector ReLU / leaky-ReLU backward against the plain loop, bit for bit, including the special values.</summary>
public class ReluBackwardTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(7, false)]
    [InlineData(1037, false)]
    [InlineData(1037, true)]
    [InlineData(64, true)]
    public void VectorLoopEqualsTheReference(int n, bool leaky)
    {
        var g = new Generator(n);
        var x = Tensor.Randn([n], g).ToArray();
        var dy = Tensor.Randn([n], g).ToArray();
        // Kinks and special values: zero, negative zero, NaN and infinities on either side.
        float[] special = [0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        for (int i = 0; i < n; i += 3) x[i] = special[i / 3 % special.Length];
        for (int i = 1; i < n; i += 5) dy[i] = special[i / 5 % special.Length];
        var fast = new float[n];
        var plain = new float[n];
        UnaryKernels.ReluBackward(x, dy, fast, 0.1f, leaky);
        UnaryKernels.ReluBackwardReference(x, dy, plain, 0.1f, leaky);
        for (int i = 0; i < n; i++) Assert.Equal(BitConverter.SingleToInt32Bits(plain[i]), BitConverter.SingleToInt32Bits(fast[i]));
        // And the gradient is not all zero (at the lengths long enough to hold positive inputs).
        if (n >= 64) Assert.Contains(fast, v => v != 0f && !float.IsNaN(v));
    }
}
