namespace Fovea.Data;

/// <summary>One mini-batch from a <see cref="DataLoader"/>.</summary>
public sealed class Batch
{
    internal Batch(Tensor images, Tensor labels, int[] indices, int number)
    {
        Images = images;
        Labels = labels;
        Indices = indices;
        Number = number;
    }

    /// <summary>The images, [B, C, H, W] float32, after the transforms.</summary>
    public Tensor Images { get; }

    /// <summary>The class labels, [B] int64.</summary>
    public Tensor Labels { get; }

    /// <summary>B, the number of samples (the last batch of an epoch may be smaller unless drop-last is on).</summary>
    public int Count => Indices.Count;

    /// <summary>The data-set index of each sample, in batch order.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>The position of this batch in its epoch, from 0.</summary>
    public int Number { get; }
}
