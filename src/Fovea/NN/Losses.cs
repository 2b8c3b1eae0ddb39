namespace Fovea.NN;

/// <summary>A loss: a function of the model's output and the target.</summary>
public abstract class Loss
{
    public Reduction Reduction { get; init; } = Reduction.Mean;

    public abstract Tensor Forward(Tensor input, Tensor target);
}

/// <summary>Cross-entropy from logits and int64 labels, with optional label smoothing.</summary>
public sealed class CrossEntropyLoss(float labelSmoothing = 0f) : Loss
{
    public float LabelSmoothing { get; } = labelSmoothing;
    public override Tensor Forward(Tensor input, Tensor target) => Functional.CrossEntropy(input, target, Reduction, LabelSmoothing);
}

/// <summary>Negative log-likelihood of log-probabilities at int64 labels.</summary>
public sealed class NLLLoss : Loss
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.NllLoss(input, target, Reduction);
}

/// <summary>Squared error.</summary>
public sealed class MSELoss : Loss
{
    public override Tensor Forward(Tensor input, Tensor target) => Functional.MseLoss(input, target, Reduction);
}
