namespace Fovea.Gpu.Tests;

/// <summary>Naming devices, the error for a GPU that is not there, and the out-of-memory message.</summary>
public sealed class DeviceSelectionTests
{
    [Fact]
    public void A_cuda_device_that_is_not_there_is_an_error_listing_the_devices_found()
    {
        int gpus = GpuDevices.CudaCount;
        var e = Assert.Throws<DeviceUnavailableException>(() => GpuDevices.Get($"cuda:{gpus}"));
        Assert.Contains("devices found", e.Message);
        Assert.Contains("ilgpu-cpu", e.Message);
        if (gpus == 0) Assert.Contains("no CUDA device", Assert.Throws<DeviceUnavailableException>(() => GpuDevices.Get("cuda")).Message);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("cuda:x")]
    [InlineData("ilgpu-cpu:-1")]
    [InlineData("cuda:0:1")]
    public void Unknown_names_are_rejected(string name) => Assert.Throws<ArgumentException>(() => GpuDevices.Get(name));

    [Fact]
    public void Names_give_one_cached_device_each()
    {
        var d = GpuDevices.Get("ilgpu-cpu");
        Assert.Same(d, GpuDevices.Get("ILGPU-CPU:0"));
        Assert.Equal("ilgpu-cpu:0", d.ToString());
        Assert.NotEqual(d, GpuDevices.Get("ilgpu-cpu:4"));
    }

    [Fact]
    public void Out_of_memory_states_the_bytes_asked_and_free()
    {
        var backend = GpuDevices.BackendOf(GpuDevices.Get("ilgpu-cpu:3"));
        long limit = backend.MemoryLimit;
        backend.MemoryLimit = backend.HeldBytes + (1 << 20);
        try
        {
            var e = Assert.Throws<GpuOutOfMemoryException>(() => Tensor.Zeros([1_000_000], backend.Device));
            Assert.Equal(4_000_000, e.RequestedBytes);
            Assert.Equal(1 << 20, e.FreeBytes);
            Assert.Contains("asked for 4,000,000 bytes", e.Message);
            Assert.Contains("1,048,576 bytes (1.0 MiB) free", e.Message);
        }
        finally { backend.MemoryLimit = limit; }
    }
}
