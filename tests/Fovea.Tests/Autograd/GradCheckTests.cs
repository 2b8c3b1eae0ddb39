using Fovea.Tests.Support;

namespace Fovea.Tests.Autograd;

/// <summary>Finite differences for the backward of every op the autograd front defines itself.</summary>
public class GradCheckTests
{
    private static Tensor R(params int[] shape) => Tensor.Randn(shape, new Generator(shape.Sum() * 31 + shape.Length));
    private static Tensor Pos(params int[] shape) => R(shape).Abs() + 0.5f;

    public static IEnumerable<object[]> Unary => new[] { "neg", "exp", "log", "sqrt", "abs", "relu", "leaky", "sigmoid", "tanh", "square", "recip", "pow", "scalar" }
        .Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Unary))]
    public void UnaryOps(string op)
    {
        Func<Tensor, Tensor> f = op switch
        {
            "neg" => x => -x,
            "exp" => x => x.Exp(),
            "log" => x => x.Log(),
            "sqrt" => x => x.Sqrt(),
            "abs" => x => x.Abs(),
            "relu" => x => x.Relu(),
            "leaky" => x => x.LeakyRelu(0.1f),
            "sigmoid" => x => x.Sigmoid(),
            "tanh" => x => x.Tanh(),
            "square" => x => x.Square(),
            "recip" => x => x.Reciprocal(),
            "pow" => x => x.Pow(1.5f),
            _ => x => 3f - x * 2f + 1f,
        };
        // Positive inputs away from the kinks of abs/relu where differences would straddle them.
        var x = op is "log" or "sqrt" or "recip" or "pow" or "abs" or "relu" or "leaky" ? Pos(3, 4) : R(3, 4);
        if (op is "abs" or "relu" or "leaky") x = x * Tensor.FromArray([1f, -1, 1, -1], [4]);
        GradCheck.Check(t => f(t[0]), [x.Detach()], op);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("sub")]
    [InlineData("mul")]
    [InlineData("div")]
    [InlineData("max")]
    public void BroadcastBinaryOps(string op)
    {
        Func<Tensor, Tensor, Tensor> f = op switch
        {
            "add" => (a, b) => a + b,
            "sub" => (a, b) => a - b,
            "mul" => (a, b) => a * b,
            "div" => (a, b) => a / b,
            _ => (a, b) => a.Maximum(b),
        };
        var b = op == "div" ? Pos(3, 1) : R(3, 1);
        GradCheck.Check(t => f(t[0], t[1]), [R(2, 3, 4), b], op);
    }

    [Fact] public void SumMeanMaxOverDims() => GradCheck.Check(t => t[0].Sum(1) + t[0].Mean(1) * 2f + t[0].Max(1), [R(2, 5, 3)], "reductions");
    [Fact] public void MatMulBatched() => GradCheck.Check(t => t[0].MatMul(t[1]), [R(2, 3, 4), R(4, 5)], "matmul");
    [Fact] public void MatMulTransposedView() => GradCheck.Check(t => t[0].T.MatMul(t[1]), [R(4, 3), R(4, 2)], "matmul of a transpose");
    [Fact] public void ViewsSliceAndPermute() => GradCheck.Check(t => t[0].Slice(2, 1, 4).Permute(2, 0, 1).Reshape(3, -1) * 2f, [R(2, 3, 5)], "views");
    [Fact] public void CatAndGather() => GradCheck.Check(t => Tensor.Cat([t[0], t[1]], 1).Gather(1, Tensor.FromArray(new long[] { 0, 4, 2, 1, 3, 3 }, [2, 3])), [R(2, 3), R(2, 2)], "cat+gather");
    [Fact] public void TopKValues() => GradCheck.Check(t => t[0].TopK(2).Values, [Tensor.FromArray([0.1f, 0.9f, 0.4f, -0.3f, 0.7f, 0.2f], [2, 3])], "topk");
    [Fact] public void Expand() => GradCheck.Check(t => t[0].Expand(2, 3, 4) * Tensor.Arange(24).Reshape(2, 3, 4), [R(3, 1)], "expand");
    [Fact] public void MseLoss() => GradCheck.Check(t => Functional.MseLoss(t[0], t[1]), [R(3, 4), R(3, 4) * 0.5f + 1f], "mse");
    [Fact] public void NllLoss() => GradCheck.Check(t => Functional.NllLoss(t[0], Tensor.FromArray(new long[] { 1, 0, 3 }, [3]), Reduction.Sum), [R(3, 4)], "nll");
}
