using Fovea.Distributed;
using Fovea.NN;
using Fovea.Optim;

namespace Fovea.Gpu.Tests;

/// <summary>Data parallelism with one replica per device: two CPU-accelerator devices stand in for two GPUs.</summary>
public sealed class MultiDeviceDataParallelTests
{
    private static Sequential Net(int seed = 7)
    {
        var g = new Generator(seed);
        return new Sequential(new Conv2d(1, 4, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 3, generator: g));
    }

    private static float[] Flat(Module m) => m.Parameters().SelectMany(p => p.ToArray()).ToArray();

    [Fact]
    public void Replicas_on_two_devices_train_to_the_weights_of_one_model()
    {
        const int steps = 3, batch = 6;
        var g = new Generator(11);
        var x = Tensor.Randn([batch, 1, 8, 8], g);
        var y = Tensor.FromArray(Enumerable.Range(0, batch).Select(i => (long)(i % 3)).ToArray(), [batch]);
        var loss = new CrossEntropyLoss();

        var single = Net();
        var singleOpt = new SGD(single.Parameters(), 0.1f, momentum: 0.9f);
        for (int s = 0; s < steps; s++)
        {
            singleOpt.ZeroGrad();
            loss.Forward(single.Forward(x), y).Backward();
            singleOpt.Step();
        }

        Device[] devices = [GpuDevices.Get("ilgpu-cpu:5"), GpuDevices.Get("ilgpu-cpu:6")];
        var model = Net().To(devices[0]);
        var opt = new SGD(model.Parameters(), 0.1f, momentum: 0.9f);
        using var dp = new DataParallel(model, _ => Net(seed: 99), devices);
        Assert.Equal(devices, dp.Devices);
        Assert.Equal(devices[1], dp.Replicas[1].Parameters().First().Device);
        for (int s = 0; s < steps; s++) dp.TrainStep(x, y, loss, opt);

        float[] want = Flat(single), got = Flat(model), start = Flat(Net());
        Assert.Contains(Enumerable.Range(0, want.Length), i => Math.Abs(want[i] - start[i]) > 1e-2f);
        Conformance.AssertClose("weights after data-parallel training", want, got);
        Assert.Equal(got, Flat(dp.Replicas[1]));
    }

    [Fact]
    public void The_first_device_must_be_the_models()
    {
        var model = Net();
        Assert.Throws<ArgumentException>(() => new DataParallel(model, _ => Net(), [GpuDevices.Get("ilgpu-cpu:5"), Device.Cpu]));
    }
}
