namespace Fovea.Autograd;

/// <summary>
/// One recorded op: its inputs and a closure that maps the output's gradient to the inputs' gradients.
/// The closure is written beside the op's forward (see Ops/) and holds whatever the forward saved; the engine
/// drops it after use, which frees those saved buffers.
/// </summary>
internal sealed class Node
{
    public Node(string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward, bool readsOutput = true, bool readsInputs = true)
    {
        Op = op;
        Inputs = inputs;
        BackwardFn = backward;
        ReadsOutput = readsOutput;
        ReadsInputs = readsInputs;
    }

    /// <summary>
    /// Whether the backward reads its inputs' values; false when it kept what it needs in a form of its own (a ReLU's
    /// mask), so that the inputs' buffers may be given back, or written over, once the other nodes are done with them.
    /// </summary>
    public bool ReadsInputs { get; }

    /// <summary>
    /// Whether the backward reads the op's output (a sigmoid's or a softmax's does); only an output that no backward
    /// reads may be overwritten in place (<see cref="Tensor.ReluInPlace"/>). Ops say so when they know they do not.
    /// </summary>
    public bool ReadsOutput { get; }

    /// <summary>The op's name, for errors and debugging.</summary>
    public string Op { get; }

    public Tensor[] Inputs { get; private set; }

    public Func<Tensor, Tensor?[]>? BackwardFn { get; private set; }

    /// <summary>Forgets inputs and saved state so the graph can be collected.</summary>
    public void Release()
    {
        Inputs = [];
        BackwardFn = null;
    }
}
