namespace Fovea.Optim;

/// <summary>
/// Changes an optimiser's learning rate once per epoch: call <see cref="Step"/> at the end of each epoch, as with
/// PyTorch's schedulers (the rate for epoch e is set when epoch e−1 ends).
/// </summary>
public abstract class LRScheduler
{
    protected LRScheduler(Optimizer optimizer)
    {
        Optimizer = optimizer;
        BaseLR = optimizer.LearningRate;
    }

    public Optimizer Optimizer { get; }
    public float BaseLR { get; }

    /// <summary>Epochs completed.</summary>
    public int Epoch { get; private set; }

    /// <summary>Ends an epoch; <paramref name="metric"/> is used by plateau schedules only.</summary>
    public void Step(float? metric = null)
    {
        Epoch++;
        Optimizer.LearningRate = Next(Epoch, metric);
    }

    /// <summary>
    /// Restores the schedule at <paramref name="epoch"/> epochs completed (for resuming). A schedule that depends only on
    /// the epoch works the rate out again, over its own length, which a resumed run may have extended (a one-epoch
    /// cosine run stopped at rate 0; resumed with two epochs it goes on at half the base rate); one that depends on
    /// what came before (<see cref="ReduceLROnPlateau"/>) takes <paramref name="learningRate"/>, the rate the run
    /// stopped at.
    /// </summary>
    public void Restore(int epoch, float learningRate)
    {
        Epoch = epoch;
        Optimizer.LearningRate = RateWhenResumed(epoch, learningRate);
    }

    /// <summary>The rate to go on with after <paramref name="epochsDone"/> epochs, the run having stopped at <paramref name="stoppedAt"/>.</summary>
    protected virtual float RateWhenResumed(int epochsDone, float stoppedAt) => epochsDone == 0 ? BaseLR : Next(epochsDone, null);

    /// <summary>The rate for the epoch after <paramref name="epochsDone"/>.</summary>
    protected abstract float Next(int epochsDone, float? metric);
}

/// <summary>Multiplies the rate by gamma every stepSize epochs.</summary>
public sealed class StepLR(Optimizer optimizer, int stepSize, float gamma = 0.1f) : LRScheduler(optimizer)
{
    protected override float Next(int e, float? metric) => BaseLR * MathF.Pow(gamma, e / stepSize);
}

/// <summary>Multiplies the rate by gamma at each milestone epoch.</summary>
public sealed class MultiStepLR(Optimizer optimizer, IReadOnlyList<int> milestones, float gamma = 0.1f) : LRScheduler(optimizer)
{
    protected override float Next(int e, float? metric) => BaseLR * MathF.Pow(gamma, milestones.Count(m => m <= e));
}

/// <summary>Half a cosine from the base rate down to etaMin over tMax epochs.</summary>
public sealed class CosineAnnealingLR(Optimizer optimizer, int tMax, float etaMin = 0f) : LRScheduler(optimizer)
{
    protected override float Next(int e, float? metric) =>
        (float)(etaMin + (BaseLR - etaMin) * (1 + Math.Cos(Math.PI * e / tMax)) / 2);
}

/// <summary>Multiplies the rate by factor when the metric has not improved for more than patience epochs (mode min, relative threshold).</summary>
public sealed class ReduceLROnPlateau(Optimizer optimizer, float factor = 0.1f, int patience = 10, float threshold = 1e-4f,
    int cooldown = 0, float minLR = 0f, bool maximize = false) : LRScheduler(optimizer)
{
    private float _best = maximize ? float.NegativeInfinity : float.PositiveInfinity;
    private int _bad;
    private int _cooldownLeft;

    // The metrics that led to the rate are not replayed: go on from where the run stopped.
    protected override float RateWhenResumed(int epochsDone, float stoppedAt) => stoppedAt;

    protected override float Next(int e, float? metric)
    {
        if (metric is not { } m) throw new ArgumentException("ReduceLROnPlateau.Step needs the epoch's metric");
        bool better = maximize ? m > _best * (1 + threshold) : m < _best * (1 - threshold);
        if (better) { _best = m; _bad = 0; } else _bad++;
        if (_cooldownLeft > 0) { _cooldownLeft--; _bad = 0; }
        float lr = Optimizer.LearningRate;
        if (_bad > patience)
        {
            lr = Math.Max(lr * factor, minLR);
            _cooldownLeft = cooldown;
            _bad = 0;
        }
        return lr;
    }
}
