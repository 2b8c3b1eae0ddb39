using Fovea.Onnx.Proto;
using Google.Protobuf;

namespace Fovea.Onnx.Tests;

/// <summary>What the importer says about files and graphs it cannot take.</summary>
public class ErrorTests
{
    private static string Temp(byte[] bytes, string name)
    {
        var dir = Directory.CreateTempSubdirectory("fovea-onnx-").FullName;
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>x → Relu → OP → y, at <paramref name="opset"/>.</summary>
    internal static byte[] TinyGraph(string op, int opset, int[]? dims = null, params AttributeProto[] attrs)
    {
        var g = new GraphProto { Name = "tiny" };
        var relu = new NodeProto { OpType = "Relu", Name = "first" };
        relu.Input.Add("x");
        relu.Output.Add("h");
        var odd = new NodeProto { OpType = op, Name = "the_odd_one" };
        odd.Input.Add("h");
        odd.Output.Add("y");
        odd.Attribute.AddRange(attrs);
        g.Node.Add(relu);
        g.Node.Add(odd);
        var shape = new TensorShapeProto();
        foreach (int d in dims ?? [1, 4]) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        ValueInfoProto Info(string n) => new() { Name = n, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
        g.Input.Add(Info("x"));
        g.Output.Add(Info("y"));
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return m.ToByteArray();
    }

    [Fact]
    public void Unsupported_operator_names_op_node_and_opset()
    {
        var path = Temp(TinyGraph("NonMaxSuppression", 17), "nms.onnx");
        var e = Assert.Throws<NotSupportedException>(() => OnnxImporter.Load(path));
        Assert.Contains("NonMaxSuppression", e.Message);
        Assert.Contains("the_odd_one", e.Message);
        Assert.Contains("opset 17", e.Message);
    }

    [Fact]
    public void Conv_transpose_is_refused_clearly()
    {
        var e = Assert.Throws<NotSupportedException>(() => OnnxImporter.Load(TinyGraph("ConvTranspose", 13), "ct.onnx"));
        Assert.Contains("ConvTranspose", e.Message);
    }

    [Fact]
    public void A_tiny_built_graph_runs()
    {
        var m = OnnxImporter.Load(TinyGraph("Sigmoid", 13), "tiny.onnx");
        var y = m.Forward(Tensor.FromArray([-1f, 0f, 1f, 2f], [1, 4]));
        Close.Assert(new[] { 0.5f, 0.5f, 0.7310586f, 0.8807971f }, y.ToArray(), "relu→sigmoid");
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Softmax_axis_follows_the_opset(int opset)
    {
        // Before opset 13, Softmax(axis=1) on [2, 3, 4] normalises each sample's 12 values together; from 13, the 3 along dim 1.
        var axis = new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 };
        var m = OnnxImporter.Load(TinyGraph("Softmax", opset, [2, 3, 4], axis), "softmax.onnx");
        var x = Tensor.Randn([2, 3, 4], new Generator(1)).Relu();
        var y = m.Forward(x);
        var expected = opset < 13
            ? Functional.Softmax(x.Reshape(2, 12), 1).Reshape(2, 3, 4)
            : Functional.Softmax(x, 1);
        Close.Assert(expected.ToArray(), y.ToArray(), $"softmax opset {opset}");
    }

    [Fact]
    public void Truncated_file_is_invalid_data_naming_the_file()
    {
        var bytes = File.ReadAllBytes(Fixtures.Model("lenet5"));
        var path = Temp(bytes[..(bytes.Length / 2)], "cut.onnx");
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.Load(path));
        Assert.Contains("cut.onnx", e.Message);
    }

    [Fact]
    public void Non_onnx_file_is_invalid_data_naming_the_file()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("fovea-onnx-").FullName, "array.npy");
        Fovea.IO.Npy.Save(path, Tensor.Ones(3, 4));
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.Load(path));
        Assert.Contains("array.npy", e.Message);
        var text = Temp("hello, this is not a model\n"u8.ToArray(), "notes.onnx");
        Assert.Contains("notes.onnx", Assert.Throws<InvalidDataException>(() => OnnxImporter.Load(text)).Message);
    }

    [Fact]
    public void Missing_file_is_file_not_found() =>
        Assert.Throws<FileNotFoundException>(() => OnnxImporter.Load("/nonexistent/model.onnx"));
}
