using Fovea.NN;

namespace Fovea.Distributed.Tests;

public class DistributedDataParallelTests
{
    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 10)]
    [InlineData(3, 10)] // shards of 4, 3, 3
    public void Ranks_train_to_the_weights_of_one_process_on_the_global_batch(int ranks, int batch)
    {
        const int steps = 4;
        var (x, y) = SmallCnn.Data(batch);
        var want = SmallCnn.Flat(SmallCnn.TrainSingle(x, y, steps));
        var job = new ThreadGroup(ranks) { Timeout = TimeSpan.FromSeconds(30) };
        var finals = new float[ranks][];
        var losses = new float[ranks];
        Parallel.For(0, ranks, new ParallelOptions { MaxDegreeOfParallelism = ranks }, r =>
        {
            // Different initial weights per rank: the initial broadcast must make them rank 0's.
            var model = SmallCnn.Create(seed: r == 0 ? 7 : 100 + r);
            var ddp = new DistributedDataParallel(model, job.Rank(r));
            var opt = SmallCnn.Optimizer(model);
            for (int s = 0; s < steps; s++) losses[r] = ddp.TrainStep(x, y, new CrossEntropyLoss(), opt).Loss;
            finals[r] = SmallCnn.Flat(model);
        });
        foreach (var f in finals.Skip(1)) Assert.Equal(finals[0], f);
        Assert.All(losses, l => Assert.Equal(losses[0], l));
        double diff = SmallCnn.MaxRelativeDifference(finals[0], want);
        Assert.True(diff < 1e-5, $"{ranks} ranks' weights differ from one process by {diff:E2} (relative)");
    }

    [Fact]
    public void Shards_cover_the_global_batch_once()
    {
        var job = new ThreadGroup(3) { Timeout = TimeSpan.FromSeconds(30) };
        var shards = Enumerable.Range(0, 3).Select(r => new DistributedDataParallel(SmallCnn.Create(), job.Rank(r), broadcastInitialWeights: false).ShardOf(10)).ToArray();
        Assert.Equal([0, 4, 7], shards.Select(s => s.Start));
        Assert.Equal(10, shards.Sum(s => s.Length));
    }
}

public class DistributedTrainEpochTests
{
    [Fact]
    public void TrainEpoch_over_two_ranks_matches_one_process_and_reports_the_global_loss()
    {
        var (x, y) = SmallCnn.Data(8);
        var batches = new[] { (x, y), (x, y), (x, y) };
        var want = SmallCnn.Flat(SmallCnn.TrainSingle(x, y, batches.Length));
        var job = new ThreadGroup(2) { Timeout = TimeSpan.FromSeconds(30) };
        var finals = new float[2][];
        var counts = new long[2];
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, r =>
        {
            var model = SmallCnn.Create();
            var ddp = new DistributedDataParallel(model, job.Rank(r));
            var m = ddp.TrainEpoch(batches, new CrossEntropyLoss(), SmallCnn.Optimizer(model), SmallCnn.Classes, 0, batches.Length);
            counts[r] = m.Count;
            finals[r] = SmallCnn.Flat(model);
        });
        Assert.Equal([12L, 12L], counts); // each rank counts its 4 of 8 samples, 3 batches
        Assert.Equal(finals[0], finals[1]);
        Assert.True(SmallCnn.MaxRelativeDifference(finals[0], want) < 1e-5);
    }
}
