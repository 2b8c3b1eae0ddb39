using System.Globalization;
using SkiaSharp;

namespace Fovea.Viz;

/// <summary>
/// A confusion matrix as a heat map: rows are true classes, columns predictions; each cell's shade is the fraction
/// of its row (so rare classes show as clearly as common ones), white (0) to dark blue (1), with the count written
/// in the cell when cells are large enough, class names on the left and class indices along the top.
/// </summary>
public static class ConfusionHeatmap
{
    /// <summary>Renders <paramref name="confusion"/> [true, predicted].</summary>
    /// <param name="confusion">Counts, square.</param>
    /// <param name="classNames">One name per class (null: indices).</param>
    /// <param name="title">A line above the matrix (null: none).</param>
    public static SKBitmap Render(long[,] confusion, IReadOnlyList<string>? classNames = null, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        int k = confusion.GetLength(0);
        if (k == 0 || confusion.GetLength(1) != k) throw new ArgumentException($"expected a square confusion matrix, got {confusion.GetLength(0)}x{confusion.GetLength(1)}");
        if (classNames is not null && classNames.Count != k) throw new ArgumentException($"{classNames.Count} class names for {k} classes");
        int cell = Math.Clamp(560 / k, 2, 56);
        bool text = cell >= 24, names = cell >= 10;
        using var typeface = Fonts.Typeface();
        using var font = new SKFont(typeface, Math.Min(14, cell * 0.4f));
        using var labelFont = new SKFont(typeface, Math.Min(14, Math.Max(8, cell * 0.6f)));
        using var titleFont = new SKFont(typeface, 16);
        string Name(int i)
        {
            var index = i.ToString(CultureInfo.InvariantCulture);
            return classNames is null || classNames[i] == index ? index : $"{index} {classNames[i]}";
        }
        float labelWidth = names ? Enumerable.Range(0, k).Max(i => labelFont.MeasureText(Name(i))) + 12 : 8;
        int left = (int)Math.Ceiling(labelWidth) + 24, top = (title is null ? 0 : 28) + (names ? 40 : 24);
        int width = left + k * cell + 16, height = top + k * cell + 16;

        var bmp = Png.Blank(width, height, SKColors.White);
        using var canvas = new SKCanvas(bmp);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var fill = new SKPaint { IsAntialias = false };
        using var grid = new SKPaint { Color = new SKColor(200, 200, 200), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        if (title is not null) canvas.DrawText(title, 8, 20, SKTextAlign.Left, titleFont, ink);
        // Axis captions.
        canvas.DrawText("predicted", left + k * cell / 2f, top - (names ? 24 : 8), SKTextAlign.Center, labelFont, ink);
        canvas.Save();
        canvas.RotateDegrees(-90, 12, top + k * cell / 2f);
        canvas.DrawText("true", 12, top + k * cell / 2f, SKTextAlign.Center, labelFont, ink);
        canvas.Restore();

        for (int t = 0; t < k; t++)
        {
            long rowTotal = 0;
            for (int p = 0; p < k; p++) rowTotal += confusion[t, p];
            for (int p = 0; p < k; p++)
            {
                double frac = rowTotal == 0 ? 0 : (double)confusion[t, p] / rowTotal;
                var color = Shade(frac);
                fill.Color = color;
                var rect = SKRect.Create(left + p * cell, top + t * cell, cell, cell);
                canvas.DrawRect(rect, fill);
                if (text && confusion[t, p] != 0)
                {
                    ink.Color = frac > 0.5 ? SKColors.White : SKColors.Black;
                    canvas.DrawText(confusion[t, p].ToString(CultureInfo.InvariantCulture), rect.MidX, rect.MidY + font.Size * 0.35f, SKTextAlign.Center, font, ink);
                    ink.Color = SKColors.Black;
                }
            }
            if (names) canvas.DrawText(Name(t), left - 6, top + t * cell + cell / 2f + labelFont.Size * 0.35f, SKTextAlign.Right, labelFont, ink);
        }
        if (names)
            for (int p = 0; p < k; p++)
                canvas.DrawText(p.ToString(CultureInfo.InvariantCulture), left + p * cell + cell / 2f, top - 6, SKTextAlign.Center, labelFont, ink);
        if (cell >= 6) canvas.DrawRect(SKRect.Create(left, top, k * cell, k * cell), grid);
        return bmp;
    }

    /// <summary>White at 0 to dark blue at 1.</summary>
    internal static SKColor Shade(double f)
    {
        f = Math.Clamp(f, 0, 1);
        return new SKColor((byte)(255 - f * (255 - 8)), (byte)(255 - f * (255 - 48)), (byte)(255 - f * (255 - 107)));
    }
}
