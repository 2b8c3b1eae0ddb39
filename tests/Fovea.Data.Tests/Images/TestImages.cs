using SkiaSharp;

namespace Fovea.Data.Tests.Images;

/// <summary>Writes real PNG and JPEG files with SkiaSharp for the image-folder tests.</summary>
internal static class TestImages
{
    /// <summary>A colour image whose pixel (x, y) is <paramref name="color"/>(x, y).</summary>
    public static void WriteColour(string path, int width, int height, Func<int, int, SKColor> color, SKEncodedImageFormat format, int quality = 95)
    {
        using var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) bmp.SetPixel(x, y, color(x, y));
        Save(path, bmp, format, quality);
    }

    /// <summary>A one-channel grey image whose pixel (x, y) is <paramref name="value"/>(x, y).</summary>
    public static void WriteGrey(string path, int width, int height, Func<int, int, byte> value, SKEncodedImageFormat format, int quality = 95)
    {
        using var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        int stride = bmp.RowBytes;
        unsafe
        {
            byte* p = (byte*)bmp.GetPixels();
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++) p[y * stride + x] = value(x, y);
        }
        Save(path, bmp, format, quality);
    }

    private static void Save(string path, SKBitmap bmp, SKEncodedImageFormat format, int quality)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var data = bmp.Encode(format, quality) ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}");
        using var f = File.Create(path);
        data.SaveTo(f);
    }
}
