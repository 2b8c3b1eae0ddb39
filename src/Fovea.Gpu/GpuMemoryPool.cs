using ILGPU;
using ILGPU.Runtime;

namespace Fovea.Gpu;

/// <summary>
/// Device buffers by element type and exact length: a training step allocates the same sizes every time, so buffers a
/// finished step gave back serve the next one and the device's memory stops growing after the first step. All
/// counts are in bytes held from the device (lent to storages or idle here).
/// </summary>
/// <param name="accelerator">The device the buffers are allocated on.</param>
/// <param name="deviceName">The device's name, for messages.</param>
/// <param name="deviceFree">The device's own count of free bytes where it has one (CUDA), for the out-of-memory message.</param>
internal sealed class GpuMemoryPool(Accelerator accelerator, string deviceName, Func<long?> deviceFree) : IDisposable
{
    private readonly Dictionary<(Type, long), Stack<MemoryBuffer>> _idle = [];
    // Lent buffers are held here too: a storage's finalizer gives its buffer back, and the buffer's own finalizer
    // (which frees the memory) must not run first, as it could if the storage held the only reference.
    private readonly HashSet<MemoryBuffer> _lent = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();

    /// <summary>Bytes held from the device: lent and idle.</summary>
    public long HeldBytes { get; private set; }

    /// <summary>Bytes allocated from the device since the pool was made (reuse does not count).</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>The most this pool may hold; the device's memory unless lowered (tests, sharing a GPU).</summary>
    public long Limit { get; set; } = accelerator.MemorySize;

    public MemoryBuffer1D<T, Stride1D.Dense> Rent<T>(long length) where T : unmanaged
    {
        var key = (typeof(T), length);
        lock (_lock)
        {
            if (_idle.TryGetValue(key, out var stack) && stack.Count > 0)
            {
                var reused = stack.Pop();
                _lent.Add(reused);
                return (MemoryBuffer1D<T, Stride1D.Dense>)reused;
            }
        }
        long bytes = length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        try
        {
            return Allocate<T>(length, bytes);
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException or GpuOutOfMemoryException)
        {
            // What may stand in the way: tensors nobody references whose finalizers have not yet given their buffers back
            // (the collector does not see device memory), and idle buffers of other sizes. Free both, then try once more.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Trim();
            try
            {
                return Allocate<T>(length, bytes);
            }
            catch (Exception again) when (again is OutOfMemoryException or AcceleratorException or GpuOutOfMemoryException)
            {
                throw new GpuOutOfMemoryException(deviceName, bytes, deviceFree() ?? Math.Max(0, Limit - HeldBytes), HeldBytes, again);
            }
        }
    }

    private MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length, long bytes) where T : unmanaged
    {
        lock (_lock)
        {
            if (HeldBytes + bytes > Limit) throw new GpuOutOfMemoryException(deviceName, bytes, Math.Max(0, Limit - HeldBytes), HeldBytes);
            HeldBytes += bytes;
            AllocatedBytes += bytes;
        }
        try
        {
            var buffer = accelerator.Allocate1D<T>(length);
            lock (_lock) _lent.Add(buffer);
            return buffer;
        }
        catch
        {
            lock (_lock) HeldBytes -= bytes;
            throw;
        }
    }

    public void Return(MemoryBuffer buffer, Type elementType)
    {
        lock (_lock)
        {
            _lent.Remove(buffer);
            var key = (elementType, buffer.Length);
            if (!_idle.TryGetValue(key, out var stack)) _idle[key] = stack = new Stack<MemoryBuffer>();
            stack.Push(buffer);
        }
    }

    /// <summary>Frees every idle buffer back to the device.</summary>
    public void Trim()
    {
        lock (_lock)
        {
            foreach (var stack in _idle.Values)
                while (stack.Count > 0)
                {
                    var b = stack.Pop();
                    HeldBytes -= b.LengthInBytes;
                    b.Dispose();
                }
        }
    }

    public void Dispose() => Trim();
}
