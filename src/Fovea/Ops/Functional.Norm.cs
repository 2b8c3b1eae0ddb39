using Fovea.Autograd;

namespace Fovea;

public static partial class Functional
{
    private static (int outer, int dim, int inner) AroundDim(Tensor x, int dim)
    {
        int d = Shapes.NormalizeDim(dim, x.Rank), outer = 1, inner = 1;
        for (int i = 0; i < d; i++) outer *= x.Size(i);
        for (int i = d + 1; i < x.Rank; i++) inner *= x.Size(i);
        return (outer, x.Size(d), inner);
    }

    private static Tensor SoftmaxCore(Tensor x, int dim, bool log)
    {
        var (outer, size, inner) = AroundDim(x, dim);
        var xd = x.Dense();
        var y = Tensor.Zeros(x.Shape, x.Device);
        x.Backend.Softmax(log, xd.Storage, outer, size, inner, y.Storage);
        return Recorder.Record(y, log ? "log_softmax" : "softmax", [xd], dy =>
        {
            var dx = Tensor.Zeros(y.Shape, dy.Device);
            y.Backend.SoftmaxBackward(log, y.Storage, dy.Dense().Storage, outer, size, inner, dx.Storage);
            return [dx];
        });
    }

    /// <summary>exp(x) / Σ exp(x) along <paramref name="dim"/>, computed stably.</summary>
    public static Tensor Softmax(Tensor x, int dim) => SoftmaxCore(x, dim, log: false);

    /// <summary>log of <see cref="Softmax"/>, computed without forming the softmax.</summary>
    public static Tensor LogSoftmax(Tensor x, int dim) => SoftmaxCore(x, dim, log: true);

    /// <summary>
    /// Batch normalisation of x [N, C, ...]: in training, normalise by the batch's per-channel statistics and update
    /// the running ones (running = (1 − momentum)·running + momentum·batch, with the unbiased variance); in
    /// evaluation, normalise by the running statistics.
    /// </summary>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float eps = 1e-5f, string layer = "batch_norm")
    {
        var (n, c, s) = BatchNormShape(x, runningMean, runningVar, weight, bias, layer);
        var backend = x.Backend;
        var bshape = new int[x.Rank];
        Array.Fill(bshape, 1);
        bshape[1] = c;
        if (!training)
        {
            if (runningMean is null || runningVar is null)
                throw new InvalidOperationException($"{layer}: evaluation needs running statistics (track_running_stats)");
            // Eval is an affine map per channel: compose it from recorded broadcast ops.
            var invStd = (runningVar + eps).Sqrt().Reciprocal();
            var scale = weight is null ? invStd : invStd * weight;
            var shift = -(runningMean * scale);
            if (bias is not null) shift = shift + bias;
            return x * scale.Reshape(bshape) + shift.Reshape(bshape);
        }
        if (n * s <= 1) throw new ArgumentException($"{layer}: expected more than 1 value per channel when training, got input {x.ShapeString}");
        var xd = x.Dense();
        var mean = Tensor.Zeros([c], x.Device);
        var variance = Tensor.Zeros([c], x.Device);
        backend.BatchNormStatistics(xd.Storage, n, c, s, mean.Storage, variance.Storage);
        var inv = Tensor.Zeros([c], x.Device);
        using (GradMode.NoGrad())
        {
            inv.CopyFrom((variance + eps).Sqrt().Reciprocal());
            if (runningMean is not null && runningVar is not null)
            {
                float unbias = (float)(n * s) / (n * s - 1);
                runningMean.CopyFrom(runningMean * (1 - momentum) + mean * momentum);
                runningVar.CopyFrom(runningVar * (1 - momentum) + variance * (momentum * unbias));
            }
        }
        var wd = weight?.Dense();
        var bd = bias?.Dense();
        var y = Tensor.Zeros(x.Shape, x.Device);
        backend.BatchNormApply(xd.Storage, n, c, s, mean.Storage, inv.Storage, wd?.Storage, bd?.Storage, y.Storage);
        Tensor[] inputs = wd is null ? [xd] : bd is null ? [xd, wd] : [xd, wd, bd];
        return Recorder.Record(y, layer, inputs, dy =>
        {
            var dx = Tensor.Zeros(xd.Shape, dy.Device);
            var dgamma = wd is null ? null : Tensor.Zeros([c], dy.Device);
            var dbeta = bd is null ? null : Tensor.Zeros([c], dy.Device);
            backend.BatchNormBackward(xd.Storage, dy.Dense().Storage, n, c, s, mean.Storage, inv.Storage, wd?.Storage,
                dx.Storage, dgamma?.Storage, dbeta?.Storage);
            return wd is null ? [dx] : bd is null ? [dx, dgamma] : [dx, dgamma, dbeta];
        }, readsOutput: false);
    }

    /// <summary>x [N, C, ...] as (N, C, the rest's size), checked against the per-channel tensors' lengths.</summary>
    private static (int N, int C, int S) BatchNormShape(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, string layer)
    {
        if (x.Rank < 2) throw new ArgumentException($"{layer}: expected input [N, C, ...], got {x.ShapeString}");
        int n = x.Size(0), c = x.Size(1);
        foreach (var (t, what) in new[] { (runningMean, "running_mean"), (runningVar, "running_var"), (weight, "weight"), (bias, "bias") })
            if (t is not null && t.NumEl != c)
                throw new ArgumentException($"{layer}: expected input with {c} channels to match {what} {t.ShapeString}, got {x.ShapeString}");
        return (n, c, x.NumEl / Math.Max(1, n * c));
    }

    /// <summary>AlexNet's local response normalisation across <paramref name="size"/> neighbouring channels.</summary>
    public static Tensor LocalResponseNorm(Tensor x, int size, float alpha = 1e-4f, float beta = 0.75f, float k = 1f)
    {
        if (x.Rank < 3) throw new ArgumentException($"local_response_norm: expected input [N, C, ...], got {x.ShapeString}");
        if (size <= 0) throw new ArgumentException($"local_response_norm: size must be positive, got {size}");
        int n = x.Size(0), c = x.Size(1), s = x.NumEl / Math.Max(1, n * c);
        var xd = x.Dense();
        var y = Tensor.Zeros(x.Shape, x.Device);
        var scale = Tensor.Zeros(x.Shape, x.Device);
        x.Backend.LocalResponseNorm(xd.Storage, n, c, s, size, alpha, beta, k, y.Storage, scale.Storage);
        return Recorder.Record(y, "local_response_norm", [xd], dy =>
        {
            var dx = Tensor.Zeros(xd.Shape, dy.Device);
            xd.Backend.LocalResponseNormBackward(xd.Storage, y.Storage, scale.Storage, dy.Dense().Storage, n, c, s, size, alpha, beta, dx.Storage);
            return [dx];
        });
    }

    /// <summary>
    /// Local contrast normalisation (Jarrett et al. 2009): subtract the Gaussian-weighted local mean taken over every
    /// channel, then divide by the weighted local standard deviation, floored at its mean over the image:
    /// v = x − w∗x, σ = √(w∗v²), y = v / max(σ, mean(σ)). The window w (kernel × kernel, std sigma) sums to 1
    /// over all channels and positions.
    /// </summary>
    public static Tensor LocalContrastNorm(Tensor x, int kernelSize = 9, float sigma = 2f)
    {
        if (x.Rank != 4) throw new ArgumentException($"local_contrast_norm: expected input [N, C, H, W], got {x.ShapeString}");
        if (kernelSize <= 0 || kernelSize % 2 == 0) throw new ArgumentException($"local_contrast_norm: kernel size must be odd and positive, got {kernelSize}");
        if (sigma <= 0) throw new ArgumentException($"local_contrast_norm: sigma must be positive, got {sigma}");
        int c = x.Size(1), p = kernelSize / 2;
        var w = GaussianWindow(c, kernelSize, sigma, x.Device);
        var pad = (p, p, p, p);
        var mean = Conv2d(x, w, padding: pad, layer: "local_contrast_norm");
        var v = x - mean;
        var sd = Conv2d(v * v, w, padding: pad, layer: "local_contrast_norm").Sqrt();
        var floor = sd.Flatten(1).Mean(1).Reshape(-1, 1, 1, 1);
        return v / sd.Maximum(floor);
    }

    private static Tensor GaussianWindow(int channels, int k, float sigma, Device device)
    {
        var g = new float[channels * k * k];
        double total = 0;
        int p = k / 2;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                total += Math.Exp(-((i - p) * (i - p) + (j - p) * (j - p)) / (2.0 * sigma * sigma));
        for (int ch = 0; ch < channels; ch++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                    g[(ch * k + i) * k + j] = (float)(Math.Exp(-((i - p) * (i - p) + (j - p) * (j - p)) / (2.0 * sigma * sigma)) / total / channels);
        return Tensor.FromArray(g, [1, channels, k, k], device);
    }

    /// <summary>Inverted dropout: zero each element with probability p and scale the rest by 1/(1 − p).</summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Generator? generator = null)
    {
        if (p < 0 || p >= 1) throw new ArgumentException($"dropout probability must be in [0, 1), got {p}");
        if (!training || p == 0) return x;
        var mask = Tensor.Zeros(x.Shape, x.Device);
        x.Backend.DropoutMask(mask.Storage, mask.NumEl, p, generator ?? Generator.Default);
        return x * mask;
    }
}
