using Fovea.Backends.Cpu;

namespace Fovea.Cli.Bench;

/// <summary>The matrix product on its own: C = A·B for 2048×2048 single-precision matrices.</summary>
internal static class GemmWorkloads
{
    public const int Size = 2048;

    public static IEnumerable<BenchWorkload> All()
    {
        yield return new BenchWorkload("gemm_2048", 0, BenchUnit.GflopPerSecond, 2.0 * Size * Size * Size, Heavy: false, Setup);
    }

    private static Action Setup()
    {
        var g = new Generator(2048);
        var a = new float[Size * Size];
        var b = new float[Size * Size];
        var c = new float[Size * Size];
        g.FillUniform(a, -1f, 1f);
        g.FillUniform(b, -1f, 1f);
        return () => Gemm.Sgemm(false, false, Size, Size, Size, a, Size, b, Size, 0f, c, Size);
    }
}
