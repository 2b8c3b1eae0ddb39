using System.Numerics.Tensors;

namespace Fovea.Distributed.Compression;

/// <summary>
/// Top-k sparsification with error feedback for one replica or rank (Lin et al. 2018, "Deep Gradient Compression";
/// Stich et al. 2018): what is not sent is not lost but kept and added to the next step's gradient. Each step
/// g' = gradient + residual; the <see cref="Selected"/> entries of g' with the largest magnitudes are sent; the
/// residual becomes g' with those entries zeroed. So sent + residual = g' exactly, entry by entry (each entry is in
/// one of the two), and every part of every gradient is sent eventually, late rather than never.
/// <para>
/// Selection runs over the whole flat gradient, not layer by layer as the paper does: one threshold sends where the
/// accumulated magnitudes are largest, and the residual lets entries of a layer with small gradients grow until they
/// are sent. It also keeps k = max(1, floor(ratio·n)) exactly, where per-layer minimums of one entry would push a
/// network with many small tensors (biases) past the byte budget.
/// </para>
/// <para>
/// With a momentum (DGC's momentum correction, <see cref="GradientCompression.WithMomentumCorrection"/>) the velocity
/// u = momentum·u + gradient takes the gradient's place: g' = u + residual, and sent entries are zeroed in both.
/// </para>
/// <para>The residual and velocity live in memory only: a run resumed from a checkpoint starts with empty ones.</para>
/// </summary>
public sealed class ErrorFeedback
{
    private readonly float[] _residual;
    private readonly int[] _indices;
    private readonly int[] _scratch;
    private readonly float[]? _velocity;
    private readonly float _momentum;

    /// <param name="count">Length of the flat gradient.</param>
    /// <param name="selected">Entries sent per step, 1..count (see <see cref="GradientCompression.SelectedCount"/>).</param>
    /// <param name="momentum">Momentum correction's momentum in [0, 1); 0 sends the gradient plus the residual.</param>
    public ErrorFeedback(int count, int selected, float momentum = 0f)
    {
        if (!(momentum >= 0f && momentum < 1f)) throw new ArgumentException($"momentum must be in [0, 1), got {momentum}");
        if (count < 1) throw new ArgumentException($"the gradient must have at least one entry, got {count}");
        if (selected < 1 || selected > count) throw new ArgumentException($"entries sent per step must be in 1..{count}, got {selected}");
        _residual = new float[count];
        _indices = new int[selected];
        _scratch = new int[count];
        _momentum = momentum;
        if (momentum > 0f) _velocity = new float[count];
    }

    /// <summary>Length of the flat gradient.</summary>
    public int Count => _residual.Length;

    /// <summary>Entries sent per step (k).</summary>
    public int Selected => _indices.Length;

    /// <summary>What has not been sent yet, added to the next step's gradient.</summary>
    public ReadOnlySpan<float> Residual => _residual;

    /// <summary>The momentum-corrected velocity, empty without momentum correction.</summary>
    public ReadOnlySpan<float> Velocity => _velocity;

    /// <summary>Adds the residual to <paramref name="gradient"/> (the flat gradient, length <see cref="Count"/>), writes
    /// its <see cref="Selected"/> largest-magnitude entries to <paramref name="sent"/> (ascending index) and keeps the
    /// rest as the new residual.</summary>
    public void Compress(ReadOnlySpan<float> gradient, Span<GradientEntry> sent)
    {
        if (gradient.Length != Count) throw new ArgumentException($"the gradient has {gradient.Length} entries, this residual {Count}");
        if (sent.Length != Selected) throw new ArgumentException($"sent must hold {Selected} entries, has {sent.Length}");
        // The residual buffer becomes g' in place; selecting and zeroing in it leaves the new residual.
        if (_velocity is null) TensorPrimitives.Add(_residual, gradient, _residual);
        else
        {
            TensorPrimitives.MultiplyAdd(_velocity, _momentum, gradient, _velocity);
            TensorPrimitives.Add(_residual, _velocity, _residual);
        }
        TopKSelection.Select(_residual, Selected, _indices, _scratch);
        for (int j = 0; j < _indices.Length; j++)
        {
            int i = _indices[j];
            sent[j] = new GradientEntry(i, _residual[i]);
            _residual[i] = 0f;
            if (_velocity is not null) _velocity[i] = 0f;
        }
    }
}
