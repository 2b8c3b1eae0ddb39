using System.Diagnostics;
using Fovea.Distributed.Compression;
using Fovea.NN;
using Fovea.Optim;
using Fovea.Training;

namespace Fovea.Distributed;

/// <summary>
/// Data parallelism across processes (torch.nn.parallel.DistributedDataParallel's scheme): every process holds a
/// whole model and its own optimiser; each trains on its shard of every global batch; between Backward and Step
/// the gradients are summed over processes by one all-reduce (each shard's mean loss weighted by its share of the
/// global batch, so the sum is the global batch's mean-loss gradient), so every process takes the same step and
/// the weights stay identical. The initial weights are broadcast from rank 0. Only rank 0 (<see cref="IsMain"/>)
/// should write checkpoints, metrics and logs.
/// <para>
/// With <see cref="GradientCompression.TopK"/> the all-reduce becomes an all-gather of sparse entries: each rank
/// keeps an <see cref="ErrorFeedback"/> residual, contributes the same number k of (index, value) entries of
/// gradient + residual (a fixed count, so a plain MPI_Allgather serves and no counts are exchanged), and adds every
/// rank's entries, in rank order, into a zeroed dense gradient; all ranks add the same entries in the same order, so
/// they hold bitwise the same gradient and take the same step.
/// </para>
/// </summary>
public sealed class DistributedDataParallel
{
    private readonly FlatGradients _flat;
    private readonly float[] _buffer;
    private readonly ErrorFeedback? _feedback;
    private readonly GradientEntry[] _sent = [];
    private readonly GradientEntry[] _gathered = [];

    /// <param name="model">This process's model (same architecture on every rank).</param>
    /// <param name="communicator">The job, e.g. <see cref="Mpi.MpiCommunicator"/>.</param>
    /// <param name="broadcastInitialWeights">Copy rank 0's weights and buffers to every rank first (a collective: all
    /// ranks must construct together).</param>
    /// <param name="compression">How gradients are exchanged (default <see cref="GradientCompression.None"/>: a dense
    /// all-reduce); the same on every rank.</param>
    /// <param name="syncBatchNorm">Normalise batch norm by the statistics of the global batch, pooled over the ranks
    /// (PyTorch's SyncBatchNorm), rather than each rank's shard.</param>
    public DistributedDataParallel(Module model, ICommunicator communicator, bool broadcastInitialWeights = true, GradientCompression? compression = null,
        bool syncBatchNorm = false)
    {
        Module = model ?? throw new ArgumentNullException(nameof(model));
        Communicator = communicator ?? throw new ArgumentNullException(nameof(communicator));
        SyncBatchNorm = syncBatchNorm;
        if (syncBatchNorm)
            foreach (var bn in model.NamedModules().Select(m => m.Module).OfType<BatchNorm>()) bn.SyncGroup = communicator;
        _flat = new FlatGradients(model);
        // One extra float carries the weighted loss, so the loss is reduced in the same collective as the gradients.
        _buffer = new float[_flat.Buffer.Length + 1];
        Compression = compression ?? GradientCompression.None;
        int n = _flat.Buffer.Length;
        if (!Compression.IsDense && n > 0)
        {
            int k = Compression.SelectedCount(n);
            _feedback = new ErrorFeedback(n, k, Compression.Momentum);
            // The loss rides along as one more entry, at index n: the slot after the gradient in _buffer.
            _sent = new GradientEntry[k + 1];
            _gathered = new GradientEntry[(long)(k + 1) * communicator.Size];
        }
        if (broadcastInitialWeights) BroadcastState();
    }

    /// <summary>How gradients are exchanged.</summary>
    public GradientCompression Compression { get; }

    /// <summary>Gradient bytes this rank sends per step (4 per float dense, 8 per entry with top-k; the loss's one
    /// float or entry is not counted).</summary>
    public long BytesSentPerStep => Compression.BytesPerStep(_flat.Buffer.Length);

    /// <summary>Gradient bytes this rank would send per step with dense exchange (4 per parameter).</summary>
    public long DenseBytesPerStep => 4L * _flat.Buffer.Length;

    /// <summary>This rank's error-feedback state, or null with dense exchange.</summary>
    public ErrorFeedback? Feedback => _feedback;

    public Module Module { get; }
    public ICommunicator Communicator { get; }

    /// <summary>Whether batch norm pools its statistics over the ranks.</summary>
    public bool SyncBatchNorm { get; }
    public int Rank => Communicator.Rank;
    public int WorldSize => Communicator.Size;

    /// <summary>True on rank 0, the one process that writes outputs.</summary>
    public bool IsMain => Rank == 0;

    /// <summary>This rank's contiguous slice of a global batch of <paramref name="globalBatch"/> samples.</summary>
    public BatchSlice ShardOf(int globalBatch) => BatchSplit.Slices(globalBatch, WorldSize)[Rank];

    /// <summary>This rank's part of a global batch (every rank sees the same global batches, e.g. from a DataLoader
    /// seeded alike, and keeps its slice).</summary>
    public (Tensor Inputs, Tensor Targets) Shard(Tensor inputs, Tensor targets)
    {
        var s = ShardOf(inputs.Size(0));
        return (inputs.Narrow(0, s.Start, s.Length).Contiguous(), targets.Narrow(0, s.Start, s.Length).Contiguous());
    }

    /// <summary>
    /// Forward and backward of this rank's shard, then the all-reduce: afterwards every rank's gradients are the global
    /// batch's mean-loss gradient. Returns the global batch's mean loss and this shard's outputs.
    /// </summary>
    public (float Loss, Tensor? Outputs) ForwardBackward(Tensor shardInputs, Tensor shardTargets, Loss loss, int globalBatch)
    {
        if (loss.Reduction == Reduction.None) throw new ArgumentException("distributed data parallelism needs a loss reduced to a scalar");
        if (globalBatch < 1) throw new ArgumentException($"global batch must be positive, got {globalBatch}");
        Module.ZeroGrad();
        int n = shardInputs.Size(0);
        // A rank with no samples would never reach the statistics' all-reduce that the others wait at.
        if (SyncBatchNorm && n == 0)
            throw new ArgumentException($"rank {Rank}: synchronised batch norm needs at least one sample per rank, but the global batch of {globalBatch} leaves this rank none");
        Tensor? outputs = null;
        float weighted = 0f;
        if (n > 0)
        {
            outputs = Module.Forward(shardInputs);
            var l = loss.Forward(outputs, shardTargets);
            float weight = loss.Reduction == Reduction.Mean ? (float)n / globalBatch : 1f;
            weighted = l.Item() * weight;
            l.Backward(Tensor.Full(l.Shape, weight, l.Device));
            outputs = outputs.Detach();
        }
        _flat.GatherGradients();
        if (_feedback is null)
        {
            _flat.Buffer.CopyTo(_buffer, 0);
            _buffer[^1] = weighted;
            Communicator.AllreduceSum(_buffer);
        }
        else
        {
            _feedback.Compress(_flat.Buffer, _sent.AsSpan(0, _feedback.Selected));
            _sent[^1] = new GradientEntry(_flat.Buffer.Length, weighted);
            Communicator.Allgather<GradientEntry>(_sent, _gathered);
            Array.Clear(_buffer);
            GradientEntry.AddTo(_gathered, _buffer);
        }
        Array.Copy(_buffer, _flat.Buffer, _flat.Buffer.Length);
        _flat.ScatterGradients();
        return (_buffer[^1], outputs);
    }

    /// <summary>One step: this rank's slice of the global batch, forward/backward, all-reduce, the optimiser's step.</summary>
    public (float Loss, Tensor? Outputs) TrainStep(Tensor globalInputs, Tensor globalTargets, Loss loss, Optimizer optimizer)
    {
        var (x, y) = Shard(globalInputs, globalTargets);
        optimizer.ZeroGrad();
        var r = ForwardBackward(x, y, loss, globalInputs.Size(0));
        optimizer.Step();
        return r;
    }

    /// <summary>
    /// <see cref="Trainer.TrainEpoch"/> across the job: every rank iterates the same global batches (a data loader
    /// seeded alike on every rank) and trains on its slice of each. The metrics' loss is the global batch's; their
    /// accuracy counts this rank's slice only.
    /// </summary>
    public ClassificationMetrics TrainEpoch(IEnumerable<(Tensor Images, Tensor Labels)> batches, Loss loss, Optimizer optimizer, int classes,
        int epoch, int batchesPerEpoch, Action<BatchProgress>? onBatch = null, CancellationToken cancel = default)
    {
        Module.Train();
        var metrics = new ClassificationMetrics(classes);
        var clock = Stopwatch.StartNew();
        int b = 0;
        foreach (var (x, y) in batches)
        {
            // Cancellation must be agreed by all ranks, or the others would wait in the next all-reduce: rank 0 decides.
            var stop = new[] { IsMain && cancel.IsCancellationRequested ? 1f : 0f };
            Communicator.Broadcast(stop, 0);
            if (stop[0] != 0f) break;
            var (lv, outputs) = TrainStep(x, y, loss, optimizer);
            if (float.IsNaN(lv) || float.IsInfinity(lv))
                throw new InvalidOperationException($"training diverged: loss is {lv} at epoch {epoch + 1}, batch {b + 1} (try a smaller learning rate)");
            if (outputs is not null) metrics.Add(outputs, Shard(x, y).Targets, lv);
            b++;
            onBatch?.Invoke(new BatchProgress(epoch, b, batchesPerEpoch, metrics.Count, metrics.Loss, metrics.Top1Accuracy,
                metrics.Count / Math.Max(1e-9, clock.Elapsed.TotalSeconds), clock.Elapsed));
        }
        return metrics;
    }

    /// <summary>Copies rank 0's parameters and buffers to every rank.</summary>
    public void BroadcastState()
    {
        _flat.GatherValues();
        Communicator.Broadcast(_flat.Buffer, 0);
        _flat.ScatterValues();
        foreach (var (_, b) in Module.NamedBuffers())
        {
            if (b.DType != DType.Float32) continue;
            var values = b.ToArray();
            Communicator.Broadcast(values, 0);
            b.CopyFrom(Tensor.FromArray(values, b.Shape, b.Device));
        }
    }

    /// <summary>Over all ranks, the sum of each rank's largest weight difference from rank 0 (0 exactly when all are in step); a collective.</summary>
    public float MaxDivergenceFromMain()
    {
        _flat.GatherValues();
        var mine = (float[])_flat.Buffer.Clone();
        Communicator.Broadcast(_flat.Buffer, 0);
        float d = 0f;
        for (int i = 0; i < mine.Length; i++) d = Math.Max(d, Math.Abs(mine[i] - _flat.Buffer[i]));
        var all = new[] { d };
        Communicator.AllreduceSum(all);
        return all[0];
    }
}
