namespace Fovea.Distributed.Compression;

/// <summary>
/// Which k entries of a vector have the largest magnitudes. Ties in magnitude go to the lower index, so the chosen
/// set is unique and every implementation must return the same one; indices come back in ascending order. NaN
/// counts as larger than infinity (the order of the magnitudes' bit patterns), so a diverging gradient still gives a
/// well-defined answer. <see cref="Select"/> is the fast one, <see cref="SelectReference"/> the plain oracle the
/// tests hold it to.
/// </summary>
public static class TopKSelection
{
    // |v|'s bit pattern: for non-negative floats the unsigned order of the bits is the order of the values, so
    // selection works on integers and the radix passes can read bit fields straight off the key.
    private static uint Key(float v) => BitConverter.SingleToUInt32Bits(v) & 0x7FFF_FFFFu;

    /// <summary>
    /// Radix select, the algorithm PyTorch's GPU topk uses: a histogram of the keys' top 11 bits finds the bin that
    /// holds the k-th largest magnitude; the entries of that bin alone are kept and refined by the next 10 bits, then
    /// the last 10, which pins the k-th largest key exactly; a final pass takes everything above it and the first ties
    /// at it. Three passes over the vector and no sort, O(n) whatever the values.
    /// </summary>
    /// <param name="values">The vector, length n.</param>
    /// <param name="k">How many to select, 0..n.</param>
    /// <param name="indices">Receives the k indices, ascending; length k.</param>
    /// <param name="scratch">Working space of at least n ints (the candidates of the boundary bin).</param>
    public static void Select(ReadOnlySpan<float> values, int k, Span<int> indices, Span<int> scratch)
    {
        int n = values.Length;
        Check(n, k, indices);
        if (scratch.Length < n) throw new ArgumentException($"scratch needs {n} ints, has {scratch.Length}");
        if (k == 0) return;
        if (k == n)
        {
            for (int i = 0; i < n; i++) indices[i] = i;
            return;
        }
        Span<int> histogram = stackalloc int[1 << 11];
        // need: how many of the entries whose key starts with the prefix found so far still belong to the top k.
        int need = k;

        // Bits 30..20 over the whole vector; the boundary bin's entries become the candidates.
        foreach (float v in values) histogram[(int)(Key(v) >> 20)]++;
        uint high = Boundary(histogram, ref need);
        int m = 0;
        for (int i = 0; i < n; i++)
            if (Key(values[i]) >> 20 == high) scratch[m++] = i;

        // Bits 19..10, then 9..0, over the shrinking candidates.
        uint middle = Refine(values, scratch, ref m, 10, histogram[..1024], ref need);
        uint low = Refine(values, scratch, ref m, 0, histogram[..1024], ref need);
        uint threshold = high << 20 | middle << 10 | low;

        // need is now the number of entries equal to the threshold to take, lowest index first.
        int o = 0;
        for (int i = 0; i < n; i++)
        {
            uint key = Key(values[i]);
            if (key > threshold || (key == threshold && need-- > 0)) indices[o++] = i;
        }
    }

    // Histogram of the candidates' 10-bit field at `shift`, the boundary bin in it, and the candidates compacted to
    // those in that bin.
    private static uint Refine(ReadOnlySpan<float> values, Span<int> candidates, ref int count, int shift, Span<int> histogram, ref int need)
    {
        histogram.Clear();
        for (int j = 0; j < count; j++) histogram[(int)(Key(values[candidates[j]]) >> shift & 0x3FF)]++;
        uint bin = Boundary(histogram, ref need);
        int kept = 0;
        for (int j = 0; j < count; j++)
            if ((Key(values[candidates[j]]) >> shift & 0x3FF) == bin) candidates[kept++] = candidates[j];
        count = kept;
        return bin;
    }

    // Walks the bins from the top, taking whole bins while they fit in `need`; returns the bin where the k-th largest
    // falls and leaves in `need` how many to take from it (1..its count).
    private static uint Boundary(Span<int> histogram, ref int need)
    {
        int b = histogram.Length - 1;
        while (histogram[b] < need)
        {
            need -= histogram[b];
            b--;
        }
        return (uint)b;
    }

    /// <summary>The plain version: every index sorted by (magnitude descending, index ascending), the first k kept
    /// and put back in ascending order. O(n log n); the tests' oracle.</summary>
    public static void SelectReference(ReadOnlySpan<float> values, int k, Span<int> indices)
    {
        Check(values.Length, k, indices);
        var keys = new uint[values.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = Key(values[i]);
        var order = Enumerable.Range(0, values.Length).ToArray();
        Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b));
        var chosen = order[..k];
        Array.Sort(chosen);
        chosen.CopyTo(indices);
    }

    private static void Check(int n, int k, Span<int> indices)
    {
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), $"cannot select {k} of {n} entries");
        if (indices.Length != k) throw new ArgumentException($"indices must hold exactly k = {k} entries, has {indices.Length}");
    }
}
