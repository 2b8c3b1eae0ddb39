using Fovea.NN;
using Fovea.Tests.Support;

namespace Fovea.Tests.Parity;

public class LossParityTests
{
    public static IEnumerable<object[]> Cases => Fixture.Cases("losses");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var f = new Fixture("losses", name);
        var kw = f.Case.GetProperty("kwargs");
        var reduction = kw.TryGetProperty("reduction", out var r)
            ? r.GetString() switch { "sum" => Reduction.Sum, "none" => Reduction.None, _ => Reduction.Mean }
            : Reduction.Mean;
        Loss loss = f.Case.GetProperty("loss").GetString() switch
        {
            "CrossEntropyLoss" => new CrossEntropyLoss(kw.TryGetProperty("label_smoothing", out var ls) ? ls.GetSingle() : 0f) { Reduction = reduction },
            "NLLLoss" => new NLLLoss { Reduction = reduction },
            "MSELoss" => new MSELoss { Reduction = reduction },
            var l => throw new InvalidOperationException($"unknown loss {l}"),
        };
        var x = f.Tensor("input");
        x.RequiresGrad = true;
        var y = loss.Forward(x, f.Tensor("target"));
        Assert.Equal(f.Array("output").Shape, y.Shape);
        Close.Assert(f.Doubles("output"), y.ToArray(), $"{name} loss");
        (f.Has("grad_output") ? (y * f.Tensor("grad_output")).Sum() : y).Backward();
        Close.Assert(f.Doubles("grad_input"), x.Grad!.ToArray(), $"{name} grad_input");
    }
}
