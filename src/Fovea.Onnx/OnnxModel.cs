using Fovea.Autograd;
using Fovea.NN;
using Fovea.Onnx.Proto;

namespace Fovea.Onnx;

/// <summary>
/// An imported ONNX graph as a Fovea <see cref="Module"/>: the node list, run in order with Fovea's functional ops,
/// so autograd records through it and the model can be fine-tuned like any other module.
/// </summary>
/// <remarks>
/// <para><b>Why an interpreter rather than a translation to layer modules.</b> Exporters emit graphs, not layer
/// trees: residual adds, the shape arithmetic around a <c>view</c>, a Pad in front of a Conv, a MatMul plus Add for a
/// Linear on 3-D input. Executing the nodes with <see cref="Functional"/> covers all of these with one code path per
/// operator, keeps the graph's exact semantics (ONNX's asymmetric pads, opset-dependent axes), and re-export is
/// the stored graph with the current weights. What a translation would buy, a readable module tree, is not worth a
/// second, partial importer.</para>
/// <para><b>Weights.</b> Float initializers become parameters under their ONNX names, which for PyTorch exports are
/// the state-dict names (<c>features.0.weight</c>); initializers that feed a BatchNormalization's mean or variance
/// are buffers, as in PyTorch. Integer initializers are constants.</para>
/// <para><b>Constant folding.</b> At load, every node whose inputs are all constants (Constant nodes, integer
/// initializers, and what follows from them) is evaluated once and dropped. The shape arithmetic exporters emit
/// around <c>Shape</c> depends on the input's shape: it is folded once per input shape (at load for the graph's
/// static input shape, later for any other shape the model meets) and the folded nodes are skipped afterwards.</para>
/// <para>The module is returned in evaluation mode; call <see cref="Module.Train"/> to fine-tune (dropout and batch
/// normalisation then behave as in training).</para>
/// </remarks>
public sealed class OnnxModel : Module
{
    private readonly ModelProto _proto;
    private readonly List<NodeProto> _nodes = [];
    private readonly Dictionary<string, ConstTensor> _consts = [];
    private readonly Dictionary<string, Tensor> _weights = [];
    private readonly Dictionary<string, Dictionary<string, ConstTensor>> _shapeConsts = [];

    internal OnnxModel(ModelProto proto, string source, int[]? inputShape)
    {
        _proto = proto;
        Source = source;
        var graph = proto.Graph ?? throw new InvalidDataException($"{source}: the ONNX model has no graph");
        Opset = (int)(proto.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 0);
        if (Opset == 0) throw new InvalidDataException($"{source}: the ONNX model imports no opset of the default domain");

        var initNames = graph.Initializer.Select(t => t.Name).ToHashSet();
        var inputs = graph.Input.Where(i => !initNames.Contains(i.Name)).ToList();
        if (inputs.Count != 1)
            throw new NotSupportedException($"{source}: graphs with {inputs.Count} inputs are not supported (one image batch is)");
        if (graph.Output.Count < 1) throw new InvalidDataException($"{source}: the graph has no output");
        InputName = inputs[0].Name;
        OutputName = graph.Output[0].Name;
        var dims = inputs[0].Type?.TensorType?.Shape?.Dim;
        // A symbolic batch dimension (as Fovea exports) is taken as 1; any other symbolic dimension leaves the shape unknown.
        int[]? declared = dims is null || dims.Count == 0 || dims.Skip(1).Any(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)
            ? null : dims.Select((d, i) => i == 0 && d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? 1 : (int)d.DimValue).ToArray();
        InputShape = inputShape ?? declared;

        // Which initializers are batch-norm statistics (buffers rather than parameters).
        var statistics = new HashSet<string>();
        foreach (var n in graph.Node)
            if (n.OpType == "BatchNormalization")
                foreach (int i in new[] { 3, 4 })
                    if (n.Input.Count > i) statistics.Add(n.Input[i]);
        foreach (var t in graph.Initializer)
        {
            if (OnnxTensors.IsFloat(t))
            {
                var value = OnnxTensors.ToFloatTensor(t, $"{source}: initializer '{t.Name}'");
                _weights[t.Name] = statistics.Contains(t.Name) ? RegisterBuffer(t.Name, value)! : RegisterParameter(t.Name, value)!;
            }
            else _consts[t.Name] = OnnxTensors.ToConst(t, $"{source}: initializer '{t.Name}'");
        }

        CheckSupported(graph.Node);

        // Load-time folding of everything that does not depend on the input.
        var env = new Dictionary<string, Value>();
        foreach (var (k, v) in _consts) env[k] = new Value(null, v);
        foreach (var n in graph.Node)
        {
            bool foldable = n.OpType is not ("Dropout" or "If") && n.Input.All(i => i.Length == 0 || env.ContainsKey(i) && env[i].Const is not null);
            if (!foldable) { _nodes.Add(n); continue; }
            var outs = OnnxOps.Run(this, n, n.Input.Select(i => i.Length == 0 ? default : env[i]).ToArray());
            if (outs.Any(o => o.Const is null)) { _nodes.Add(n); continue; }
            for (int i = 0; i < n.Output.Count && i < outs.Length; i++)
            {
                env[n.Output[i]] = outs[i];
                _consts[n.Output[i]] = outs[i].Const!;
            }
        }
        Eval();

        // Fold the shape arithmetic for the static input shape now, by one run without gradients.
        if (InputShape is not null && _nodes.Any(n => n.OpType == "Shape"))
            using (GradMode.NoGrad()) Forward(Tensor.Zeros(InputShape));
    }

    /// <summary>Where the model came from (a file name), for messages.</summary>
    public string Source { get; }

    /// <summary>The default-domain opset the graph was written for.</summary>
    public int Opset { get; }

    /// <summary>The graph's input name.</summary>
    public string InputName { get; }

    /// <summary>The graph's (first) output name.</summary>
    public string OutputName { get; }

    /// <summary>The input shape, batch first (1 where the graph's batch is symbolic), given to the importer or declared by the graph; null when neither is known.</summary>
    public int[]? InputShape { get; }

    /// <summary>The nodes run by <see cref="Forward"/> (those left after load-time folding).</summary>
    public int NodeCount => _nodes.Count;

    internal ModelProto Proto => _proto;

    internal IReadOnlyDictionary<string, Tensor> Weights => _weights;

    public override string TypeName => "OnnxModel";

    protected override string ExtraRepr => $"{Source}, opset={Opset}, nodes={_nodes.Count}, parameters={_weights.Count}";

    public override Tensor Forward(Tensor input)
    {
        string key = input.ShapeString;
        var env = new Dictionary<string, Value>();
        foreach (var (k, v) in _consts) env[k] = new Value(null, v);
        bool cached = _shapeConsts.TryGetValue(key, out var folded);
        if (cached) foreach (var (k, v) in folded!) env[k] = new Value(null, v);
        foreach (var (k, v) in _weights) env[k] = new Value(GetParameter(k) ?? GetBuffer(k) ?? v, null);
        env[InputName] = new Value(input, null);
        var fresh = cached ? null : new Dictionary<string, ConstTensor>();
        Execute(_nodes, env, cached ? folded : null, fresh);
        if (fresh is not null) _shapeConsts[key] = fresh;
        if (!env.TryGetValue(OutputName, out var y))
            throw new InvalidDataException($"{Source}: no node makes the graph output '{OutputName}'");
        return y.Tensor ?? y.Const!.ToTensor();
    }

    /// <summary>
    /// One forward pass that reports every node's inputs and outputs as it runs, with no cached shape constants
    /// (so every node is visited): what <see cref="OnnxSummary"/> reads shapes and weights from.
    /// </summary>
    internal Tensor TraceForward(Tensor input, Action<NodeProto, Value[], Value[]> onNode)
    {
        _trace = onNode;
        try
        {
            var env = new Dictionary<string, Value>();
            foreach (var (k, v) in _consts) env[k] = new Value(null, v);
            foreach (var (k, v) in _weights) env[k] = new Value(GetParameter(k) ?? GetBuffer(k) ?? v, null);
            env[InputName] = new Value(input, null);
            Execute(_nodes, env, null, null);
            var y = env[OutputName];
            return y.Tensor ?? y.Const!.ToTensor();
        }
        finally
        {
            _trace = null;
        }
    }

    private Action<NodeProto, Value[], Value[]>? _trace;

    /// <summary>Refuses, at load, any operator (also inside If branches) that <see cref="OnnxOps"/> does not run.</summary>
    private void CheckSupported(IEnumerable<NodeProto> nodes)
    {
        foreach (var n in nodes)
        {
            if (n.Domain is not ("" or "ai.onnx"))
                throw new NotSupportedException($"ONNX operator '{n.Domain}.{n.OpType}' (node '{n.Name}', opset {Opset}) is not supported: only the default domain is");
            if (n.OpType == "If")
            {
                foreach (var a in n.Attribute) if (a.G is { } g) CheckSupported(g.Node);
                continue;
            }
            if (!OnnxOps.Supported.Contains(n.OpType))
                throw new NotSupportedException($"ONNX operator '{n.OpType}' (node '{n.Name}', opset {Opset}) is not supported by Fovea.Onnx");
        }
    }

    /// <summary>
    /// Runs <paramref name="nodes"/> over <paramref name="env"/>, skipping those whose outputs are all in
    /// <paramref name="folded"/>, and recording newly computed constants in <paramref name="fresh"/>. An If whose
    /// condition is constant (exporters test ranks and sizes that way) runs the chosen branch inline.
    /// </summary>
    private void Execute(IEnumerable<NodeProto> nodes, Dictionary<string, Value> env, Dictionary<string, ConstTensor>? folded,
        Dictionary<string, ConstTensor>? fresh)
    {
        foreach (var n in nodes)
        {
            if (folded is not null && n.Output.Count > 0 && n.Output.All(o => o.Length == 0 || folded.ContainsKey(o))) continue;
            var args = new Value[n.Input.Count];
            for (int i = 0; i < args.Length; i++)
            {
                var name = n.Input[i];
                if (name.Length == 0) continue;
                if (!env.TryGetValue(name, out args[i]))
                    throw new InvalidDataException($"{Source}: node '{n.Name}' ({n.OpType}) reads '{name}', which no earlier node makes");
            }
            Value[] outs;
            if (n.OpType == "If")
            {
                var cond = args[0].Const ?? throw new NotSupportedException(
                    $"ONNX node '{n.Name}' (If, opset {Opset}): the condition must be a constant once the input shape is known");
                string branch = cond.Data[0] != 0 ? "then_branch" : "else_branch";
                var g = n.Attribute.FirstOrDefault(x => x.Name == branch)?.G
                    ?? throw new InvalidDataException($"{Source}: node '{n.Name}' (If) has no {branch}");
                foreach (var t in g.Initializer) env[t.Name] = new Value(null, OnnxTensors.ToConst(t, $"{Source}: '{n.Name}'"));
                Execute(g.Node, env, null, fresh);
                outs = g.Output.Select(o => env.TryGetValue(o.Name, out var v) ? v
                    : throw new InvalidDataException($"{Source}: node '{n.Name}' (If): the branch does not make '{o.Name}'")).ToArray();
            }
            else
            {
                try { outs = OnnxOps.Run(this, n, args); }
                catch (ArgumentException e) { throw new ArgumentException($"{Source}: node '{n.Name}' ({n.OpType}): {e.Message}", e); }
            }
            _trace?.Invoke(n, args, outs);
            for (int i = 0; i < n.Output.Count && i < outs.Length; i++)
            {
                if (n.Output[i].Length == 0) continue;
                env[n.Output[i]] = outs[i];
                if (fresh is not null && outs[i].Const is { } c) fresh[n.Output[i]] = c;
            }
        }
    }
}

/// <summary>A graph value: a tensor computed per forward, or a constant known without the input's data.</summary>
internal readonly record struct Value(Tensor? Tensor, ConstTensor? Const)
{
    public bool IsPresent => Tensor is not null || Const is not null;
}
