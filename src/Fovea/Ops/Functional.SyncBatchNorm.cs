using Fovea.Autograd;
using Fovea.NN;

namespace Fovea;

public static partial class Functional
{
    /// <summary>
    /// Training-mode batch norm whose statistics are those of the union of every group member's batch (PyTorch's
    /// SyncBatchNorm): each member normalises its own x [N, C, ...] by the global per-channel mean and biased
    /// variance, and the backward pools the two per-channel sums it needs, so the result equals
    /// <see cref="BatchNorm"/> on the concatenated batch. The weight and bias gradients stay local: data
    /// parallelism sums them with the other gradients.
    /// </summary>
    public static Tensor SyncBatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        IAllReduceGroup group, float momentum = 0.1f, float eps = 1e-5f, string layer = "sync_batch_norm")
    {
        ArgumentNullException.ThrowIfNull(group);
        var (n, c, s) = BatchNormShape(x, runningMean, runningVar, weight, bias, layer);
        var backend = x.Backend;
        var xd = x.Dense();
        var localMean = Tensor.Zeros([c], x.Device);
        var localVar = Tensor.Zeros([c], x.Device);
        backend.BatchNormStatistics(xd.Storage, n, c, s, localMean.Storage, localVar.Storage);

        // Two small rounds rather than pooled sums of squares: the second pools each member's squared deviations
        // from the global mean, count·(var + (mean − global mean)²), which does not cancel catastrophically.
        float count = n * s;
        float[] m = localMean.ToArray(), v = localVar.ToArray();
        var sums = new float[c + 1];
        for (int i = 0; i < c; i++) sums[i] = m[i] * count;
        sums[c] = count;
        group.AllreduceSum(sums);
        float total = sums[c];
        if (total <= 1) throw new ArgumentException($"{layer}: expected more than 1 value per channel over the group when training, got {total}");
        var deviations = new float[c];
        var globalMean = new float[c];
        for (int i = 0; i < c; i++)
        {
            globalMean[i] = sums[i] / total;
            float d = m[i] - globalMean[i];
            deviations[i] = count * (v[i] + d * d);
        }
        group.AllreduceSum(deviations);
        var invStd = new float[c];
        var globalVar = new float[c];
        for (int i = 0; i < c; i++)
        {
            globalVar[i] = deviations[i] / total;
            invStd[i] = 1f / MathF.Sqrt(globalVar[i] + eps);
        }
        var mean = Tensor.FromArray(globalMean, [c], x.Device);
        var inv = Tensor.FromArray(invStd, [c], x.Device);
        if (runningMean is not null && runningVar is not null)
            using (GradMode.NoGrad())
            {
                var variance = Tensor.FromArray(globalVar, [c], x.Device);
                runningMean.CopyFrom(runningMean * (1 - momentum) + mean * momentum);
                runningVar.CopyFrom(runningVar * (1 - momentum) + variance * (momentum * total / (total - 1)));
            }

        var wd = weight?.Dense();
        var bd = bias?.Dense();
        var y = Tensor.Zeros(x.Shape, x.Device);
        backend.BatchNormApply(xd.Storage, n, c, s, mean.Storage, inv.Storage, wd?.Storage, bd?.Storage, y.Storage);
        Tensor[] inputs = wd is null ? [xd] : bd is null ? [xd, wd] : [xd, wd, bd];
        return Recorder.Record(y, layer, inputs, readsOutput: false, backward: dy =>
        {
            using var _ = GradMode.NoGrad();
            // dx = γ·invStd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), with both sums over the whole group's M values.
            var per = new[] { 1, c, 1 };
            var dy3 = dy.Dense().Reshape(n, c, s);
            var xhat = (xd.Reshape(n, c, s) - mean.Reshape(per)) * inv.Reshape(per);
            var sumDy = dy3.Sum(2).Sum(0);
            var sumDyXhat = (dy3 * xhat).Sum(2).Sum(0);
            var pooled = new float[2 * c];
            sumDy.ToArray().CopyTo(pooled, 0);
            sumDyXhat.ToArray().CopyTo(pooled, c);
            group.AllreduceSum(pooled);
            var meanDy = Tensor.FromArray(pooled[..c], [c], dy.Device) * (1f / total);
            var meanDyXhat = Tensor.FromArray(pooled[c..], [c], dy.Device) * (1f / total);
            var scale = wd is null ? inv : inv * wd;
            var dx = ((dy3 - meanDy.Reshape(per) - xhat * meanDyXhat.Reshape(per)) * scale.Reshape(per)).Reshape(xd.Shape);
            return wd is null ? [dx] : bd is null ? [dx, sumDyXhat] : [dx, sumDyXhat, sumDy];
        });
    }
}
