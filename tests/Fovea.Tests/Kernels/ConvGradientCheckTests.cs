using Fovea.Backends.Cpu;

namespace Fovea.Tests.Kernels;

/// <summary>
/// The reference's ∇data, ∇filter and ∇bias against double-precision central differences of L = Σ y·r for a
/// random r (so dL/dy = r), each also required to be non-zero so that the check cannot pass vacuously.
/// </summary>
public class ConvGradientCheckTests
{
    public static TheoryData<string> Geometries() => new() { "3x3 pad 1", "strided dilated grouped asymmetric" };

    private static ConvGeometry Get(string name)
    {
        if (name == "3x3 pad 1") return ConvGeometry.Create(2, 2, 5, 4, 3, 3, 3, padH: 1, padW: 1);
        var g = ConvGeometry.Create(1, 4, 7, 8, 2, 2, 3, strideH: 2, strideW: 1, dilationH: 1, dilationW: 2, groups: 2);
        return g with { PadTop = 1, PadLeft = 2, PadBottom = 0, PadRight = 1 };
    }

    private static double[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = rng.NextDouble() * 2 - 1;
        return a;
    }

    private static double Loss(in ConvGeometry g, double[] x, double[] w, double[] b, double[] r)
    {
        var y = new double[r.Length];
        ConvReference.Forward(g, x, w, b, y);
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += y[i] * r[i];
        return s;
    }

    private static void Check(in ConvGeometry g, double[] param, double[] analytic, Func<double> loss, string what)
    {
        const double h = 1e-3;
        double largest = 0;
        for (int i = 0; i < param.Length; i++)
        {
            double keep = param[i];
            param[i] = keep + h;
            double up = loss();
            param[i] = keep - h;
            double down = loss();
            param[i] = keep;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-7 * (1 + Math.Abs(numeric)),
                $"{what}[{i}]: analytic {analytic[i]}, numeric {numeric}");
            largest = Math.Max(largest, Math.Abs(analytic[i]));
        }
        Assert.True(largest > 1e-3, $"{what} is all (near) zero: the check proves nothing");
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ReferenceGradientsMatchCentralDifferences(string name)
    {
        var g = Get(name);
        var x = Random(g.Batch * g.InputImageSize, 1);
        var w = Random((int)g.WeightCount, 2);
        var b = Random(g.OutChannels, 3);
        var r = Random(g.Batch * g.OutputImageSize, 4);

        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = new double[b.Length];
        ConvReference.BackwardData(g, r, w, dx);
        ConvReference.BackwardFilter(g, x, r, dw, db);

        Check(g, x, dx, () => Loss(g, x, w, b, r), "∇data");
        Check(g, w, dw, () => Loss(g, x, w, b, r), "∇filter");
        Check(g, b, db, () => Loss(g, x, w, b, r), "∇bias");
    }
}
