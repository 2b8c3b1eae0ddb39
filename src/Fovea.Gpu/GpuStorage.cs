using ILGPU;
using ILGPU.Runtime;

namespace Fovea.Gpu;

/// <summary>
/// A buffer in a device's memory, lent by the device's pool. A storage made inside a training step
/// (<see cref="StepMemory"/>) goes back to the pool when the step ends; any other goes back when it is collected.
/// </summary>
public sealed class GpuStorage : Storage
{
    private readonly GpuBackend _backend;
    private readonly Type _elementType;
    private MemoryBuffer? _buffer;

    internal GpuStorage(GpuBackend backend, MemoryBuffer buffer, DType dtype, int length)
    {
        _backend = backend;
        _buffer = buffer;
        _elementType = dtype == DType.Float32 ? typeof(float) : typeof(long);
        DType = dtype;
        Length = length;
    }

    public override Device Device => _backend.Device;
    public override DType DType { get; }
    public override int Length { get; }

    private MemoryBuffer Buffer => _buffer ?? throw new InvalidOperationException(
        $"a {Device} tensor was used after the training step that made it ended (its memory went back to the pool); Clone() it inside the step to keep it");

    internal ArrayView1D<float, Stride1D.Dense> Floats => DType == DType.Float32
        ? ((MemoryBuffer1D<float, Stride1D.Dense>)Buffer).View
        : throw new InvalidOperationException("expected a float32 tensor, got int64");

    internal ArrayView1D<long, Stride1D.Dense> Longs => DType == DType.Int64
        ? ((MemoryBuffer1D<long, Stride1D.Dense>)Buffer).View
        : throw new InvalidOperationException("expected an int64 tensor, got float32");

    /// <summary>Gives the buffer back to the pool; the storage is unusable afterwards.</summary>
    internal void Release()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b) _backend.Pool.Return(b, _elementType);
        GC.SuppressFinalize(this);
    }

    ~GpuStorage()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b && !_backend.IsDisposed) _backend.Pool.Return(b, _elementType);
    }
}
