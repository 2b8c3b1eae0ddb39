namespace Fovea;

/// <summary>
/// A seedable source of random numbers for initialisation, dropout and shuffling: xoshiro256** seeded through
/// SplitMix64, so a seed gives the same numbers on every machine and .NET version, and fast enough that
/// initialising VGG-16's 138 M weights takes a moment, not seconds.
/// </summary>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    public Generator(int seed) => Reset(seed);

    public int Seed { get; private set; }

    /// <summary>The generator used when none is given; re-seed it with <see cref="ManualSeed"/>.</summary>
    public static Generator Default { get; } = new(0);

    /// <summary>Restarts the default sequence from <paramref name="seed"/>, like torch.manual_seed.</summary>
    public static void ManualSeed(int seed) => Default.Reset(seed);

    public void Reset(int seed)
    {
        Seed = seed;
        ulong x = (ulong)(uint)seed ^ 0x5DEECE66DUL;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
        _spareNormal = null;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, maxExclusive), without modulo bias.</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentException($"maxExclusive must be positive, got {maxExclusive}");
        ulong m = (ulong)maxExclusive, threshold = (0UL - m) % m;
        while (true)
        {
            ulong r = NextUInt64();
            if (r >= threshold) return (int)(r % m);
        }
    }

    /// <summary>Standard normal by Box–Muller (two values per pair of uniforms).</summary>
    public double NextNormal()
    {
        if (_spareNormal is { } s) { _spareNormal = null; return s; }
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        var (sin, cos) = Math.SinCos(2 * Math.PI * u2);
        _spareNormal = r * sin;
        return r * cos;
    }

    /// <summary>Fills with N(mean, std²).</summary>
    public void FillNormal(Span<float> destination, float mean = 0f, float std = 1f)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)(mean + std * NextNormal());
    }

    /// <summary>Fills with U[low, high).</summary>
    public void FillUniform(Span<float> destination, float low = 0f, float high = 1f)
    {
        double span = high - low;
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)(low + span * NextDouble());
    }

    /// <summary>Fisher–Yates permutation of [0, n).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
