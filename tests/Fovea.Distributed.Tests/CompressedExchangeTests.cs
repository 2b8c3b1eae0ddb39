using Fovea.Distributed.Compression;
using Fovea.NN;

namespace Fovea.Distributed.Tests;

/// <summary>Top-k with error feedback inside <see cref="DataParallel"/> and <see cref="DistributedDataParallel"/>.</summary>
public class CompressedExchangeTests
{
    private static float[] Grads(Module m) => m.Parameters().SelectMany(p => p.Grad!.ToArray()).ToArray();

    private static float[] TrainReplicas(GradientCompression compression, int replicas, int steps, Tensor x, Tensor y, List<float>? losses = null)
    {
        var model = SmallCnn.Create();
        var opt = SmallCnn.Optimizer(model);
        using var dp = new DataParallel(model, () => SmallCnn.Create(), replicas, compression: compression);
        for (int s = 0; s < steps; s++)
        {
            var (lv, _) = dp.TrainStep(x, y, new CrossEntropyLoss(), opt);
            losses?.Add(lv);
            var w0 = SmallCnn.Flat(dp.Replicas[0]);
            foreach (var r in dp.Replicas.Skip(1)) Assert.Equal(w0, SmallCnn.Flat(r));
        }
        return SmallCnn.Flat(model);
    }

    private static (float[] Weights, float[] Losses) TrainRanks(GradientCompression compression, int ranks, int steps, Tensor x, Tensor y)
    {
        var job = new ThreadGroup(ranks) { Timeout = TimeSpan.FromSeconds(30) };
        var finals = new float[ranks][];
        var losses = new float[ranks][];
        Parallel.For(0, ranks, new ParallelOptions { MaxDegreeOfParallelism = ranks }, r =>
        {
            var model = SmallCnn.Create(seed: r == 0 ? 7 : 100 + r);
            var ddp = new DistributedDataParallel(model, job.Rank(r), compression: compression);
            var opt = SmallCnn.Optimizer(model);
            losses[r] = new float[steps];
            for (int s = 0; s < steps; s++) losses[r][s] = ddp.TrainStep(x, y, new CrossEntropyLoss(), opt).Loss;
            finals[r] = SmallCnn.Flat(model);
        });
        // Every rank added the same entries in the same order: the same weights and losses to the bit.
        foreach (var f in finals.Skip(1)) Assert.Equal(finals[0], f);
        foreach (var l in losses.Skip(1)) Assert.Equal(losses[0], l);
        return (finals[0], losses[0]);
    }

    [Fact]
    public void Ratio_one_trains_replicas_exactly_as_dense_exchange()
    {
        var (x, y) = SmallCnn.Data(10);
        var dense = TrainReplicas(GradientCompression.None, 3, 5, x, y);
        var topk = TrainReplicas(GradientCompression.TopK(1.0), 3, 5, x, y);
        Assert.Equal(dense, topk);
        Assert.NotEqual(SmallCnn.Flat(SmallCnn.Create()), dense);
    }

    [Fact]
    public void Ratio_one_trains_ranks_exactly_as_dense_exchange()
    {
        var (x, y) = SmallCnn.Data(10);
        var dense = TrainRanks(GradientCompression.None, 2, 5, x, y);
        var topk = TrainRanks(GradientCompression.TopK(1.0), 2, 5, x, y);
        Assert.Equal(dense.Weights, topk.Weights);
        Assert.Equal(dense.Losses, topk.Losses);
    }

    [Fact]
    public void The_summed_sent_entries_plus_every_replicas_residual_are_the_dense_gradient()
    {
        var (x, y) = SmallCnn.Data(9);
        var loss = new CrossEntropyLoss();
        var denseModel = SmallCnn.Create();
        using var dense = new DataParallel(denseModel, () => SmallCnn.Create(), 3);
        dense.ForwardBackward(x, y, loss);
        var want = Grads(denseModel);

        var model = SmallCnn.Create();
        using var dp = new DataParallel(model, () => SmallCnn.Create(), 3, compression: GradientCompression.TopK(0.05));
        dp.ForwardBackward(x, y, loss);
        var got = Grads(model);
        int k = GradientCompression.TopK(0.05).SelectedCount(want.Length);
        Assert.InRange(got.Count(v => v != 0f), 1, 3 * k);
        for (int r = 0; r < 3; r++)
        {
            var residual = dp.Feedback(r)!.Residual;
            for (int i = 0; i < got.Length; i++) got[i] += residual[i];
        }
        Assert.Contains(want, v => v != 0f);
        Assert.True(SmallCnn.MaxRelativeDifference(got, want) < 1e-6, $"differs by {SmallCnn.MaxRelativeDifference(got, want):E2}");
    }

    [Fact]
    public void Replicas_with_topk_train_a_small_cnn_and_report_the_bytes_they_send()
    {
        var (x, y) = SmallCnn.Data(16);
        var losses = new List<float>();
        TrainReplicas(GradientCompression.TopK(0.05), 2, 40, x, y, losses);
        Assert.True(losses[^5..].Average() < 0.7f * losses[..5].Average(), $"loss went from {losses[0]} to {losses[^1]}");

        using var dp = new DataParallel(SmallCnn.Create(), () => SmallCnn.Create(), 2, compression: GradientCompression.TopK(0.05));
        int n = SmallCnn.Flat(dp.Module).Length;
        Assert.Equal(4L * n, dp.DenseBytesPerStep);
        Assert.Equal(8L * (n / 20), dp.BytesSentPerStep);
    }

    [Fact]
    public void Replicas_with_momentum_correction_train_under_plain_sgd()
    {
        var (x, y) = SmallCnn.Data(16);
        var model = SmallCnn.Create();
        var opt = new Fovea.Optim.SGD(model.Parameters(), lr: 0.1f);
        using var dp = new DataParallel(model, () => SmallCnn.Create(), 2, compression: GradientCompression.TopK(0.05).WithMomentumCorrection(0.9f));
        var losses = Enumerable.Range(0, 40).Select(_ => dp.TrainStep(x, y, new CrossEntropyLoss(), opt).Loss).ToArray();
        Assert.True(losses[^5..].Average() < 0.7f * losses[..5].Average(), $"loss went from {losses[0]} to {losses[^1]}");
        Assert.Contains(dp.Feedback(1)!.Velocity.ToArray(), v => v != 0f);
    }

    [Fact]
    public void Ranks_with_topk_converge_in_step()
    {
        var (x, y) = SmallCnn.Data(16);
        var (_, losses) = TrainRanks(GradientCompression.TopK(0.05), 3, 40, x, y);
        Assert.True(losses[^5..].Average() < 0.7f * losses[..5].Average(), $"loss went from {losses[0]} to {losses[^1]}");
    }
}
