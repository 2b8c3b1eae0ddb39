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
}
