using System.Diagnostics;
using Fovea.Backends.Cpu;
using Fovea.Distributed.Compression;
using Fovea.NN;
using Fovea.Optim;
using Fovea.Training;

namespace Fovea.Distributed;

/// <summary>
/// Data parallelism in one process, like torch.nn.DataParallel: N replicas of a model, each on its own dedicated
/// thread, each taking a contiguous slice of the global batch (<see cref="BatchSplit"/>). Between Backward and the
/// optimiser's Step the replicas' gradients are summed (each slice's mean loss weighted by its share of the batch,
/// so the result is the full batch's mean-loss gradient); the one optimiser, built over replica 0's parameters
/// (the model you passed in), steps, and replica 0's parameters and buffers are then copied to the others, so all
/// replicas hold identical weights after every step.
/// <para>
/// Threads: <see cref="CpuParallel.Threads"/> is one global setting, so while the replicas run it is lowered to
/// <see cref="ThreadsPerReplica"/> (default max(1, threads / N)) and restored afterwards: N replicas × that many
/// kernel threads keeps the machine's cores busy without oversubscribing them.
/// </para>
/// <para>
/// Gradient compression (<see cref="GradientCompression.TopK"/>): each replica keeps an <see cref="ErrorFeedback"/>
/// residual and contributes only its k largest entries of gradient + residual; replica 0's gradient becomes the sum
/// of every replica's entries, added in replica order. Nothing crosses a wire in one process, so this is the in-memory
/// model of the exchange (what it would send, and what the optimiser then sees), as the MPI path does it for real.
/// </para>
/// <para>
/// Batch norm: by default each replica normalises with its own slice's statistics (PyTorch's default without
/// SyncBatchNorm); with syncBatchNorm the replicas pool their statistics, as one model on the whole batch would have;
/// the running statistics of replica 0 are copied to the others after each step, and evaluation uses replica 0.
/// Replicas built by the factory should not share a <see cref="Generator"/> with each other if they use dropout,
/// since the replicas run concurrently.
/// </para>
/// </summary>
public sealed class DataParallel : IDisposable
{
    private readonly Module[] _replicas;
    private readonly Device[] _devices;
    private readonly FlatGradients[] _flat;
    private readonly ReplicaThreads _threads;
    private readonly ErrorFeedback[]? _feedback;
    private readonly GradientEntry[][] _sent = [];

    /// <param name="model">Replica 0; the optimiser must be built over its parameters.</param>
    /// <param name="factory">Builds a model of the same architecture (weights are then copied from <paramref name="model"/>).</param>
    /// <param name="replicas">How many replicas, at least 1.</param>
    /// <param name="threadsPerReplica">Kernel threads per replica while they run (default max(1, CpuParallel.Threads / replicas)).</param>
    /// <param name="compression">How the replicas' gradients are combined (default <see cref="GradientCompression.None"/>: dense).</param>
    /// <param name="syncBatchNorm">Normalise batch norm by the statistics of the whole global batch (PyTorch's SyncBatchNorm)
    /// rather than each replica's slice.</param>
    public DataParallel(Module model, Func<Module> factory, int replicas, int? threadsPerReplica = null, GradientCompression? compression = null,
        bool syncBatchNorm = false)
        : this(model, factory is null ? throw new ArgumentNullException(nameof(factory)) : _ => factory(), replicas, threadsPerReplica, compression, syncBatchNorm)
    {
    }

    /// <param name="model">Replica 0; the optimiser must be built over its parameters.</param>
    /// <param name="factory">Builds replica i (1 .. replicas-1) with the model's architecture; its weights are then copied from
    /// <paramref name="model"/>. Seed each replica's dropout generator differently, e.g. <c>new Generator(seed + i)</c>.</param>
    /// <param name="replicas">How many replicas, at least 1.</param>
    /// <param name="threadsPerReplica">Kernel threads per replica while they run (default max(1, CpuParallel.Threads / replicas)).</param>
    /// <param name="compression">How the replicas' gradients are combined (default <see cref="GradientCompression.None"/>: dense).</param>
    /// <param name="syncBatchNorm">Normalise batch norm by the statistics of the whole global batch (PyTorch's SyncBatchNorm)
    /// rather than each replica's slice.</param>
    public DataParallel(Module model, Func<int, Module> factory, int replicas, int? threadsPerReplica = null, GradientCompression? compression = null,
        bool syncBatchNorm = false)
        : this(model, factory, SameDevice(model, replicas), threadsPerReplica, compression, syncBatchNorm)
    {
    }

    /// <param name="model">Replica 0, on <paramref name="devices"/>[0]; the optimiser must be built over its parameters.</param>
    /// <param name="factory">Builds replica i (1 .. devices-1) with the model's architecture; it is moved to devices[i] and its
    /// weights are then copied from <paramref name="model"/>.</param>
    /// <param name="devices">One device per replica (e.g. cuda:0, cuda:1): the replicas' gradients are summed on the host.</param>
    /// <param name="threadsPerReplica">Kernel threads per replica while they run (default max(1, CpuParallel.Threads / replicas)).</param>
    /// <param name="compression">How the replicas' gradients are combined (default <see cref="GradientCompression.None"/>: dense).</param>
    /// <param name="syncBatchNorm">Normalise batch norm by the statistics of the whole global batch (PyTorch's SyncBatchNorm)
    /// rather than each replica's slice.</param>
    public DataParallel(Module model, Func<int, Module> factory, IReadOnlyList<Device> devices, int? threadsPerReplica = null,
        GradientCompression? compression = null, bool syncBatchNorm = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(devices);
        int replicas = devices.Count;
        if (replicas < 1) throw new ArgumentException($"data parallelism needs at least 1 replica, got {replicas}");
        if (threadsPerReplica is < 1) throw new ArgumentException($"threads per replica must be at least 1, got {threadsPerReplica}");
        var modelDevice = Training.Trainer.DeviceOf(model);
        if (!devices[0].Equals(modelDevice)) throw new ArgumentException($"replica 0 is the model itself, on {modelDevice}, but the first device given is {devices[0]}");
        ThreadsPerReplica = threadsPerReplica ?? Math.Max(1, CpuParallel.Threads / replicas);
        _devices = devices.ToArray();
        _replicas = new Module[replicas];
        var state = model.StateDict();
        for (int r = 0; r < replicas; r++)
        {
            if (r == 0) { _replicas[0] = model; continue; }
            var m = factory(r);
            if (ReferenceEquals(m, model)) throw new ArgumentException("the replica factory must build a new model each call");
            m.To(_devices[r]);
            m.LoadStateDict(state);
            m.Train(model.Training);
            _replicas[r] = m;
        }
        _flat = _replicas.Select(m => new FlatGradients(m)).ToArray();
        for (int r = 1; r < replicas; r++)
            if (_flat[r].Buffer.Length != _flat[0].Buffer.Length)
                throw new ArgumentException($"the factory's model has {_flat[r].Buffer.Length} parameters, the model {_flat[0].Buffer.Length}");
        Compression = compression ?? GradientCompression.None;
        int n = _flat[0].Buffer.Length;
        if (!Compression.IsDense && n > 0)
        {
            int k = Compression.SelectedCount(n);
            _feedback = _flat.Select(_ => new ErrorFeedback(n, k, Compression.Momentum)).ToArray();
            _sent = _flat.Select(_ => new GradientEntry[k]).ToArray();
        }
        _threads = new ReplicaThreads(replicas);
        SyncBatchNorm = syncBatchNorm;
        if (syncBatchNorm)
        {
            var group = new ThreadGroup(replicas);
            for (int r = 0; r < replicas; r++)
                foreach (var bn in BatchNorms(_replicas[r])) bn.SyncGroup = group.Rank(r);
        }
    }

    private static IEnumerable<BatchNorm> BatchNorms(Module m) => m.NamedModules().Select(x => x.Module).OfType<BatchNorm>();

    /// <summary>Whether batch norm pools the statistics of every replica's slice.</summary>
    public bool SyncBatchNorm { get; }

    /// <summary>How the replicas' gradients are combined.</summary>
    public GradientCompression Compression { get; }

    /// <summary>Bytes each replica contributes to the gradient exchange per step (4 per float dense, 8 per sent entry with top-k).</summary>
    public long BytesSentPerStep => Compression.BytesPerStep(_flat[0].Buffer.Length);

    /// <summary>Bytes each replica would contribute per step with dense exchange (4 per parameter).</summary>
    public long DenseBytesPerStep => 4L * _flat[0].Buffer.Length;

    /// <summary>Replica <paramref name="replica"/>'s error-feedback state, or null with dense exchange.</summary>
    public ErrorFeedback? Feedback(int replica) => _feedback?[replica];

    // Every replica on the model's device (the single-device constructor's layout).
    private static Device[] SameDevice(Module model, int replicas)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (replicas < 1) throw new ArgumentException($"data parallelism needs at least 1 replica, got {replicas}");
        return Enumerable.Repeat(Training.Trainer.DeviceOf(model), replicas).ToArray();
    }

    /// <summary>The device of each replica, in replica order.</summary>
    public IReadOnlyList<Device> Devices => _devices;

    /// <summary>Replica 0: the model given to the constructor, which the optimiser updates.</summary>
    public Module Module => _replicas[0];

    /// <summary>All replicas; index 0 is <see cref="Module"/>.</summary>
    public IReadOnlyList<Module> Replicas => _replicas;

    /// <summary>Kernel threads each replica uses while the replicas run.</summary>
    public int ThreadsPerReplica { get; }

    /// <summary>
    /// Forward and backward of the global batch: slice i goes to replica i, each replica back-propagates its
    /// slice's loss weighted by the slice's share, and the gradients are summed into replica 0's
    /// <c>Grad</c>. Returns the global batch's loss and the logits of all slices, concatenated
    /// (detached).
    /// </summary>
    public (float Loss, Tensor Logits) ForwardBackward(Tensor inputs, Tensor targets, Loss loss)
    {
        if (loss.Reduction == Reduction.None) throw new ArgumentException("data parallelism needs a loss reduced to a scalar (mean or sum)");
        int batch = inputs.Size(0);
        if (targets.Size(0) != batch) throw new ArgumentException($"inputs have {batch} samples, targets {targets.Size(0)}");
        var slices = BatchSplit.Slices(batch, _replicas.Length);
        // A replica with no samples would never reach the statistics' all-reduce that the others wait at.
        if (SyncBatchNorm && batch < _replicas.Length)
            throw new ArgumentException($"synchronised batch norm needs at least one sample per replica: a batch of {batch} over {_replicas.Length} replicas");
        var losses = new float[_replicas.Length];
        var logits = new Tensor?[_replicas.Length];
        int saved = CpuParallel.Threads;
        CpuParallel.Threads = ThreadsPerReplica;
        try
        {
            _threads.Run(r =>
            {
                var replica = _replicas[r];
                replica.ZeroGrad();
                var s = slices[r];
                if (s.Length == 0) _flat[r].Buffer.AsSpan().Clear();
                else
                {
                    var x = inputs.Narrow(0, s.Start, s.Length).Contiguous().To(_devices[r]);
                    var y = targets.Narrow(0, s.Start, s.Length).Contiguous().To(_devices[r]);
                    var output = replica.Forward(x);
                    var l = loss.Forward(output, y);
                    losses[r] = l.Item();
                    float weight = loss.Reduction == Reduction.Mean ? s.Weight : 1f;
                    l.Backward(Tensor.Full(l.Shape, weight, l.Device));
                    logits[r] = output.Detach();
                    _flat[r].GatherGradients();
                }
                // A replica without samples still sends: its residual is owed to the sum.
                _feedback?[r].Compress(_flat[r].Buffer, _sent[r]);
            });
            if (_feedback is not null)
            {
                // Replica order, on one thread: the sum is the same whatever order the threads finished in.
                var sum = _flat[0].Buffer.AsSpan();
                sum.Clear();
                foreach (var sent in _sent) GradientEntry.AddTo(sent, sum);
            }
            else
            {
                // All-reduce: each thread sums one contiguous chunk of the flat gradient over the replicas.
                int n = _flat[0].Buffer.Length, parts = _replicas.Length;
                _threads.Run(t =>
                {
                    int start = (int)((long)n * t / parts), end = (int)((long)n * (t + 1) / parts);
                    var sum = _flat[0].Buffer.AsSpan(start, end - start);
                    for (int r = 1; r < parts; r++)
                        System.Numerics.Tensors.TensorPrimitives.Add(sum, _flat[r].Buffer.AsSpan(start, end - start), sum);
                });
            }
        }
        finally { CpuParallel.Threads = saved; }
        _flat[0].ScatterGradients();
        float total = 0f;
        for (int r = 0; r < losses.Length; r++) total += loss.Reduction == Reduction.Mean ? slices[r].Weight * losses[r] : losses[r];
        var parts2 = logits.Where(t => t is not null).Select(t => t!.To(_devices[0])).ToList();
        Tensor all;
        using (GradMode.NoGrad()) all = parts2.Count == 1 ? parts2[0] : Tensor.Cat(parts2, 0);
        return (total, all);
    }

    /// <summary>Copies replica 0's parameters and buffers to every other replica (a broadcast).</summary>
    public void SyncReplicas()
    {
        if (_replicas.Length == 1) return;
        var buffers0 = _replicas[0].NamedBuffers().ToList();
        _threads.Run(r =>
        {
            if (r == 0) return;
            _flat[r].CopyValuesFrom(_flat[0]);
            var mine = _replicas[r].NamedBuffers().ToDictionary(b => b.Name, b => b.Buffer);
            foreach (var (name, b) in buffers0) mine[name].CopyFrom(b);
        });
    }

    /// <summary>One training step: forward/backward over the replicas, the summed gradient, the optimiser's step on
    /// replica 0, then the new weights broadcast to all replicas.</summary>
    public (float Loss, Tensor Logits) TrainStep(Tensor inputs, Tensor targets, Loss loss, Optimizer optimizer)
    {
        CheckOptimizer(optimizer);
        optimizer.ZeroGrad();
        var result = ForwardBackward(inputs, targets, loss);
        optimizer.Step();
        SyncReplicas();
        return result;
    }

    /// <summary><see cref="Trainer.TrainEpoch"/> with the batch split over the replicas.</summary>
    public ClassificationMetrics TrainEpoch(IEnumerable<(Tensor Images, Tensor Labels)> batches, Loss loss, Optimizer optimizer, int classes,
        int epoch, int batchesPerEpoch, Action<BatchProgress>? onBatch = null, CancellationToken cancel = default)
    {
        foreach (var m in _replicas) m.Train();
        var metrics = new ClassificationMetrics(classes);
        var clock = Stopwatch.StartNew();
        int b = 0;
        foreach (var (x, y) in batches)
        {
            if (cancel.IsCancellationRequested) break;
            var (lv, logits) = TrainStep(x, y, loss, optimizer);
            if (float.IsNaN(lv) || float.IsInfinity(lv))
                throw new InvalidOperationException($"training diverged: loss is {lv} at epoch {epoch + 1}, batch {b + 1} (try a smaller learning rate)");
            metrics.Add(logits, y, lv);
            b++;
            onBatch?.Invoke(new BatchProgress(epoch, b, batchesPerEpoch, metrics.Count, metrics.Loss, metrics.Top1Accuracy,
                metrics.Count / Math.Max(1e-9, clock.Elapsed.TotalSeconds), clock.Elapsed));
        }
        return metrics;
    }

    private void CheckOptimizer(Optimizer optimizer)
    {
        var mine = new HashSet<Parameter>(_replicas[0].Parameters(), ReferenceEqualityComparer.Instance);
        foreach (var p in optimizer.Params)
            if (!mine.Contains(p)) throw new ArgumentException("the optimizer must be built over the parameters of the model passed to DataParallel (replica 0)");
    }

    /// <summary>Stops the replica threads; the model passed in (replica 0) normalises by its own batch again.</summary>
    public void Dispose()
    {
        if (SyncBatchNorm)
            foreach (var bn in BatchNorms(_replicas[0])) bn.SyncGroup = null;
        _threads.Dispose();
    }
}
