using Fovea.Backends.Cpu;
using Fovea.NN;

namespace Fovea.Distributed.Tests;

public class PipelineTests
{
    private static Sequential Net(int seed = 5)
    {
        var g = new Generator(seed);
        return new Sequential(
            new Conv2d(1, 4, 3, padding: 1, generator: g),
            new ReLU(),
            new MaxPool2d(2),
            new Conv2d(4, 6, 3, padding: 1, generator: g),
            new ReLU(),
            new Flatten(),
            new Linear(6 * 4 * 4, 3, generator: g));
    }

    private static readonly Device Cpu1 = Device.Create("cpu", 1, CpuBackend.Instance);
    private static readonly Device Cpu2 = Device.Create("cpu", 2, CpuBackend.Instance);

    [Theory]
    [InlineData(1)]
    [InlineData(3)] // micro-batches, stages on their own threads
    public void Split_model_gives_the_same_output_and_gradients_as_one_device(int chunks)
    {
        var (x, y) = SmallCnn.Data(7);
        var single = Net();
        var loss = new CrossEntropyLoss();
        var want = single.Forward(x);
        loss.Forward(want, y).Backward();

        var pipe = new Pipeline(Net(), [Device.Cpu, Cpu1, Cpu2], [3, 5], chunks);
        Assert.Equal([3, 2, 2], pipe.Stages.Select(s => s.Count));
        Assert.Equal(single.StateDict().Keys.Order(), pipe.StateDict().Keys.Order());
        var got = pipe.Forward(x);
        loss.Forward(got, y).Backward();

        Assert.True(SmallCnn.MaxRelativeDifference(got.ToArray(), want.ToArray()) < 1e-6);
        var gWant = single.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray());
        foreach (var (name, p) in pipe.NamedParameters())
        {
            Assert.NotNull(p.Grad);
            Assert.True(gWant[name].Any(v => v != 0f), $"{name}: reference gradient is all zero");
            Assert.True(SmallCnn.MaxRelativeDifference(p.Grad!.ToArray(), gWant[name]) < 1e-5, $"{name}: gradients differ");
        }
    }

    [Fact]
    public void Default_cut_balances_parameters_and_gives_every_stage_a_layer()
    {
        var pipe = new Pipeline(Net(), [Device.Cpu, Cpu1]);
        Assert.Equal(2, pipe.Stages.Count);
        Assert.All(pipe.Stages, s => Assert.True(s.Count >= 1));
        Assert.Equal(7, pipe.Stages.Sum(s => s.Count));
    }

    [Fact]
    public void Bad_cuts_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new Pipeline(Net(), [Device.Cpu, Cpu1], [0]));
        Assert.Throws<ArgumentException>(() => new Pipeline(Net(), [Device.Cpu, Cpu1], [7]));
        Assert.Throws<ArgumentException>(() => new Pipeline(Net(), [Device.Cpu, Cpu1, Cpu2], [4, 3]));
    }
}
