using Fovea.NN;

namespace Fovea.Optim;

/// <summary>
/// Updates parameters from their gradients. State (momentum buffers, Adam's moments, step counts) is kept per
/// parameter and can be saved and restored with a checkpoint.
/// </summary>
public abstract class Optimizer
{
    protected Optimizer(IEnumerable<Parameter> parameters, float lr)
    {
        Params = parameters.ToList();
        if (Params.Count == 0) throw new ArgumentException("optimizer got an empty parameter list");
        if (lr < 0) throw new ArgumentException($"learning rate must not be negative, got {lr}");
        LearningRate = lr;
    }

    /// <summary>The parameters this optimiser updates, in order.</summary>
    public IReadOnlyList<Parameter> Params { get; }

    /// <summary>The current learning rate (schedulers change it).</summary>
    public float LearningRate { get; set; }

    /// <summary>Named state tensors per parameter index, e.g. "momentum_buffer", "exp_avg".</summary>
    protected Dictionary<int, Dictionary<string, Tensor>> State { get; } = [];

    /// <summary>Steps taken.</summary>
    public int StepCount { get; protected set; }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        StepCount++;
        for (int i = 0; i < Params.Count; i++)
        {
            var p = Params[i];
            if (p.Grad is null) continue;
            if (!State.TryGetValue(i, out var s)) State[i] = s = [];
            // Optimiser state (momentum, moments) is made lazily here and lives across steps.
            using var _ = StepMemory.Persistent();
            Update(p, p.Grad.Dense(), s);
        }
    }

    /// <summary>Updates one parameter in place.</summary>
    protected abstract void Update(Parameter p, Tensor grad, Dictionary<string, Tensor> state);

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        // Indexed: foreach over the interface would allocate an enumerator on every step.
        for (int i = 0; i < Params.Count; i++) Params[i].ClearGrad();
    }

    /// <summary>State tensors named "{index}.{name}", plus the step count, for checkpoints.</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor> { ["step"] = Tensor.FromArray([StepCount], [1]) };
        foreach (var (i, s) in State)
            foreach (var (name, t) in s) d[$"{i}.{name}"] = t;
        return d;
    }

    /// <summary>Restores what <see cref="StateDict"/> saved.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        State.Clear();
        StepCount = 0;
        foreach (var (key, t) in state)
        {
            if (key == "step") { StepCount = (int)t.Item(); continue; }
            int dot = key.IndexOf('.');
            if (dot < 0 || !int.TryParse(key.AsSpan(0, dot), out int i) || i < 0 || i >= Params.Count)
                throw new ArgumentException($"optimizer state entry '{key}' does not name one of the {Params.Count} parameters");
            if (!State.TryGetValue(i, out var s)) State[i] = s = [];
            // Checkpoints load on the host; the state must sit with its parameter (a GPU model resumed from disk).
            s[key[(dot + 1)..]] = t.To(Params[i].Device).Clone();
        }
    }
}
