using Fovea.NN;

namespace Fovea.Distributed.Tests;

/// <summary>
/// Synchronised batch norm: replicas and ranks that pool their statistics train to the weights and running
/// statistics of one model with ordinary batch norm on the whole global batch; per-replica statistics (the default)
/// do not, which shows the comparison can fail.
/// </summary>
public class SyncBatchNormTests
{
    private const int Steps = 3, Batch = 10;

    private static Sequential Net() => new(
        new Conv2d(1, 3, 3, generator: new Generator(1)), new BatchNorm2d(3), new ReLU(), new Flatten(),
        new Linear(3 * 6 * 6, 5, generator: new Generator(2)), new BatchNorm1d(5), new ReLU(),
        new Linear(5, SmallCnn.Classes, generator: new Generator(3)));

    private static float[] State(Module m) =>
        m.Parameters().SelectMany(p => p.ToArray()).Concat(m.NamedBuffers().SelectMany(b => b.Buffer.ToArray())).ToArray();

    private static float[] Single()
    {
        var (x, y) = SmallCnn.Data(Batch);
        var m = Net();
        var opt = SmallCnn.Optimizer(m);
        for (int s = 0; s < Steps; s++)
        {
            opt.ZeroGrad();
            new CrossEntropyLoss().Forward(m.Forward(x), y).Backward();
            opt.Step();
        }
        return State(m);
    }

    private static float[] Replicated(int replicas, bool sync)
    {
        var (x, y) = SmallCnn.Data(Batch);
        var model = Net();
        using var dp = new DataParallel(model, Net, replicas, syncBatchNorm: sync);
        var opt = SmallCnn.Optimizer(model);
        for (int s = 0; s < Steps; s++) dp.TrainStep(x, y, new CrossEntropyLoss(), opt);
        foreach (var r in dp.Replicas.Skip(1)) Assert.Equal(State(model), State(r));
        return State(model);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)] // slices of 4, 3, 3
    public void Replicas_with_synchronised_batch_norm_train_like_one_model_on_the_whole_batch(int replicas)
    {
        var want = Single();
        double synced = SmallCnn.MaxRelativeDifference(Replicated(replicas, sync: true), want);
        double perReplica = SmallCnn.MaxRelativeDifference(Replicated(replicas, sync: false), want);
        Assert.True(synced < 1e-5, $"synchronised: {replicas} replicas differ from one model by {synced:E2}");
        Assert.True(perReplica > 1e-3, $"per-replica statistics should differ from one model, but differ by only {perReplica:E2}");
    }

    [Fact]
    public void Ranks_with_synchronised_batch_norm_train_like_one_process_on_the_whole_batch()
    {
        const int ranks = 2;
        var (x, y) = SmallCnn.Data(Batch);
        var group = new ThreadGroup(ranks) { Timeout = TimeSpan.FromSeconds(30) };
        var finals = new float[ranks][];
        Parallel.For(0, ranks, new ParallelOptions { MaxDegreeOfParallelism = ranks }, r =>
        {
            var model = Net();
            var ddp = new DistributedDataParallel(model, group.Rank(r), syncBatchNorm: true);
            var opt = SmallCnn.Optimizer(model);
            for (int s = 0; s < Steps; s++) ddp.TrainStep(x, y, new CrossEntropyLoss(), opt);
            finals[r] = State(model);
        });
        Assert.Equal(finals[0], finals[1]);
        double diff = SmallCnn.MaxRelativeDifference(finals[0], Single());
        Assert.True(diff < 1e-5, $"synchronised ranks differ from one process by {diff:E2}");
    }

    [Fact]
    public void A_batch_smaller_than_the_replica_count_is_refused_rather_than_left_waiting()
    {
        var model = Net();
        using var dp = new DataParallel(model, Net, 3, syncBatchNorm: true);
        var (x, y) = SmallCnn.Data(2);
        var e = Assert.Throws<ArgumentException>(() => dp.TrainStep(x, y, new CrossEntropyLoss(), SmallCnn.Optimizer(model)));
        Assert.Contains("at least one sample per replica", e.Message);
    }

    [Fact]
    public void The_model_normalises_by_its_own_batch_again_once_the_replicas_are_disposed()
    {
        var model = Net();
        using (new DataParallel(model, Net, 2, syncBatchNorm: true))
            Assert.All(model.NamedModules().Select(m => m.Module).OfType<BatchNorm>(), bn => Assert.NotNull(bn.SyncGroup));
        Assert.All(model.NamedModules().Select(m => m.Module).OfType<BatchNorm>(), bn => Assert.Null(bn.SyncGroup));
    }
}

public class ThreadGroupTests
{
    [Fact]
    public void A_rank_that_never_arrives_makes_the_waiting_rank_fail_with_its_name_instead_of_hanging()
    {
        var group = new ThreadGroup(2) { Timeout = TimeSpan.FromMilliseconds(300) };
        var e = Assert.Throws<TimeoutException>(() => group.Rank(0).AllreduceSum([1f, 2f]));
        Assert.Contains("rank 0 of 2", e.Message);
    }

    [Fact]
    public void All_reduce_gives_every_rank_the_same_sum()
    {
        var group = new ThreadGroup(3);
        var buffers = Enumerable.Range(0, 3).Select(r => new[] { r + 1f, 10f * r }).ToArray();
        Parallel.For(0, 3, new ParallelOptions { MaxDegreeOfParallelism = 3 }, r => group.Rank(r).AllreduceSum(buffers[r]));
        Assert.All(buffers, b => Assert.Equal([6f, 30f], b));
    }
}
