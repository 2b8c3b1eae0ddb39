namespace Fovea.Data.Transforms;

/// <summary>Mirrors the image left to right with probability <see cref="P"/>, like torchvision's
/// <c>RandomHorizontalFlip</c>. Draws exactly one number per sample.</summary>
public sealed class RandomHorizontalFlip : ITransform
{
    public RandomHorizontalFlip(double p = 0.5)
    {
        if (p is < 0 or > 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "a probability in [0, 1]");
        P = p;
    }

    /// <summary>Probability of flipping.</summary>
    public double P { get; }

    public void Apply(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, ref SampleRandom random)
    {
        bool flip = random.NextDouble() < P;
        if (!flip)
        {
            source[..shape.Length].CopyTo(destination);
            return;
        }
        Flip(source, shape, destination);
    }

    /// <summary>Unconditional left-right mirror of a CHW image.</summary>
    public static void Flip(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination)
    {
        int w = shape.Width;
        int rows = shape.Channels * shape.Height;
        for (int r = 0; r < rows; r++)
        {
            var src = source.Slice(r * w, w);
            var dst = destination.Slice(r * w, w);
            for (int x = 0; x < w; x++) dst[x] = src[w - 1 - x];
        }
    }
}
