using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Fovea.Gpu;

/// <summary>
/// The entry point of the GPU backend: which ILGPU devices this machine has, and a <see cref="Device"/> for a name —
/// <c>cuda</c> (the first GPU), <c>cuda:N</c>, or <c>ilgpu-cpu[:N]</c> (ILGPU's CPU accelerator, which runs the same
/// kernels slowly; each index is its own accelerator, so data-parallel replicas can be tested without a GPU).
/// One ILGPU context and one accelerator per device are made on first use and disposed when the process exits.
/// </summary>
public static class GpuDevices
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<(string Kind, int Index), GpuBackend> Backends = [];
    private static Context? _context;

    /// <summary>The kind name of CUDA devices.</summary>
    public const string Cuda = "cuda";

    /// <summary>The kind name of ILGPU's CPU accelerator.</summary>
    public const string IlgpuCpu = "ilgpu-cpu";

    private static Context Context
    {
        get
        {
            if (_context is not null) return _context;
            _context = ILGPU.Context.Create(b => b.CPU().Cuda().EnableAlgorithms());
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeAll();
            return _context;
        }
    }

    /// <summary>Number of CUDA GPUs ILGPU found (0 without a GPU or an NVIDIA driver).</summary>
    public static int CudaCount
    {
        get
        {
            lock (Gate) return Context.GetCudaDevices().Count;
        }
    }

    /// <summary>One line per device that can be named: "cpu", "ilgpu-cpu", and "cuda:N (model, memory)" for each GPU.</summary>
    public static IReadOnlyList<string> List()
    {
        lock (Gate)
        {
            var lines = new List<string> { "cpu (managed CPU backend)", $"{IlgpuCpu} (ILGPU CPU accelerator, for testing)" };
            var gpus = Context.GetCudaDevices();
            for (int i = 0; i < gpus.Count; i++) lines.Add($"{Cuda}:{i} ({gpus[i].Name}, {gpus[i].MemorySize / (1024.0 * 1024 * 1024):F1} GiB)");
            return lines;
        }
    }

    /// <summary>
    /// The device called <paramref name="name"/>: <c>cuda</c>, <c>cuda:N</c>, <c>ilgpu-cpu</c> or <c>ilgpu-cpu:N</c>. A CUDA
    /// device that is not there is a <see cref="DeviceUnavailableException"/> whose message lists the devices found.
    /// </summary>
    public static Device Get(string name)
    {
        var (kind, index) = Parse(name);
        return Backend(kind, index).Device;
    }

    /// <summary>The backend of a device made by <see cref="Get"/> (for its memory counters and limit).</summary>
    public static GpuBackend BackendOf(Device device) => device.Backend as GpuBackend
        ?? throw new ArgumentException($"{device} is not a GPU backend device");

    private static (string Kind, int Index) Parse(string name)
    {
        var parts = name.Trim().ToLowerInvariant().Split(':');
        string kind = parts[0];
        if (kind is not (Cuda or IlgpuCpu) || parts.Length > 2)
            throw new ArgumentException($"unknown device '{name}': expected cpu (the managed backend), {Cuda}, {Cuda}:N, {IlgpuCpu} or {IlgpuCpu}:N");
        int index = 0;
        if (parts.Length == 2 && (!int.TryParse(parts[1], out index) || index < 0))
            throw new ArgumentException($"bad device index in '{name}': expected a number from 0");
        return (kind, index);
    }

    private static GpuBackend Backend(string kind, int index)
    {
        lock (Gate)
        {
            if (Backends.TryGetValue((kind, index), out var b)) return b;
            Accelerator accelerator;
            if (kind == Cuda)
            {
                var gpus = Context.GetCudaDevices();
                if (index >= gpus.Count)
                    throw new DeviceUnavailableException(
                        (gpus.Count == 0 ? $"no CUDA device found for '{kind}:{index}'" : $"'{kind}:{index}' asked for, but only {gpus.Count} CUDA device(s) found") +
                        $"; devices found: {string.Join(", ", List())}");
                accelerator = gpus[index].CreateCudaAccelerator(Context);
            }
            else accelerator = Context.GetCPUDevice(0).CreateCPUAccelerator(Context);
            b = new GpuBackend(accelerator, kind, index);
            Backends[(kind, index)] = b;
            return b;
        }
    }

    private static void DisposeAll()
    {
        lock (Gate)
        {
            foreach (var b in Backends.Values) b.Dispose();
            Backends.Clear();
            _context?.Dispose();
            _context = null;
        }
    }
}
