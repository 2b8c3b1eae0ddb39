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
/// <para>The residual lives in memory only: a run resumed from a checkpoint starts with an empty one.</para>
/// </summary>
public sealed class ErrorFeedback
{
    private readonly float[] _residual;
    private readonly int[] _indices;
    private readonly int[] _scratch;

    /// <param name="count">Length of the flat gradient.</param>
    /// <param name="selected">Entries sent per step, 1..count (see <see cref="GradientCompression.SelectedCount"/>).</param>
    public ErrorFeedback(int count, int selected)
    {
        if (count < 1) throw new ArgumentException($"the gradient must have at least one entry, got {count}");
        if (selected < 1 || selected > count) throw new ArgumentException($"entries sent per step must be in 1..{count}, got {selected}");
        _residual = new float[count];
        _indices = new int[selected];
        _scratch = new int[count];
    }

    /// <summary>Length of the flat gradient.</summary>
    public int Count => _residual.Length;

    /// <summary>Entries sent per step (k).</summary>
    public int Selected => _indices.Length;

    /// <summary>What has not been sent yet, added to the next step's gradient.</summary>
    public ReadOnlySpan<float> Residual => _residual;

    /// <summary>Adds the residual to <paramref name="gradient"/> (the flat gradient, length <see cref="Count"/>), writes
    /// its <see cref="Selected"/> largest-magnitude entries to <paramref name="sent"/> (ascending index) and keeps the
    /// rest as the new residual.</summary>
    public void Compress(ReadOnlySpan<float> gradient, Span<GradientEntry> sent)
    {
        if (gradient.Length != Count) throw new ArgumentException($"the gradient has {gradient.Length} entries, this residual {Count}");
        if (sent.Length != Selected) throw new ArgumentException($"sent must hold {Selected} entries, has {sent.Length}");
        // The residual buffer becomes g' in place; selecting and zeroing in it leaves the new residual.
        TensorPrimitives.Add(_residual, gradient, _residual);
        TopKSelection.Select(_residual, Selected, _indices, _scratch);
        for (int j = 0; j < _indices.Length; j++)
        {
            int i = _indices[j];
            sent[j] = new GradientEntry(i, _residual[i]);
            _residual[i] = 0f;
        }
    }
}
