namespace Fovea.Data.Transforms;

/// <summary>
/// One step of per-sample preprocessing or augmentation on a float32 CHW image. A transform reads
/// <c>source</c> (of the input shape) and writes <c>destination</c> (of <see cref="OutputShape"/>); the two
/// never overlap, and the loader supplies reusable buffers, so a transform need allocate nothing.
/// Random transforms draw only from the <see cref="SampleRandom"/> they are handed, which the loader seeds
/// from (seed, epoch, sample index): the same sample in the same epoch is augmented the same way whatever
/// thread prepares it. Implementations must be safe to call from several threads at once.
/// </summary>
public interface ITransform
{
    /// <summary>The shape this transform produces from <paramref name="input"/>.</summary>
    ImageShape OutputShape(ImageShape input) => input;

    /// <summary>Transforms one image.</summary>
    void Apply(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, ref SampleRandom random);
}
