using System.Text;
using System.Text.Json;
using Fovea.NN;

namespace Fovea.Inspection;

/// <summary>
/// The per-layer arithmetic behind <c>fovea summary</c>: output shapes, parameter counts, multiply-adds and
/// receptive fields of every leaf layer, inferred symbolically from the layers' hyper-parameters (nothing runs).
/// </summary>
/// <remarks>
/// <para><b>Layer order.</b> The leaf modules are visited in <see cref="Module.NamedModules"/> order, which is
/// registration order, depth first. That is forward order for the Sequential-style networks of the model zoo
/// (features, avgpool, classifier). A model whose Forward reorders or reuses its children is not described
/// faithfully.</para>
/// <para><b>Flatten in Forward.</b> Models usually flatten inside Forward rather than through a
/// <see cref="Flatten"/> layer. So a <see cref="Linear"/> that meets a shape of rank above 2 whose trailing
/// size is not its in-features, but whose [C, H, W, …] product is, is taken as applied to the flattened
/// shape [N, C·H·W·…]. A trailing size equal to the in-features wins, as in PyTorch, where Linear acts on the last
/// dimension.</para>
/// <para><b>MACs.</b> Only convolutions (<see cref="ConvGeometry.Macs"/>: N·M·E·F·(C/groups)·R·S) and linear
/// layers (in·out per row, times every leading dimension) are counted, biases excluded: the convention of
/// torchinfo's "Mult-Adds". Pools, activations, normalisations and dropout count 0; ptflops adds one
/// operation per element for them, which for AlexNet and VGG is well under 1% of the total.</para>
/// <para><b>Receptive field.</b> For every convolution and pool, with k the dilated kernel extent and s the stride,
/// per axis: r_out = r_in + (k − 1)·j_in and j_out = j_in·s, starting from r = j = 1 at the input. Element-wise
/// layers carry r and j through unchanged; after a Flatten or a Linear every unit sees the whole input and no
/// receptive field is reported.</para>
/// </remarks>
public sealed class ModelSummary
{
    private ModelSummary(int[] inputShape, IReadOnlyList<LayerSummary> layers, long totalParams, DenseComparison? firstDense)
    {
        InputShape = inputShape;
        Layers = layers;
        TotalParams = totalParams;
        TotalMacs = layers.Sum(l => l.Macs);
        FirstDenseComparison = firstDense;
    }

    /// <summary>
    /// A summary from layers worked out elsewhere (an imported graph's nodes, say), with the same totals, table and
    /// JSON as <see cref="Compute"/>.
    /// </summary>
    public static ModelSummary FromLayers(int[] inputShape, IReadOnlyList<LayerSummary> layers, DenseComparison? firstDense = null) =>
        new(inputShape, layers, layers.Sum(l => l.Params), firstDense);

    /// <summary>The summarised input, batch dimension first: [N, C, H, W].</summary>
    public int[] InputShape { get; }

    /// <summary>Every leaf layer in forward order.</summary>
    public IReadOnlyList<LayerSummary> Layers { get; }

    /// <summary>Every learnable parameter of the model (buffers excluded).</summary>
    public long TotalParams { get; }

    /// <summary>Sum of the layers' multiply-adds for the whole batch.</summary>
    public long TotalMacs { get; }

    /// <summary>The shape the last layer makes (the input's when the model has no layer).</summary>
    public int[] OutputShape => Layers.Count > 0 ? Layers[^1].OutputShape : InputShape;

    /// <summary>The first Linear layer against a dense layer fed with the raw image; null when the model has no Linear.</summary>
    public DenseComparison? FirstDenseComparison { get; }

    /// <summary>A layer's summary by its dotted name.</summary>
    public LayerSummary this[string name] =>
        Layers.FirstOrDefault(l => l.Name == name) ?? throw new KeyNotFoundException($"no layer named '{name}' in the summary");

    /// <summary>
    /// Summarises <paramref name="model"/> for one input of shape <paramref name="inputShape"/> (C, H, W without the batch;
    /// [C, L] for 1-D models) and a batch of <paramref name="batch"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A bad input shape, or a layer that cannot take the shape it receives (the
    /// message names the layer and the shapes).</exception>
    /// <exception cref="NotSupportedException">A leaf layer whose effect on shapes is not known here.</exception>
    public static ModelSummary Compute(Module model, int[] inputShape, int batch = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(d => d <= 0))
            throw new ArgumentException($"input shape must be non-empty with positive sizes, got {Shapes.Format(inputShape)}", nameof(inputShape));
        if (batch <= 0) throw new ArgumentException($"batch must be positive, got {batch}", nameof(batch));

        int[] input = [batch, .. inputShape];
        var walker = new Walker(input);
        var layers = new List<LayerSummary>();
        DenseComparison? firstDense = null;
        long paramsSoFar = 0;
        foreach (var (name, module) in model.NamedModules())
        {
            if (module.NamedChildren().Any()) continue;
            string layerName = name.Length > 0 ? name : module.TypeName;
            long own = module.NamedParameters().Sum(p => (long)Shapes.Count(p.Parameter.Shape));
            LayerSummary layer;
            try { layer = walker.Step(layerName, module, own); }
            catch (ArgumentException e)
            {
                throw new ArgumentException(
                    $"layer {layerName} ({module.TypeName}) cannot take input {Shapes.Format(walker.Shape)} (model input {Shapes.Format(input)}): {e.Message}", e);
            }
            layers.Add(layer);
            paramsSoFar += own;
            if (firstDense is null && module is Linear lin)
            {
                long features = inputShape.Aggregate(1L, (a, d) => a * d);
                firstDense = new DenseComparison(layerName, features, lin.OutFeatures,
                    features * lin.OutFeatures + lin.OutFeatures, paramsSoFar);
            }
        }
        long total = model.Parameters().Sum(p => (long)Shapes.Count(p.Shape));
        return new ModelSummary(input, layers, total, firstDense);
    }

    /// <summary>
    /// The summary as JSON: <c>input_shape</c> (batch first), <c>output_shape</c>, <c>total_params</c>, <c>total_macs</c>,
    /// <c>layers</c> (each with <c>name</c>, <c>type</c>, <c>output_shape</c>, <c>params</c>, <c>macs</c>, and for
    /// convolutions and pools <c>receptive_field</c> and <c>jump</c>) and <c>first_dense</c> (null without a Linear).
    /// A receptive field or jump is one number when square, else [height, width].
    /// </summary>
    public string ToJson(bool indented = true) => ToJson(null, indented);

    /// <summary>
    /// The JSON of <see cref="ToJson(bool)"/>, plus, when <paramref name="memory"/> is given (an estimate for the same
    /// model and input), a <c>memory</c> object in each layer (<c>parameters_bytes</c>, <c>gradients_bytes</c>,
    /// <c>optimizer_bytes</c>, <c>activations_bytes</c>, <c>backward_bytes</c>, <c>workspace_bytes</c>,
    /// <c>inference_activations_bytes</c>, <c>inference_workspace_bytes</c>), a top-level <c>memory</c> object with the
    /// totals, and <c>training_bytes</c> and <c>inference_bytes</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The estimate's layers are not this summary's.</exception>
    public string ToJson(MemoryFootprint? memory, bool indented = true)
    {
        if (memory is not null && !memory.Layers.Select(l => l.Name).SequenceEqual(Layers.Select(l => l.Name)))
            throw new ArgumentException("the memory estimate is for another model than this summary", nameof(memory));
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            WriteShape(w, "input_shape", InputShape);
            WriteShape(w, "output_shape", OutputShape);
            w.WriteNumber("total_params", TotalParams);
            w.WriteNumber("total_macs", TotalMacs);
            if (memory is not null)
            {
                w.WriteNumber("training_bytes", memory.TrainingBytes);
                w.WriteNumber("inference_bytes", memory.InferenceBytes);
                WriteMemoryTotals(w, memory);
            }
            w.WriteStartArray("layers");
            for (int i = 0; i < Layers.Count; i++)
            {
                var l = Layers[i];
                w.WriteStartObject();
                w.WriteString("name", l.Name);
                w.WriteString("type", l.Type);
                WriteShape(w, "output_shape", l.OutputShape);
                w.WriteNumber("params", l.Params);
                w.WriteNumber("macs", l.Macs);
                if (l.ReceptiveField is { } rf) WriteSize(w, "receptive_field", rf);
                if (l.Jump is { } j) WriteSize(w, "jump", j);
                if (memory is not null) WriteLayerMemory(w, memory.Layers[i]);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (FirstDenseComparison is { } d)
            {
                w.WriteStartObject("first_dense");
                w.WriteString("layer", d.LayerName);
                w.WriteNumber("input_features", d.InputFeatures);
                w.WriteNumber("units", d.Units);
                w.WriteNumber("dense_params", d.DenseParams);
                w.WriteNumber("actual_params", d.ActualParams);
                w.WriteNumber("ratio", Math.Round(d.Ratio, 2));
                w.WriteEndObject();
            }
            else w.WriteNull("first_dense");
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteMemoryTotals(Utf8JsonWriter w, MemoryFootprint m)
    {
        w.WriteStartObject("memory");
        w.WriteNumber("batch", m.Batch);
        w.WriteString("optimizer", m.Optimizer switch
        {
            FootprintOptimizer.Sgd => "sgd",
            FootprintOptimizer.SgdMomentum => "sgd_momentum",
            _ => "adam",
        });
        w.WriteNumber("parameters_bytes", m.ParametersBytes);
        w.WriteNumber("gradients_bytes", m.GradientsBytes);
        w.WriteNumber("optimizer_bytes", m.OptimizerBytes);
        w.WriteNumber("input_bytes", m.InputBytes);
        w.WriteNumber("labels_bytes", m.LabelBytes);
        w.WriteNumber("activations_bytes", m.ActivationsBytes);
        w.WriteNumber("loss_bytes", m.LossBytes);
        w.WriteNumber("backward_bytes", m.BackwardBytes);
        w.WriteNumber("workspace_bytes", m.WorkspaceBytes);
        w.WriteNumber("training_bytes", m.TrainingBytes);
        w.WriteNumber("inference_bytes", m.InferenceBytes);
        w.WriteEndObject();
    }

    private static void WriteLayerMemory(Utf8JsonWriter w, LayerMemory m)
    {
        w.WriteStartObject("memory");
        w.WriteNumber("parameters_bytes", m.ParametersBytes);
        w.WriteNumber("gradients_bytes", m.GradientsBytes);
        w.WriteNumber("optimizer_bytes", m.OptimizerBytes);
        w.WriteNumber("activations_bytes", m.ActivationsBytes);
        w.WriteNumber("backward_bytes", m.BackwardBytes);
        w.WriteNumber("workspace_bytes", m.WorkspaceBytes);
        w.WriteNumber("inference_activations_bytes", m.InferenceActivationsBytes);
        w.WriteNumber("inference_workspace_bytes", m.InferenceWorkspaceBytes);
        w.WriteEndObject();
    }

    private static void WriteShape(Utf8JsonWriter w, string name, int[] shape)
    {
        w.WriteStartArray(name);
        foreach (var d in shape) w.WriteNumberValue(d);
        w.WriteEndArray();
    }

    private static void WriteSize(Utf8JsonWriter w, string name, Size2 s)
    {
        if (s.H == s.W) { w.WriteNumber(name, s.H); return; }
        w.WriteStartArray(name);
        w.WriteNumberValue(s.H);
        w.WriteNumberValue(s.W);
        w.WriteEndArray();
    }

    /// <summary>A table for a terminal: one row per layer, then the totals.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        int nameWidth = Math.Max(5, Layers.Count == 0 ? 0 : Layers.Max(l => l.Name.Length + l.Type.Length + 3));
        sb.Append("Layer".PadRight(nameWidth)).Append("  ").Append("Output shape".PadRight(22)).Append("Params".PadLeft(14))
            .Append("MACs".PadLeft(16)).Append("  RF / jump").AppendLine();
        foreach (var l in Layers)
        {
            sb.Append($"{l.Name} ({l.Type})".PadRight(nameWidth)).Append("  ").Append(Shapes.Format(l.OutputShape).PadRight(22))
                .Append(l.Params.ToString("N0").PadLeft(14)).Append(l.Macs.ToString("N0").PadLeft(16));
            if (l.ReceptiveField is { } rf && l.Jump is { } j) sb.Append("  ").Append(rf).Append(" / ").Append(j);
            sb.AppendLine();
        }
        sb.Append($"Total params: {TotalParams:N0}").AppendLine();
        sb.Append($"Total MACs: {TotalMacs:N0}").AppendLine();
        if (FirstDenseComparison is { } d)
            sb.Append($"A dense {d.LayerName} from the {d.InputFeatures:N0} input values to its {d.Units:N0} units would need " +
                $"{d.DenseParams:N0} params; the network uses {d.ActualParams:N0} up to there ({d.Ratio:N1}x fewer).").AppendLine();
        return sb.ToString();
    }

    /// <summary>The running state of the symbolic forward pass: the current shape and the receptive field per axis.</summary>
    private sealed class Walker(int[] input)
    {
        public int[] Shape { get; private set; } = input;
        private long _rfH = 1, _rfW = 1, _jumpH = 1, _jumpW = 1;
        private bool _spatial = true;

        public LayerSummary Step(string name, Module module, long ownParams)
        {
            int[] inShape = Shape;
            long macs = 0;
            bool window = false; // a convolution or a pool: report the receptive field
            int[] outShape;
            switch (module)
            {
                case Conv2d c:
                    {
                        var (n, ch, h, w) = Image(inShape, c.InChannels, "Conv2d");
                        var s = c.PadSides;
                        if (c.PaddingMode != PadMode.Zeros)
                            new PadGeometry(n * ch, h, w, s.Top, s.Bottom, s.Left, s.Right, c.PaddingMode).Validate();
                        var g = c.GeometryFor(n, h, w);
                        outShape = g.OutputShape;
                        macs = g.Macs;
                        Window(g.EffectiveKernelH, g.StrideH, g.EffectiveKernelW, g.StrideW);
                        window = true;
                        break;
                    }
                case Conv1d c:
                    {
                        if (inShape.Length != 3 || inShape[1] != c.InChannels)
                            throw new ArgumentException($"Conv1d expects [N, {c.InChannels}, L]");
                        int n = inShape[0], len = inShape[2];
                        if (c.PaddingMode != PadMode.Zeros)
                            new PadGeometry(n * c.InChannels, 1, len, 0, 0, c.PadSides.Left, c.PadSides.Right, c.PaddingMode).Validate();
                        var g = c.GeometryFor(n, len);
                        outShape = [n, c.OutChannels, g.OutWidth];
                        macs = g.Macs;
                        Window(1, 1, g.EffectiveKernelW, g.StrideW);
                        window = true;
                        break;
                    }
                case MaxPool2d p:
                    outShape = Pool(inShape, p.KernelSize, p.Stride, p.Padding, p.Dilation, p.CeilMode, "MaxPool2d");
                    window = true;
                    break;
                case AvgPool2d p:
                    outShape = Pool(inShape, p.KernelSize, p.Stride, p.Padding, 1, p.CeilMode, "AvgPool2d");
                    window = true;
                    break;
                case SumPool2d p:
                    outShape = Pool(inShape, p.KernelSize, p.Stride, p.Padding, 1, p.CeilMode, "SumPool2d");
                    window = true;
                    break;
                case AdaptiveAvgPool2d a:
                    {
                        if (inShape.Length != 4) throw new ArgumentException("AdaptiveAvgPool2d expects [N, C, H, W]");
                        if (a.OutputSize.H <= 0 || a.OutputSize.W <= 0) throw new ArgumentException($"output size must be positive, got {a.OutputSize}");
                        var (kh, sh) = AdaptiveWindow(inShape[2], a.OutputSize.H);
                        var (kw, sw) = AdaptiveWindow(inShape[3], a.OutputSize.W);
                        outShape = [inShape[0], inShape[1], a.OutputSize.H, a.OutputSize.W];
                        Window(kh, sh, kw, sw);
                        window = true;
                        break;
                    }
                case Flatten f:
                    {
                        int start = Shapes.NormalizeDim(f.StartDim, inShape.Length), end = Shapes.NormalizeDim(f.EndDim, inShape.Length);
                        if (start > end) throw new ArgumentException($"Flatten start_dim {f.StartDim} is after end_dim {f.EndDim}");
                        int merged = 1;
                        for (int i = start; i <= end; i++) merged *= inShape[i];
                        outShape = [.. inShape[..start], merged, .. inShape[(end + 1)..]];
                        _spatial = false;
                        break;
                    }
                case Linear l:
                    {
                        int[] x = inShape;
                        if (x[^1] != l.InFeatures && x.Length > 2 && Shapes.Count(x.AsSpan(1)) == l.InFeatures)
                            x = [x[0], l.InFeatures]; // flattened in the model's Forward
                        if (x[^1] != l.InFeatures)
                            throw new ArgumentException($"Linear expects [..., {l.InFeatures}] (or [N, ...] with {l.InFeatures} values per sample)");
                        long rows = 1;
                        for (int i = 0; i < x.Length - 1; i++) rows *= x[i];
                        outShape = [.. x[..^1], l.OutFeatures];
                        macs = rows * l.InFeatures * l.OutFeatures;
                        _spatial = false;
                        break;
                    }
                case BatchNorm b:
                    if (inShape.Length < 2 || inShape[1] != b.NumFeatures)
                        throw new ArgumentException($"{b.TypeName} expects {b.NumFeatures} channels in dim 1");
                    outShape = inShape;
                    break;
                case LocalResponseNorm or LocalContrastNorm:
                    if (inShape.Length < 3) throw new ArgumentException($"{module.TypeName} expects [N, C, ...]");
                    outShape = inShape;
                    break;
                case ReLU or LeakyReLU or Sigmoid or Tanh or Softmax or LogSoftmax or Identity or Dropout:
                    outShape = inShape;
                    break;
                default:
                    throw new NotSupportedException(
                        $"layer {name}: ModelSummary does not know how {module.TypeName} ({module.GetType().FullName}) changes shapes");
            }
            Shape = outShape;
            Size2? rf = null, jump = null;
            if (window && _spatial)
            {
                rf = new Size2(Narrow(_rfH), Narrow(_rfW));
                jump = new Size2(Narrow(_jumpH), Narrow(_jumpW));
            }
            return new LayerSummary(name, module.TypeName, outShape, ownParams, macs, rf, jump);
        }

        private static (int N, int C, int H, int W) Image(int[] s, int channels, string type)
        {
            if (s.Length != 4 || s[1] != channels)
                throw new ArgumentException($"{type} expects [N, {channels}, H, W]");
            return (s[0], s[1], s[2], s[3]);
        }

        private int[] Pool(int[] s, Size2 k, Size2 stride, Size2 pad, Size2 dilation, bool ceil, string type)
        {
            if (s.Length != 4) throw new ArgumentException($"{type} expects [N, C, H, W]");
            var g = PoolGeometry.Create(s[0], s[1], s[2], s[3], k.H, k.W, stride.H, stride.W, pad.H, pad.W, ceil,
                dilationH: dilation.H, dilationW: dilation.W);
            Window(dilation.H * (k.H - 1) + 1, stride.H, dilation.W * (k.W - 1) + 1, stride.W);
            return g.OutputShape;
        }

        /// <summary>r_out = r_in + (k − 1)·j_in, j_out = j_in·s on each axis.</summary>
        private void Window(int kh, int sh, int kw, int sw)
        {
            _rfH += (kh - 1) * _jumpH;
            _rfW += (kw - 1) * _jumpW;
            _jumpH *= sh;
            _jumpW *= sw;
        }

        private static int Narrow(long v) => v > int.MaxValue ? int.MaxValue : (int)v;
    }

    /// <summary>
    /// The window of adaptive pooling along one axis, for the receptive field: window i spans
    /// [floor(i·In/Out), ceil((i+1)·In/Out)). When Out divides In every window is In/Out wide and In/Out apart (exact);
    /// otherwise the windows are uneven and this reports the widest window and the smallest step between starts
    /// (at least 1), an upper bound on the field and a lower bound on the jump.
    /// </summary>
    internal static (int Kernel, int Stride) AdaptiveWindow(int input, int output)
    {
        if (input % output == 0) return (input / output, input / output);
        int widest = 0, step = int.MaxValue;
        for (int i = 0; i < output; i++)
        {
            int start = (int)((long)i * input / output);
            int end = (int)(((long)(i + 1) * input + output - 1) / output);
            widest = Math.Max(widest, end - start);
            if (i > 0) step = Math.Min(step, start - (int)((long)(i - 1) * input / output));
        }
        return (widest, Math.Max(1, step == int.MaxValue ? 1 : step));
    }
}
