using ScottPlot;
using SkiaSharp;

namespace Fovea.Viz;

/// <summary>
/// Loss and accuracy per epoch, train and test, side by side, drawn with ScottPlot. Text needs a font on the
/// machine (Debian: fonts-dejavu-core); without one ScottPlot draws the lines and no text.
/// </summary>
public static class TrainingCurves
{
    /// <summary>Renders the two panels (loss left, accuracy in percent right) into one bitmap.</summary>
    public static SKBitmap Render(IReadOnlyList<EpochMetrics> epochs, int width = 1200, int height = 450, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        if (epochs.Count == 0) throw new ArgumentException("no epochs to plot", nameof(epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 200);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 150);
        double[] x = epochs.Select(e => (double)e.Epoch).ToArray();
        // Plots hold native paints and fonts: free them here rather than leave them to the finalizer.
        using var loss = Panel("loss", "cross-entropy loss", x,
            epochs.Select(e => e.TrainLoss).ToArray(), epochs.Select(e => e.TestLoss).ToArray(), title, Alignment.UpperRight);
        using var acc = Panel("accuracy", "top-1 accuracy (%)", x,
            epochs.Select(e => 100 * e.TrainAccuracy).ToArray(), epochs.Select(e => 100 * e.TestAccuracy).ToArray(), title, Alignment.LowerRight);

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var bmp = new SKBitmap(info);
        using (var canvas = new SKCanvas(bmp))
        {
            canvas.Clear(SKColors.White);
            int half = width / 2;
            // Each panel on its own surface: ScottPlot clears the whole canvas it is handed.
            DrawPanel(canvas, loss, 0, half, height);
            DrawPanel(canvas, acc, half, width - half, height);
        }
        return bmp;
    }

    private static void DrawPanel(SKCanvas target, Plot plot, int left, int width, int height)
    {
        using var panel = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var c = new SKCanvas(panel))
        {
            c.Clear(SKColors.White);
            plot.Render(c, width, height);
        }
        target.DrawBitmap(panel, left, 0);
    }

    private static Plot Panel(string what, string yLabel, double[] x, double[] train, double[] test, string? title, Alignment legend)
    {
        var plt = new Plot();
        Add(plt, x, train, "train", Colors.C0);
        Add(plt, x, test, "test", Colors.C1);
        plt.Title(title is null ? what : $"{title}: {what}");
        plt.XLabel("epoch");
        plt.YLabel(yLabel);
        plt.ShowLegend(legend);
        // Epochs are whole numbers: no 1.2, 1.4, ... ticks.
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        if (x.Length == 1) plt.Axes.SetLimitsX(x[0] - 1, x[0] + 1);
        return plt;
    }

    private static void Add(Plot plt, double[] x, double[] y, string label, Color color)
    {
        // Epochs without a value (NaN) are left out rather than drawn as gaps ScottPlot cannot scale.
        var keep = Enumerable.Range(0, x.Length).Where(i => double.IsFinite(y[i])).ToArray();
        if (keep.Length == 0) return;
        var s = plt.Add.Scatter(keep.Select(i => x[i]).ToArray(), keep.Select(i => y[i]).ToArray(), color);
        s.LegendText = label;
        s.LineWidth = 2;
        s.MarkerSize = 6;
    }
}
