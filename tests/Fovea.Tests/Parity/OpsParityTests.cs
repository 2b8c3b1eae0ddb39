using Fovea.Tests.Support;

namespace Fovea.Tests.Parity;

/// <summary>Tensor ops with autograd against PyTorch: values and the gradients of both operands.</summary>
public class OpsParityTests
{
    public static IEnumerable<object[]> Cases => Fixture.Cases("ops");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var f = new Fixture("ops", name);
        var args = f.Case.GetProperty("args");
        int Arg(string k) => args.GetProperty(k).GetInt32();
        bool Flag(string k) => args.GetProperty(k).GetBoolean();
        var a = f.Tensor("a");
        a.RequiresGrad = true;
        Tensor? b = f.Has("b") ? f.Tensor("b") : null;
        if (b is not null) b.RequiresGrad = true;
        var y = f.Case.GetProperty("op").GetString() switch
        {
            "matmul" => a.MatMul(b!),
            "transpose_matmul" => a.Transpose(Arg("dim0"), Arg("dim1")).MatMul(b!),
            "mul" => a * b!,
            "div" => a / b!,
            "sum" => a.Sum(Arg("dim"), Flag("keepdim")),
            "mean" => a.Mean(Arg("dim"), Flag("keepdim")),
            "amax" => a.Max(Arg("dim"), Flag("keepdim")),
            "exp" => a.Exp(),
            "log" => a.Log(),
            "sqrt" => a.Sqrt(),
            "cat" => Tensor.Cat([a, b!], Arg("dim")),
            "topk" => TopK(a, Arg("k"), Arg("dim"), f),
            var op => throw new InvalidOperationException($"fixture names unknown op {op}"),
        };
        Assert.Equal(f.Array("output").Shape, y.Shape);
        Close.Assert(f.Doubles("output"), y.ToArray(), $"{name} output");
        (y * f.Tensor("grad_output")).Sum().Backward();
        Close.Assert(f.Doubles("grad_a"), a.Grad!.ToArray(), $"{name} grad_a");
        if (b is not null) Close.Assert(f.Doubles("grad_b"), b.Grad!.ToArray(), $"{name} grad_b");
    }

    private static Tensor TopK(Tensor a, int k, int dim, Fixture f)
    {
        var (values, indices) = a.TopK(k, dim);
        Assert.Equal(f.Array("output_indices").Longs, indices.ToLongArray());
        return values;
    }
}
