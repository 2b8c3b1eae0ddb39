using System.CommandLine;
using System.Runtime.CompilerServices;
using Fovea.Gpu;

namespace Fovea.Cli;

/// <summary>The <c>--device</c> option of train, eval and predict, and the one place a device name becomes a <see cref="Device"/>.</summary>
internal static class DeviceChoice
{
    public static Option<string> Option() => new("--device")
    {
        Description = "Where to run: cpu, cuda (the first GPU), cuda:N, or ilgpu-cpu (the GPU kernels on ILGPU's slow CPU accelerator, for testing)",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>The device called <paramref name="name"/>; an unknown or absent device is an error naming the devices found.</summary>
    public static Device Resolve(string name)
    {
        if (name.Trim().Equals("cpu", StringComparison.OrdinalIgnoreCase)) return Device.Cpu;
        // ILGPU compiles its kernels with Reflection.Emit. In a Native AOT build this is false at compile time, so the
        // branch and all of ILGPU are trimmed away and a GPU device is a clean error.
        if (!RuntimeFeature.IsDynamicCodeSupported) throw NoGpu(name);
        return GpuDevices.Get(name);
    }

    private static NotSupportedException NoGpu(string name) =>
        new($"--device {name.Trim()}: this build of fovea is compiled ahead of time (Native AOT) and has no GPU backend, since ILGPU " +
            "generates code at run time; use the framework-dependent tool (dotnet tool install -g Fovea.Cli) for GPUs, or --device cpu");

    /// <summary>
    /// One device per data-parallel replica: replica i on cuda:i for <c>cuda</c> (one GPU each, so there must be as many
    /// GPUs), on ilgpu-cpu:i for <c>ilgpu-cpu</c>, and all on the CPU for <c>cpu</c>. A device with an index is one device
    /// for every replica.
    /// </summary>
    public static Device[] ForReplicas(string name, int replicas)
    {
        var n = name.Trim().ToLowerInvariant();
        if (replicas == 1 || n == "cpu" || n.Contains(':')) return Enumerable.Repeat(Resolve(name), replicas).ToArray();
        if (!RuntimeFeature.IsDynamicCodeSupported) throw NoGpu(name);
        if (n == GpuDevices.Cuda && GpuDevices.CudaCount < replicas)
            throw new ArgumentException($"--replicas {replicas} --device cuda puts one replica on each GPU, but {GpuDevices.CudaCount} CUDA device(s) were found " +
                $"(devices: {string.Join(", ", GpuDevices.List())})");
        return Enumerable.Range(0, replicas).Select(i => Resolve($"{n}:{i}")).ToArray();
    }
}
