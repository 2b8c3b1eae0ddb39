using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

/// <summary>
/// The masked ReLU's vector loops against the plain ones, bit for bit, and against the definition (bit set exactly where
/// y &gt; 0, dx = dy there and 0 elsewhere), on lengths that end inside a word and with the special values.
/// </summary>
public class ReluMaskTests
{
    private static (float[] X, float[] Dy) Inputs(int n)
    {
        var g = new Generator(n + 5);
        var x = Tensor.Randn([n], g).ToArray();
        var dy = Tensor.Randn([n], g).ToArray();
        float[] special = [0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon];
        for (int i = 0; i < n; i += 3) x[i] = special[i / 3 % special.Length];
        for (int i = 1; i < n; i += 5) dy[i] = special[i / 5 % special.Length];
        return (x, dy);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1037)]
    public void ForwardKeepsABitWhereTheOutputIsPositive(int n)
    {
        var (x, _) = Inputs(n);
        var y = new float[n];
        var mask = Enumerable.Repeat(-1L, ReluMaskKernels.Words(n)).ToArray(); // every bit overwritten, the tail's with 0
        ReluMaskKernels.Forward(x, y, mask);
        var plainMask = new long[mask.Length];
        ReluMaskKernels.MaskReference(y, plainMask);
        Assert.Equal(plainMask, mask);
        for (int i = 0; i < n; i++)
        {
            float expected = float.IsNaN(x[i]) ? float.NaN : Math.Max(x[i], 0f);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected == 0f ? 0f : expected), BitConverter.SingleToInt32Bits(y[i] == 0f ? 0f : y[i]));
            Assert.Equal(y[i] > 0, ((ulong)mask[i / 64] >> (i % 64) & 1) != 0);
        }
        if (n % 64 != 0) Assert.Equal(0UL, (ulong)mask[^1] >> (n % 64));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1037)]
    public void BackwardPassesTheGradientWhereTheBitIsSet(int n)
    {
        var (x, dy) = Inputs(n);
        var mask = new long[ReluMaskKernels.Words(n)];
        ReluMaskKernels.Forward(x, new float[n], mask);
        var fast = new float[n];
        var plain = new float[n];
        ReluMaskKernels.Backward(mask, dy, fast);
        ReluMaskKernels.BackwardReference(mask, dy, plain);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(plain[i]), BitConverter.SingleToInt32Bits(fast[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits(x[i] > 0 ? dy[i] : 0f), BitConverter.SingleToInt32Bits(fast[i]));
        }
        // Written over dy, as the engine lets it when dy is spare.
        var inPlace = (float[])dy.Clone();
        ReluMaskKernels.Backward(mask, inPlace, inPlace);
        Assert.Equal(fast, inPlace);
    }
}
