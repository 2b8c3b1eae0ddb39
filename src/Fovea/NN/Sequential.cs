namespace Fovea.NN;

/// <summary>Layers applied in order; children are named 0, 1, 2, … as in PyTorch.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = [];

    public Sequential(params Module[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    /// <summary>Appends a layer named by its index.</summary>
    public Sequential Add(Module layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    public int Count => _layers.Count;

    public Module this[int index] => _layers[index];

    public IReadOnlyList<Module> Layers => _layers;

    /// <remarks>
    /// Inside a training step (<see cref="StepMemory.Begin"/>) the outputs passed between layers are the graph's alone:
    /// the caller gets only the last. So their buffers go back to the step's pool as soon as the backward has read them
    /// (<see cref="StepMemory.MarkTransient"/>); a layer must not keep its input or output for use after the backward.
    /// <para>
    /// A Conv2d followed by a ReLU runs as one op when no gradient is recorded (inference under
    /// <see cref="GradMode.NoGrad"/>): the convolution's kernel applies the ReLU to its output as it writes it, instead of
    /// a second pass over the layer's output (at batch 8, AlexNet's five took 0.34 ms). Only the exact types fuse: a
    /// subclass's own Forward is always called.
    /// </para>
    /// </remarks>
    public override Tensor Forward(Tensor input)
    {
        var x = input;
        for (int i = 0; i < _layers.Count; i++)
        {
            if (FusesRelu(i) && _layers[i] is Conv2d conv && !conv.RecordsGradient(x))
            {
                x = conv.ForwardRelu(x);
                i++;
                continue;
            }
            x = _layers[i].Forward(x);
            // The caller's input (or a view of it, such as a first Flatten's) stays the caller's.
            if (i < _layers.Count - 1 && x.GradFn is not null && !ReferenceEquals(x.Storage, input.Storage)) StepMemory.MarkTransient(x);
        }
        // The last layer may have returned an earlier one's buffer (an in-place ReLU, a Flatten): that is the caller's now.
        if (!ReferenceEquals(x.Storage, input.Storage)) StepMemory.Unmark(x.Storage);
        return x;
    }

    /// <summary>Whether layer i is a Conv2d (exactly) followed by a ReLU, which run as one op when no gradient is recorded.</summary>
    internal bool FusesRelu(int i) => i + 1 < _layers.Count && _layers[i].GetType() == typeof(Conv2d) && _layers[i + 1] is ReLU;
}
