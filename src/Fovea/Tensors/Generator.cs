namespace Fovea;

/// <summary>A seedable source of random numbers for initialisation, dropout and shuffling.</summary>
public sealed class Generator
{
    private Random _random;
    private double? _spareNormal;

    public Generator(int seed)
    {
        Seed = seed;
        _random = new Random(seed);
    }

    public int Seed { get; private set; }

    /// <summary>The generator used when none is given; re-seed it with <see cref="ManualSeed"/>.</summary>
    public static Generator Default { get; } = new(0);

    /// <summary>Restarts the sequence from <paramref name="seed"/>, like torch.manual_seed.</summary>
    public static void ManualSeed(int seed) => Default.Reset(seed);

    public void Reset(int seed)
    {
        Seed = seed;
        _random = new Random(seed);
        _spareNormal = null;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => _random.NextDouble();

    public int NextInt(int maxExclusive) => _random.Next(maxExclusive);

    public ulong NextUInt64() => (ulong)_random.NextInt64();

    /// <summary>Standard normal by Box–Muller.</summary>
    public double NextNormal()
    {
        if (_spareNormal is { } s) { _spareNormal = null; return s; }
        double u1 = 1.0 - _random.NextDouble(), u2 = _random.NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates permutation of [0, n).</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = _random.Next(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
