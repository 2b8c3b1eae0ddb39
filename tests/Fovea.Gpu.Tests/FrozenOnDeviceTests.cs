using Fovea.NN;

namespace Fovea.Gpu.Tests;

/// <summary>A frozen module moved to a device stays frozen there, and runs as on the CPU.</summary>
public sealed class FrozenOnDeviceTests
{
    [Fact]
    public void A_frozen_module_moved_to_the_cpu_accelerator_stays_frozen()
    {
        var gen = new Generator(3);
        var net = new Sequential(new Linear(12, 8, generator: gen), new ReLU(), new Linear(8, 3, generator: gen));
        var x = Tensor.Randn([2, 12], new Generator(4));
        float[] onCpu;
        using (GradMode.NoGrad()) onCpu = net.Forward(x).ToArray();
        net.Freeze().To(GpuDevices.Get("ilgpu-cpu"));
        Assert.All(net.Parameters(), p =>
        {
            Assert.False(p.Device.Equals(Device.Cpu));
            Assert.True(p.Storage.Frozen);
            Assert.False(p.RequiresGrad);
        });
        Assert.Throws<InvalidOperationException>(() => net.Parameters().First().ZeroInPlace());
        float[] onDevice;
        using (GradMode.NoGrad()) onDevice = net.Forward(x.To(net.Parameters().First().Device)).ToArray();
        Conformance.AssertClose("frozen forward", onCpu, onDevice);
    }
}
