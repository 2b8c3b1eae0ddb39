using Fovea.Models;
using Fovea.NN;
using Fovea.Optim;
using Fovea.Training;

namespace Fovea.Gpu.Tests;

/// <summary>
/// LeNet-5 end to end on ILGPU's CPU accelerator and on every CUDA GPU present: the loss falls, follows the CPU
/// backend's, and the device's memory stops growing. The memory test reads a device's counters, so the class runs alone.
/// </summary>
[Collection(nameof(TrainingOnDeviceTests))]
public sealed class TrainingOnDeviceTests
{
    /// <summary>The CPU accelerator and every CUDA GPU present.</summary>
    public static TheoryData<string> Devices()
    {
        var names = new TheoryData<string> { "ilgpu-cpu" };
        for (int i = 0; i < GpuDevices.CudaCount; i++) names.Add($"{GpuDevices.Cuda}:{i}");
        return names;
    }

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

    [Theory]
    [MemberData(nameof(Devices))]
    public void LeNet5_trains_five_steps_with_falling_loss_like_the_cpu_backend(string device)
    {
        var gpu = Train(GpuDevices.Get(device), 5);
        var cpu = Train(Device.Cpu, 5);
        Assert.True(gpu[^1] < gpu[0] * 0.9f, $"loss did not fall: {string.Join(", ", gpu)}");
        for (int i = 0; i < gpu.Length; i++) Assert.True(Math.Abs(gpu[i] - cpu[i]) <= 1e-3f * Math.Abs(cpu[i]), $"step {i}: cpu {cpu[i]}, gpu {gpu[i]}");
    }

    [Fact]
    public void A_step_on_a_device_is_not_captured_and_says_why()
    {
        var device = GpuDevices.Get("ilgpu-cpu");
        var model = ModelZoo.Create("lenet5", 10, [1, 28, 28], new Generator(1)).To(device);
        var (x, y) = Batch(4);
        var (xd, yd) = (x.To(device), y.To(device));
        var e = Assert.Throws<NotSupportedException>(() =>
            CapturedStep.Capture(() => Functional.CrossEntropy(model.Forward(xd), yd).Backward()));
        Assert.Contains("only CPU steps can be captured", e.Message);
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Training_steps_reuse_device_memory(string name)
    {
        // On the CPU accelerator a device of its own, so no other test's tensors move its counters; a GPU is shared
        // with the other classes, which is why this class runs on its own.
        var device = GpuDevices.Get(name == "ilgpu-cpu" ? "ilgpu-cpu:2" : name);
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

    [Fact]
    public void Optimizer_state_saved_on_the_host_resumes_on_the_device()
    {
        var device = GpuDevices.Get("ilgpu-cpu");
        var (x, y) = Batch(4);
        Module Net() => ModelZoo.Create("lenet5", 10, [1, 28, 28], new Generator(1)).To(device);
        void Step(Module m, Optimizer o)
        {
            o.ZeroGrad();
            new CrossEntropyLoss().Forward(m.Forward(x.To(device)), y.To(device)).Backward();
            o.Step();
        }
        // Two steps straight, against one step, a save through host arrays (as a checkpoint does), and one more.
        var straight = Net();
        var straightOpt = new SGD(straight.Parameters(), 0.05f, momentum: 0.9f);
        Step(straight, straightOpt);
        Step(straight, straightOpt);
        var first = Net();
        var firstOpt = new SGD(first.Parameters(), 0.05f, momentum: 0.9f);
        Step(first, firstOpt);
        var saved = firstOpt.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.To(Device.Cpu));
        var resumed = Net();
        resumed.LoadStateDict(first.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.To(Device.Cpu)));
        var resumedOpt = new SGD(resumed.Parameters(), 0.05f, momentum: 0.9f);
        resumedOpt.LoadStateDict(saved);
        Step(resumed, resumedOpt);
        Conformance.AssertClose("weights after resuming", Flat(straight), Flat(resumed));
    }

    private static float[] Flat(Module m) => m.Parameters().SelectMany(p => p.ToArray()).ToArray();
}

/// <summary>Keeps <see cref="TrainingOnDeviceTests"/> from running beside the other classes, which share its devices.</summary>
[CollectionDefinition(nameof(TrainingOnDeviceTests), DisableParallelization = true)]
public sealed class TrainingOnDeviceCollection;
