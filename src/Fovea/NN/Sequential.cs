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

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var l in _layers) x = l.Forward(x);
        return x;
    }
}
