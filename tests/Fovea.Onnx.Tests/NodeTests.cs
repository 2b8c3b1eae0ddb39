using Fovea.Autograd;
using Fovea.Onnx.Proto;
using Google.Protobuf;

namespace Fovea.Onnx.Tests;

/// <summary>
/// One-node graphs built here with attributes PyTorch's exporter never writes (auto_pad, asymmetric pool pads, Gemm's
/// alpha/beta/transA, older opsets' attribute forms), run by Fovea and by ONNX Runtime.
/// </summary>
public class NodeTests
{
    private static AttributeProto I(string n, long v) => new() { Name = n, Type = AttributeProto.Types.AttributeType.Int, I = v };
    private static AttributeProto F(string n, float v) => new() { Name = n, Type = AttributeProto.Types.AttributeType.Float, F = v };
    private static AttributeProto S(string n, string v) => new() { Name = n, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };
    private static AttributeProto Is(string n, params long[] v)
    {
        var a = new AttributeProto { Name = n, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    private static TensorProto W(string name, int seed, params int[] shape)
    {
        var t = Tensor.Randn(shape, new Generator(seed));
        var p = new TensorProto { Name = name, DataType = 1 };
        p.Dims.AddRange(shape.Select(d => (long)d));
        p.FloatData.AddRange(t.ToArray());
        return p;
    }

    private static TensorProto L(string name, params long[] v)
    {
        var p = new TensorProto { Name = name, DataType = 7 };
        p.Dims.Add(v.Length);
        p.Int64Data.AddRange(v);
        return p;
    }

    /// <summary>x → op(x, extra inputs…) → y; <paramref name="inputs"/> are initializer names ("" for an absent input).</summary>
    private static byte[] Graph(string op, int opset, int[] xShape, TensorProto[] inits, string[] inputs, params AttributeProto[] attrs)
    {
        var g = new GraphProto { Name = "one" };
        var n = new NodeProto { OpType = op, Name = "node0" };
        n.Input.Add("x");
        n.Input.AddRange(inputs);
        n.Output.Add("y");
        n.Attribute.AddRange(attrs);
        g.Node.Add(n);
        g.Initializer.AddRange(inits);
        var shape = new TensorShapeProto();
        foreach (var d in xShape) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        g.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } });
        g.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        var m = new ModelProto { IrVersion = opset >= 21 ? 10 : opset >= 19 ? 9 : 7, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return m.ToByteArray();
    }

    public static IEnumerable<object[]> Cases()
    {
        int[] img = [2, 3, 7, 8];
        var cw = W("w", 1, 4, 3, 3, 3);
        var cb = W("b", 2, 4);
        yield return ["conv_same_upper", Graph("Conv", 13, img, [cw, cb], ["w", "b"], S("auto_pad", "SAME_UPPER"), Is("strides", 2, 2)), img];
        yield return ["conv_same_lower", Graph("Conv", 11, img, [cw], ["w"], S("auto_pad", "SAME_LOWER"), Is("strides", 2, 3)), img];
        yield return ["conv_valid", Graph("Conv", 9, img, [cw], ["w"], S("auto_pad", "VALID")), img];
        yield return ["conv_asym_pads", Graph("Conv", 13, img, [cw, cb], ["w", "b"], Is("pads", 0, 1, 2, 1)), img];
        yield return ["conv_groups", Graph("Conv", 13, [2, 4, 6, 6], [W("w", 3, 6, 2, 3, 3)], ["w"], I("group", 2), Is("pads", 1, 1, 1, 1)), new[] { 2, 4, 6, 6 }];
        yield return ["conv1d", Graph("Conv", 13, [2, 3, 10], [W("w", 4, 5, 3, 3)], ["w"], Is("pads", 2, 1), Is("strides", 2)), new[] { 2, 3, 10 }];
        yield return ["maxpool_asym", Graph("MaxPool", 13, img, [], [], Is("kernel_shape", 2, 2), Is("strides", 2, 2), Is("pads", 0, 0, 1, 1)), img];
        yield return ["maxpool_same", Graph("MaxPool", 12, img, [], [], Is("kernel_shape", 3, 3), Is("strides", 2, 2), S("auto_pad", "SAME_UPPER")), img];
        yield return ["maxpool_dilated", Graph("MaxPool", 13, img, [], [], Is("kernel_shape", 2, 2), Is("dilations", 2, 2)), img];
        yield return ["avgpool_default_stride", Graph("AveragePool", 13, img, [], [], Is("kernel_shape", 3, 2)), img];
        yield return ["avgpool_include_ceil", Graph("AveragePool", 13, img, [], [], Is("kernel_shape", 3, 3), Is("strides", 2, 2), Is("pads", 1, 1, 1, 1), I("count_include_pad", 1), I("ceil_mode", 1)), img];
        yield return ["global_max", Graph("GlobalMaxPool", 13, img, [], []), img];
        yield return ["global_avg", Graph("GlobalAveragePool", 13, img, [], []), img];
        yield return ["lrn_even", Graph("LRN", 13, [2, 6, 3, 3], [], [], I("size", 3), F("alpha", 0.01f), F("beta", 0.6f), F("bias", 1.5f)), new[] { 2, 6, 3, 3 }];
        yield return ["instancenorm", Graph("InstanceNormalization", 13, img, [W("s", 5, 3), W("b", 6, 3)], ["s", "b"], F("epsilon", 1e-3f)), img];
        yield return ["batchnorm_opset9", Graph("BatchNormalization", 9, img, [W("s", 5, 3), W("b", 6, 3), W("m", 7, 3), Abs(W("v", 8, 3))], ["s", "b", "m", "v"], F("epsilon", 1e-3f)), img];
        yield return ["gemm_alpha_beta_transA", Graph("Gemm", 13, [5, 4], [W("b", 1, 5, 3), W("c", 2, 3)], ["b", "c"], F("alpha", 0.5f), F("beta", 2f), I("transA", 1)), new[] { 5, 4 }];
        yield return ["gemm_opset9", Graph("Gemm", 9, [4, 5], [W("b", 1, 3, 5), W("c", 2, 4, 3)], ["b", "c"], I("transB", 1)), new[] { 4, 5 }];
        yield return ["matmul_batched", Graph("MatMul", 13, [2, 3, 4], [W("b", 1, 4, 5)], ["b"]), new[] { 2, 3, 4 }];
        yield return ["pad_reflect_opset9", Graph("Pad", 9, img, [], [], S("mode", "reflect"), Is("pads", 0, 0, 2, 1, 0, 0, 1, 3)), img];
        yield return ["pad_edge_opset11", Graph("Pad", 11, img, [L("p", 0, 0, 1, 2, 0, 0, 3, 0)], ["p"], S("mode", "edge")), img];
        yield return ["pad_constant_value", Graph("Pad", 13, img, [L("p", 0, 0, 1, 2, 0, 0, 3, 0), W("v", 3, 1)], ["p", "v"]), img];
        yield return ["pad_wrap_opset19", Graph("Pad", 19, img, [L("p", 0, 0, 1, 2, 0, 0, 3, 1)], ["p"], S("mode", "wrap")), img];
        yield return ["pad_axes_opset18", Graph("Pad", 18, img, [L("p", 1, 2, 2, 1), L("a", 2, 3)], ["p", "", "a"], S("mode", "reflect")), img];
        yield return ["slice_opset9", Graph("Slice", 9, img, [], [], Is("starts", 1, -5), Is("ends", 100, -1), Is("axes", 1, 3)), img];
        yield return ["slice_steps", Graph("Slice", 13, img, [L("s", 0, 1), L("e", 7, 8), L("a", 2, 3), L("t", 2, 3)], ["s", "e", "a", "t"]), img];
        yield return ["unsqueeze_opset11", Graph("Unsqueeze", 11, img, [], [], Is("axes", 0, -1)), img];
        yield return ["squeeze_opset13", Graph("Squeeze", 13, [2, 1, 4, 1], [L("a", 1, -1)], ["a"]), new[] { 2, 1, 4, 1 }];
        yield return ["transpose", Graph("Transpose", 13, img, [], [], Is("perm", 0, 2, 3, 1)), img];
        yield return ["reshape_zero_minus_one", Graph("Reshape", 13, img, [L("s", 0, -1, 4)], ["s"]), img];
        yield return ["flatten_axis2", Graph("Flatten", 13, img, [], [], I("axis", 2)), img];
        yield return ["logsoftmax_opset11_axis1", Graph("LogSoftmax", 11, img, [], [], I("axis", 1)), img];
        yield return ["softmax_opset13_last", Graph("Softmax", 13, img, [], []), img];
        yield return ["leaky", Graph("LeakyRelu", 13, img, [], [], F("alpha", 0.3f)), img];
        yield return ["div_broadcast", Graph("Div", 13, img, [Abs(W("d", 9, 3, 1, 1))], ["d"]), img];
        yield return ["sub_broadcast", Graph("Sub", 13, img, [W("d", 9, 8)], ["d"]), img];
    }

    private static TensorProto Abs(TensorProto t)
    {
        for (int i = 0; i < t.FloatData.Count; i++) t.FloatData[i] = Math.Abs(t.FloatData[i]) + 0.5f;
        return t;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Node_matches_onnx_runtime(string what, byte[] graph, int[] xShape)
    {
        var x = Tensor.Randn(xShape, new Generator(11));
        var model = OnnxImporter.Load(graph, what + ".onnx");
        Tensor y;
        using (GradMode.NoGrad()) y = model.Forward(x);
        Close.Assert(Ort.Run(graph, x), y.Contiguous().ToArray(), what);
    }
}
