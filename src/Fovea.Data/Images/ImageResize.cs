namespace Fovea.Data.Images;

/// <summary>
/// Resizing of float32 CHW images with a separable triangle (bilinear) filter that widens when shrinking, so a
/// downscale averages every source pixel under the output pixel instead of skipping some (PIL's and torchvision's
/// <c>antialias=True</c> bilinear). Sample centres are at half-pixels (<c>align_corners=False</c>); at the border
/// the weights that fall inside the image are renormalised, which is clamp-to-edge for an upscale.
/// </summary>
public static class ImageResize
{
    /// <summary>The size after resizing the shorter side to <paramref name="size"/> and keeping the aspect ratio:
    /// the longer side becomes ⌊size·long/short⌋, as torchvision's <c>Resize(size)</c>.</summary>
    public static (int Height, int Width) ShorterSideSize(int height, int width, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (height <= width) return (size, (int)((long)size * width / height));
        return ((int)((long)size * height / width), size);
    }

    /// <summary>Resizes <paramref name="source"/> (of <paramref name="shape"/>) to <paramref name="height"/>×<paramref name="width"/>.</summary>
    public static void Resize(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination, int height, int width) =>
        ResizeWindow(source, shape, destination, height, width, 0, 0, height, width);

    /// <summary>
    /// Computes only the window [<paramref name="top"/>, +<paramref name="windowHeight"/>) × [<paramref name="left"/>,
    /// +<paramref name="windowWidth"/>) of the image resized to <paramref name="resizedHeight"/>×<paramref name="resizedWidth"/>:
    /// resize-then-crop in one pass, without the pixels the crop throws away.
    /// </summary>
    public static void ResizeWindow(ReadOnlySpan<float> source, ImageShape shape, Span<float> destination,
        int resizedHeight, int resizedWidth, int top, int left, int windowHeight, int windowWidth)
    {
        if (top < 0 || left < 0 || windowHeight <= 0 || windowWidth <= 0 || top + windowHeight > resizedHeight || left + windowWidth > resizedWidth)
            throw new ArgumentException($"window {windowHeight}x{windowWidth} at ({top}, {left}) does not lie inside {resizedHeight}x{resizedWidth}");
        if (source.Length < shape.Length) throw new ArgumentException($"source holds {source.Length} floats, shape {shape} needs {shape.Length}");
        if (destination.Length < shape.Channels * windowHeight * windowWidth)
            throw new ArgumentException($"destination holds {destination.Length} floats, needs {shape.Channels * windowHeight * windowWidth}");
        var rows = Weights(shape.Height, resizedHeight, top, windowHeight);
        var cols = Weights(shape.Width, resizedWidth, left, windowWidth);
        int h = shape.Height, w = shape.Width;
        // Horizontal pass first, into an (H x windowWidth) buffer per channel, then the vertical pass.
        var tmp = new float[h * windowWidth];
        for (int c = 0; c < shape.Channels; c++)
        {
            var src = source.Slice(c * h * w, h * w);
            for (int y = 0; y < h; y++)
            {
                var row = src.Slice(y * w, w);
                for (int x = 0; x < windowWidth; x++)
                {
                    var (start, wts) = cols[x];
                    float acc = 0;
                    for (int k = 0; k < wts.Length; k++) acc += wts[k] * row[start + k];
                    tmp[y * windowWidth + x] = acc;
                }
            }
            var dst = destination.Slice(c * windowHeight * windowWidth, windowHeight * windowWidth);
            for (int y = 0; y < windowHeight; y++)
            {
                var (start, wts) = rows[y];
                var drow = dst.Slice(y * windowWidth, windowWidth);
                drow.Clear();
                for (int k = 0; k < wts.Length; k++)
                {
                    float wk = wts[k];
                    var trow = tmp.AsSpan((start + k) * windowWidth, windowWidth);
                    for (int x = 0; x < windowWidth; x++) drow[x] += wk * trow[x];
                }
            }
        }
    }

    // For output indices first..first+count of an axis resized from inSize to outSize: the first source index and
    // the normalised triangle weights of the source pixels that contribute.
    private static (int Start, float[] Weights)[] Weights(int inSize, int outSize, int first, int count)
    {
        double scale = (double)inSize / outSize;
        double support = Math.Max(scale, 1.0); // the triangle's half-width in source pixels
        var result = new (int, float[])[count];
        for (int i = 0; i < count; i++)
        {
            double center = (first + i + 0.5) * scale;
            int lo = Math.Max(0, (int)Math.Floor(center - support + 0.5));
            int hi = Math.Min(inSize, (int)Math.Floor(center + support + 0.5));
            var wts = new double[Math.Max(hi - lo, 0)];
            double sum = 0;
            for (int j = lo; j < hi; j++)
            {
                double d = Math.Abs((j + 0.5 - center) / support);
                double wj = d < 1 ? 1 - d : 0;
                wts[j - lo] = wj;
                sum += wj;
            }
            if (sum <= 0)
            {
                // Cannot happen for sizes ≥ 1, but keep the nearest pixel rather than divide by zero.
                int nearest = Math.Clamp((int)center, 0, inSize - 1);
                result[i] = (nearest, [1f]);
                continue;
            }
            result[i] = (lo, wts.Select(v => (float)(v / sum)).ToArray());
        }
        return result;
    }
}
