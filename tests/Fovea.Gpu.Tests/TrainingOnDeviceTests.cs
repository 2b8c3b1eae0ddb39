using Fovea.Models;
using Fovea.NN;
using Fovea.Optim;
using Fovea.Training;

namespace Fovea.Gpu.Tests;

/// <summary>LeNet-5 end to end on ILGPU's CPU accelerator: the loss falls, follows the CPU backend's, and the device's memory stops growing.</summary>
public sealed class TrainingOnDeviceTests
{
    // 8 random 28x28 images with random labels: a batch the model can fit in a few steps.
    private static (Tensor Images, Tensor Labels) Batch(int n = 8)
    {
        var g = new Generator(2);
        var labels = Enumerable.Range(0, n).Select(_ => (long)g.NextInt(10)).ToArray();
        return (Tensor.Randn([n, 1, 28, 28], g), Tensor.FromArray(labels, [n]));
    }

    private static float[] Train(Device device, int steps)
    {
        var model = ModelZoo.Create("lenet5", 10, [1, 28, 28], new Generator(1)).To(device);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new SGD(model.Parameters(), 0.05f, momentum: 0.9f));
        var batch = Batch(4);
        // One batch per epoch call, so each step's loss is read back on its own.
        return Enumerable.Range(0, steps).Select(i => (float)trainer.TrainEpoch([batch], 10, i, 1).Loss).ToArray();
    }

    [Fact]
    public void LeNet5_trains_five_steps_with_falling_loss_like_the_cpu_backend()
    {
        var gpu = Train(GpuDevices.Get("ilgpu-cpu"), 5);
        var cpu = Train(Device.Cpu, 5);
        Assert.True(gpu[^1] < gpu[0] * 0.9f, $"loss did not fall: {string.Join(", ", gpu)}");
        for (int i = 0; i < gpu.Length; i++) Assert.True(Math.Abs(gpu[i] - cpu[i]) <= 1e-3f * Math.Abs(cpu[i]), $"step {i}: cpu {cpu[i]}, gpu {gpu[i]}");
    }

    [Fact]
    public void Training_steps_reuse_device_memory()
    {
        // A device of its own, so no other test's tensors move its counters.
        var device = GpuDevices.Get("ilgpu-cpu:2");
        var backend = GpuDevices.BackendOf(device);
        var model = ModelZoo.Create("lenet5", 10, [1, 28, 28], new Generator(1)).To(device);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), 1e-3f));
        var batch = Batch(4);
        for (int i = 0; i < 2; i++) trainer.TrainEpoch([batch], 10, i, 1);
        long allocated = backend.AllocatedBytes, held = backend.HeldBytes;
        Assert.True(allocated > 0);
        for (int i = 2; i < 5; i++) trainer.TrainEpoch([batch], 10, i, 1);
        Assert.Equal(allocated, backend.AllocatedBytes);
        Assert.Equal(held, backend.HeldBytes);
    }
}
