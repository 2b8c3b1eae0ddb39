using System.CommandLine;
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
    public static Device Resolve(string name) =>
        name.Trim().Equals("cpu", StringComparison.OrdinalIgnoreCase) ? Device.Cpu : GpuDevices.Get(name);

    /// <summary>
    /// One device per data-parallel replica: replica i on cuda:i for <c>cuda</c> (one GPU each, so there must be as many
    /// GPUs), on ilgpu-cpu:i for <c>ilgpu-cpu</c>, and all on the CPU for <c>cpu</c>. A device with an index is one device
    /// for every replica.
    /// </summary>
    public static Device[] ForReplicas(string name, int replicas)
    {
        var n = name.Trim().ToLowerInvariant();
        if (replicas == 1 || n == "cpu" || n.Contains(':')) return Enumerable.Repeat(Resolve(name), replicas).ToArray();
        if (n == GpuDevices.Cuda && GpuDevices.CudaCount < replicas)
            throw new ArgumentException($"--replicas {replicas} --device cuda puts one replica on each GPU, but {GpuDevices.CudaCount} CUDA device(s) were found " +
                $"(devices: {string.Join(", ", GpuDevices.List())})");
        return Enumerable.Range(0, replicas).Select(i => Resolve($"{n}:{i}")).ToArray();
    }
}
