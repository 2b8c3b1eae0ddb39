using Fovea.Data.Transforms;

namespace Fovea.Data.Images;

/// <summary>Cuts the central <see cref="Height"/>×<see cref="Width"/> window, like torchvision's <c>CenterCrop</c>
/// (the offset is round((size − crop) / 2), halves to even). The evaluation counterpart of <see cref="RandomCrop"/>.</summary>
public sealed class CenterCrop : ITransform
{
    public CenterCrop(int size) : this(size, size) { }

    public CenterCrop(int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        Height = height;
        Width = width;
    }

    public int Height { get; }
    public int Width { get; }

    public ImageShape OutputShape(ImageShape input) => new(input.Channels, Height, Width);

    /// <summary>The top (or left) offset of a centred window of <paramref name="crop"/> in <paramref name="size"/>.</summary>
    public static int Offset(int size, int crop) => (int)Math.Round((size - crop) / 2.0, MidpointRounding.ToEven);

    public void Apply(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, ref SampleRandom random)
    {
        if (shape.Height < Height || shape.Width < Width)
            throw new ArgumentException($"CenterCrop: a {Height}x{Width} window does not fit in the {shape.Height}x{shape.Width} image");
        RandomCrop.Crop(source, shape, destination, Offset(shape.Height, Height), Offset(shape.Width, Width), Height, Width);
    }
}
