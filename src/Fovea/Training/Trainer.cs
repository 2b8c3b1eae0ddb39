using System.Buffers;
using System.Diagnostics;
using Fovea.NN;
using Fovea.Optim;

namespace Fovea.Training;

/// <summary>Progress of one training batch, for progress bars.</summary>
public readonly record struct BatchProgress(int Epoch, int Batch, int Batches, long Images, double Loss, double Accuracy, double ImagesPerSecond, TimeSpan Elapsed);

/// <summary>
/// One epoch of supervised training and evaluation: forward, loss, backward, optimiser step per batch; the caller
/// owns the epoch loop, checkpoints and logging.
/// </summary>
public sealed class Trainer(Module model, Loss loss, Optimizer optimizer)
{
    public Module Model { get; } = model;
    public Loss Loss { get; } = loss;
    public Optimizer Optimizer { get; } = optimizer;

    /// <summary>
    /// Whether a CPU model's training step is captured at the first batch and replayed for every batch of that shape
    /// (<see cref="CapturedStep"/>): the same arithmetic, without the autograd front's work and allocations per step.
    /// A step that cannot be captured (one that reads values on the host) runs eagerly instead.
    /// </summary>
    public bool CaptureSteps { get; set; } = true;

    // The captured step, the inputs it reads and the outputs it writes; null until the first batch, or for good when
    // the step could not be captured.
    private CapturedStep? _captured;
    private Tensor? _images, _labels, _logits, _loss;
    private bool _uncapturable;

    /// <summary>Whether full batches replay a captured step.</summary>
    internal bool Replays => _captured is not null;

    /// <summary>
    /// Trains on <paramref name="batches"/> ((images, int64 labels) pairs) and returns the running metrics.
    /// Stops between batches when <paramref name="cancel"/> fires (the batch in flight completes).
    /// </summary>
    public ClassificationMetrics TrainEpoch(IEnumerable<(Tensor Images, Tensor Labels)> batches, int classes, int epoch, int batchesPerEpoch,
        Action<BatchProgress>? onBatch = null, CancellationToken cancel = default)
    {
        Model.Train();
        var metrics = new ClassificationMetrics(classes);
        var clock = Stopwatch.StartNew();
        int b = 0;
        var device = DeviceOf(Model);
        foreach (var (images, labels) in batches)
        {
            if (cancel.IsCancellationRequested) break;
            if (!Replay(images, labels, device, metrics, epoch, b))
            {
                using (StepMemory.Begin())
                {
                    // The loader makes batches on the host; moved inside the step, their device copies are recycled with it.
                    var x = images.To(device);
                    var y = labels.To(device);
                    Optimizer.ZeroGrad();
                    var logits = Model.Forward(x);
                    var l = Loss.Forward(logits, y);
                    float lv = CheckLoss(l.Item(), epoch, b);
                    l.Backward();
                    Optimizer.Step();
                    metrics.Add(logits, y, lv);
                }
            }
            b++;
            onBatch?.Invoke(new BatchProgress(epoch, b, batchesPerEpoch, metrics.Count, metrics.Loss, metrics.Top1Accuracy,
                metrics.Count / Math.Max(1e-9, clock.Elapsed.TotalSeconds), clock.Elapsed));
        }
        return metrics;
    }

    private static float CheckLoss(float lv, int epoch, int b) => float.IsNaN(lv) || float.IsInfinity(lv)
        ? throw new InvalidOperationException($"training diverged: loss is {lv} at epoch {epoch + 1}, batch {b + 1} (try a smaller learning rate)")
        : lv;

    // The loss checks the labels against its classes when it runs, but a replay repeats its kernels without it: the
    // same check is made here, before the replay writes anything.
    private static void CheckLabels(Tensor labels, Tensor logits, int epoch, int b)
    {
        if (labels.DType != DType.Int64 || logits.Rank < 2) return;
        int classes = logits.Size(1), n = labels.NumEl;
        var host = ArrayPool<long>.Shared.Rent(n);
        try
        {
            labels.CopyTo(host.AsSpan(0, n));
            foreach (long label in host.AsSpan(0, n))
                if (label < 0 || label >= classes)
                    throw new ArgumentException($"label {label} is out of range for {classes} classes (epoch {epoch + 1}, batch {b + 1})");
        }
        finally
        {
            ArrayPool<long>.Shared.Return(host);
        }
    }

    // One training step through the captured step, capturing it at the first batch; false when this batch must run
    // eagerly (another device, a batch of another shape such as an epoch's last, or a step that cannot be captured).
    private bool Replay(Tensor images, Tensor labels, Device device, ClassificationMetrics metrics, int epoch, int b)
    {
        if (!CaptureSteps || _uncapturable || !device.Equals(Device.Cpu)) return false;
        if (_captured is not null && !(Shapes.Equal(images.ShapeSpan, _images!.ShapeSpan) && Shapes.Equal(labels.ShapeSpan, _labels!.ShapeSpan)))
            return false;
        bool capture = _captured is null;
        if (capture) (_images, _labels) = (Tensor.Zeros(images.Shape), Tensor.FromArray(new long[labels.NumEl], labels.Shape));
        _images!.CopyFrom(images);
        _labels!.CopyFrom(labels);
        Optimizer.ZeroGrad();
        if (capture)
        {
            try
            {
                _captured = CapturedStep.Capture(() =>
                {
                    _logits = Model.Forward(_images);
                    _loss = Loss.Forward(_logits, _labels);
                    _loss.Backward();
                });
            }
            catch (NotSupportedException)
            {
                // Its forward may have run (a batch norm's running statistics took this batch once more); the batch is
                // then trained eagerly, as every later one is.
                _uncapturable = true;
                return false;
            }
        }
        else
        {
            CheckLabels(_labels, _logits!, epoch, b);
            _captured!.Replay();
        }
        float lv = CheckLoss(_loss!.Item(), epoch, b);
        Optimizer.Step();
        metrics.Add(_logits!, _labels, lv);
        return true;
    }

    /// <summary>Evaluates without recording gradients, in evaluation mode.</summary>
    public ClassificationMetrics Evaluate(IEnumerable<(Tensor Images, Tensor Labels)> batches, int classes) =>
        Evaluate(Model, Loss, batches, classes);

    /// <summary>Evaluates any model: loss, top-1/top-5 and confusion over the batches.</summary>
    public static ClassificationMetrics Evaluate(Module model, Loss loss, IEnumerable<(Tensor Images, Tensor Labels)> batches, int classes)
    {
        bool wasTraining = model.Training;
        model.Eval();
        var metrics = new ClassificationMetrics(classes);
        var device = DeviceOf(model);
        using (GradMode.NoGrad())
        {
            foreach (var (images, labels) in batches)
            {
                using var step = StepMemory.Begin();
                var x = images.To(device);
                var y = labels.To(device);
                var logits = model.Forward(x);
                metrics.Add(logits, y, loss.Forward(logits, y).Item());
            }
        }
        model.Train(wasTraining);
        return metrics;
    }

    /// <summary>Where the model's parameters live (the CPU for a model without any).</summary>
    public static Device DeviceOf(Module model) => model.Parameters().FirstOrDefault()?.Device ?? Device.Cpu;
}
