namespace Fovea.NN;

// Normalisation layers: batch norm (learned per-channel scale and shift, running statistics), and the two
// local normalisations of early CNNs.

/// <summary>Batch normalisation over the channel dimension (dim 1) of [N, C, ...].</summary>
public abstract class BatchNorm : Module
{
    private readonly int _expectedRank;

    protected BatchNorm(int numFeatures, float eps, float momentum, bool affine, bool trackRunningStats, int expectedRank, int altRank)
    {
        if (numFeatures <= 0) throw new ArgumentException($"batch norm needs a positive number of features, got {numFeatures}");
        if (momentum < 0 || momentum > 1) throw new ArgumentException($"batch norm momentum must be in [0, 1], got {momentum}");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        _expectedRank = expectedRank;
        AltRank = altRank;
        RegisterParameter("weight", affine ? Tensor.Ones(numFeatures) : null);
        RegisterParameter("bias", affine ? Tensor.Zeros(numFeatures) : null);
        RegisterBuffer("running_mean", trackRunningStats ? Tensor.Zeros(numFeatures) : null);
        RegisterBuffer("running_var", trackRunningStats ? Tensor.Ones(numFeatures) : null);
    }

    private int AltRank { get; }
    public int NumFeatures { get; }
    public float Eps { get; }
    public float Momentum { get; }
    public Parameter? Weight => GetParameter("weight");
    public Parameter? Bias => GetParameter("bias");
    public Tensor? RunningMean => GetBuffer("running_mean");
    public Tensor? RunningVar => GetBuffer("running_var");

    /// <summary>
    /// When set, training normalises by the statistics of every group member's batch together (PyTorch's
    /// SyncBatchNorm); null, the default, normalises by this module's own batch. Evaluation always uses the
    /// running statistics.
    /// </summary>
    public IAllReduceGroup? SyncGroup { get; set; }

    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != _expectedRank && input.Rank != AltRank || input.Size(1) != NumFeatures)
            throw new ArgumentException($"{TypeName}({NumFeatures}): expected input [N, {NumFeatures}{(_expectedRank == 4 ? ", H, W" : "")}]" +
                $"{(AltRank != _expectedRank ? $" or [N, {NumFeatures}, L]" : "")}, got {input.ShapeString}");
        // Without running statistics, evaluation also normalises by the batch, as PyTorch does.
        bool useBatch = Training || RunningMean is null;
        if (Training && SyncGroup is not null)
            return Functional.SyncBatchNorm(input, RunningMean, RunningVar, Weight, Bias, SyncGroup, Momentum, Eps, TypeName);
        return Functional.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, useBatch, Momentum, Eps, TypeName);
    }

    protected override string ExtraRepr => $"{NumFeatures}, eps={Eps}, momentum={Momentum}, affine={(Weight is not null).ToString().ToLowerInvariant()}";
}

/// <summary>Batch norm over [N, C] or [N, C, L].</summary>
public sealed class BatchNorm1d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats, 2, 3);

/// <summary>Batch norm over [N, C, H, W].</summary>
public sealed class BatchNorm2d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats, 4, 4);

/// <summary>AlexNet's local response normalisation across neighbouring channels.</summary>
public sealed class LocalResponseNorm : Module
{
    public LocalResponseNorm(int size, float alpha = 1e-4f, float beta = 0.75f, float k = 1f)
    {
        if (size <= 0) throw new ArgumentException($"LocalResponseNorm size must be positive, got {size}");
        Size = size;
        Alpha = alpha;
        Beta = beta;
        K = k;
    }

    public int Size { get; }
    public float Alpha { get; }
    public float Beta { get; }
    public float K { get; }

    public override Tensor Forward(Tensor input) => Functional.LocalResponseNorm(input, Size, Alpha, Beta, K);

    protected override string ExtraRepr => $"{Size}, alpha={Alpha}, beta={Beta}, k={K}";
}

/// <summary>Local contrast normalisation (Jarrett et al. 2009); see <see cref="Functional.LocalContrastNorm"/>.</summary>
public sealed class LocalContrastNorm : Module
{
    public LocalContrastNorm(int kernelSize = 9, float sigma = 2f)
    {
        if (kernelSize <= 0 || kernelSize % 2 == 0) throw new ArgumentException($"LocalContrastNorm kernel size must be odd and positive, got {kernelSize}");
        if (sigma <= 0) throw new ArgumentException($"LocalContrastNorm sigma must be positive, got {sigma}");
        KernelSize = kernelSize;
        Sigma = sigma;
    }

    public int KernelSize { get; }
    public float Sigma { get; }

    public override Tensor Forward(Tensor input) => Functional.LocalContrastNorm(input, KernelSize, Sigma);

    protected override string ExtraRepr => $"kernel_size={KernelSize}, sigma={Sigma}";
}
