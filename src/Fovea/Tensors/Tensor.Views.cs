using Fovea.Autograd;

namespace Fovea;

// Views share storage: reshape of a contiguous tensor, transpose, permute, slice, squeeze, expand.
public partial class Tensor
{
    /// <summary>The same elements in a new shape (one dimension may be -1). A view when contiguous, else a copy.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var s = Shapes.Infer(shape, NumEl);
        var src = Contiguous();
        var inShape = Shape;
        var view = new Tensor(src.Storage, s, Shapes.ContiguousStrides(s), src.Offset);
        return Recorder.Record(view, "reshape", [src], g => [g.Reshape(inShape)]);
    }

    /// <summary>Alias of <see cref="Reshape"/>.</summary>
    public Tensor View(params int[] shape) => Reshape(shape);

    /// <summary>Merges dims startDim..endDim into one, like torch.flatten.</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = Shapes.NormalizeDim(startDim, Rank), e = Shapes.NormalizeDim(endDim, Rank);
        var shape = new List<int>();
        for (int i = 0; i < s; i++) shape.Add(_shape[i]);
        int m = 1;
        for (int i = s; i <= e; i++) m *= _shape[i];
        shape.Add(m);
        for (int i = e + 1; i < Rank; i++) shape.Add(_shape[i]);
        return Reshape([.. shape]);
    }

    /// <summary>Reorders dimensions: a view with permuted strides.</summary>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank) throw new ArgumentException($"permute needs {Rank} dims, got {dims.Length}");
        var shape = new int[Rank];
        var strides = new int[Rank];
        var inverse = new int[Rank];
        var used = new bool[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int d = Shapes.NormalizeDim(dims[i], Rank);
            if (used[d]) throw new ArgumentException($"dimension {d} repeated in permute({string.Join(", ", dims)})");
            used[d] = true;
            shape[i] = _shape[d];
            strides[i] = _strides[d];
            inverse[d] = i;
        }
        var view = new Tensor(Storage, shape, strides, Offset);
        return Recorder.Record(view, "permute", [this], g => [g.Permute(inverse)]);
    }

    /// <summary>Swaps two dimensions.</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        var p = new int[Rank];
        for (int i = 0; i < Rank; i++) p[i] = i;
        int a = Shapes.NormalizeDim(dim0, Rank), b = Shapes.NormalizeDim(dim1, Rank);
        (p[a], p[b]) = (p[b], p[a]);
        return Permute(p);
    }

    /// <summary>The transpose of a matrix.</summary>
    public Tensor T => Rank == 2 ? Transpose(0, 1) : throw new InvalidOperationException($"T needs a matrix, got shape {ShapeString}");

    /// <summary>Elements start, start+step, ... below end along dim: a view.</summary>
    public Tensor Slice(int dim, int start, int end, int step = 1)
    {
        int d = Shapes.NormalizeDim(dim, Rank);
        int size = _shape[d];
        if (step <= 0) throw new ArgumentException($"slice step must be positive, got {step}");
        if (start < 0) start += size;
        if (end < 0) end += size;
        start = Math.Clamp(start, 0, size);
        end = Math.Clamp(end, start, size);
        var shape = Shape;
        shape[d] = (end - start + step - 1) / step;
        var strides = Strides;
        strides[d] *= step;
        var view = new Tensor(Storage, shape, strides, Offset + start * _strides[d]);
        var inShape = Shape;
        int s0 = start;
        return Recorder.Record(view, "slice", [this], g =>
        {
            // The adjoint of a slice scatters the gradient back into zeros of the input's shape.
            var full = Zeros(inShape, g.Device);
            var window = new Tensor(full.Storage, g.Shape, full.SliceStrides(d, step), s0 * full._strides[d]);
            full.Backend.ScatterStrided(g.Dense().Storage, window._shape, full.Storage, window.Offset, window._strides);
            return [full];
        });
    }

    private int[] SliceStrides(int d, int step)
    {
        var s = Strides;
        s[d] *= step;
        return s;
    }

    /// <summary>Elements start..start+length along dim.</summary>
    public Tensor Narrow(int dim, int start, int length) => Slice(dim, start, start + length);

    /// <summary>Index i along dim 0 with that dim removed.</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public Tensor this[int index] => Select(0, index);

    /// <summary>Index along dim with that dim removed.</summary>
    public Tensor Select(int dim, int index)
    {
        int d = Shapes.NormalizeDim(dim, Rank);
        if (index < 0) index += _shape[d];
        if (index < 0 || index >= _shape[d]) throw new ArgumentException($"index {index} out of range for dimension {d} of size {_shape[d]}");
        return Slice(d, index, index + 1).Squeeze(d);
    }

    /// <summary>Removes dimension <paramref name="dim"/> of size 1 (all such dims when null).</summary>
    public Tensor Squeeze(int? dim = null)
    {
        var shape = new List<int>();
        for (int i = 0; i < Rank; i++)
        {
            bool drop = dim is { } d0 ? i == Shapes.NormalizeDim(d0, Rank) && _shape[i] == 1 : _shape[i] == 1;
            if (!drop) shape.Add(_shape[i]);
        }
        return Reshape([.. shape]);
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = dim < 0 ? dim + Rank + 1 : dim;
        if (d < 0 || d > Rank) throw new ArgumentException($"unsqueeze dim {dim} out of range for rank {Rank}");
        var shape = new List<int>(_shape);
        shape.Insert(d, 1);
        return Reshape([.. shape]);
    }

    /// <summary>Broadcasts to <paramref name="shape"/> without copying (stride 0 on expanded dims).</summary>
    public Tensor Expand(params int[] shape)
    {
        var target = Shapes.Broadcast(_shape, shape);
        if (!Shapes.Equal(target, shape)) throw new ArgumentException($"cannot expand {ShapeString} to {Shapes.Format(shape)}");
        var view = new Tensor(Storage, target, Shapes.BroadcastStrides(_shape, _strides, target), Offset);
        var inShape = Shape;
        return Recorder.Record(view, "expand", [this], g => [g.SumTo(inShape)]);
    }
}
