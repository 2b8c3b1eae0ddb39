using System.Text;

namespace Fovea.NN;

/// <summary>
/// A layer or a network of layers, in PyTorch's shape: parameters, buffers and child modules registered by
/// name, so <see cref="NamedParameters"/> gives PyTorch's dotted state-dict names (<c>features.0.weight</c>).
/// </summary>
public abstract class Module
{
    private readonly List<string> _parameterOrder = [];
    private readonly Dictionary<string, Parameter?> _parameters = [];
    private readonly List<string> _bufferOrder = [];
    private readonly Dictionary<string, Tensor?> _buffers = [];
    private readonly List<(string Name, Module Module)> _children = [];

    /// <summary>True in training mode (dropout active, batch norm uses batch statistics).</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Computes the module's output.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Registers (or replaces) a learnable parameter; null registers an absent one (a conv without bias).</summary>
    protected Parameter? RegisterParameter(string name, Tensor? value)
    {
        if (!_parameters.ContainsKey(name)) _parameterOrder.Add(name);
        var p = value is null ? null : value as Parameter ?? new Parameter(value);
        _parameters[name] = p;
        return p;
    }

    /// <summary>Registers state that is saved but not learned (batch norm's running statistics).</summary>
    protected Tensor? RegisterBuffer(string name, Tensor? value)
    {
        if (!_buffers.ContainsKey(name)) _bufferOrder.Add(name);
        _buffers[name] = value;
        return value;
    }

    /// <summary>Registers a child module under <paramref name="name"/>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        int i = _children.FindIndex(c => c.Name == name);
        if (i >= 0) _children[i] = (name, module); else _children.Add((name, module));
        return module;
    }

    /// <summary>A registered parameter by local name.</summary>
    protected Parameter? GetParameter(string name) => _parameters.GetValueOrDefault(name);

    /// <summary>A registered buffer by local name.</summary>
    protected Tensor? GetBuffer(string name) => _buffers.GetValueOrDefault(name);

    /// <summary>Direct children with their names.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children;

    /// <summary>This module and every descendant, with dotted names ("" for this one).</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        yield return (prefix, this);
        foreach (var (name, child) in _children)
            foreach (var m in child.NamedModules(Join(prefix, name))) yield return m;
    }

    /// <summary>Every parameter with its dotted state-dict name, in registration order.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        foreach (var (prefix, m) in NamedModules())
            foreach (var name in m._parameterOrder)
                if (m._parameters[name] is { } p) yield return (Join(prefix, name), p);
    }

    /// <summary>Every parameter, for an optimiser.</summary>
    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Every buffer with its dotted name.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers()
    {
        foreach (var (prefix, m) in NamedModules())
            foreach (var name in m._bufferOrder)
                if (m._buffers[name] is { } b) yield return (Join(prefix, name), b);
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Parameters and buffers by name (sharing storage with the module).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (n, p) in NamedParameters()) d[n] = p;
        foreach (var (n, b) in NamedBuffers()) d[n] = b;
        return d;
    }

    /// <summary>
    /// Copies values into the parameters and buffers. With <paramref name="strict"/>, every name must match in both
    /// directions; shapes must always match, and no parameter may be frozen. Nothing is copied unless all of it can be.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        if (strict)
        {
            var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
            var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
                throw new ArgumentException("state dict does not match the model: " +
                    (missing.Count > 0 ? $"missing {string.Join(", ", missing)}" : "") +
                    (missing.Count > 0 && unexpected.Count > 0 ? "; " : "") +
                    (unexpected.Count > 0 ? $"unexpected {string.Join(", ", unexpected)}" : ""));
        }
        // Everything is checked before anything is copied, so a refused load leaves the model as it was.
        var load = own.Where(e => state.ContainsKey(e.Key)).ToList();
        foreach (var (name, target) in load)
        {
            var value = state[name];
            if (!Shapes.Equal(value.ShapeSpan, target.ShapeSpan))
                throw new ArgumentException($"state dict entry '{name}' has shape {value.ShapeString}, the model expects {target.ShapeString}");
        }
        var frozen = load.Where(e => e.Value.Storage.Frozen).Select(e => e.Key).ToList();
        if (frozen.Count > 0)
            throw new InvalidOperationException($"cannot load into frozen parameters ({string.Join(", ", frozen)}): the module was frozen " +
                "(Module.Freeze), which promises its values will not change; call Unfreeze() first");
        foreach (var (name, target) in load) target.CopyFrom(state[name]);
    }

    /// <summary>Sets training mode on this module and every descendant.</summary>
    public Module Train(bool on = true)
    {
        foreach (var (_, m) in NamedModules()) m.Training = on;
        return this;
    }

    /// <summary>Sets evaluation mode on this module and every descendant.</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// Promises that the parameters of this module and every descendant will not change, as an ONNX Runtime session's
    /// weights or those of <c>torch.jit.freeze</c> do not: they stop requiring grad, and Fovea's own writes into them
    /// (<see cref="LoadStateDict"/>, <see cref="Tensor.CopyFrom"/>, <see cref="Tensor.ZeroInPlace"/>,
    /// <see cref="Init"/>) are refused. In exchange, kernels keep what they derive from the weights (a convolution's
    /// Winograd-transformed filters, a large linear layer's transposed weights for a batch of one) and use it without
    /// checking the weights again on every call. Values written straight into a frozen parameter's storage array are not seen. The mode (training or
    /// evaluation) stays as it is: a frozen part of a model (a pretrained backbone) can sit under a trained head.
    /// </summary>
    public Module Freeze()
    {
        foreach (var p in Parameters()) FreezeParameter(p);
        return this;
    }

    private static void FreezeParameter(Parameter p)
    {
        p.RequiresGrad = false;
        p.ClearGrad();
        p.Storage.SetFrozen(true);
    }

    /// <summary>
    /// Undoes <see cref="Freeze"/>: the parameters may change again and require grad, and what kernels kept from their
    /// frozen values is dropped.
    /// </summary>
    public Module Unfreeze()
    {
        foreach (var p in Parameters())
        {
            p.Storage.SetFrozen(false);
            p.RequiresGrad = true;
        }
        return this;
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ClearGrad();
    }

    /// <summary>Moves parameters and buffers to <paramref name="device"/>.</summary>
    public Module To(Device device)
    {
        foreach (var (_, m) in NamedModules())
        {
            foreach (var name in m._parameterOrder)
                if (m._parameters[name] is { } p && !p.Device.Equals(device)) m._parameters[name] = Moved(p, device);
            foreach (var name in m._bufferOrder)
                if (m._buffers[name] is { } b && !b.Device.Equals(device)) m._buffers[name] = b.To(device);
        }
        return this;
    }

    // A parameter's copy on another device, frozen as the parameter was.
    private static Parameter Moved(Parameter p, Device device)
    {
        var moved = new Parameter(p.Detach().To(device));
        if (p.Storage.Frozen) FreezeParameter(moved);
        return moved;
    }

    /// <summary>The arguments shown in <see cref="ToString"/>, as PyTorch's extra_repr.</summary>
    protected virtual string ExtraRepr => "";

    /// <summary>The type's name as PyTorch prints it.</summary>
    public virtual string TypeName => GetType().Name;

    public override string ToString()
    {
        if (_children.Count == 0) return $"{TypeName}({ExtraRepr})";
        var sb = new StringBuilder();
        sb.Append(TypeName).Append('(');
        if (ExtraRepr.Length > 0) sb.Append(ExtraRepr);
        sb.AppendLine();
        foreach (var (name, child) in _children)
            sb.Append("  (").Append(name).Append("): ").AppendLine(child.ToString().Replace("\n", "\n  "));
        sb.Append(')');
        return sb.ToString();
    }
}
