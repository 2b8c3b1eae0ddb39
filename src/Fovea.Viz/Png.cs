using Fovea.IO;
using SkiaSharp;

namespace Fovea.Viz;

/// <summary>Small helpers over SkiaSharp: a bitmap from grey or RGB floats in [0, 1], and PNG output.</summary>
public static class Png
{
    /// <summary>Encodes <paramref name="bitmap"/> as PNG bytes.</summary>
    public static byte[] Encode(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100) ?? throw new InvalidOperationException("SkiaSharp could not encode the PNG");
        return data.ToArray();
    }

    /// <summary>
    /// Writes <paramref name="bitmap"/> to <paramref name="path"/> as PNG (creating the folder), whole or not at all:
    /// training redraws its curves every epoch while a viewer may have the file open.
    /// </summary>
    public static void Save(SKBitmap bitmap, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var png = Encode(bitmap);
        AtomicFile.Write(path, s => s.Write(png));
    }

    /// <summary>An opaque bitmap of the given size filled with <paramref name="background"/>.</summary>
    public static SKBitmap Blank(int width, int height, SKColor background)
    {
        var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        bmp.Erase(background);
        return bmp;
    }

    /// <summary>Paints a cell of <paramref name="h"/>×<paramref name="w"/> values (each pixel <paramref name="scale"/>
    /// times enlarged) at (<paramref name="x0"/>, <paramref name="y0"/>); <paramref name="rgb"/> returns the colour of
    /// value (y, x).</summary>
    internal static void PaintCell(SKBitmap bmp, int x0, int y0, int h, int w, int scale, Func<int, int, SKColor> rgb)
    {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var c = rgb(y, x);
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++) bmp.SetPixel(x0 + x * scale + dx, y0 + y * scale + dy, c);
            }
    }

    /// <summary>A byte in [0, 255] from a value in [0, 1] (clamped).</summary>
    internal static byte Byte(float v) => (byte)Math.Clamp((int)MathF.Round(v * 255f), 0, 255);

    /// <summary>(min, max) over <paramref name="values"/>, NaNs ignored.</summary>
    internal static (float Min, float Max) Range(ReadOnlySpan<float> values)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (float.IsNaN(v)) continue;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        return (lo, hi);
    }

    /// <summary>Maps <paramref name="v"/> to [0, 1] over (min, max); a flat range maps to ½.</summary>
    internal static float Unit(float v, float min, float max) => max > min ? (v - min) / (max - min) : 0.5f;
}
