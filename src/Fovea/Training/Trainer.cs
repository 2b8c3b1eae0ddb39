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
            using (StepMemory.Begin())
            {
                // The loader makes batches on the host; moved inside the step, their device copies are recycled with it.
                var x = images.To(device);
                var y = labels.To(device);
                Optimizer.ZeroGrad();
                var logits = Model.Forward(x);
                var l = Loss.Forward(logits, y);
                float lv = l.Item();
                if (float.IsNaN(lv) || float.IsInfinity(lv))
                    throw new InvalidOperationException($"training diverged: loss is {lv} at epoch {epoch + 1}, batch {b + 1} (try a smaller learning rate)");
                l.Backward();
                Optimizer.Step();
                metrics.Add(logits, y, lv);
            }
            b++;
            onBatch?.Invoke(new BatchProgress(epoch, b, batchesPerEpoch, metrics.Count, metrics.Loss, metrics.Top1Accuracy,
                metrics.Count / Math.Max(1e-9, clock.Elapsed.TotalSeconds), clock.Elapsed));
        }
        return metrics;
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
