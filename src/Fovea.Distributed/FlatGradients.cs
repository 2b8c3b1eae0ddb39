using Fovea.NN;

namespace Fovea.Distributed;

/// <summary>
/// A module's parameters (or their gradients) laid end to end in one float array, in <see cref="Module.Parameters"/>
/// order: the unit that all-reduce and broadcast move. The array is allocated once and reused every step.
/// </summary>
public sealed class FlatGradients
{
    private readonly Parameter[] _params;
    private readonly int[] _offsets;

    public FlatGradients(Module model)
    {
        _params = model.Parameters().ToArray();
        _offsets = new int[_params.Length + 1];
        for (int i = 0; i < _params.Length; i++) _offsets[i + 1] = checked(_offsets[i] + _params[i].NumEl);
        Buffer = new float[_offsets[^1]];
    }

    /// <summary>The flat values; length = the number of learnable scalars.</summary>
    public float[] Buffer { get; }

    /// <summary>The parameters, in the order of <see cref="Buffer"/>.</summary>
    public IReadOnlyList<Parameter> Parameters => _params;

    /// <summary>Copies every gradient into <see cref="Buffer"/>, multiplied by <paramref name="scale"/>; a parameter
    /// without a gradient contributes zeros.</summary>
    public void GatherGradients(float scale = 1f)
    {
        for (int i = 0; i < _params.Length; i++)
        {
            var span = Buffer.AsSpan(_offsets[i], _params[i].NumEl);
            if (_params[i].Grad is { } g)
            {
                g.ToArray().CopyTo(span);
                if (scale != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(span, scale, span);
            }
            else span.Clear();
        }
    }

    /// <summary>Sets every parameter's gradient from <see cref="Buffer"/>.</summary>
    public void ScatterGradients()
    {
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i];
            var values = Buffer.AsSpan(_offsets[i], p.NumEl).ToArray();
            var g = Tensor.FromArray(values, p.Shape, p.Device);
            if (p.Grad is { IsContiguous: true, Offset: 0 } old && Shapes.Equal(old.Shape, p.Shape)) old.CopyFrom(g);
            else p.Grad = g;
        }
    }

    /// <summary>Copies every parameter's value into <see cref="Buffer"/>.</summary>
    public void GatherValues()
    {
        for (int i = 0; i < _params.Length; i++) _params[i].ToArray().CopyTo(Buffer.AsSpan(_offsets[i], _params[i].NumEl));
    }

    /// <summary>Sets every parameter's value from <see cref="Buffer"/>.</summary>
    public void ScatterValues()
    {
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i];
            p.CopyFrom(Tensor.FromArray(Buffer.AsSpan(_offsets[i], p.NumEl).ToArray(), p.Shape, p.Device));
        }
    }
}
