namespace Fovea;

/// <summary>How a loss over a batch is reduced.</summary>
public enum Reduction { Mean, Sum, None }

public static partial class Functional
{
    private static Tensor Reduce(Tensor perElement, Reduction reduction) => reduction switch
    {
        Reduction.Mean => perElement.Mean(),
        Reduction.Sum => perElement.Sum(),
        _ => perElement,
    };

    private static void CheckTarget(Tensor input, Tensor target, string loss)
    {
        if (target.DType != DType.Int64) throw new ArgumentException($"{loss}: expected int64 class labels, got {target.DType}");
        if (input.Rank < 2) throw new ArgumentException($"{loss}: expected input [N, C, ...], got {input.ShapeString}");
        var expected = input.Shape.Where((_, i) => i != 1).ToArray();
        if (!Shapes.Equal(expected, target.ShapeSpan))
            throw new ArgumentException($"{loss}: expected target {Shapes.Format(expected)} for input {input.ShapeString}, got {target.ShapeString}");
        // A captured step cannot read the labels here, and its replays read new ones: there the CPU gather's own
        // range check (an index out of range for the class dimension) stands in for this one.
        if (CapturedStep.IsCapturing) return;
        int classes = input.Size(1);
        foreach (var label in target.ToLongArray())
            if (label < 0 || label >= classes)
                throw new ArgumentException($"{loss}: label {label} is out of range for {classes} classes");
    }

    /// <summary>Negative log-likelihood of log-probabilities [N, C, ...] at int64 labels [N, ...].</summary>
    public static Tensor NllLoss(Tensor logProbabilities, Tensor target, Reduction reduction = Reduction.Mean)
    {
        CheckTarget(logProbabilities, target, "nll_loss");
        var picked = logProbabilities.Gather(1, target.Unsqueeze(1)).Squeeze(1);
        return Reduce(-picked, reduction);
    }

    /// <summary>
    /// Cross-entropy from logits [N, C, ...] and int64 labels [N, ...]; with label smoothing ε the target is
    /// (1 − ε) on the label plus ε/C on every class, as in PyTorch.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean, float labelSmoothing = 0f)
    {
        if (labelSmoothing < 0 || labelSmoothing > 1) throw new ArgumentException($"label smoothing must be in [0, 1], got {labelSmoothing}");
        CheckTarget(logits, target, "cross_entropy");
        var logp = LogSoftmax(logits, 1);
        var nll = -logp.Gather(1, target.Unsqueeze(1)).Squeeze(1);
        if (labelSmoothing == 0f) return Reduce(nll, reduction);
        var smooth = -logp.Mean(1);
        return Reduce(nll * (1 - labelSmoothing) + smooth * labelSmoothing, reduction);
    }

    /// <summary>Mean (or summed) squared error.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        if (!Shapes.Equal(input.ShapeSpan, target.ShapeSpan))
            throw new ArgumentException($"mse_loss: expected target {input.ShapeString}, got {target.ShapeString}");
        var d = input - target;
        return Reduce(d * d, reduction);
    }
}
