using SkiaSharp;

namespace Fovea.Cli;

/// <summary>Reads a PNG or JPEG into a [1, C, H, W] float tensor in [0, 1], checking it against the model's input shape.</summary>
internal static class ImageInput
{
    public static Tensor Load(string path, int[] inputShape)
    {
        using var data = SKData.Create(path) ?? throw new FileNotFoundException($"cannot read image '{path}'", path);
        using var codec = SKCodec.Create(data) ?? throw new InvalidDataException($"'{path}' is not a PNG or JPEG image this build can decode");
        var info = codec.Info;
        int c = inputShape[0], h = inputShape[1], w = inputShape[2];
        if (info.Width != w || info.Height != h)
            throw new ArgumentException($"image '{path}' is {info.Width}x{info.Height}, the model expects {w}x{h}");
        bool grey = info.ColorType is SKColorType.Gray8 or SKColorType.Alpha8;
        if (c == 1 && !grey)
            throw new ArgumentException($"image '{path}' has colour channels, the model expects 1 grey channel");
        if (c == 3 && grey)
            throw new ArgumentException($"image '{path}' is grey, the model expects 3 colour channels");
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new InvalidDataException($"cannot decode '{path}': {result}");
        var px = bitmap.GetPixelSpan();
        var o = new float[c * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int p = (y * w + x) * 4;
                for (int ch = 0; ch < c; ch++) o[(ch * h + y) * w + x] = px[p + ch] / 255f;
            }
        return Tensor.FromArray(o, [1, c, h, w]);
    }
}
