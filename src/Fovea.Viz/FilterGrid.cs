using SkiaSharp;

namespace Fovea.Viz;

/// <summary>
/// A convolution's filters as a grid of small images, like the first-layer filters in the AlexNet and ZFNet
/// papers. Each filter is stretched on its own to the full range (min → black, max → white), over all its input
/// channels together so the colours keep their balance. Three input channels show as RGB, one as grey; any other
/// count shows the mean over the input channels as grey.
/// </summary>
public static class FilterGrid
{
    /// <summary>Renders a weight tensor [out, in, kh, kw].</summary>
    /// <param name="weight">The convolution's weight.</param>
    /// <param name="scale">Screen pixels per weight; null picks one that makes each cell about 64 pixels wide.</param>
    /// <param name="gap">Pixels between cells.</param>
    public static SKBitmap Render(Tensor weight, int? scale = null, int gap = 2)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4) throw new ArgumentException($"expected a convolution weight [out, in, kh, kw], got {weight.ShapeString}");
        int o = weight.Size(0), i = weight.Size(1), kh = weight.Size(2), kw = weight.Size(3);
        int s = scale ?? Math.Max(1, 64 / Math.Max(kh, kw));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(s);
        ArgumentOutOfRangeException.ThrowIfNegative(gap);
        var w = weight.Detach().Contiguous().ToArray();
        var grid = new GridLayout(o, kw * s, kh * s, gap);
        var bmp = Png.Blank(grid.Width, grid.Height, new SKColor(32, 32, 32));
        int per = i * kh * kw, plane = kh * kw;
        for (int f = 0; f < o; f++)
        {
            var filter = w.AsSpan(f * per, per).ToArray();
            var (x0, y0) = grid.Origin(f);
            if (i == 3)
            {
                var (lo, hi) = Png.Range(filter);
                Png.PaintCell(bmp, x0, y0, kh, kw, s, (y, x) =>
                {
                    int p = y * kw + x;
                    return new SKColor(Png.Byte(Png.Unit(filter[p], lo, hi)), Png.Byte(Png.Unit(filter[plane + p], lo, hi)),
                        Png.Byte(Png.Unit(filter[2 * plane + p], lo, hi)));
                });
            }
            else
            {
                var mean = new float[plane];
                for (int c = 0; c < i; c++)
                    for (int p = 0; p < plane; p++) mean[p] += filter[c * plane + p] / i;
                var (lo, hi) = Png.Range(mean);
                Png.PaintCell(bmp, x0, y0, kh, kw, s, (y, x) =>
                {
                    byte g = Png.Byte(Png.Unit(mean[y * kw + x], lo, hi));
                    return new SKColor(g, g, g);
                });
            }
        }
        return bmp;
    }
}
