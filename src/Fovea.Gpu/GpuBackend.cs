using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Fovea.Gpu.Kernels;

namespace Fovea.Gpu;

/// <summary>
/// Fovea's ops as ILGPU kernels on one accelerator (a CUDA GPU, or ILGPU's CPU accelerator for testing). Storages
/// are <see cref="GpuStorage"/> buffers lent by a per-device pool; data crosses to the host only in
/// <see cref="FromHost(float[])"/> and <see cref="ToHost(Storage, int, Span{float})"/>. Kernels are compiled on first
/// use and cached. Split by family: this file holds memory and launch plumbing; the kernels live in Kernels/.
/// </summary>
public sealed partial class GpuBackend : IBackend, IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _dummyFloats;
    [ThreadStatic] private static Accelerator? _boundOnThisThread;

    internal GpuBackend(Accelerator accelerator, string kind, int index)
    {
        _accelerator = accelerator;
        Device = Device.Create(kind, index, this);
        Pool = new GpuMemoryPool(accelerator, Device.ToString(), CudaFreeBytes);
        bool cuda = accelerator.AcceleratorType == AcceleratorType.Cuda;
        // Tiles of 16 x 16 threads fill a CUDA block of 256. The CPU accelerator runs every thread of a group as an OS
        // thread and pays for each barrier (a LeNet-5 convolution took 10 s with 4 x 4 tiles, 0.7 s with 1 x 1), so it
        // gets one-thread groups; the conformance suite also runs it with 4 x 4 tiles to keep the sharing under test.
        Tile = cuda ? 16 : 1;
        ReduceGroup = cuda ? Kernels.GroupSum.MaxGroup : 1;
        // Four 256-thread groups per multiprocessor keep a GPU busy; the CPU accelerator gains nothing from more groups.
        SplitTarget = cuda ? 4 * accelerator.NumMultiprocessors : 0;
        _dummyFloats = accelerator.Allocate1D<float>(1);
    }

    /// <summary>The device whose ops this backend runs.</summary>
    public Device Device { get; }

    /// <summary>"cuda" or "ilgpu-cpu".</summary>
    public string Name => Device.Kind;

    /// <summary>The accelerator's own description (e.g. the GPU's model).</summary>
    public string Description => _accelerator.Name;

    internal GpuMemoryPool Pool { get; }

    internal bool IsDisposed { get; private set; }

    /// <summary>Side of the GEMM and convolution tiles (T x T threads per group): 16, 4 or 1 (<see cref="ITileSide"/>).</summary>
    internal int Tile
    {
        get => _tile;
        set
        {
            if (value is not (16 or 4 or 1)) throw new ArgumentOutOfRangeException(nameof(value), value, "the tile side must be 16, 4 or 1");
            if (value == _tile) return;
            _tile = value;
            // The product kernels are compiled for one side; the next product loads them for the new one.
            _gemm = null;
            _convForward = null;
            _convData = null;
            _convFilter = null;
        }
    }

    private int _tile;

    /// <summary>Threads per group of the row and per-channel reductions (a power of two, at most <see cref="Kernels.GroupSum.MaxGroup"/>).</summary>
    internal int ReduceGroup { get; set; }

    /// <summary>Bytes this device's pool holds (lent to tensors or idle for reuse).</summary>
    public long HeldBytes => Pool.HeldBytes;

    /// <summary>Bytes allocated from the device so far; flat once a training loop is in its steady state.</summary>
    public long AllocatedBytes => Pool.AllocatedBytes;

    /// <summary>The most memory Fovea may take from the device (default: all of it).</summary>
    public long MemoryLimit
    {
        get => Pool.Limit;
        set => Pool.Limit = value;
    }

    private AcceleratorStream Stream
    {
        get
        {
            // A CUDA context is current per thread: replicas run on their own threads, so bind before use.
            if (!ReferenceEquals(_boundOnThisThread, _accelerator))
            {
                _accelerator.Bind();
                _boundOnThisThread = _accelerator;
            }
            return _accelerator.DefaultStream;
        }
    }

    // ---- Memory

    public Storage Allocate(DType dtype, int length)
    {
        var s = Rent(dtype, length);
        if (dtype == DType.Float32) s.Floats.MemSetToZero(Stream);
        else s.Longs.MemSetToZero(Stream);
        return s;
    }

    public Storage AllocateUninitialized(DType dtype, int length) => Rent(dtype, length);

    private GpuStorage Rent(DType dtype, int length)
    {
        _ = Stream;
        // Zero-length tensors still get a buffer, so every storage has a view to pass.
        long n = Math.Max(1, length);
        MemoryBuffer buffer = dtype == DType.Float32 ? Pool.Rent<float>(n) : Pool.Rent<long>(n);
        var s = new GpuStorage(this, buffer, dtype, length);
        StepMemory.AtStepEnd(s.Release);
        return s;
    }

    public Storage FromHost(float[] data)
    {
        var s = Rent(DType.Float32, data.Length);
        if (data.Length > 0) s.Floats.SubView(0, data.Length).CopyFromCPU(Stream, (ReadOnlySpan<float>)data);
        return s;
    }

    public Storage FromHost(long[] data)
    {
        var s = Rent(DType.Int64, data.Length);
        if (data.Length > 0) s.Longs.SubView(0, data.Length).CopyFromCPU(Stream, (ReadOnlySpan<long>)data);
        return s;
    }

    public void ToHost(Storage source, int offset, Span<float> destination)
    {
        if (destination.Length == 0) return;
        G(source).Floats.SubView(offset, destination.Length).CopyToCPU(Stream, destination);
        Stream.Synchronize();
    }

    public void ToHost(Storage source, int offset, Span<long> destination)
    {
        if (destination.Length == 0) return;
        G(source).Longs.SubView(offset, destination.Length).CopyToCPU(Stream, destination);
        Stream.Synchronize();
    }

    public void Fill(Storage destination, float value)
    {
        var d = G(destination);
        if (d.DType == DType.Float32)
        {
            if (value == 0f) d.Floats.MemSetToZero(Stream);
            else Kernel(ref _fillFloat, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(ElementwiseKernels.FillFloat))(
                Math.Max(1, d.Length), F(d), value);
        }
        else if ((long)value == 0) d.Longs.MemSetToZero(Stream);
        else Kernel(ref _fillLong, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, long>(ElementwiseKernels.FillLong))(
            Math.Max(1, d.Length), L(d), (long)value);
    }

    private Action<Index1D, ArrayView<float>, float>? _fillFloat;
    private Action<Index1D, ArrayView<long>, long>? _fillLong;

    // ---- Plumbing shared by the partial files

    private static GpuStorage G(Storage s) => s as GpuStorage
        ?? throw new ArgumentException($"the GPU backend got a tensor on {s.Device}: move it with .To(device) first");

    private static ArrayView<float> F(Storage s) => G(s).Floats;
    private static ArrayView<long> L(Storage s) => G(s).Longs;
    private ArrayView<float> FOrDummy(Storage? s) => s is null ? _dummyFloats.View : F(s);

    /// <summary>The kernel's launcher, compiled on first use, with this device bound to the calling thread.</summary>
    private TDelegate Kernel<TDelegate>(ref TDelegate? cache, Func<Accelerator, TDelegate> load) where TDelegate : Delegate
    {
        _ = Stream;
        return cache ??= load(_accelerator);
    }

    private static void Check(bool ok, string message)
    {
        if (!ok) throw new ArgumentException(message);
    }

    /// <summary>Waits until every kernel queued on this device has finished (for timing; reads of results wait by themselves).</summary>
    public void Synchronize() => Stream.Synchronize();

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        _accelerator.Synchronize();
        Pool.Dispose();
        _dummyFloats.Dispose();
        _accelerator.Dispose();
    }

    // CUDA's own count of free bytes (other processes' use included); null on the CPU accelerator.
    private long? CudaFreeBytes()
    {
        if (_accelerator.AcceleratorType != AcceleratorType.Cuda) return null;
        _ = Stream;
        return CudaAPI.CurrentAPI.GetMemoryInfo(out long free, out long _) == CudaError.CUDA_SUCCESS ? free : null;
    }
}
