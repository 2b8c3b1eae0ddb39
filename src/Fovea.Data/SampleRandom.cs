namespace Fovea.Data;

/// <summary>
/// A small, allocation-free random stream (SplitMix64, Steele et al. 2014) for shuffling and random
/// transforms. Unlike <see cref="Random"/>, its sequence is fixed by this file alone, so a seed gives the
/// same order and the same augmentations on every machine and .NET version. A stream is derived from
/// a tuple such as (seed, epoch, sample index), which is what makes the loader's output independent of
/// how many worker threads it runs.
/// </summary>
public struct SampleRandom
{
    private ulong _state;

    /// <summary>A stream that starts from <paramref name="state"/>.</summary>
    public SampleRandom(ulong state) => _state = state;

    /// <summary>The stream for the tuple (<paramref name="seed"/>, <paramref name="a"/>, <paramref name="b"/>):
    /// each component is folded in through the SplitMix64 finaliser, so neighbouring tuples give unrelated streams.</summary>
    public static SampleRandom For(long seed, long a, long b)
    {
        ulong h = Mix((ulong)seed + Golden);
        h = Mix(h ^ ((ulong)a + unchecked(2 * Golden)));
        h = Mix(h ^ ((ulong)b + unchecked(3 * Golden)));
        return new SampleRandom(h);
    }

    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state += Golden;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1), 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>) (Lemire's multiply-shift; the bias is below 2^-32).</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        return (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);
    }

    /// <summary>Fisher–Yates shuffle of <paramref name="items"/> in place (from the last element down,
    /// swapping element i with a uniform j in [0, i]).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
