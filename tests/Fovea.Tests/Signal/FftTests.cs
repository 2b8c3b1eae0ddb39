namespace Fovea.Tests.Signal;

public class FftTests
{
    // The defining sum X[k] = Σ x[j]·e^(−2πi·jk/n), evaluated term by term.
    private static (double[] Re, double[] Im) Dft(double[] re, double[] im)
    {
        int n = re.Length;
        double[] xr = new double[n], xi = new double[n];
        for (int k = 0; k < n; k++)
            for (int j = 0; j < n; j++)
            {
                double a = -2 * Math.PI * ((long)j * k % n) / n;
                xr[k] += re[j] * Math.Cos(a) - im[j] * Math.Sin(a);
                xi[k] += re[j] * Math.Sin(a) + im[j] * Math.Cos(a);
            }
        return (xr, xi);
    }

    private static double[] Random(int n, Random rng) => [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1)];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(256)]
    public void ForwardMatchesTheDefinitionAndInverseRoundTrips(int n)
    {
        var rng = new Random(n);
        double[] re = Random(n, rng), im = Random(n, rng);
        var (er, ei) = Dft(re, im);
        double[] r = (double[])re.Clone(), i = (double[])im.Clone();
        Fft.Forward<double>(r, i);
        for (int k = 0; k < n; k++)
        {
            Assert.Equal(er[k], r[k], 1e-9);
            Assert.Equal(ei[k], i[k], 1e-9);
        }
        Fft.Inverse<double>(r, i);
        for (int k = 0; k < n; k++)
        {
            Assert.Equal(re[k], r[k], 1e-12);
            Assert.Equal(im[k], i[k], 1e-12);
        }
    }

    [Theory]
    [InlineData(8, 16)]
    [InlineData(32, 16)]
    [InlineData(64, 32)]
    [InlineData(1, 32)]
    [InlineData(32, 1)]
    public void TwoDimensionalIsRowsThenColumnsOfTheDefinition(int rows, int cols)
    {
        var rng = new Random(rows * 100 + cols);
        double[] re = Random(rows * cols, rng), im = Random(rows * cols, rng);
        // Expected: 1-D DFT of every row, then of every column.
        double[] er = (double[])re.Clone(), ei = (double[])im.Clone();
        for (int r = 0; r < rows; r++)
        {
            var (a, b) = Dft(er[(r * cols)..((r + 1) * cols)], ei[(r * cols)..((r + 1) * cols)]);
            a.CopyTo(er, r * cols);
            b.CopyTo(ei, r * cols);
        }
        for (int c = 0; c < cols; c++)
        {
            var (a, b) = Dft([.. Enumerable.Range(0, rows).Select(r => er[r * cols + c])], [.. Enumerable.Range(0, rows).Select(r => ei[r * cols + c])]);
            for (int r = 0; r < rows; r++)
            {
                er[r * cols + c] = a[r];
                ei[r * cols + c] = b[r];
            }
        }
        float[] fr = [.. re.Select(v => (float)v)], fi = [.. im.Select(v => (float)v)];
        Fft.Forward2D<float>(fr, fi, rows, cols);
        for (int k = 0; k < re.Length; k++)
        {
            Assert.Equal(er[k], fr[k], 1e-4);
            Assert.Equal(ei[k], fi[k], 1e-4);
        }
        Fft.Inverse2D<float>(fr, fi, rows, cols);
        for (int k = 0; k < re.Length; k++) Assert.Equal(re[k], fr[k], 1e-5);
    }

    [Theory]
    [InlineData(32, 64, 9)]
    [InlineData(4, 16, 3)]
    public void SkippingKnownZeroColumnsChangesNothing(int rows, int cols, int active)
    {
        var rng = new Random(7);
        float[] re = new float[rows * cols], im = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < active; c++) re[r * cols + c] = rng.NextSingle() - 0.5f;
        float[] r2 = (float[])re.Clone(), i2 = (float[])im.Clone();
        Fft.Forward2D<float>(re, im, rows, cols);
        Fft.Forward2D<float>(r2, i2, rows, cols, active);
        Assert.Equal(re, r2);
        Assert.Equal(im, i2);
    }

    [Fact]
    public void NonPowerOfTwoLengthThrows() =>
        Assert.Throws<ArgumentException>(() => Fft.Forward<double>(new double[6], new double[6]));
}
