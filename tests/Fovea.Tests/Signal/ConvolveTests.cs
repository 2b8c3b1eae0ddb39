namespace Fovea.Tests.Signal;

/// <summary>numpy.convolve's documented results (its docstring and the textbook cases), direct and by FFT.</summary>
public class ConvolveTests
{
    private static void AssertSeq(double[] expected, double[] actual, double tol = 1e-12)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], tol);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NumpyDocstringExample(bool fft)
    {
        // numpy docs: np.convolve([1, 2, 3], [0, 1, 0.5]) → [0, 1, 2.5, 4, 1.5]; 'same' → [1, 2.5, 4]; 'valid' → [2.5]
        AssertSeq([0, 1, 2.5, 4, 1.5], Fovea.Signal.Convolve([1.0, 2, 3], [0, 1, 0.5], ConvolveMode.Full, fft));
        AssertSeq([1, 2.5, 4], Fovea.Signal.Convolve([1.0, 2, 3], [0, 1, 0.5], ConvolveMode.Same, fft));
        AssertSeq([2.5], Fovea.Signal.Convolve([1.0, 2, 3], [0, 1, 0.5], ConvolveMode.Valid, fft));
        // Swapped arguments: convolution commutes, and numpy swaps so that 'same' has the longer length.
        AssertSeq([1, 2.5, 4], Fovea.Signal.Convolve([0, 1, 0.5], [1.0, 2, 3], ConvolveMode.Same, fft));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TwoDiceGiveTheTriangle(bool fft)
    {
        double[] die = [.. Enumerable.Repeat(1.0 / 6, 6)];
        var sum = Fovea.Signal.Convolve(die, die, ConvolveMode.Full, fft);
        // P(total = 2..12) = 1,2,3,4,5,6,5,4,3,2,1 / 36
        AssertSeq([1 / 36.0, 2 / 36.0, 3 / 36.0, 4 / 36.0, 5 / 36.0, 6 / 36.0, 5 / 36.0, 4 / 36.0, 3 / 36.0, 2 / 36.0, 1 / 36.0], sum);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PolynomialProduct(bool fft)
    {
        // (1 + 2x)(3 + x + x²) = 3 + 7x + 3x² + 2x³
        AssertSeq([3, 7, 3, 2], Fovea.Signal.Convolve([1.0, 2], [3.0, 1, 1], ConvolveMode.Full, fft));
        float[] f = Fovea.Signal.Convolve([1f, 2], [3f, 1, 1], ConvolveMode.Full, fft);
        Assert.Equal(new float[] { 3, 7, 3, 2 }, f.Select(v => MathF.Round(v, 4)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FiveTapBoxFilterIsTheMovingAverage(bool fft)
    {
        var rng = new Random(5);
        double[] x = [.. Enumerable.Range(0, 40).Select(_ => rng.NextDouble() * 10)];
        var got = Fovea.Signal.Convolve(x, [0.2, 0.2, 0.2, 0.2, 0.2], ConvolveMode.Valid, fft);
        var expected = new double[x.Length - 4];
        for (int i = 0; i < expected.Length; i++)
        {
            double s = 0;
            for (int j = 0; j < 5; j++) s += x[i + j];
            expected[i] = s / 5;
        }
        AssertSeq(expected, got, 1e-12);
    }

    [Fact]
    public void EvenShortLengthSameCentringAndValidLength()
    {
        // Worked by hand from numpy's rule (no numpy here to run): full is [1, 3, 6, 10, 14, 12, 9, 5]; 'same' keeps
        // max(M, N) values from offset (min(M, N) − 1) / 2 = 1, 'valid' from min(M, N) − 1 = 3.
        AssertSeq([3, 6, 10, 14, 12], Fovea.Signal.Convolve([1.0, 2, 3, 4, 5], [1.0, 1, 1, 1], ConvolveMode.Same));
        AssertSeq([10, 14], Fovea.Signal.Convolve([1.0, 2, 3, 4, 5], [1.0, 1, 1, 1], ConvolveMode.Valid));
        AssertSeq([10, 14], Fovea.Signal.Convolve([1.0, 1, 1, 1], [1.0, 2, 3, 4, 5], ConvolveMode.Valid));
    }

    [Fact]
    public void FftEqualsDirectOnRandomLengths()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 60; trial++)
        {
            int n = rng.Next(1, 301), m = rng.Next(1, 301);
            double[] a = [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1)];
            double[] v = [.. Enumerable.Range(0, m).Select(_ => rng.NextDouble() * 2 - 1)];
            foreach (var mode in new[] { ConvolveMode.Full, ConvolveMode.Same, ConvolveMode.Valid })
            {
                var direct = Fovea.Signal.Convolve(a, v, mode);
                AssertSeq(direct, Fovea.Signal.Convolve(a, v, mode, useFft: true), 1e-9);
                AssertSeq(direct, Fovea.Signal.Convolve(v, a, mode, useFft: true), 1e-9);
                AssertSeq(direct, Fovea.Signal.Convolve(v, a, mode), 1e-12);
            }
        }
    }

    [Fact]
    public void EmptyInputThrows()
    {
        Assert.Throws<ArgumentException>(() => Fovea.Signal.Convolve(ReadOnlySpan<double>.Empty, [1.0]));
        Assert.Throws<ArgumentException>(() => Fovea.Signal.Convolve([1.0], ReadOnlySpan<double>.Empty, useFft: true));
        Assert.Throws<ArgumentException>(() => Fovea.Signal.Convolve(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty));
    }
}
