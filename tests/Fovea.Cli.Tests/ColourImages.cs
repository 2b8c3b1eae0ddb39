using SkiaSharp;

namespace Fovea.Cli.Tests;

/// <summary>Real image files for the image-folder tests: classes told apart by colour, each pixel the class colour
/// plus seeded noise, so a small network learns them in an epoch or two.</summary>
internal static class ColourImages
{
    /// <summary>Writes DIR/NAME.png (or .jpg): a width × height image of <paramref name="colour"/> with noise of ±40.</summary>
    public static void Write(string dir, string name, SKColor colour, int width, int height, int seed, bool jpeg = false)
    {
        var rng = new Random(seed);
        using var bmp = new SKBitmap(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int n = rng.Next(-40, 40);
                bmp.SetPixel(x, y, new SKColor((byte)Math.Clamp(colour.Red + n, 0, 255), (byte)Math.Clamp(colour.Green + n, 0, 255), (byte)Math.Clamp(colour.Blue + n, 0, 255)));
            }
        using var data = bmp.Encode(jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 90);
        File.WriteAllBytes(Path.Combine(dir, name + (jpeg ? ".jpg" : ".png")), data.ToArray());
    }

    /// <summary>An ImageNet-layout folder, ROOT/SPLIT/CLASS/CLASS_i.png, of size × size images.</summary>
    public static void Folders(string root, (string Split, int Count)[] splits, (string Name, SKColor Colour)[] classes, int size)
    {
        foreach (var (split, count) in splits)
            foreach (var (name, colour) in classes)
            {
                var dir = Directory.CreateDirectory(Path.Combine(root, split, name)).FullName;
                for (int i = 0; i < count; i++) Write(dir, $"{name}_{i}", colour, size, size, i);
            }
    }

    /// <summary>Two classes, red and blue: <paramref name="train"/> and <paramref name="val"/> images of each.</summary>
    public static void RedAndBlue(string root, int train, int val, int size = 32) =>
        Folders(root, [("train", train), ("val", val)], [("red", new SKColor(200, 40, 40)), ("blue", new SKColor(40, 60, 200))], size);
}
