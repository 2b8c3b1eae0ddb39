using Fovea.Data.Transforms;

namespace Fovea.Data.Images;

/// <summary>
/// AlexNet's colour augmentation ("fancy PCA", Krizhevsky et al. 2012, §4.1): adds to every pixel of an RGB image
/// in [0, 1] the same vector <c>Σ_j eigvec[:, j] · α_j · eigval_j</c>, with α_j drawn from N(0, <see cref="AlphaStd"/>²)
/// once per sample, along the principal components of ImageNet's pixel colours. Run it before normalisation.
/// Draws three normals (six uniforms) per sample.
/// </summary>
public sealed class PcaLighting : ITransform
{
    /// <summary>Eigenvalues of the covariance of ImageNet's RGB pixels in [0, 1] (the constants torchvision's
    /// reference scripts and fb.resnet.torch use).</summary>
    public static IReadOnlyList<float> ImageNetEigenvalues { get; } = [0.2175f, 0.0188f, 0.0045f];

    /// <summary>The matching eigenvectors, row r = colour channel r (R, G, B), column j = component j.</summary>
    public static float[,] ImageNetEigenvectors => new float[,]
    {
        { -0.5675f, 0.7192f, 0.4009f },
        { -0.5808f, -0.0045f, -0.8140f },
        { -0.5836f, -0.6948f, 0.4203f },
    };

    private readonly float[,] _eigvec = ImageNetEigenvectors;

    /// <param name="alphaStd">Standard deviation of α (0.1 in the paper); 0 turns the transform into a copy.</param>
    public PcaLighting(double alphaStd = 0.1)
    {
        if (!(alphaStd >= 0) || double.IsInfinity(alphaStd)) throw new ArgumentOutOfRangeException(nameof(alphaStd), alphaStd, "a finite, non-negative standard deviation");
        AlphaStd = alphaStd;
    }

    public double AlphaStd { get; }

    public void Apply(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, ref SampleRandom random)
    {
        if (shape.Channels != 3) throw new ArgumentException($"PcaLighting needs an RGB image, got {shape.Channels} channels");
        Span<double> alpha = [Normal(ref random) * AlphaStd, Normal(ref random) * AlphaStd, Normal(ref random) * AlphaStd];
        var shift = Shift(alpha);
        int plane = shape.Height * shape.Width;
        for (int c = 0; c < 3; c++)
        {
            float s = shift[c];
            var src = source.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = src[i] + s;
        }
    }

    /// <summary>The RGB offset for the component weights <paramref name="alpha"/>: eigvec · (α ⊙ eigval).</summary>
    public float[] Shift(ReadOnlySpan<double> alpha)
    {
        var o = new float[3];
        for (int c = 0; c < 3; c++)
        {
            double s = 0;
            for (int j = 0; j < 3; j++) s += _eigvec[c, j] * alpha[j] * ImageNetEigenvalues[j];
            o[c] = (float)s;
        }
        return o;
    }

    // Box–Muller from two uniforms of the sample's stream (1 − u keeps the logarithm finite).
    private static double Normal(ref SampleRandom random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
