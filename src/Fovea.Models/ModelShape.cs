using Fovea.Inspection;
using Fovea.NN;

namespace Fovea.Models;

/// <summary>Input-shape checks and the flattened feature size, worked out symbolically by <see cref="ModelSummary"/>.</summary>
internal static class ModelShape
{
    /// <summary>Checks a (C, H, W) input shape and returns a copy of it (or of the default when null).</summary>
    public static int[] Check(string model, int[]? inputShape, int[] fallback)
    {
        var s = inputShape ?? fallback;
        if (s.Length != 3 || s.Any(d => d <= 0))
            throw new ArgumentException($"{model}: input shape must be (C, H, W) with positive sizes, got {Shapes.Format(s)}", nameof(inputShape));
        return (int[])s.Clone();
    }

    /// <summary>C·H·W of what <paramref name="features"/> makes from one input: the first Linear's in-features.</summary>
    public static int FlattenedSize(string model, Module features, int[] inputShape)
    {
        var outShape = Summarize(model, features, inputShape).OutputShape;
        return Shapes.Count(outShape.AsSpan(1));
    }

    /// <summary>The whole model's summary; throws an <see cref="ArgumentException"/> naming the model and the layer
    /// when the input is too small for some layer.</summary>
    public static ModelSummary Summarize(string model, Module module, int[] inputShape)
    {
        try { return ModelSummary.Compute(module, inputShape); }
        catch (ArgumentException e) { throw new ArgumentException($"{model}: input {Shapes.Format(inputShape)} does not fit: {e.Message}", e); }
    }

    /// <summary>classifier: Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear (torchvision's AlexNet head, also ZFNet's).</summary>
    public static Sequential AlexNetHead(int inFeatures, int hidden, int numClasses, float dropout, Generator? g) => new(
        new Dropout(dropout, g),
        new Linear(inFeatures, hidden, generator: g),
        new ReLU(inplace: true),
        new Dropout(dropout, g),
        new Linear(hidden, hidden, generator: g),
        new ReLU(inplace: true),
        new Linear(hidden, numClasses, generator: g));

    public static void CheckClasses(string model, int numClasses)
    {
        if (numClasses <= 0) throw new ArgumentException($"{model}: the number of classes must be positive, got {numClasses}", nameof(numClasses));
    }
}
