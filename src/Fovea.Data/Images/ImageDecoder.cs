using SkiaSharp;

namespace Fovea.Data.Images;

/// <summary>Decodes PNG and JPEG files with SkiaSharp into float32 CHW images in [0, 1]. Thread-safe.</summary>
public static class ImageDecoder
{
    /// <summary>The file extensions image folders read (case-insensitive).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".jpg", ".jpeg", ".png"];

    /// <summary>True when <paramref name="path"/> ends with one of <see cref="Extensions"/>.</summary>
    public static bool HasImageExtension(string path) =>
        Extensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads only the header: the image's size and whether it is grey, or an error message when the file is
    /// not a PNG or JPEG this build decodes.</summary>
    public static (int Width, int Height, bool Grey, string? Error) Probe(string path)
    {
        try
        {
            using var codec = SKCodec.Create(path, out var result);
            if (codec is null) return (0, 0, false, $"not a decodable image ({result})");
            var info = codec.Info;
            if (info.Width <= 0 || info.Height <= 0) return (0, 0, false, "empty image");
            return (info.Width, info.Height, info.ColorType is SKColorType.Gray8 or SKColorType.Alpha8, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (0, 0, false, e.Message);
        }
    }

    /// <summary>
    /// Decodes the whole image into a CHW float array in [0, 1] with <paramref name="channels"/> channels: 3 gives
    /// RGB (a grey image is replicated to three equal channels), 1 gives grey (a colour image becomes its luma,
    /// 0.299 R + 0.587 G + 0.114 B, as PIL's <c>convert("L")</c>). Alpha is dropped.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="channels">3 (RGB) or 1 (grey).</param>
    /// <param name="shorterSideAtLeast">When set, a large JPEG is decoded at ½, ¼ or ⅛ scale (libjpeg's DCT
    /// scaling, much faster than a full decode) as long as its shorter side stays at least this long; the caller
    /// resizes the rest of the way. PNG files always decode at full size.</param>
    /// <exception cref="InvalidDataException">The file is not a decodable PNG or JPEG, or its data are truncated or corrupt.</exception>
    public static (float[] Pixels, ImageShape Shape) Decode(string path, int channels = 3, int? shorterSideAtLeast = null)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 (grey) or 3 (RGB)");
        using var codec = SKCodec.Create(path, out var created);
        if (codec is null)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"no such image: '{path}'", path);
            throw new InvalidDataException($"'{path}' is not a PNG or JPEG image this build can decode{created switch
            {
                SKCodecResult.IncompleteInput => ": its data end early",
                SKCodecResult.InvalidInput or SKCodecResult.ErrorInInput => ": its data are corrupt",
                _ => "",
            }}");
        }
        var info = codec.Info;
        int w = info.Width, h = info.Height;
        bool grey = info.ColorType is SKColorType.Gray8 or SKColorType.Alpha8;
        if (shorterSideAtLeast is int need && codec.EncodedFormat == SKEncodedImageFormat.Jpeg)
        {
            foreach (float scale in (ReadOnlySpan<float>)[0.125f, 0.25f, 0.5f])
            {
                var d = codec.GetScaledDimensions(scale);
                if (Math.Min(d.Width, d.Height) >= need && d.Width < w)
                {
                    (w, h) = (d.Width, d.Height);
                    break;
                }
            }
        }
        var target = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var px = new byte[w * h * 4];
        SKCodecResult r;
        unsafe
        {
            fixed (byte* p = px) r = codec.GetPixels(target, (IntPtr)p);
        }
        if (r != SKCodecResult.Success)
            throw new InvalidDataException($"cannot decode '{path}': {r} (truncated or corrupt image data)");
        var o = new float[channels * h * w];
        int plane = h * w;
        const float inv = 1f / 255f;
        if (channels == 3)
        {
            for (int i = 0; i < plane; i++)
            {
                o[i] = px[4 * i] * inv;
                o[plane + i] = px[4 * i + 1] * inv;
                o[2 * plane + i] = px[4 * i + 2] * inv;
            }
        }
        else if (grey)
        {
            for (int i = 0; i < plane; i++) o[i] = px[4 * i] * inv;
        }
        else
        {
            for (int i = 0; i < plane; i++)
                o[i] = (0.299f * px[4 * i] + 0.587f * px[4 * i + 1] + 0.114f * px[4 * i + 2]) * inv;
        }
        return (o, new ImageShape(channels, h, w));
    }
}
