using Fovea.Distributed.Compression;

namespace Fovea.Distributed.Tests;

public class TopKSelectionTests
{
    public static TheoryData<string, int> Cases()
    {
        var d = new TheoryData<string, int>();
        foreach (var kind in new[] { "normal", "ties", "one-binade", "wide", "constant" })
            foreach (int n in new[] { 1, 2, 3, 7, 100, 1023, 4097, 50_001 })
                d.Add(kind, n);
        return d;
    }

    private static float[] Vector(string kind, int n, int seed)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++)
            v[i] = kind switch
            {
                // Small integers of both signs: many exact ties in magnitude, +0 and -0 among them.
                "ties" => (rng.Next(7) - 3) * (rng.Next(2) == 0 ? 1f : -1f) + 0f * (i % 5 == 0 ? -1f : 1f),
                // All in [1, 2): the same top 11 bits of the key for many entries, so the later radix passes decide.
                "one-binade" => (1f + (float)rng.NextDouble()) * (rng.Next(2) == 0 ? 1f : -1f),
                // Magnitudes from 1e-30 to 1e30, and an infinity and a NaN.
                "wide" => i == n / 3 ? float.PositiveInfinity : i == n / 2 && n > 2 ? float.NaN
                    : (float)Math.Pow(10, rng.NextDouble() * 60 - 30) * (rng.Next(2) == 0 ? 1f : -1f),
                "constant" => -0.5f,
                _ => (float)(rng.NextDouble() * 2 - 1) * (float)Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())),
            };
        return v;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fast_selection_equals_the_reference(string kind, int n)
    {
        var v = Vector(kind, n, seed: n * 31 + kind.Length);
        var scratch = new int[n];
        foreach (int k in new[] { 0, 1, n / 100, n / 3, n / 2, n - 1, n }.Where(k => k >= 0).Distinct())
        {
            var fast = new int[k];
            var reference = new int[k];
            TopKSelection.Select(v, k, fast, scratch);
            TopKSelection.SelectReference(v, k, reference);
            Assert.Equal(reference, fast);
        }
    }

    [Fact]
    public void The_reference_takes_the_largest_magnitudes_and_the_lowest_index_among_ties()
    {
        float[] v = [0.5f, -3f, 2f, 3f, -0f, 2f, -2f, 1f];
        var got = new int[4];
        TopKSelection.SelectReference(v, 4, got);
        // |-3| and |3|, then two of the three 2s: indices 2 and 5 before 6.
        Assert.Equal([1, 2, 3, 5], got);
        TopKSelection.Select(v, 4, got, new int[v.Length]);
        Assert.Equal([1, 2, 3, 5], got);
    }

    [Fact]
    public void Every_selected_magnitude_is_at_least_every_unselected_one()
    {
        var v = Vector("normal", 10_000, seed: 5);
        var chosen = new int[100];
        TopKSelection.Select(v, chosen.Length, chosen, new int[v.Length]);
        Assert.Equal(chosen.Length, chosen.Distinct().Count());
        var set = chosen.ToHashSet();
        float smallestChosen = chosen.Min(i => Math.Abs(v[i]));
        float largestLeft = Enumerable.Range(0, v.Length).Where(i => !set.Contains(i)).Max(i => Math.Abs(v[i]));
        Assert.True(smallestChosen >= largestLeft, $"chose {smallestChosen} but left {largestLeft}");
    }

    [Fact]
    public void Bad_sizes_are_refused()
    {
        var v = new float[5];
        Assert.Throws<ArgumentOutOfRangeException>(() => TopKSelection.Select(v, 6, new int[6], new int[5]));
        Assert.Throws<ArgumentException>(() => TopKSelection.Select(v, 2, new int[3], new int[5]));
        Assert.Throws<ArgumentException>(() => TopKSelection.Select(v, 2, new int[2], new int[4]));
    }
}
