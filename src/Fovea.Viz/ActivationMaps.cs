using Fovea.NN;
using SkiaSharp;

namespace Fovea.Viz;

/// <summary>
/// What each convolution responds to in one image: for every <see cref="Conv2d"/> layer, a grid with one grey
/// map per output channel (each map stretched on its own, min → black, max → white). When the layer right after
/// the convolution is an activation (ReLU and friends), its output is shown, as that is what the next layer sees.
/// </summary>
public static class ActivationMaps
{
    /// <summary>The maps of one layer.</summary>
    public sealed record LayerMaps(string Name, Tensor Output)
    {
        /// <summary>The grid picture of these maps.</summary>
        public SKBitmap Render(int? scale = null, int gap = 2) => ActivationMaps.Render(Output, scale, gap);
    }

    /// <summary>Runs <paramref name="input"/> [1, C, H, W] (already normalised as in training) through the model
    /// and returns the maps of every convolution, in order, named by the convolution's layer name.</summary>
    public static IReadOnlyList<LayerMaps> Capture(Module model, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4 || input.Size(0) != 1) throw new ArgumentException($"expected one image [1, C, H, W], got {input.ShapeString}");
        var layers = LayerTrace.Layers(model);
        var result = new List<LayerMaps>();
        string? pendingConv = null;
        Tensor? pendingOut = null;
        LayerTrace.Run(model, input, onOutput: (name, m, x) =>
        {
            if (pendingConv is not null)
            {
                // An activation right after the convolution: show its output instead.
                result.Add(new LayerMaps(pendingConv, IsActivation(m) ? x : pendingOut!));
                pendingConv = null;
            }
            if (m is Conv2d)
            {
                pendingConv = name;
                pendingOut = x;
            }
        });
        if (pendingConv is not null) result.Add(new LayerMaps(pendingConv, pendingOut!));
        if (result.Count == 0) throw new ArgumentException($"the model has no Conv2d layer; its layers are: {string.Join(", ", layers.Select(l => l.Name))}");
        return result;
    }

    private static bool IsActivation(Module m) => m is ReLU or LeakyReLU or Tanh or Sigmoid;

    /// <summary>Renders feature maps [1, C, H, W] or [C, H, W] as a grid of C grey cells.</summary>
    /// <param name="maps">The layer's output.</param>
    /// <param name="scale">Screen pixels per map pixel; null makes each cell at least about 48 pixels wide.</param>
    /// <param name="gap">Pixels between cells.</param>
    public static SKBitmap Render(Tensor maps, int? scale = null, int gap = 2)
    {
        ArgumentNullException.ThrowIfNull(maps);
        if (maps.Rank == 4 && maps.Size(0) == 1) maps = maps.Squeeze(0);
        if (maps.Rank != 3) throw new ArgumentException($"expected feature maps [C, H, W], got {maps.ShapeString}");
        int c = maps.Size(0), h = maps.Size(1), w = maps.Size(2);
        int s = scale ?? Math.Max(1, (int)Math.Ceiling(48.0 / Math.Max(h, w)));
        var v = maps.Detach().Contiguous().ToArray();
        var grid = new GridLayout(c, w * s, h * s, gap);
        var bmp = Png.Blank(grid.Width, grid.Height, new SKColor(64, 0, 0));
        for (int k = 0; k < c; k++)
        {
            var plane = v.AsSpan(k * h * w, h * w).ToArray();
            var (lo, hi) = Png.Range(plane);
            var (x0, y0) = grid.Origin(k);
            Png.PaintCell(bmp, x0, y0, h, w, s, (y, x) =>
            {
                byte g = Png.Byte(hi > lo ? (plane[y * w + x] - lo) / (hi - lo) : 0f);
                return new SKColor(g, g, g);
            });
        }
        return bmp;
    }
}
