using System.Collections.Concurrent;
using System.Globalization;
using Fovea.NN;

namespace Fovea.Distributed;

/// <summary>
/// Model parallelism by layers: a <see cref="Sequential"/> cut into consecutive stages, stage i's parameters on
/// device i. The activation crossing a cut is moved with <see cref="Tensor.To"/>, which autograd records, so the
/// gradient flows back across the same cut. With <c>chunks</c> &gt; 1 the batch is cut into micro-batches and each
/// stage runs on its own thread (GPipe's schedule for the forward pass): while stage 1 works on micro-batch 1,
/// stage 0 already works on micro-batch 2. The backward pass runs on the calling thread.
/// <para>
/// The layers keep their indices as names, so <see cref="Module.StateDict"/> has the same keys as the
/// <see cref="Sequential"/> it was made from. The layers are the original modules, moved: build the optimiser
/// after making the pipeline (moving to another device replaces parameter objects).
/// </para>
/// <para>
/// Batch norm in a micro-batched pipeline normalises per micro-batch, as in GPipe; without batch norm the
/// result equals the unsplit model's up to float rounding.
/// </para>
/// </summary>
public sealed class Pipeline : Module
{
    private readonly Sequential[] _stages;
    private readonly Device[] _devices;

    /// <param name="model">The layers to split; its modules are moved onto the stages' devices.</param>
    /// <param name="devices">One device per stage.</param>
    /// <param name="stageStarts">Index of the first layer of each stage after the first (ascending); default: cut so that
    /// the stages hold as equal shares of the parameters as whole layers allow.</param>
    /// <param name="chunks">Micro-batches per batch (1: no pipelining, the stages run one after another).</param>
    public Pipeline(Sequential model, IReadOnlyList<Device> devices, IReadOnlyList<int>? stageStarts = null, int chunks = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (devices.Count < 1) throw new ArgumentException("a pipeline needs at least one device");
        if (chunks < 1) throw new ArgumentException($"chunks must be at least 1, got {chunks}");
        var starts = stageStarts?.ToArray() ?? BalancedStarts(model, devices.Count);
        if (starts.Length != devices.Count - 1)
            throw new ArgumentException($"{devices.Count} devices need {devices.Count - 1} stage starts, got {starts.Length}");
        for (int i = 0; i < starts.Length; i++)
            if (starts[i] <= (i == 0 ? 0 : starts[i - 1]) || starts[i] >= model.Count)
                throw new ArgumentException($"stage starts must rise strictly within 1..{model.Count - 1}, got [{string.Join(", ", starts)}]");
        Chunks = chunks;
        _devices = devices.ToArray();
        _stages = new Sequential[devices.Count];
        for (int s = 0; s < _stages.Length; s++)
        {
            int from = s == 0 ? 0 : starts[s - 1], to = s == starts.Length ? model.Count : starts[s];
            _stages[s] = new Sequential();
            for (int i = from; i < to; i++)
            {
                var layer = model[i];
                layer.To(_devices[s]);
                _stages[s].Add(layer);
                RegisterModule(i.ToString(CultureInfo.InvariantCulture), layer);
            }
        }
        StageStarts = starts;
    }

    /// <summary>Micro-batches per forward.</summary>
    public int Chunks { get; }

    /// <summary>Index of the first layer of each stage after the first.</summary>
    public IReadOnlyList<int> StageStarts { get; }

    /// <summary>The stages, in order; stage i runs on <see cref="Devices"/>[i].</summary>
    public IReadOnlyList<Sequential> Stages => _stages;

    public IReadOnlyList<Device> Devices => _devices;

    /// <summary>Cuts so that each stage holds about 1/stages of the parameters, with at least one layer per stage.</summary>
    public static int[] BalancedStarts(Sequential model, int stages)
    {
        if (stages > model.Count) throw new ArgumentException($"cannot cut {model.Count} layers into {stages} stages");
        var counts = model.Layers.Select(l => (long)l.Parameters().Sum(p => p.NumEl)).ToArray();
        long total = Math.Max(1, counts.Sum());
        var starts = new List<int>();
        long seen = 0;
        for (int i = 0; i < model.Count && starts.Count < stages - 1; i++)
        {
            seen += counts[i];
            int next = i + 1, remainingStages = stages - 1 - starts.Count;
            // Cut after layer i once this stage has its share, or when the remaining layers are just enough.
            if (seen * stages >= total * (starts.Count + 1) || model.Count - next <= remainingStages)
                if (next < model.Count) starts.Add(next);
        }
        return starts.ToArray();
    }

    public override Tensor Forward(Tensor input)
    {
        int n = input.Size(0);
        int chunks = Math.Min(Chunks, Math.Max(1, n));
        if (chunks == 1 || _stages.Length == 1) return RunStages(input);

        var slices = BatchSplit.Slices(n, chunks);
        var outputs = new Tensor[chunks];
        bool grad = GradMode.IsEnabled;
        // One queue between consecutive stages; stage s takes micro-batch k from queue s and passes it on.
        var queues = Enumerable.Range(0, _stages.Length + 1).Select(_ => new BlockingCollection<(int K, Tensor X)>()).ToArray();
        foreach (var (s, k) in slices.Select((s, k) => (s, k))) queues[0].Add((k, input.Narrow(0, s.Start, s.Length)));
        queues[0].CompleteAdding();
        var tasks = new Task[_stages.Length];
        for (int st = 0; st < _stages.Length; st++)
        {
            int stage = st;
            tasks[stage] = Task.Factory.StartNew(() =>
            {
                using var scope = grad ? default(GradMode.NoGradScope?) : GradMode.NoGrad();
                try
                {
                    foreach (var (k, x) in queues[stage].GetConsumingEnumerable())
                        queues[stage + 1].Add((k, _stages[stage].Forward(x.To(_devices[stage]))));
                }
                finally { queues[stage + 1].CompleteAdding(); }
            }, TaskCreationOptions.LongRunning);
        }
        foreach (var (k, y) in queues[^1].GetConsumingEnumerable()) outputs[k] = y;
        try { Task.WaitAll(tasks); }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        finally
        {
            foreach (var q in queues) q.Dispose();
        }
        return Tensor.Cat(outputs, 0);
    }

    private Tensor RunStages(Tensor x)
    {
        for (int s = 0; s < _stages.Length; s++) x = _stages[s].Forward(x.To(_devices[s]));
        return x;
    }
}
