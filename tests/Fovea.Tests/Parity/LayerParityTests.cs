using Fovea.NN;
using Fovea.Tests.Support;

namespace Fovea.Tests.Parity;

/// <summary>Every layer and option against PyTorch: forward output, input gradient, parameter gradients, running stats.</summary>
public class LayerParityTests
{
    public static IEnumerable<object[]> Cases => Fixture.Cases("layers");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name) => Check(name, ConvAlgorithm.Auto);

    /// <summary>Each convolution algorithm that can take the case's geometry gives PyTorch's results.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvAlgorithmsMatchPyTorch(string name)
    {
        var f = new Fixture("layers", name);
        if (f.Case.GetProperty("module").GetString() is not ("Conv2d" or "Conv1d")) return;
        foreach (var algo in new[] { ConvAlgorithm.Direct, ConvAlgorithm.Im2colGemm, ConvAlgorithm.Fft, ConvAlgorithm.Winograd })
        {
            if (!Supports(algo, f)) continue;
            Check(name, algo);
        }
    }

    private static bool Supports(ConvAlgorithm algo, Fixture f)
    {
        var kw = f.Case.GetProperty("kwargs");
        int Get(string k, int d) => kw.TryGetProperty(k, out var v) ? (v.ValueKind == System.Text.Json.JsonValueKind.Array ? v[0].GetInt32() : v.GetInt32()) : d;
        bool dense = Get("stride", 1) == 1 && Get("dilation", 1) == 1 && Get("groups", 1) == 1;
        bool is3x3 = f.Case.GetProperty("module").GetString() == "Conv2d" && kw.GetProperty("kernel_size") is var k
            && k.ValueKind == System.Text.Json.JsonValueKind.Number && k.GetInt32() == 3;
        return algo switch
        {
            ConvAlgorithm.Fft => dense,
            ConvAlgorithm.Winograd => dense && is3x3,
            _ => true,
        };
    }

    private static void Check(string name, ConvAlgorithm algorithm)
    {
        var f = new Fixture("layers", name);
        var module = ModuleFactory.Create(f.Case.GetProperty("module").GetString()!, f.Case.GetProperty("kwargs"));
        module.Train(f.Case.GetProperty("train").GetBoolean());
        foreach (var (_, m) in module.NamedModules())
        {
            if (m is Conv2d c2) c2.Algorithm = algorithm;
            if (m is Conv1d c1) c1.Algorithm = algorithm;
        }
        var state = module.StateDict();
        foreach (var p in f.Names("param.")) state[p].CopyFrom(f.Tensor("param." + p));
        foreach (var b in f.Names("buffer.")) state[b].CopyFrom(f.Tensor("buffer." + b));
        Assert.Equal(f.Names("param.").ToHashSet(), module.NamedParameters().Select(p => p.Name).ToHashSet());

        var x = f.Tensor("input");
        x.RequiresGrad = true;
        var y = module.Forward(x);
        string tag = $"{name} [{algorithm}]";
        Assert.Equal(f.Array("output").Shape, y.Shape);
        Close.Assert(f.Doubles("output"), y.ToArray(), $"{tag} output");

        (y * f.Tensor("grad_output")).Sum().Backward();
        Close.Assert(f.Doubles("grad_input"), x.Grad!.ToArray(), $"{tag} grad_input");
        foreach (var (pname, p) in module.NamedParameters())
            Close.Assert(f.Doubles("grad." + pname), p.Grad!.ToArray(), $"{tag} grad.{pname}");
        foreach (var b in f.Names("buffer_after."))
            Close.Assert(f.Doubles("buffer_after." + b), state[b].ToArray(), $"{tag} {b} after forward");
    }
}
