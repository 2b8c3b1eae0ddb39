using Fovea.Backends.Cpu;
using Fovea.Models;
using Fovea.NN;

namespace Fovea.Distributed.Tests;

public class TwoTowerAlexNetTests
{
    [Fact]
    public void Two_towers_on_two_devices_match_the_one_device_model_in_output_and_gradients()
    {
        // 67x67 is the smallest round size that still leaves a 1x1 map after the last pool: fast, all layers used.
        var single = new AlexNet2012(numClasses: 10, inputShape: [3, 67, 67], dropout: 0f, generator: new Generator(3));
        var towers = new TwoTowerAlexNet(single, Device.Cpu, Device.Create("cpu", 1, CpuBackend.Instance));
        // Large inputs make local response normalisation bite (α = 1e-4), so a missing halo would show.
        var x = Tensor.Randn([2, 3, 67, 67], new Generator(4)) * 300f;
        var y = Tensor.FromArray([1L, 7L], [2]);

        var merged = towers.MergedStateDict();
        var own = single.StateDict();
        Assert.Equal(own.Keys.Order(), merged.Keys.Order());
        foreach (var (name, t) in own) Assert.Equal(t.ToArray(), merged[name].ToArray());

        var loss = new CrossEntropyLoss();
        var want = single.Forward(x);
        loss.Forward(want, y).Backward();
        var got = towers.Forward(x);
        loss.Forward(got, y).Backward();

        Assert.Equal([2, 10], got.Shape);
        double diff = SmallCnn.MaxRelativeDifference(got.ToArray(), want.ToArray());
        Assert.True(diff < 1e-5, $"outputs differ by {diff:E2}");
        var grads = towers.MergedGradients();
        foreach (var (name, p) in single.NamedParameters())
        {
            var g = p.Grad!.ToArray();
            Assert.True(g.Any(v => v != 0f), $"{name}: reference gradient is all zero");
            double gd = SmallCnn.MaxRelativeDifference(grads[name].ToArray(), g);
            Assert.True(gd < 1e-4, $"{name}: gradients differ by {gd:E2}");
        }
    }
}
