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
                Read(g, span);
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
            var values = Buffer.AsSpan(_offsets[i], p.NumEl);
            if (p.Grad is not { IsContiguous: true, Offset: 0 } g || !Shapes.Equal(g.Shape, p.Shape)) p.Grad = g = Tensor.ZerosLike(p);
            Write(values, g);
        }
    }

    /// <summary>Copies every parameter's value into <see cref="Buffer"/>.</summary>
    public void GatherValues()
    {
        for (int i = 0; i < _params.Length; i++) Read(_params[i], Buffer.AsSpan(_offsets[i], _params[i].NumEl));
    }

    /// <summary>Sets every parameter's value from <see cref="Buffer"/>.</summary>
    public void ScatterValues()
    {
        for (int i = 0; i < _params.Length; i++) Write(Buffer.AsSpan(_offsets[i], _params[i].NumEl), _params[i]);
    }

    /// <summary>Copies parameter values from <paramref name="source"/> (same architecture) straight into this one's.</summary>
    public void CopyValuesFrom(FlatGradients source)
    {
        if (source._params.Length != _params.Length) throw new ArgumentException("the models differ in their parameters");
        for (int i = 0; i < _params.Length; i++)
        {
            int n = _params[i].NumEl;
            if (HostArray(source._params[i]) is { } from && HostArray(_params[i]) is { } to && source._params[i].NumEl == n)
                from.AsSpan(0, n).CopyTo(to);
            else _params[i].CopyFrom(source._params[i]);
        }
    }

    // The managed array behind a dense CPU tensor, so the steady-state step copies without allocating;
    // other devices go through ToArray / FromArray.
    private static float[]? HostArray(Tensor t) =>
        t is { Storage: CpuStorage { DType: DType.Float32 } cs, IsContiguous: true, Offset: 0 } ? cs.Floats : null;

    private static void Read(Tensor t, Span<float> destination)
    {
        if (HostArray(t) is { } a) a.AsSpan(0, t.NumEl).CopyTo(destination);
        else t.ToArray().CopyTo(destination);
    }

    private static void Write(ReadOnlySpan<float> source, Tensor t)
    {
        if (HostArray(t) is { } a) source.CopyTo(a.AsSpan(0, t.NumEl));
        else t.CopyFrom(Tensor.FromArray(source.ToArray(), t.Shape, t.Device));
    }
}
