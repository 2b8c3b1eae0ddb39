namespace Fovea;

public partial class Tensor
{
    /// <summary>The elements in row-major order, copied to a new array.</summary>
    public float[] ToArray()
    {
        var o = new float[NumEl];
        CopyTo(o);
        return o;
    }

    /// <summary>The elements of an int64 tensor.</summary>
    public long[] ToLongArray()
    {
        var o = new long[NumEl];
        CopyTo(o);
        return o;
    }

    /// <summary>Copies the elements, in row-major order, into <paramref name="destination"/> (of <see cref="NumEl"/> or more).</summary>
    public void CopyTo(Span<float> destination)
    {
        if (destination.Length < NumEl) throw new ArgumentException($"a tensor of shape {ShapeString} needs {NumEl} elements, the destination has {destination.Length}");
        var d = Dense();
        d.Backend.ToHost(d.Storage, 0, destination[..NumEl]);
    }

    /// <summary>Copies the elements of an int64 tensor into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<long> destination)
    {
        if (destination.Length < NumEl) throw new ArgumentException($"a tensor of shape {ShapeString} needs {NumEl} elements, the destination has {destination.Length}");
        var d = Dense();
        d.Backend.ToHost(d.Storage, 0, destination[..NumEl]);
    }

    /// <summary>The value of a one-element tensor.</summary>
    public float Item()
    {
        if (NumEl != 1) throw new InvalidOperationException($"Item() needs a tensor of one element, got shape {ShapeString}");
        // Its one element sits at Offset whatever the strides; read straight from there, allocating nothing, as a
        // training loop does with its loss every step.
        if (DType == DType.Float32)
        {
            Span<float> value = stackalloc float[1];
            Backend.ToHost(Storage, Offset, value);
            return value[0];
        }
        Span<long> label = stackalloc long[1];
        Backend.ToHost(Storage, Offset, label);
        return label[0];
    }

    /// <summary>This tensor if it is contiguous, else a contiguous copy (recorded for autograd).</summary>
    public Tensor Contiguous() => IsContiguous ? this : Dense();

    /// <summary>
    /// This tensor if its elements fill its storage from element 0 in row-major order, else a dense copy.
    /// Kernels take dense storages only, so every op calls this on its inputs.
    /// </summary>
    internal Tensor Dense()
    {
        if (IsContiguous && Offset == 0) return this;
        var copy = new Tensor(Backend.Allocate(DType, NumEl), Shape);
        Backend.CopyStrided(Storage, Offset, _shape, _strides, copy.Storage, 0);
        return Autograd.Recorder.Record(copy, "contiguous", [this], g => [g]);
    }

    /// <summary>A dense copy that shares nothing with this tensor and is not recorded.</summary>
    public Tensor Clone()
    {
        var copy = new Tensor(Backend.Allocate(DType, NumEl), Shape);
        Backend.CopyStrided(Storage, Offset, _shape, _strides, copy.Storage, 0);
        return copy;
    }

    /// <summary>Copies the values of <paramref name="source"/> (same shape) into this tensor, which must be dense.</summary>
    public void CopyFrom(Tensor source)
    {
        if (!Shapes.Equal(source.ShapeSpan, ShapeSpan))
            throw new ArgumentException($"cannot copy a tensor of shape {source.ShapeString} into one of shape {ShapeString}");
        if (!IsContiguous || Offset != 0) throw new InvalidOperationException("CopyFrom needs a dense destination");
        RequireWritable("copying into");
        var s = source.Device.Equals(Device) ? source : source.To(Device);
        Backend.CopyStrided(s.Storage, s.Offset, s._shape, s._strides, Storage, 0);
    }

    /// <summary>This tensor on <paramref name="device"/> (itself when already there).</summary>
    public Tensor To(Device device)
    {
        if (device.Equals(Device)) return this;
        var t = DType == DType.Float32
            ? new Tensor(device.Backend.FromHost(ToArray()), Shape)
            : new Tensor(device.Backend.FromHost(ToLongArray()), Shape);
        return Autograd.Recorder.Record(t, "to", [this], g => [g.To(Device)]);
    }

    /// <summary>y += x in place, for gradient accumulation; not recorded.</summary>
    internal void AddInPlace(Tensor x)
    {
        var d = x.Dense();
        if (!IsContiguous || Offset != 0 || d.NumEl != NumEl)
            throw new InvalidOperationException($"cannot accumulate a {x.ShapeString} gradient into {ShapeString}");
        Backend.Axpy(1f, d.Storage, Storage, NumEl);
    }

    /// <summary>Sets every element to zero, in place.</summary>
    public void ZeroInPlace()
    {
        RequireWritable("zeroing");
        Backend.Fill(Storage, 0f);
    }
}
