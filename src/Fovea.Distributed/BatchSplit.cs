namespace Fovea.Distributed;

/// <summary>
/// How a global batch is cut into contiguous slices, one per replica (or rank), as equal as possible: the first
/// <c>batch % parts</c> slices get one extra sample. Each slice's mean loss is weighted by its share of the batch,
/// so the sum of the weighted slice gradients is the gradient of the full batch's mean loss even when the slices
/// differ in size.
/// </summary>
public readonly record struct BatchSlice(int Start, int Length, float Weight);

/// <summary>Cuts batches into slices; see <see cref="BatchSlice"/>.</summary>
public static class BatchSplit
{
    /// <summary>The slices of a batch of <paramref name="batch"/> samples over <paramref name="parts"/> parts; a part
    /// gets length 0 (and weight 0) when the batch is smaller than the number of parts.</summary>
    public static BatchSlice[] Slices(int batch, int parts)
    {
        if (batch < 0) throw new ArgumentException($"batch size must not be negative, got {batch}");
        if (parts < 1) throw new ArgumentException($"need at least one part, got {parts}");
        var s = new BatchSlice[parts];
        int start = 0;
        for (int i = 0; i < parts; i++)
        {
            int len = batch / parts + (i < batch % parts ? 1 : 0);
            s[i] = new BatchSlice(start, len, batch == 0 ? 0f : (float)len / batch);
            start += len;
        }
        return s;
    }
}
