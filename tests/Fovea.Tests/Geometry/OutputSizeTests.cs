using Fovea.Tests.Support;

namespace Fovea.Tests.Geometry;

// Output sides of convolutions and pools against PyTorch's, over every small input, kernel, stride, padding and
// dilation (tools/fixtures/make_fixtures.py, group geometry): where PyTorch raises, the geometry must refuse the shape
// too, not compute an output from windows that hang past the input.
public class OutputSizeTests
{
    private static readonly Fixture Sizes = new("geometry", "output_size");

    [Fact]
    public void PoolOutputSidesAndRefusalsMatchPyTorch()
    {
        var rows = Sizes.Case.GetProperty("pool").EnumerateArray().ToList();
        Assert.NotEmpty(rows);
        foreach (var row in rows)
        {
            var v = row.EnumerateArray().ToArray();
            int i = v[0].GetInt32(), k = v[1].GetInt32(), s = v[2].GetInt32(), p = v[3].GetInt32(), d = v[4].GetInt32();
            bool ceil = v[5].GetInt32() == 1;
            string what = $"pool input {i} kernel {k} stride {s} padding {p} dilation {d} ceil {ceil}";
            PoolGeometry Make() => PoolGeometry.Create(1, 1, i, i, k, k, s, s, p, p, ceil, dilationH: d, dilationW: d);
            if (v[6].ValueKind == System.Text.Json.JsonValueKind.Null)
                Assert.True(Throws(() => Make()), $"{what}: PyTorch raises, Fovea gives {PoolGeometry.OutSize(i, k, s, p, d, ceil)}");
            else
                Assert.True(v[6].GetInt32() == Make().OutHeight, $"{what}: PyTorch {v[6].GetInt32()}, Fovea {PoolGeometry.OutSize(i, k, s, p, d, ceil)}");
        }
    }

    [Fact]
    public void ConvOutputSidesAndRefusalsMatchPyTorch()
    {
        var rows = Sizes.Case.GetProperty("conv").EnumerateArray().ToList();
        Assert.NotEmpty(rows);
        foreach (var row in rows)
        {
            var v = row.EnumerateArray().ToArray();
            int i = v[0].GetInt32(), k = v[1].GetInt32(), s = v[2].GetInt32(), p = v[3].GetInt32(), d = v[4].GetInt32();
            string what = $"conv input {i} kernel {k} stride {s} padding {p} dilation {d}";
            ConvGeometry Make() => ConvGeometry.Create(1, 1, i, i, 1, k, k, s, s, p, p, d, d);
            if (v[5].ValueKind == System.Text.Json.JsonValueKind.Null)
                Assert.True(Throws(() => Make()), $"{what}: PyTorch raises, Fovea accepts it");
            else
                Assert.True(v[5].GetInt32() == Make().OutHeight, $"{what}: PyTorch {v[5].GetInt32()}");
        }
    }

    private static bool Throws(Action make)
    {
        try
        {
            make();
            return false;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}
