using System.Globalization;

namespace Fovea.Distributed.Compression;

/// <summary>
/// How data parallelism exchanges gradients: <see cref="None"/> sends the dense gradient (one all-reduce, or one
/// in-memory sum), <see cref="TopK"/> sends only the largest entries and keeps the rest for later steps (top-k
/// sparsification with error feedback, Lin et al. 2018, "Deep Gradient Compression"; see <see cref="ErrorFeedback"/>).
/// Written on the command line as <c>none</c> or <c>topk:RATIO</c>.
/// </summary>
public sealed record GradientCompression
{
    private GradientCompression(double ratio, float momentum = 0f)
    {
        Ratio = ratio;
        Momentum = momentum;
    }

    /// <summary>Dense exchange: every gradient entry every step.</summary>
    public static GradientCompression None { get; } = new(0d);

    /// <summary>Top-k with error feedback: each replica or rank sends the <see cref="SelectedCount"/> entries of largest
    /// magnitude of its gradient plus its residual.</summary>
    /// <param name="ratio">The share of entries sent, in (0, 1].</param>
    public static GradientCompression TopK(double ratio)
    {
        if (!(ratio > 0d && ratio <= 1d)) throw new ArgumentException($"the top-k ratio must be in (0, 1], got {ratio.ToString(CultureInfo.InvariantCulture)}");
        return new GradientCompression(ratio);
    }

    /// <summary>The share of entries sent per step; 0 for <see cref="None"/>.</summary>
    public double Ratio { get; }

    /// <summary>True for dense exchange.</summary>
    public bool IsDense => Ratio == 0d;

    /// <summary>The momentum of DGC's momentum correction, 0 without it; see <see cref="WithMomentumCorrection"/>.</summary>
    public float Momentum { get; }

    /// <summary>
    /// DGC's momentum correction: each replica or rank accumulates its own velocity u = momentum·u + g and feeds u,
    /// not g, to the error feedback; where an entry is sent its velocity is zeroed too (momentum factor masking), so
    /// a late entry does not keep pushing in a direction that is stale. The optimiser must then run without
    /// momentum (plain SGD), since the momentum is applied before the exchange. Without it, momentum SGD after
    /// a sparse exchange applies momentum to entries that arrive in bursts, which costs accuracy at high sparsity.
    /// </summary>
    public GradientCompression WithMomentumCorrection(float momentum)
    {
        if (IsDense) throw new InvalidOperationException("momentum correction applies to top-k compression, not dense exchange");
        if (!(momentum >= 0f && momentum < 1f)) throw new ArgumentException($"momentum must be in [0, 1), got {momentum}");
        return new GradientCompression(Ratio, momentum);
    }

    /// <summary>
    /// How many of <paramref name="count"/> entries one replica or rank sends per step: max(1, floor(ratio·count)), and
    /// <paramref name="count"/> itself when dense. Rounding down keeps the sparse message (8 bytes an entry) within
    /// 2·ratio of the dense one (4 bytes an entry): topk:0.01 sends at most 1/50 of the bytes.
    /// </summary>
    public int SelectedCount(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (IsDense || count == 0) return count;
        return (int)Math.Clamp(Math.Floor(Ratio * count), 1d, count);
    }

    /// <summary>Bytes one replica or rank sends per step for a gradient of <paramref name="count"/> floats:
    /// 4·count dense, 8 (an int32 index and a float32 value) per selected entry with top-k.</summary>
    public long BytesPerStep(int count) => IsDense ? 4L * count : (long)GradientEntry.Bytes * SelectedCount(count);

    /// <summary>Reads <c>none</c> or <c>topk:RATIO</c> (RATIO in (0, 1], e.g. topk:0.01).</summary>
    public static GradientCompression Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Equals("none", StringComparison.OrdinalIgnoreCase)) return None;
        const string prefix = "topk:";
        if (t.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            && double.TryParse(t.AsSpan(prefix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && r > 0d && r <= 1d)
            return new GradientCompression(r);
        throw new ArgumentException($"gradient compression must be 'none' or 'topk:RATIO' with RATIO in (0, 1] (e.g. topk:0.01), got '{text}'");
    }

    /// <summary><c>none</c> or <c>topk:RATIO</c>, as <see cref="Parse"/> reads it.</summary>
    public override string ToString() => IsDense ? "none" : "topk:" + Ratio.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>What the exchange does, for logs: the <see cref="ToString"/> form plus the momentum correction, if any.</summary>
    public string Describe() => IsDense ? "dense"
        : ToString() + " with error feedback" + (Momentum > 0f ? $" and momentum correction {Momentum.ToString(CultureInfo.InvariantCulture)}" : "");
}
