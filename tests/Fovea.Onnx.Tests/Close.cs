namespace Fovea.Onnx.Tests;

/// <summary>Element-wise closeness: |actual − expected| ≤ rtol·|expected| + atol·max(1, max|expected|).</summary>
public static class Close
{
    public static void Assert(double[] expected, float[] actual, string what, double rtol = 1e-4, double atol = 1e-5)
    {
        Xunit.Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}");
        double scale = 1;
        foreach (var e in expected) scale = Math.Max(scale, Math.Abs(e));
        int bad = 0, first = -1;
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= rtol * Math.Abs(expected[i]) + atol * scale))
            {
                bad++;
                if (first < 0) first = i;
            }
        if (bad > 0)
            Xunit.Assert.Fail($"{what}: element {first} is {actual[first]}, expected {expected[first]}; {bad} of {expected.Length} differ");
    }

    public static void Assert(float[] expected, float[] actual, string what, double rtol = 1e-4, double atol = 1e-5) =>
        Assert(Array.ConvertAll(expected, v => (double)v), actual, what, rtol, atol);
}
