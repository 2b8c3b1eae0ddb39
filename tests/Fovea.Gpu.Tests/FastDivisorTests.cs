using Fovea.Gpu.Kernels;

namespace Fovea.Gpu.Tests;

/// <summary>The kernels' division by multiply-high and shift, held to C#'s / and % over the whole non-negative int range.</summary>
public sealed class FastDivisorTests
{
    private static IEnumerable<int> Divisors()
    {
        for (int d = 1; d <= 2048; d++) yield return d;
        for (int p = 11; p <= 30; p++)
        {
            yield return (1 << p) - 1;
            yield return 1 << p;
            yield return (1 << p) + 1;
        }
        yield return int.MaxValue;
        var random = new Random(5);
        for (int i = 0; i < 500; i++) yield return random.Next(1, int.MaxValue);
    }

    [Fact]
    public void Quotient_and_remainder_equal_integer_division()
    {
        var random = new Random(9);
        foreach (int d in Divisors())
        {
            var divisor = FastDivisor.Of(d);
            var numerators = new List<int> { 0, 1, d - 1, d, int.MaxValue, int.MaxValue - 1, int.MaxValue - d + 1 };
            for (int i = 0; i < 40; i++)
            {
                // Either side of a multiple of d, where a quotient off by one would show, and anywhere.
                long q = random.NextInt64(0, (long)int.MaxValue / d + 1);
                foreach (long n in new[] { q * d - 1, q * d, q * d + 1, random.Next() })
                    if (n >= 0 && n <= int.MaxValue) numerators.Add((int)n);
            }
            foreach (int n in numerators)
            {
                int quotient = divisor.Div(n);
                if (quotient != n / d || divisor.Rem(n, quotient) != n % d)
                    Assert.Fail($"{n} / {d}: got {quotient} remainder {divisor.Rem(n, quotient)}, expected {n / d} remainder {n % d}");
            }
        }
    }

    [Fact]
    public void A_divisor_below_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FastDivisor.Of(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FastDivisor.Of(-3));
    }
}
