namespace Fovea.Data.Transforms;

/// <summary>
/// Pads each side with <see cref="Padding"/> zeros, then cuts a <see cref="Height"/>×<see cref="Width"/>
/// window at a uniform random position, like torchvision's <c>RandomCrop(size, padding)</c> with constant
/// zero fill. Draws two numbers per sample: the top offset, then the left offset, each uniform over every
/// valid position of the padded image.
/// </summary>
public sealed class RandomCrop : ITransform
{
    public RandomCrop(int size, int padding = 0) : this(size, size, padding) { }

    public RandomCrop(int height, int width, int padding)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        Height = height;
        Width = width;
        Padding = padding;
    }

    public int Height { get; }
    public int Width { get; }
    public int Padding { get; }

    public ImageShape OutputShape(ImageShape input) => new(input.Channels, Height, Width);

    public void Apply(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, ref SampleRandom random)
    {
        int paddedH = shape.Height + 2 * Padding, paddedW = shape.Width + 2 * Padding;
        if (paddedH < Height || paddedW < Width)
            throw new ArgumentException($"RandomCrop: a {Height}x{Width} window does not fit in the {shape.Height}x{shape.Width} image padded by {Padding}");
        int top = random.NextInt(paddedH - Height + 1);
        int left = random.NextInt(paddedW - Width + 1);
        Crop(source, shape, destination, top - Padding, left - Padding, Height, Width);
    }

    /// <summary>Copies the window whose top-left corner is (<paramref name="top"/>, <paramref name="left"/>) in
    /// source coordinates (may be negative or run past the edge); outside the image it writes zeros.</summary>
    public static void Crop(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, int top, int left, int height, int width)
    {
        int h = shape.Height, w = shape.Width;
        // The columns of the window that fall inside the image.
        int x0 = Math.Clamp(-left, 0, width), x1 = Math.Clamp(w - left, 0, width);
        for (int c = 0; c < shape.Channels; c++)
        {
            var srcPlane = source.Slice(c * h * w, h * w);
            var dstPlane = destination.Slice(c * height * width, height * width);
            for (int y = 0; y < height; y++)
            {
                var dstRow = dstPlane.Slice(y * width, width);
                int sy = top + y;
                if (sy < 0 || sy >= h || x1 <= x0)
                {
                    dstRow.Clear();
                    continue;
                }
                dstRow[..x0].Clear();
                srcPlane.Slice(sy * w + left + x0, x1 - x0).CopyTo(dstRow[x0..x1]);
                dstRow[x1..].Clear();
            }
        }
    }
}
