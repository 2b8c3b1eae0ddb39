namespace Fovea;

/// <summary>A flat buffer of elements on one device; tensors are views over it.</summary>
public abstract class Storage
{
    /// <summary>The device the buffer lives on.</summary>
    public abstract Device Device { get; }

    /// <summary>The element type.</summary>
    public abstract DType DType { get; }

    /// <summary>Number of elements.</summary>
    public abstract int Length { get; }

    /// <summary>
    /// Whether the values are promised not to change (<see cref="NN.Module.Freeze"/>): kernels may then keep copies made
    /// from them, such as a convolution's transformed filters or a weight matrix laid out another way, and use them
    /// without comparing the values again on every call. Fovea's own writes into a frozen tensor are refused.
    /// </summary>
    public bool Frozen { get; private set; }

    /// <summary>Sets <see cref="Frozen"/>; either way, the copies kept from earlier values are dropped.</summary>
    internal void SetFrozen(bool frozen)
    {
        Frozen = frozen;
        ForgetKept();
    }

    /// <summary>Drops what kernels keep made from this buffer's values.</summary>
    private protected virtual void ForgetKept() { }
}

/// <summary>Storage in managed memory: a float[] or a long[].</summary>
public sealed class CpuStorage : Storage
{
    private readonly float[]? _floats;
    private readonly long[]? _longs;

    public CpuStorage(float[] data) => _floats = data;
    public CpuStorage(long[] data) => _longs = data;

    public override Device Device => Device.Cpu;
    public override DType DType => _floats is not null ? DType.Float32 : DType.Int64;
    public override int Length => _floats?.Length ?? _longs!.Length;

    /// <summary>The float buffer; throws for an int64 storage.</summary>
    public float[] Floats => _floats ?? throw new InvalidOperationException("expected a float32 tensor, got int64");

    /// <summary>The int64 buffer; throws for a float32 storage.</summary>
    public long[] Longs => _longs ?? throw new InvalidOperationException("expected an int64 tensor, got float32");

    private protected override void ForgetKept()
    {
        if (_floats is null) return;
        Backends.Cpu.ConvWinograd.ForgetKept(_floats);
        Backends.Cpu.Gemm.ForgetKept(_floats);
    }
}
