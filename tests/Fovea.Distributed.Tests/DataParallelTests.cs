using Fovea.Backends.Cpu;
using Fovea.NN;

namespace Fovea.Distributed.Tests;

public class DataParallelTests
{
    [Fact]
    public void Slices_are_as_equal_as_possible_and_weights_sum_to_one()
    {
        var s = BatchSplit.Slices(10, 3);
        Assert.Equal([4, 3, 3], s.Select(x => x.Length));
        Assert.Equal([0, 4, 7], s.Select(x => x.Start));
        Assert.Equal(1f, s.Sum(x => x.Weight), 6);
        Assert.Equal([1, 1, 0], BatchSplit.Slices(2, 3).Select(x => x.Length));
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 12)]
    [InlineData(3, 10)] // unequal slices 4, 3, 3: the loss weighting must still give the full-batch gradient
    [InlineData(4, 3)]  // one replica gets nothing
    public void Replicas_train_to_the_same_weights_as_one_model(int replicas, int batch)
    {
        const int steps = 4;
        var (x, y) = SmallCnn.Data(batch);
        var reference = SmallCnn.TrainSingle(x, y, steps);

        var model = SmallCnn.Create();
        var opt = SmallCnn.Optimizer(model);
        using var dp = new DataParallel(model, () => SmallCnn.Create(seed: 99), replicas);
        // The factory's own initial weights are overwritten by the model's.
        Assert.All(dp.Replicas, r => Assert.Equal(SmallCnn.Flat(model), SmallCnn.Flat(r)));
        var loss = new CrossEntropyLoss();
        for (int s = 0; s < steps; s++)
        {
            var (lv, logits) = dp.TrainStep(x, y, loss, opt);
            Assert.Equal([batch, SmallCnn.Classes], logits.Shape);
            Assert.False(float.IsNaN(lv));
            // Identical weights on every replica after every step.
            var w0 = SmallCnn.Flat(dp.Replicas[0]);
            foreach (var r in dp.Replicas.Skip(1)) Assert.Equal(w0, SmallCnn.Flat(r));
        }
        var before = SmallCnn.Flat(SmallCnn.Create());
        var want = SmallCnn.Flat(reference);
        Assert.True(SmallCnn.MaxRelativeDifference(before, want) > 1e-2, "training must move the weights for the test to mean anything");
        double diff = SmallCnn.MaxRelativeDifference(SmallCnn.Flat(model), want);
        Assert.True(diff < 1e-5, $"data-parallel weights differ from single-model training by {diff:E2} (relative)");
    }

    [Fact]
    public void Loss_and_gradient_of_one_step_match_the_full_batch()
    {
        var (x, y) = SmallCnn.Data(7);
        var single = SmallCnn.Create();
        var loss = new CrossEntropyLoss();
        var l = loss.Forward(single.Forward(x), y);
        l.Backward();
        var model = SmallCnn.Create();
        using var dp = new DataParallel(model, () => SmallCnn.Create(), 2);
        var (lv, _) = dp.ForwardBackward(x, y, loss);
        Assert.Equal(l.Item(), lv, 5);
        var want = single.Parameters().SelectMany(p => p.Grad!.ToArray()).ToArray();
        var got = model.Parameters().SelectMany(p => p.Grad!.ToArray()).ToArray();
        Assert.True(want.Any(v => v != 0f), "the reference gradient must not be all zero");
        Assert.True(SmallCnn.MaxRelativeDifference(got, want) < 1e-5);
    }

    [Fact]
    public void Thread_count_is_split_while_replicas_run_and_restored_after()
    {
        int saved = CpuParallel.Threads;
        try
        {
            CpuParallel.Threads = 4;
            using var dp = new DataParallel(SmallCnn.Create(), () => SmallCnn.Create(), 2);
            Assert.Equal(2, dp.ThreadsPerReplica);
            var (x, y) = SmallCnn.Data(4);
            dp.ForwardBackward(x, y, new CrossEntropyLoss());
            Assert.Equal(4, CpuParallel.Threads);
        }
        finally { CpuParallel.Threads = saved; }
    }

    [Fact]
    public void An_optimizer_over_another_model_is_refused()
    {
        using var dp = new DataParallel(SmallCnn.Create(), () => SmallCnn.Create(), 2);
        var other = SmallCnn.Create();
        var (x, y) = SmallCnn.Data(4);
        Assert.Throws<ArgumentException>(() => dp.TrainStep(x, y, new CrossEntropyLoss(), SmallCnn.Optimizer(other)));
    }
}

public class DataParallelBatchNormTests
{
    [Fact]
    public void Batch_norm_running_statistics_are_the_same_on_every_replica_after_a_step()
    {
        static Sequential Net() => new(new Conv2d(1, 3, 3, generator: new Generator(1)), new BatchNorm2d(3), new ReLU(), new Flatten(),
            new Linear(3 * 6 * 6, SmallCnn.Classes, generator: new Generator(2)));
        var model = Net();
        using var dp = new DataParallel(model, Net, 2);
        var (x, y) = SmallCnn.Data(8);
        dp.TrainStep(x, y, new CrossEntropyLoss(), SmallCnn.Optimizer(model));
        var b0 = model.NamedBuffers().ToDictionary(b => b.Name, b => b.Buffer.ToArray());
        Assert.Contains(b0, kv => kv.Key.EndsWith("running_mean", StringComparison.Ordinal) && kv.Value.Any(v => v != 0f));
        foreach (var (name, b) in dp.Replicas[1].NamedBuffers()) Assert.Equal(b0[name], b.ToArray());
    }
}
