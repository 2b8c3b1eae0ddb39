namespace Fovea.Autograd;

/// <summary>Attaches a backward closure to an op's output when recording is on and some input needs a gradient.</summary>
internal static class Recorder
{
    public static bool Needs(Tensor a) => GradMode.IsEnabled && (a.RequiresGrad || a.GradFn is not null);
    public static bool Needs(Tensor a, Tensor b) => Needs(a) || Needs(b);

    public static bool Needs(ReadOnlySpan<Tensor?> inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs) if (t is not null && (t.RequiresGrad || t.GradFn is not null)) return true;
        return false;
    }

    /// <summary>Inside a backward closure: whether this input's gradient is used by anything.</summary>
    public static bool WantsGrad(Tensor t) => t.RequiresGrad || t.GradFn is not null;

    /// <summary>
    /// Records <paramref name="backward"/> on <paramref name="output"/>; returns the output for chaining.
    /// <paramref name="readsOutput"/> false promises that the backward never reads the output (see <see cref="Node.ReadsOutput"/>),
    /// <paramref name="readsInputs"/> false that it never reads the inputs' values (<see cref="Node.ReadsInputs"/>).
    /// </summary>
    public static Tensor Record(Tensor output, string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward, bool readsOutput = true,
        bool readsInputs = true)
    {
        if (!Needs(inputs)) return output;
        output.GradFn = new Node(op, inputs, backward, readsOutput, readsInputs);
        output.RequiresGrad = true;
        return output;
    }
}
