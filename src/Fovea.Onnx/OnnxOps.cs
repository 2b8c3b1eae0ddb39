using Fovea.Onnx.Proto;

namespace Fovea.Onnx;

/// <summary>
/// The ONNX operators Fovea runs, one case each: constants are computed with <see cref="ConstTensor"/> (shape
/// arithmetic), tensors with <see cref="Functional"/> and the tensor API (so autograd records them).
/// </summary>
internal static class OnnxOps
{
    public static readonly HashSet<string> Supported =
    [
        "Conv", "Pad", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LRN", "BatchNormalization",
        "InstanceNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Gemm", "MatMul",
        "Add", "Sub", "Mul", "Div", "Pow", "Neg", "Sqrt", "Exp", "Log", "Abs", "Reciprocal", "Flatten", "Reshape",
        "Transpose", "Concat", "Slice", "Squeeze", "Unsqueeze", "Dropout", "Identity", "Constant", "Shape", "Gather",
        "Cast", "ConstantOfShape", "Range", "Expand", "Equal", "Where", "Less", "Greater", "Not", "Floor", "Ceil",
    ];

    public static Value[] Run(OnnxModel model, NodeProto n, Value[] x)
    {
        int opset = model.Opset;
        var a = new Attrs(n, opset);
        Value C(ConstTensor c) => new(null, c);
        Value T(Tensor t) => new(t, null);
        bool allConst = x.All(v => !v.IsPresent || v.Const is not null);
        Tensor In(int i) => i < x.Length && x[i].IsPresent ? x[i].Tensor ?? x[i].Const!.ToTensor().ToFloatIfInt()
            : throw new InvalidDataException($"node '{n.Name}' ({n.OpType}) needs input {i}");
        Tensor? Opt(int i) => i < x.Length && x[i].IsPresent ? In(i) : null;
        // A settings input (pads, shape, axes, a pad value) read as numbers. A float initializer there (which import
        // makes a parameter) is read by value, without gradient; a tensor computed from the input cannot be.
        ConstTensor K(int i, string what) => i < x.Length && x[i].Const is { } c ? c
            : i < x.Length && x[i].Tensor is Fovea.NN.Parameter p ? ConstTensor.FromTensor(p.Detach())
            : i < x.Length && x[i].IsPresent
                ? throw new NotSupportedException($"ONNX node '{n.Name}' ({n.OpType}, opset {opset}): input '{what}' must be a constant once the input shape is known")
                : throw new InvalidDataException($"node '{n.Name}' ({n.OpType}) needs input '{what}'");
        bool Has(int i) => i < x.Length && x[i].IsPresent;

        switch (n.OpType)
        {
            case "Identity": return [x[0]];
            case "Constant": return [C(a.ConstantValue())];
            case "Dropout":
                {
                    if (!model.Training) return [x[0]];
                    float p = opset < 12 ? a.Float("ratio", 0.5f) : Has(1) ? (float)K(1, "ratio").Data[0] : 0.5f;
                    return [T(Functional.Dropout(In(0), p, true))];
                }
            case "Shape":
                {
                    var shape = x[0].Tensor?.Shape ?? x[0].Const!.Shape;
                    int r = shape.Length;
                    int s = (int)a.Int("start", 0), e = (int)a.Int("end", r);
                    if (s < 0) s += r;
                    if (e < 0) e += r;
                    s = Math.Clamp(s, 0, r);
                    e = Math.Clamp(e, s, r);
                    return [C(ConstTensor.Ints(shape[s..e].Select(d => (long)d).ToArray()))];
                }
            case "Relu": return [T(In(0).Relu())];
            case "LeakyRelu": return [T(In(0).LeakyRelu(a.Float("alpha", 0.01f)))];
            case "Sigmoid": return [T(In(0).Sigmoid())];
            case "Tanh": return [T(In(0).Tanh())];
            case "Exp": return [T(In(0).Exp())];
            case "Log": return [T(In(0).Log())];
            case "Abs": return [T(In(0).Abs())];
            case "Reciprocal": return [T(In(0).Reciprocal())];
            case "Neg": return allConst ? [C(K(0, "X").Map(v => -v))] : [T(In(0).Neg())];
            case "Sqrt": return allConst ? [C(K(0, "X").Map(Math.Sqrt))] : [T(In(0).Sqrt())];
            case "Floor": return [C(K(0, "X").Map(Math.Floor))];
            case "Ceil": return [C(K(0, "X").Map(Math.Ceiling))];
            case "Not": return [C(K(0, "X").Map(v => v == 0 ? 1 : 0))];
            case "Pow":
                {
                    var e = K(1, "Y");
                    if (allConst) return [C(ConstTensor.Binary(K(0, "X"), e, Math.Pow, K(0, "X").IsInteger))];
                    if (e.Data.Length != 1) throw new NotSupportedException($"ONNX node '{n.Name}' (Pow, opset {opset}): only a scalar exponent is supported");
                    return [T(In(0).Pow((float)e.Data[0]))];
                }
            case "Add" or "Sub" or "Mul" or "Div":
                {
                    if (allConst)
                    {
                        var (p, q) = (K(0, "A"), K(1, "B"));
                        bool ints = p.IsInteger && q.IsInteger;
                        Func<double, double, double> f = n.OpType switch
                        {
                            "Add" => (u, v) => u + v,
                            "Sub" => (u, v) => u - v,
                            "Mul" => (u, v) => u * v,
                            _ => ints ? (u, v) => Math.Truncate(u / v) : (u, v) => u / v,
                        };
                        return [C(ConstTensor.Binary(p, q, f))];
                    }
                    var (l, r) = (In(0), In(1));
                    return [T(n.OpType switch { "Add" => l + r, "Sub" => l - r, "Mul" => l * r, _ => l / r })];
                }
            case "Equal": return [C(ConstTensor.Binary(K(0, "A"), K(1, "B"), (u, v) => u == v ? 1 : 0, true))];
            case "Less": return [C(ConstTensor.Binary(K(0, "A"), K(1, "B"), (u, v) => u < v ? 1 : 0, true))];
            case "Greater": return [C(ConstTensor.Binary(K(0, "A"), K(1, "B"), (u, v) => u > v ? 1 : 0, true))];
            case "Where":
                {
                    var cond = K(0, "condition");
                    var xy = ConstTensor.Binary(K(1, "X"), K(2, "Y"), (u, _) => u);
                    var ys = ConstTensor.Binary(K(1, "X"), K(2, "Y"), (_, v) => v);
                    var pick = ConstTensor.Binary(cond, xy, (c, _) => c);
                    var res = ConstTensor.Binary(pick, ConstTensor.Binary(xy, ys, (u, v) => u * 0), (c, _) => c);
                    var shape = res.Shape;
                    var bx = ConstTensor.Binary(xy, res, (u, _) => u);
                    var by = ConstTensor.Binary(ys, res, (v, _) => v);
                    var data = new double[res.Data.Length];
                    for (int i = 0; i < data.Length; i++) data[i] = res.Data[i] != 0 ? bx.Data[i] : by.Data[i];
                    return [C(new ConstTensor(data, shape, K(1, "X").IsInteger && K(2, "Y").IsInteger))];
                }
            case "Cast":
                {
                    long to = a.Int("to", OnnxTensors.Float);
                    bool toFloat = to is OnnxTensors.Float or OnnxTensors.Double or 10 or 16;
                    if (x[0].Const is { } c)
                        return [C(toFloat ? new ConstTensor(c.Data, c.Shape, false)
                            : to == OnnxTensors.Bool ? c.Map(v => v != 0 ? 1 : 0, true) : c.Map(Math.Truncate, true))];
                    if (toFloat) return [x[0]];
                    throw new NotSupportedException($"ONNX node '{n.Name}' (Cast to type {to}, opset {opset}): casting a computed tensor to integers is not supported");
                }
            case "ConstantOfShape":
                {
                    var shape = K(0, "input").ToInts();
                    var value = a.Tensor("value") is { } vt ? OnnxTensors.ToConst(vt, n.Name) : new ConstTensor([0.0], [1], false);
                    var data = new double[Shapes.Count(shape)];
                    Array.Fill(data, value.Data[0]);
                    return [C(new ConstTensor(data, shape, value.IsInteger))];
                }
            case "Range":
                {
                    var (s, l, d) = (K(0, "start"), K(1, "limit"), K(2, "delta"));
                    double st = s.Data[0], lim = l.Data[0], de = d.Data[0];
                    int count = Math.Max(0, (int)Math.Ceiling((lim - st) / de));
                    return [C(new ConstTensor(Enumerable.Range(0, count).Select(i => st + i * de).ToArray(), [count], s.IsInteger))];
                }
            case "Expand":
                {
                    var shape = K(1, "shape").ToInts();
                    if (allConst) return [C(ConstTensor.Binary(K(0, "input"), new ConstTensor(new double[Shapes.Count(shape)], shape, true), (u, _) => u, K(0, "input").IsInteger))];
                    var t = In(0);
                    return [T(t.Expand(Shapes.Broadcast(t.Shape, shape)))];
                }
            case "Gather":
                {
                    var idx = K(1, "indices");
                    if (x[0].Const is { } data)
                    {
                        int ax = Axis(a.Int("axis", 0), data.Rank);
                        return [C(data.GatherAxis(idx, ax))];
                    }
                    var t = In(0);
                    int axis = Axis(a.Int("axis", 0), t.Rank);
                    if (idx.Rank == 0) return [T(t.Select(axis, Index(idx.Data[0], t.Size(axis))))];
                    var picks = idx.Data.Select(v => t.Slice(axis, Index(v, t.Size(axis)), Index(v, t.Size(axis)) + 1)).ToList();
                    var cat = Tensor.Cat(picks, axis);
                    var shape = t.Shape[..axis].Concat(idx.Shape).Concat(t.Shape[(axis + 1)..]).ToArray();
                    return [T(cat.Reshape(shape))];
                }
            case "Reshape":
                {
                    var spec = K(1, "shape").ToInts();
                    bool allowZero = a.Int("allowzero", 0) != 0;
                    var inShape = x[0].Tensor?.Shape ?? K(0, "data").Shape;
                    var shape = (int[])spec.Clone();
                    for (int i = 0; i < shape.Length; i++)
                        if (shape[i] == 0 && !allowZero) shape[i] = inShape[i];
                    shape = Shapes.Infer(shape, Shapes.Count(inShape));
                    return x[0].Const is { } c ? [C(c.Reshape(shape))] : [T(In(0).Reshape(shape))];
                }
            case "Flatten":
                {
                    var inShape = x[0].Tensor?.Shape ?? K(0, "input").Shape;
                    int axis = (int)a.Int("axis", 1);
                    if (axis < 0) axis += inShape.Length;
                    int outer = 1;
                    for (int i = 0; i < axis; i++) outer *= inShape[i];
                    int[] shape = [outer, Shapes.Count(inShape) / Math.Max(outer, 1)];
                    return x[0].Const is { } c ? [C(c.Reshape(shape))] : [T(In(0).Reshape(shape))];
                }
            case "Transpose":
                {
                    int rank = x[0].Tensor?.Rank ?? K(0, "data").Rank;
                    var perm = a.Ints("perm") is { } p ? p.Select(v => (int)v).ToArray() : Enumerable.Range(0, rank).Reverse().ToArray();
                    return x[0].Const is { } c ? [C(c.Transpose(perm))] : [T(In(0).Permute(perm))];
                }
            case "Concat":
                {
                    var present = x.Where(v => v.IsPresent).ToList();
                    int rank = present[0].Tensor?.Rank ?? present[0].Const!.Rank;
                    int axis = Axis(a.Int("axis", 0), rank);
                    if (allConst) return [C(ConstTensor.Concat(present.Select(v => v.Const!).Where(c => c.Data.Length > 0 || present.Count == 1).ToList(), axis))];
                    return [T(Tensor.Cat(present.Select(v => v.Tensor ?? v.Const!.ToTensor().ToFloatIfInt()).ToList(), axis))];
                }
            case "Unsqueeze" or "Squeeze":
                {
                    var axesIn = opset < 13 ? a.Ints("axes") : Has(1) ? K(1, "axes").ToLongs() : null;
                    var inShape = x[0].Tensor?.Shape ?? K(0, "data").Shape;
                    int[] shape;
                    if (n.OpType == "Unsqueeze")
                    {
                        if (axesIn is null) throw new InvalidDataException($"node '{n.Name}' (Unsqueeze) has no axes");
                        int outRank = inShape.Length + axesIn.Length;
                        var axes = axesIn.Select(v => (int)(v < 0 ? v + outRank : v)).ToHashSet();
                        shape = new int[outRank];
                        for (int i = 0, j = 0; i < outRank; i++) shape[i] = axes.Contains(i) ? 1 : inShape[j++];
                    }
                    else
                    {
                        var axes = axesIn?.Select(v => (int)(v < 0 ? v + inShape.Length : v)).ToHashSet();
                        shape = inShape.Where((d, i) => axes is null ? d != 1 : !axes.Contains(i)).ToArray();
                    }
                    return x[0].Const is { } c ? [C(c.Reshape(shape))] : [T(In(0).Reshape(shape))];
                }
            case "Slice":
                {
                    long[] starts, ends;
                    long[]? axes, steps;
                    if (opset < 10)
                    {
                        starts = a.Ints("starts") ?? [];
                        ends = a.Ints("ends") ?? [];
                        axes = a.Ints("axes");
                        steps = null;
                    }
                    else
                    {
                        starts = K(1, "starts").ToLongs();
                        ends = K(2, "ends").ToLongs();
                        axes = Has(3) ? K(3, "axes").ToLongs() : null;
                        steps = Has(4) ? K(4, "steps").ToLongs() : null;
                    }
                    var v = x[0];
                    int rank = v.Tensor?.Rank ?? v.Const!.Rank;
                    for (int i = 0; i < starts.Length; i++)
                    {
                        int ax = Axis(axes?[i] ?? i, rank);
                        long step = steps?[i] ?? 1;
                        if (v.Const is { } c) v = C(c.Slice(ax, starts[i], ends[i], step));
                        else
                        {
                            if (step <= 0) throw new NotSupportedException($"ONNX node '{n.Name}' (Slice, opset {opset}): negative steps on computed tensors are not supported");
                            var (s0, count) = ConstTensor.SliceRange(v.Tensor!.Size(ax), starts[i], ends[i], step);
                            v = T(v.Tensor!.Slice(ax, s0, s0 + (count - 1) * (int)step + 1, (int)step));
                        }
                    }
                    return [v];
                }
            case "Softmax" or "LogSoftmax":
                {
                    var t = In(0);
                    bool log = n.OpType == "LogSoftmax";
                    if (opset >= 13)
                    {
                        int dim = Axis(a.Int("axis", -1), t.Rank);
                        return [T(log ? Functional.LogSoftmax(t, dim) : Functional.Softmax(t, dim))];
                    }
                    // Before opset 13 the input is flattened to 2-D at axis and normalised over the whole trailing block.
                    int axis = Axis(a.Int("axis", 1), t.Rank);
                    var shape = t.Shape;
                    int outer = 1;
                    for (int i = 0; i < axis; i++) outer *= shape[i];
                    var flat = t.Reshape(outer, t.NumEl / Math.Max(outer, 1));
                    var y = log ? Functional.LogSoftmax(flat, 1) : Functional.Softmax(flat, 1);
                    return [T(y.Reshape(shape))];
                }
            case "Gemm":
                {
                    var (A, B) = (In(0), In(1));
                    if (a.Int("transA", 0) != 0) A = A.Transpose(0, 1);
                    if (a.Int("transB", 0) != 0) B = B.Transpose(0, 1);
                    var y = A.MatMul(B);
                    float alpha = a.Float("alpha", 1f), beta = a.Float("beta", 1f);
                    if (alpha != 1f) y = y * alpha;
                    if (Opt(2) is { } bias && beta != 0f) y = y + (beta == 1f ? bias : bias * beta);
                    return [T(y)];
                }
            case "MatMul":
                {
                    var (A, B) = (In(0), In(1));
                    bool va = A.Rank == 1, vb = B.Rank == 1;
                    if (va) A = A.Unsqueeze(0);
                    if (vb) B = B.Unsqueeze(1);
                    var y = A.MatMul(B);
                    if (vb) y = y.Squeeze(-1);
                    if (va) y = y.Squeeze(vb ? -1 : -2);
                    return [T(y)];
                }
            case "Conv": return [T(Conv(n, a, In(0), In(1), Opt(2)))];
            case "MaxPool" or "AveragePool":
                if (n.Output.Count > 1 && n.Output[1].Length > 0)
                    throw new NotSupportedException($"ONNX node '{n.Name}' (MaxPool with Indices output, opset {opset}) is not supported");
                return [T(Pool(n, a, In(0)))];
            case "GlobalAveragePool" or "GlobalMaxPool":
                {
                    var t = In(0);
                    if (n.OpType == "GlobalAveragePool" && t.Rank == 4) return [T(Functional.AdaptiveAvgPool2d(t, (1, 1)))];
                    for (int d = t.Rank - 1; d >= 2; d--) t = n.OpType == "GlobalAveragePool" ? t.Mean(d, true) : t.Max(d, true);
                    return [T(t)];
                }
            case "LRN":
                return [T(Functional.LocalResponseNorm(In(0), (int)a.Int("size", 0), a.Float("alpha", 1e-4f), a.Float("beta", 0.75f), a.Float("bias", 1f)))];
            case "BatchNormalization":
                {
                    bool train = model.Training && x[3].Tensor is not null;
                    var y = Functional.BatchNorm(In(0), In(3), In(4), In(1), In(2), train, 1f - a.Float("momentum", 0.9f), a.Float("epsilon", 1e-5f),
                        layer: n.Name);
                    return [T(y)];
                }
            case "InstanceNormalization":
                {
                    var t = In(0);
                    float eps = a.Float("epsilon", 1e-5f);
                    var mean = t;
                    for (int d = t.Rank - 1; d >= 2; d--) mean = mean.Mean(d, true);
                    var centred = t - mean;
                    var variance = centred.Square();
                    for (int d = t.Rank - 1; d >= 2; d--) variance = variance.Mean(d, true);
                    var bshape = Enumerable.Repeat(1, t.Rank).ToArray();
                    bshape[1] = t.Size(1);
                    var y = centred / (variance + eps).Sqrt() * In(1).Reshape(bshape) + In(2).Reshape(bshape);
                    return [T(y)];
                }
            case "Pad": return [T(Pad(n, a, opset, In(0), Has(1) ? K(1, "pads") : null, Has(2) ? K(2, "constant_value") : null, Has(3) ? K(3, "axes") : null))];
            default:
                throw new NotSupportedException($"ONNX operator '{n.OpType}' (node '{n.Name}', opset {opset}) is not supported by Fovea.Onnx");
        }
    }

    private static int Axis(long axis, int rank) => (int)(axis < 0 ? axis + rank : axis);

    private static int Index(double v, int size) => (int)(v < 0 ? v + size : v);

    private static Tensor ToFloatIfInt(this Tensor t) => t.DType == DType.Int64 ? Tensor.FromArray(Array.ConvertAll(t.ToLongArray(), v => (float)v), t.Shape) : t;

    /// <summary>ONNX auto_pad SAME_*: the total padding that gives ceil(in / stride) outputs, split begin/end.</summary>
    private static (int Begin, int End) SamePad(string mode, int size, int kernel, int stride, int dilation)
    {
        int outSize = (size + stride - 1) / stride;
        int total = Math.Max(0, (outSize - 1) * stride + (kernel - 1) * dilation + 1 - size);
        int small = total / 2;
        return mode == "SAME_UPPER" ? (small, total - small) : (total - small, small);
    }

    /// <summary>Pads as (top, left, bottom, right) for a 2-D window op, from pads or auto_pad.</summary>
    private static (int T, int L, int B, int R) WindowPads(NodeProto n, Attrs a, int opset, int h, int w, (int h, int w) k, (int h, int w) s, (int h, int w) d)
    {
        string auto = a.String("auto_pad", "NOTSET");
        switch (auto)
        {
            case "NOTSET":
                var p = a.Ints("pads")?.Select(v => (int)v).ToArray() ?? [0, 0, 0, 0];
                if (p.Length != 4) throw new InvalidDataException($"node '{n.Name}' ({n.OpType}): expected 4 pads, got {p.Length}");
                return (p[0], p[1], p[2], p[3]);
            case "VALID": return (0, 0, 0, 0);
            case "SAME_UPPER" or "SAME_LOWER":
                var (t, b) = SamePad(auto, h, k.h, s.h, d.h);
                var (l, r) = SamePad(auto, w, k.w, s.w, d.w);
                return (t, l, b, r);
            default:
                throw new NotSupportedException($"ONNX node '{n.Name}' ({n.OpType}, opset {opset}): auto_pad '{auto}' is not supported");
        }
    }

    private static (int, int) Pair(long[]? v, (int, int) fallback, bool oneD) =>
        v is null ? fallback : oneD ? (1, (int)v[0]) : ((int)v[0], (int)v[1]);

    private static Tensor Conv(NodeProto n, Attrs a, Tensor x, Tensor w, Tensor? bias)
    {
        bool oneD = w.Rank == 3;
        if (!oneD && w.Rank != 4)
            throw new NotSupportedException($"ONNX node '{n.Name}' (Conv, opset {a.Opset}): only 1-D and 2-D convolutions are supported, got weight {w.ShapeString}");
        if (oneD)
        {
            x = x.Unsqueeze(2);
            w = w.Unsqueeze(2);
        }
        var k = (w.Size(2), w.Size(3));
        var s = Pair(a.Ints("strides"), (1, 1), oneD);
        var d = Pair(a.Ints("dilations"), (1, 1), oneD);
        (int T, int L, int B, int R) pads;
        if (oneD && a.String("auto_pad", "NOTSET") == "NOTSET")
        {
            var p = a.Ints("pads") ?? [0, 0];
            pads = (0, (int)p[0], 0, (int)p[1]);
        }
        else pads = WindowPads(n, a, a.Opset, x.Size(2), x.Size(3), k, s, d);
        var y = Functional.Conv2d(x, w, bias, s, pads, d, (int)a.Int("group", 1), layer: n.Name);
        return oneD ? y.Squeeze(2) : y;
    }

    private static Tensor Pool(NodeProto n, Attrs a, Tensor x)
    {
        bool max = n.OpType == "MaxPool";
        var ks = a.Ints("kernel_shape") ?? throw new InvalidDataException($"node '{n.Name}' ({n.OpType}) has no kernel_shape");
        bool oneD = ks.Length == 1;
        if (!oneD && ks.Length != 2)
            throw new NotSupportedException($"ONNX node '{n.Name}' ({n.OpType}, opset {a.Opset}): only 1-D and 2-D pooling is supported");
        if (oneD) x = x.Unsqueeze(2);
        var k = Pair(ks, (1, 1), oneD);
        var s = Pair(a.Ints("strides"), (1, 1), oneD);
        var d = Pair(a.Ints("dilations"), (1, 1), oneD);
        (int T, int L, int B, int R) p;
        if (oneD && a.String("auto_pad", "NOTSET") == "NOTSET")
        {
            var q = a.Ints("pads") ?? [0, 0];
            p = (0, (int)q[0], 0, (int)q[1]);
        }
        else p = WindowPads(n, a, a.Opset, x.Size(2), x.Size(3), k, s, d);
        bool ceil = a.Int("ceil_mode", 0) != 0;
        bool include = a.Int("count_include_pad", 0) != 0;
        (int, int) pad = (p.T, p.L);
        if (p.T != p.B || p.L != p.R)
        {
            // Fovea's pools pad symmetrically: pre-pad the difference with what the pool would have seen.
            if (!max && !include)
                throw new NotSupportedException($"ONNX node '{n.Name}' (AveragePool, opset {a.Opset}): asymmetric pads without count_include_pad are not supported");
            x = Functional.Pad(x, p.L, p.R, p.T, p.B, PadMode.Zeros, max ? float.NegativeInfinity : 0f);
            pad = (0, 0);
        }
        Tensor y;
        if (max) y = Functional.MaxPool2d(x, k, s, pad, ceil, d);
        else
        {
            if (d != (1, 1)) throw new NotSupportedException($"ONNX node '{n.Name}' (AveragePool, opset {a.Opset}): dilations are not supported");
            y = Functional.AvgPool2d(x, k, s, pad, ceil, include);
        }
        return oneD ? y.Squeeze(2) : y;
    }

    private static Tensor Pad(NodeProto n, Attrs a, int opset, Tensor x, ConstTensor? padsIn, ConstTensor? valueIn, ConstTensor? axesIn)
    {
        string mode = a.String("mode", "constant");
        long[] pads;
        float value;
        if (opset < 11)
        {
            pads = a.Ints("pads") ?? a.Ints("paddings") ?? throw new InvalidDataException($"node '{n.Name}' (Pad) has no pads");
            value = a.Float("value", 0f);
        }
        else
        {
            pads = padsIn?.ToLongs() ?? throw new InvalidDataException($"node '{n.Name}' (Pad) has no pads input");
            value = valueIn is null || valueIn.Data.Length == 0 ? 0f : (float)valueIn.Data[0];
        }
        int rank = x.Rank;
        var full = new long[2 * rank];
        if (axesIn is not null)
        {
            var axes = axesIn.ToLongs();
            for (int i = 0; i < axes.Length; i++)
            {
                int ax = Axis(axes[i], rank);
                full[ax] = pads[i];
                full[ax + rank] = pads[i + axes.Length];
            }
        }
        else
        {
            if (pads.Length != 2 * rank) throw new InvalidDataException($"node '{n.Name}' (Pad): {pads.Length} pads for a rank-{rank} input");
            full = pads;
        }
        for (int i = 0; i < rank - 2; i++)
            if (full[i] != 0 || full[i + rank] != 0)
                throw new NotSupportedException($"ONNX node '{n.Name}' (Pad, opset {opset}): padding the batch or channel dimension is not supported");
        if (full.Any(v => v < 0))
            throw new NotSupportedException($"ONNX node '{n.Name}' (Pad, opset {opset}): negative pads (cropping) are not supported");
        var pm = mode switch
        {
            "constant" => PadMode.Zeros,
            "reflect" => PadMode.Reflect,
            "edge" => PadMode.Replicate,
            "wrap" => PadMode.Circular,
            _ => throw new NotSupportedException($"ONNX node '{n.Name}' (Pad, opset {opset}): mode '{mode}' is not supported"),
        };
        if (rank == 3) return Functional.Pad(x, (int)full[2], (int)full[5], 0, 0, pm, value);
        if (rank != 4) throw new NotSupportedException($"ONNX node '{n.Name}' (Pad, opset {opset}): only 3-D and 4-D inputs are supported");
        return Functional.Pad(x, (int)full[3], (int)full[7], (int)full[2], (int)full[6], pm, value);
    }

    /// <summary>A node's attributes by name, with ONNX's defaults supplied by the caller.</summary>
    private readonly struct Attrs(NodeProto node, int opset)
    {
        public int Opset => opset;

        private AttributeProto? Find(string name) => node.Attribute.FirstOrDefault(x => x.Name == name);

        public long Int(string name, long fallback) => Find(name) is { } x ? x.I : fallback;
        public float Float(string name, float fallback) => Find(name) is { } x ? x.F : fallback;
        public string String(string name, string fallback) => Find(name) is { } x ? x.S.ToStringUtf8() : fallback;
        public long[]? Ints(string name) => Find(name) is { } x ? x.Ints.ToArray() : null;
        public TensorProto? Tensor(string name) => Find(name)?.T;

        public ConstTensor ConstantValue()
        {
            foreach (var x in node.Attribute)
                switch (x.Name)
                {
                    case "value": return OnnxTensors.ToConst(x.T, $"node '{node.Name}'");
                    case "value_float": return new ConstTensor([x.F], [], false);
                    case "value_floats": return new ConstTensor(x.Floats.Select(f => (double)f).ToArray(), [x.Floats.Count], false);
                    case "value_int": return new ConstTensor([x.I], [], true);
                    case "value_ints": return new ConstTensor(x.Ints.Select(i => (double)i).ToArray(), [x.Ints.Count], true);
                }
            throw new NotSupportedException($"ONNX node '{node.Name}' (Constant, opset {opset}): only tensor, float(s) and int(s) values are supported");
        }
    }
}
