namespace Fovea.Tests.Support;

/// <summary>Element-wise closeness: |actual − expected| ≤ rtol·|expected| + atol·max(1, max|expected|).</summary>
public static class Close
{
    public static void Assert(double[] expected, float[] actual, string what, double rtol = 1e-4, double atol = 1e-5)
    {
        Xunit.Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}");
        double scale = 1;
        foreach (var e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double tol = rtol * Math.Abs(e) + atol * scale;
            if (!(Math.Abs(a - e) <= tol))
                Xunit.Assert.Fail($"{what}: element {i} is {a}, expected {e} (tolerance {tol:g3}; {Mismatches(expected, actual, rtol, atol * scale)} of {expected.Length} differ)");
        }
    }

    public static void Assert(float[] expected, float[] actual, string what, double rtol = 1e-4, double atol = 1e-5) =>
        Assert(Array.ConvertAll(expected, v => (double)v), actual, what, rtol, atol);

    private static int Mismatches(double[] e, float[] a, double rtol, double atol)
    {
        int n = 0;
        for (int i = 0; i < e.Length; i++) if (!(Math.Abs(a[i] - e[i]) <= rtol * Math.Abs(e[i]) + atol)) n++;
        return n;
    }
}
