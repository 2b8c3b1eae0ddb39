namespace Fovea.Data.Transforms;

/// <summary>Per-channel standardisation, <c>(x − mean[c]) / std[c]</c>, like torchvision's <c>Normalize</c>.
/// A single mean and std apply to every channel.</summary>
public sealed class Normalize : ITransform
{
    private readonly float[] _mean;
    private readonly float[] _std;

    public Normalize(float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"mean has {mean.Length} values and std {std.Length}; they need the same, nonzero, count");
        foreach (float s in std)
            if (!(s > 0) || float.IsInfinity(s)) throw new ArgumentException($"std must be positive and finite, got {s}", nameof(std));
        _mean = (float[])mean.Clone();
        _std = (float[])std.Clone();
    }

    /// <summary>Fashion-MNIST's training-set statistics (mean 0.2860, std 0.3530).</summary>
    public static Normalize FashionMnist() => new([0.2860f], [0.3530f]);

    /// <summary>MNIST's usual statistics (mean 0.1307, std 0.3081).</summary>
    public static Normalize Mnist() => new([0.1307f], [0.3081f]);

    public IReadOnlyList<float> Mean => _mean;
    public IReadOnlyList<float> Std => _std;

    public void Apply(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, ref SampleRandom random)
    {
        if (_mean.Length != 1 && _mean.Length != shape.Channels)
            throw new ArgumentException($"Normalize has {_mean.Length} channel statistics, the image has {shape.Channels} channels");
        int plane = shape.Height * shape.Width;
        for (int c = 0; c < shape.Channels; c++)
        {
            float m = _mean[_mean.Length == 1 ? 0 : c];
            float inv = 1f / _std[_std.Length == 1 ? 0 : c];
            var src = source.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = (src[i] - m) * inv;
        }
    }
}
