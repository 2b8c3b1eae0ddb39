using Fovea.Inspection;
using Fovea.IO;
using Fovea.NN;
using Fovea.Onnx.Proto;
using Google.Protobuf;

namespace Fovea.Onnx;

/// <summary>Writes Fovea modules as ONNX graphs whose initializers carry the modules' state-dict names.</summary>
/// <remarks>
/// <para>A model is exported by walking its leaf layers in registration order (<see cref="Module.NamedModules"/>),
/// the order <see cref="ModelSummary"/> uses, which is forward order for Sequential trees and for the model zoo's
/// features → (avgpool) → flatten → classifier networks. Shapes come from <see cref="ModelSummary"/>; a
/// Flatten node is put before the first Linear that meets a rank-4 shape (the flatten those models do inside
/// Forward). A model whose Forward does anything else (residual adds, reuse of a layer) is not described by its
/// leaves and cannot be exported this way.</para>
/// <para>An imported <see cref="OnnxModel"/> is written back as its own graph and opset, with the current weights.</para>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> (through a temporary file).</summary>
    /// <param name="model">A Sequential tree or zoo model of supported layers, or an <see cref="OnnxModel"/>.</param>
    /// <param name="inputShape">The input, batch first ([N, C, H, W]); the batch dimension is exported as symbolic.</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="opset">The default-domain opset (9 to 21; 13 unless there is a reason).</param>
    /// <exception cref="NotSupportedException">A layer with no ONNX mapping here (the message names it).</exception>
    public static void Save(Module model, int[] inputShape, string path, int opset = 13)
    {
        var bytes = ToBytes(model, inputShape, opset);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The ONNX bytes of <paramref name="model"/> (see <see cref="Save"/>).</summary>
    public static byte[] ToBytes(Module model, int[] inputShape, int opset = 13) => ToProto(model, inputShape, opset).ToByteArray();

    internal static ModelProto ToProto(Module model, int[] inputShape, int opset)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (model is OnnxModel onnx) return ReExport(onnx);
        if (opset < 9 || opset > 21) throw new ArgumentOutOfRangeException(nameof(opset), $"opset must be 9 to 21, got {opset}");
        if (inputShape.Length < 2) throw new ArgumentException($"input shape must have a batch dimension, got {Shapes.Format(inputShape)}", nameof(inputShape));
        return new GraphBuilder(opset).Build(model, inputShape);
    }

    private static ModelProto ReExport(OnnxModel model)
    {
        var proto = model.Proto.Clone();
        var state = model.StateDict();
        foreach (var t in proto.Graph.Initializer)
        {
            if (!state.TryGetValue(t.Name, out var w)) continue;
            var fresh = OnnxTensors.FromFloats(t.Name, w.Contiguous().ToArray(), w.Shape);
            t.ClearRawData();
            t.FloatData.Clear();
            t.DoubleData.Clear();
            t.DataType = OnnxTensors.Float;
            t.RawData = fresh.RawData;
        }
        return proto;
    }

    private sealed class GraphBuilder(int opset)
    {
        private readonly GraphProto _g = new() { Name = "fovea" };
        private readonly HashSet<string> _initializers = [];
        private int _counter;

        public ModelProto Build(Module model, int[] inputShape)
        {
            // Export describes inference; the caller's training mode is put back afterwards.
            var modes = model.NamedModules().Select(t => (t.Module, t.Module.Training)).ToList();
            model.Eval();
            try { return BuildEval(model, inputShape); }
            finally { foreach (var (m, on) in modes) SetMode(m, on); }
        }

        private static void SetMode(Module m, bool on)
        {
            // Train(bool) recurses into children; the list is parents first, so each child is set again after its parent.
            if (m.Training != on) m.Train(on);
        }

        private ModelProto BuildEval(Module model, int[] inputShape)
        {
            var summary = ModelSummary.Compute(model, inputShape[1..], inputShape[0]);
            var shapes = summary.Layers.ToDictionary(l => l.Name, l => l.OutputShape);
            var weights = model.StateDict();
            string x = "input";
            var cur = inputShape;
            foreach (var (name, m) in model.NamedModules())
            {
                if (m.NamedChildren().Any()) continue;
                if (m is Linear && cur.Length > 2 && cur[^1] != ((Linear)m).InFeatures)
                {
                    x = Node("Flatten", [x], Prefix(name) + "flatten", [Attr("axis", 1)]);
                    cur = [cur[0], cur[1..].Aggregate(1, (p, d) => p * d)];
                }
                x = Layer(name, m, x, cur, weights);
                cur = shapes.TryGetValue(name, out var s) ? s : cur;
            }
            if (x == "input") x = Node("Identity", [x], "identity");
            // Rename the last value to "output" with an Identity, so the graph's output has a stable name.
            var last = _g.Node[^1];
            last.Output[0] = "output";
            _g.Input.Add(ValueInfo("input", inputShape));
            _g.Output.Add(ValueInfo("output", cur));
            var proto = new ModelProto
            {
                IrVersion = opset >= 21 ? 10 : opset >= 19 ? 9 : opset >= 15 ? 8 : opset >= 14 ? 7 : opset >= 12 ? 7 : 6,
                ProducerName = "Fovea",
                ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "",
                Graph = _g,
            };
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
            return proto;
        }

        private static string Prefix(string name) => name.Length == 0 ? "" : name + ".";

        private static ValueInfoProto ValueInfo(string name, int[] shape)
        {
            var tt = new TypeProto.Types.Tensor { ElemType = OnnxTensors.Float, Shape = new TensorShapeProto() };
            for (int i = 0; i < shape.Length; i++)
                tt.Shape.Dim.Add(i == 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tt } };
        }

        private string Node(string op, string[] inputs, string name, AttributeProto[]? attrs = null)
        {
            var n = new NodeProto { OpType = op, Name = name };
            n.Input.AddRange(inputs);
            string output = $"{name}:{op}_{_counter++}";
            n.Output.Add(output);
            if (attrs is not null) n.Attribute.AddRange(attrs);
            _g.Node.Add(n);
            return output;
        }

        private string Weight(string name, Tensor t)
        {
            if (_initializers.Add(name)) _g.Initializer.Add(OnnxTensors.FromFloats(name, t.Contiguous().ToArray(), t.Shape));
            return name;
        }

        private string Ints(string name, params long[] values)
        {
            if (_initializers.Add(name)) _g.Initializer.Add(OnnxTensors.FromLongs(name, values));
            return name;
        }

        private static AttributeProto Attr(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
        private static AttributeProto Attr(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
        private static AttributeProto Attr(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };
        private static AttributeProto Attr(string name, params long[] v)
        {
            var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.AddRange(v);
            return a;
        }

        private string Layer(string name, Module m, string x, int[] shape, Dictionary<string, Tensor> w)
        {
            string p = Prefix(name);
            string label = name.Length == 0 ? m.TypeName : name;
            switch (m)
            {
                case Conv2d c:
                    {
                        var (top, left, bottom, right) = c.PadSides;
                        if (c.PaddingMode != PadMode.Zeros && c.Padded)
                        {
                            x = PrePad(label, x, c.PaddingMode, c.PadSides, shape);
                            (top, left, bottom, right) = (0, 0, 0, 0);
                        }
                        var ins = new List<string> { x, Weight(p + "weight", c.Weight) };
                        if (c.Bias is { } b) ins.Add(Weight(p + "bias", b));
                        return Node("Conv", [.. ins], label, [
                            Attr("kernel_shape", c.KernelSize.H, c.KernelSize.W), Attr("strides", c.Stride.H, c.Stride.W),
                            Attr("pads", top, left, bottom, right), Attr("dilations", c.Dilation.H, c.Dilation.W), Attr("group", (long)c.Groups)]);
                    }
                case Linear l:
                    {
                        if (shape.Length != 2)
                            throw new NotSupportedException($"layer '{label}' (Linear) on a rank-{shape.Length} input {Shapes.Format(shape)} cannot be exported (Gemm takes matrices)");
                        var ins = new List<string> { x, Weight(p + "weight", l.Weight) };
                        if (l.Bias is { } b) ins.Add(Weight(p + "bias", b));
                        return Node("Gemm", [.. ins], label, [Attr("alpha", 1f), Attr("beta", 1f), Attr("transB", 1L)]);
                    }
                case ReLU: return Node("Relu", [x], label);
                case LeakyReLU lr: return Node("LeakyRelu", [x], label, [Attr("alpha", lr.NegativeSlope)]);
                case Sigmoid: return Node("Sigmoid", [x], label);
                case Tanh: return Node("Tanh", [x], label);
                case Dropout or Identity: return x;
                case Softmax or LogSoftmax:
                    {
                        int dim = m is Softmax s ? s.Dim : ((LogSoftmax)m).Dim;
                        if (dim < 0) dim += shape.Length;
                        if (opset < 13 && dim != shape.Length - 1)
                            throw new NotSupportedException($"layer '{label}' ({m.TypeName}(dim={dim})): before opset 13 only the last dimension can be exported");
                        return Node(m is Softmax ? "Softmax" : "LogSoftmax", [x], label, [Attr("axis", (long)dim)]);
                    }
                case Flatten f:
                    {
                        int start = f.StartDim < 0 ? f.StartDim + shape.Length : f.StartDim;
                        int end = f.EndDim < 0 ? f.EndDim + shape.Length : f.EndDim;
                        if (start == 1 && end == shape.Length - 1) return Node("Flatten", [x], label, [Attr("axis", 1L)]);
                        if (start == 0) throw new NotSupportedException($"layer '{label}' (Flatten from dim 0) cannot be exported with a symbolic batch");
                        var target = new List<long> { 0 };
                        for (int i = 1; i < shape.Length;)
                        {
                            if (i == start) { target.Add(shape[start..(end + 1)].Aggregate(1L, (q, d) => q * d)); i = end + 1; }
                            else target.Add(shape[i++]);
                        }
                        return Node("Reshape", [x, Ints(p + "shape", [.. target])], label);
                    }
                case MaxPool2d mp:
                    return Node("MaxPool", [x], label, Pool(mp.KernelSize, mp.Stride, mp.Padding, mp.CeilMode,
                        opset >= 10 ? Attr("dilations", mp.Dilation.H, mp.Dilation.W) : null));
                case AvgPool2d ap:
                    return Node("AveragePool", [x], label, Pool(ap.KernelSize, ap.Stride, ap.Padding, ap.CeilMode,
                        Attr("count_include_pad", ap.CountIncludePad ? 1L : 0L)));
                case AdaptiveAvgPool2d aa:
                    {
                        int h = shape[2], wd = shape[3], oh = aa.OutputSize.H, ow = aa.OutputSize.W;
                        if (oh == 1 && ow == 1) return Node("GlobalAveragePool", [x], label);
                        if (h % oh != 0 || wd % ow != 0)
                            throw new NotSupportedException($"layer '{label}' (AdaptiveAvgPool2d({oh}, {ow})) on {h}x{wd}: only sizes that divide the input can be exported");
                        if (h == oh && wd == ow) return x;
                        return Node("AveragePool", [x], label, [Attr("kernel_shape", h / oh, wd / ow), Attr("strides", h / oh, wd / ow)]);
                    }
                case BatchNorm bn:
                    {
                        if (bn.RunningMean is null || bn.RunningVar is null)
                            throw new NotSupportedException($"layer '{label}' ({bn.TypeName} without running statistics) cannot be exported");
                        string scale = bn.Weight is { } g ? Weight(p + "weight", g) : Weight(p + "weight", Tensor.Ones(bn.NumFeatures));
                        string bias = bn.Bias is { } b ? Weight(p + "bias", b) : Weight(p + "bias", Tensor.Zeros(bn.NumFeatures));
                        return Node("BatchNormalization", [x, scale, bias, Weight(p + "running_mean", bn.RunningMean), Weight(p + "running_var", bn.RunningVar)],
                            label, [Attr("epsilon", bn.Eps), Attr("momentum", 1f - bn.Momentum)]);
                    }
                case LocalResponseNorm lrn:
                    return Node("LRN", [x], label, [Attr("size", (long)lrn.Size), Attr("alpha", lrn.Alpha), Attr("beta", lrn.Beta), Attr("bias", lrn.K)]);
                default:
                    throw new NotSupportedException($"layer '{label}' ({m.TypeName}) has no ONNX export in Fovea.Onnx");
            }
        }

        private AttributeProto[] Pool(Size2 k, Size2 s, Size2 pad, bool ceil, AttributeProto? extra)
        {
            var list = new List<AttributeProto>
            {
                Attr("kernel_shape", k.H, k.W), Attr("strides", s.H, s.W), Attr("pads", pad.H, pad.W, pad.H, pad.W),
            };
            if (ceil)
            {
                if (opset < 10) throw new NotSupportedException("ceil_mode pooling needs opset 10 or later");
                list.Add(Attr("ceil_mode", 1L));
            }
            if (extra is not null) list.Add(extra);
            return [.. list];
        }

        /// <summary>The pre-pad of a conv with reflect/replicate/circular padding: Pad (reflect, edge; wrap from
        /// opset 19), or for circular before opset 19, slices of the far edges concatenated around the input.</summary>
        private string PrePad(string label, string x, PadMode mode, (int Top, int Left, int Bottom, int Right) pad, int[] shape)
        {
            if (mode == PadMode.Circular && opset < 19)
            {
                string Slice(string v, int axis, long start, long end, string name) => opset < 10
                    ? Node("Slice", [v], name, [Attr("starts", new[] { start }), Attr("ends", new[] { end }), Attr("axes", new[] { (long)axis })])
                    : Node("Slice", [v, Ints(name + ".starts", start), Ints(name + ".ends", end), Ints(name + ".axes", axis)], name);
                // The last `before` cells go in front, the first `after` cells behind.
                string Wrap(string v, int axis, long before, long after, long size)
                {
                    if (before == 0 && after == 0) return v;
                    var parts = new List<string>();
                    if (before > 0) parts.Add(Slice(v, axis, size - before, size, $"{label}.wrap{axis}.tail"));
                    parts.Add(v);
                    if (after > 0) parts.Add(Slice(v, axis, 0, after, $"{label}.wrap{axis}.head"));
                    return Node("Concat", [.. parts], $"{label}.wrap{axis}", [Attr("axis", (long)axis)]);
                }
                return Wrap(Wrap(x, 2, pad.Top, pad.Bottom, shape[2]), 3, pad.Left, pad.Right, shape[3]);
            }
            string m = mode switch { PadMode.Reflect => "reflect", PadMode.Replicate => "edge", _ => "wrap" };
            long[] pads = [0, 0, pad.Top, pad.Left, 0, 0, pad.Bottom, pad.Right];
            if (opset < 11) return Node("Pad", [x], label + ".pad", [Attr("mode", m), Attr("pads", pads)]);
            return Node("Pad", [x, Ints(label + ".pads", pads)], label + ".pad", [Attr("mode", m)]);
        }
    }
}
