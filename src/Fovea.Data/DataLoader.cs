using System.Runtime.ExceptionServices;
using Fovea.Data.Transforms;

namespace Fovea.Data;

/// <summary>
/// Turns an <see cref="IDataset"/> into mini-batches of tensors, epoch after epoch, like PyTorch's
/// <c>DataLoader</c>.
/// <list type="bullet">
/// <item>Order: with <c>shuffle</c>, epoch <c>e</c> is a Fisher–Yates permutation drawn from the stream
/// (seed, e) of <see cref="SampleRandom"/>, so a run is reproducible and a resumed run can continue the same
/// epoch sequence by asking for epoch <c>e</c> again. Without shuffle, the data set's order.</item>
/// <item>Transforms: sample <c>i</c> in epoch <c>e</c> is augmented with the stream (seed, e, i), so the
/// pixels do not depend on which thread prepares them, nor on the worker count.</item>
/// <item>Workers: with <c>numWorkers</c> &gt; 0, that many background threads prepare batches while the
/// model trains, at most <c>prefetch</c> batches ahead of the consumer; batches still arrive in order.
/// With 0, batches are prepared on the caller's thread when asked for.</item>
/// <item>Stopping: leaving a <c>foreach</c> early (or disposing the enumerator), cancelling the token, or
/// disposing the loader stops the workers and waits for them; nothing keeps running.</item>
/// </list>
/// </summary>
public sealed class DataLoader : IDisposable
{
    private readonly Compose _transform;
    private readonly CancellationTokenSource _disposed = new();

    /// <param name="dataset">The samples; with workers, read from several threads at once.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="shuffle">Draw a new order every epoch (else the data set's order).</param>
    /// <param name="seed">Seed of the shuffling and of random transforms.</param>
    /// <param name="dropLast">Leave out the last batch of an epoch when it is smaller than <paramref name="batchSize"/>.</param>
    /// <param name="transforms">Per-sample transforms, run in order after the data set's [0, 1] scaling.</param>
    /// <param name="numWorkers">Background threads preparing batches; 0 prepares them on the caller's thread.</param>
    /// <param name="prefetch">How many prepared batches may wait ahead of the consumer (with workers).</param>
    /// <param name="device">Where the batch tensors are put; the default device when null.</param>
    public DataLoader(IDataset dataset, int batchSize, bool shuffle = false, int seed = 0, bool dropLast = false,
        IEnumerable<ITransform>? transforms = null, int numWorkers = 0, int prefetch = 2, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(numWorkers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(prefetch);
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        NumWorkers = numWorkers;
        Prefetch = prefetch;
        Device = device;
        _transform = new Compose(transforms?.ToArray() ?? []);
        OutputShape = _transform.OutputShape(dataset.SampleShape);
    }

    public IDataset Dataset { get; }
    public int BatchSize { get; }
    public bool Shuffle { get; }
    public int Seed { get; }
    public bool DropLast { get; }
    public int NumWorkers { get; }
    public int Prefetch { get; }
    public Device? Device { get; }

    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<ITransform> Transforms => _transform.Transforms;

    /// <summary>The shape of one sample in a batch, after the transforms.</summary>
    public ImageShape OutputShape { get; }

    /// <summary>Batches per epoch: ⌈N / B⌉, or ⌊N / B⌋ with drop-last.</summary>
    public int BatchesPerEpoch => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the data set.</summary>
    public int[] EpochOrder(int epoch)
    {
        var order = new int[Dataset.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (Shuffle)
        {
            var rng = SampleRandom.For(Seed, epoch, -1);
            rng.Shuffle(order.AsSpan());
        }
        return order;
    }

    /// <summary>The batches of epoch <paramref name="epoch"/> (from 0), in order. Workers start on the first
    /// <c>MoveNext</c> and stop when the enumeration ends or is disposed. Cancelling <paramref name="cancellationToken"/>
    /// or disposing the loader makes a waiting <c>MoveNext</c> throw <see cref="OperationCanceledException"/>.</summary>
    public IEnumerable<Batch> GetEpoch(int epoch, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        return NumWorkers == 0 ? Synchronous(epoch, cancellationToken) : Prefetched(epoch, cancellationToken);
    }

    /// <summary>Stops every running epoch's workers. Safe to call more than once.</summary>
    public void Dispose()
    {
        if (!_disposed.IsCancellationRequested) _disposed.Cancel();
    }

    private IEnumerable<Batch> Synchronous(int epoch, CancellationToken token)
    {
        var order = EpochOrder(epoch);
        var work = new Worker(this);
        int batches = BatchesPerEpoch;
        for (int b = 0; b < batches; b++)
        {
            token.ThrowIfCancellationRequested();
            _disposed.Token.ThrowIfCancellationRequested();
            yield return ToBatch(work.Prepare(order, epoch, b));
        }
    }

    private IEnumerable<Batch> Prefetched(int epoch, CancellationToken token)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, _disposed.Token);
        using var pipeline = new Pipeline(this, EpochOrder(epoch), epoch, linked.Token);
        for (int b = 0; b < pipeline.Count; b++)
            yield return ToBatch(pipeline.Take(b));
    }

    private Batch ToBatch(Prepared p)
    {
        var shape = OutputShape;
        int n = p.Indices.Length;
        // Tensors are made on the consumer's thread: a device backend need not be thread-safe.
        var images = Tensor.FromArray(p.Images, [n, shape.Channels, shape.Height, shape.Width], Device);
        var labels = Tensor.FromArray(p.Labels, [n], Device);
        return new Batch(images, labels, p.Indices, p.Number);
    }

    private sealed record Prepared(float[] Images, long[] Labels, int[] Indices, int Number);

    /// <summary>Per-thread scratch buffers and the code that fills one batch.</summary>
    private sealed class Worker(DataLoader loader)
    {
        private readonly float[] _raw = new float[loader.Dataset.SampleShape.Length];
        private readonly float[] _a = new float[loader._transform.MaxLength(loader.Dataset.SampleShape)];
        private readonly float[] _b = new float[loader._transform.MaxLength(loader.Dataset.SampleShape)];

        public Prepared Prepare(int[] order, int epoch, int number, CancellationToken token = default)
        {
            int start = number * loader.BatchSize;
            int n = Math.Min(loader.BatchSize, order.Length - start);
            var indices = order.AsSpan(start, n).ToArray();
            int len = loader.OutputShape.Length;
            var images = new float[n * len];
            var labels = new long[n];
            var inShape = loader.Dataset.SampleShape;
            for (int i = 0; i < n; i++)
            {
                // Checked per sample, so stopping waits for one sample read at most, not a whole batch.
                token.ThrowIfCancellationRequested();
                int index = indices[i];
                long label = loader.Dataset.GetLabel(index);
                if (label < 0 || label >= loader.Dataset.ClassCount)
                    throw new InvalidDataException($"sample {index}: label {label} is out of range [0, {loader.Dataset.ClassCount - 1}]");
                labels[i] = label;
                loader.Dataset.GetImage(index, _raw);
                var rng = SampleRandom.For(loader.Seed, epoch, index);
                loader._transform.Run(_raw, inShape, images.AsSpan(i * len, len), _a, _b, ref rng);
            }
            return new Prepared(images, labels, indices, number);
        }
    }

    /// <summary>
    /// Worker threads claim batch numbers in increasing order, but only after taking one of
    /// <c>prefetch</c> slots; the consumer frees a slot as it takes a batch. So at most <c>prefetch</c>
    /// batches are ready or in preparation at once, and they are handed out in order.
    /// </summary>
    private sealed class Pipeline : IDisposable
    {
        private readonly DataLoader _loader;
        private readonly int[] _order;
        private readonly int _epoch;
        private readonly CancellationTokenSource _stop;
        private readonly SemaphoreSlim _slots;
        private readonly Prepared?[] _ready;
        private readonly Thread[] _threads;
        private readonly object _gate = new();
        private readonly CancellationTokenRegistration _wake;
        private ExceptionDispatchInfo? _error;
        private int _next = -1;

        public Pipeline(DataLoader loader, int[] order, int epoch, CancellationToken token)
        {
            _loader = loader;
            _order = order;
            _epoch = epoch;
            Count = loader.BatchesPerEpoch;
            _ready = new Prepared?[Count];
            _stop = CancellationTokenSource.CreateLinkedTokenSource(token);
            _slots = new SemaphoreSlim(loader.Prefetch);
            _wake = _stop.Token.Register(() => { lock (_gate) Monitor.PulseAll(_gate); });
            _threads = new Thread[Math.Min(loader.NumWorkers, Math.Max(Count, 1))];
            for (int i = 0; i < _threads.Length; i++)
            {
                _threads[i] = new Thread(Run) { IsBackground = true, Name = $"Fovea DataLoader worker {i}" };
                _threads[i].Start();
            }
        }

        public int Count { get; }

        private void Run()
        {
            var worker = new Worker(_loader);
            var token = _stop.Token;
            try
            {
                while (true)
                {
                    _slots.Wait(token);
                    int b = Interlocked.Increment(ref _next);
                    if (b >= Count) return;
                    var p = worker.Prepare(_order, _epoch, b, token);
                    lock (_gate)
                    {
                        _ready[b] = p;
                        Monitor.PulseAll(_gate);
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    _error ??= ExceptionDispatchInfo.Capture(e);
                    Monitor.PulseAll(_gate);
                }
                _stop.Cancel();
            }
        }

        public Prepared Take(int b)
        {
            Prepared? p;
            lock (_gate)
            {
                while ((p = _ready[b]) is null)
                {
                    _error?.Throw();
                    _stop.Token.ThrowIfCancellationRequested();
                    Monitor.Wait(_gate);
                }
                _ready[b] = null;
            }
            _slots.Release();
            return p;
        }

        public void Dispose()
        {
            try { _stop.Cancel(); } catch (AggregateException) { }
            foreach (var t in _threads) t.Join();
            _wake.Dispose();
            _slots.Dispose();
            _stop.Dispose();
        }
    }
}
