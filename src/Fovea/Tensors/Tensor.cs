using Fovea.Autograd;

namespace Fovea;

/// <summary>
/// An n-dimensional array over a <see cref="Storage"/> on a <see cref="Device"/>: shape, strides and an
/// offset make it a view, so reshape, transpose and slice share storage without copying. Row-major; images
/// are NCHW. Float32 for maths, int64 for labels.
/// </summary>
public partial class Tensor
{
    private readonly int[] _shape;
    private readonly int[] _strides;

    /// <summary>The storage this tensor views.</summary>
    public Storage Storage { get; }

    /// <summary>Index in <see cref="Storage"/> of the first element.</summary>
    public int Offset { get; }

    internal Tensor(Storage storage, int[] shape, int[] strides, int offset)
    {
        Storage = storage;
        _shape = shape;
        _strides = strides;
        Offset = offset;
        NumEl = Shapes.Count(shape);
    }

    internal Tensor(Storage storage, int[] shape) : this(storage, shape, Shapes.ContiguousStrides(shape), 0) { }

    /// <summary>A copy of the shape.</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>A copy of the strides, in elements.</summary>
    public int[] Strides => (int[])_strides.Clone();

    internal ReadOnlySpan<int> ShapeSpan => _shape;
    internal ReadOnlySpan<int> StridesSpan => _strides;

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => _shape[Shapes.NormalizeDim(dim, Rank)];

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements.</summary>
    public int NumEl { get; }

    /// <summary>Element type.</summary>
    public DType DType => Storage.DType;

    /// <summary>The device holding the data.</summary>
    public Device Device => Storage.Device;

    internal IBackend Backend => Storage.Device.Backend;

    /// <summary>True when elements are laid out densely in row-major order from <see cref="Offset"/>.</summary>
    public bool IsContiguous => Shapes.IsContiguous(_shape, _strides);

    /// <summary>Whether ops on this tensor are recorded for <see cref="Backward"/>; never for a frozen one.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (value) RequireWritable("requiring grad for");
            _requiresGrad = value;
        }
    }

    private bool _requiresGrad;

    /// <summary>Refuses a write into a frozen tensor (<see cref="Storage.Frozen"/>), naming the <paramref name="action"/>.</summary>
    internal void RequireWritable(string action)
    {
        if (Storage.Frozen)
            throw new InvalidOperationException($"{action} a frozen tensor {ShapeString}: its module was frozen (Module.Freeze), " +
                "which promises its values will not change; call Unfreeze() on the module first");
    }

    /// <summary>The accumulated gradient, after <see cref="Backward"/>.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>
    /// Sets <see cref="Grad"/> to null as PyTorch's zero_grad does, keeping its buffer for the next backward to
    /// fill, so a training loop does not allocate a new gradient per parameter per step.
    /// </summary>
    public void ClearGrad()
    {
        if (Grad is { } g && g.IsContiguous && g.Offset == 0) SpareGrad = g;
        Grad = null;
    }

    /// <summary>A cleared gradient's buffer, reused by the next accumulation.</summary>
    internal Tensor? SpareGrad { get; set; }

    /// <summary>The node that made this tensor, or null for a leaf.</summary>
    internal Node? GradFn { get; set; }

    /// <summary>Set when Backward() has released the graph that made this tensor.</summary>
    internal bool GraphFreed { get; set; }

    /// <summary>True for tensors made by the user rather than by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>A tensor that shares storage but is cut from the graph.</summary>
    public Tensor Detach() => new(Storage, _shape, _strides, Offset);

    /// <summary>Back-propagates from this scalar (or from <paramref name="gradient"/> for a non-scalar).</summary>
    public void Backward(Tensor? gradient = null) => Engine.Backward(this, gradient);

    /// <summary>Human-readable shape, e.g. [8, 3, 32, 32].</summary>
    public string ShapeString => Shapes.Format(_shape);

    public override string ToString() => $"Tensor({ShapeString}, {DType}, {Device})";
}
