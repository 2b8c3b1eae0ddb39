using Fovea.NN;

namespace Fovea.Viz;

/// <summary>
/// Runs a model one layer at a time so its intermediate outputs can be seen or kept. The layers are the model's
/// leaf modules (those with no children) in registration order, which is the order of <c>Forward</c> for the
/// feed-forward zoo models (LeNet-5, AlexNet, ZFNet, VGG): features, pool, classifier. A tensor of rank above two
/// is flattened from dimension 1 before the first <see cref="Linear"/>, as those models' <c>Forward</c> does.
/// <see cref="MatchesForward"/> checks that assumption for a given model.
/// </summary>
public static class LayerTrace
{
    /// <summary>The leaf layers with their dotted names (<c>features.0</c>, <c>classifier.6</c>), in order.</summary>
    public static IReadOnlyList<(string Name, Module Module)> Layers(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var leaves = model.NamedModules().Where(m => !m.Module.NamedChildren().Any()).ToList();
        if (leaves.Count == 1 && leaves[0].Name.Length == 0) return [];
        return leaves;
    }

    /// <summary>Every name a layer can be picked by: the leaves and the containers above them (<c>features</c>).</summary>
    public static IReadOnlyList<string> Names(Module model) =>
        model.NamedModules().Select(m => m.Name).Where(n => n.Length > 0).ToList();

    /// <summary>
    /// Runs the layers in order on <paramref name="input"/> without recording gradients, calling
    /// <paramref name="onOutput"/> with each layer's name, module and output, and stops after layer
    /// <paramref name="stopAfter"/> (a leaf, or a container such as <c>features</c>: after its last leaf); null runs
    /// them all. Returns the last output.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="stopAfter"/> names no layer (the message lists them).</exception>
    public static Tensor Run(Module model, Tensor input, string? stopAfter = null, Action<string, Module, Tensor>? onOutput = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        var layers = Layers(model);
        if (layers.Count == 0) throw new ArgumentException($"{model.TypeName} has no layers to run one by one");
        int last = layers.Count - 1;
        if (stopAfter is not null)
        {
            last = -1;
            for (int k = 0; k < layers.Count; k++)
                if (layers[k].Name == stopAfter || layers[k].Name.StartsWith(stopAfter + ".", StringComparison.Ordinal)) last = k;
            if (last < 0)
                throw new ArgumentException($"the model has no layer '{stopAfter}'; its layers are: {string.Join(", ", Names(model))}");
        }
        var x = input;
        using (GradMode.NoGrad())
        {
            for (int k = 0; k <= last; k++)
            {
                var (name, m) = layers[k];
                if (m is Linear && x.Rank > 2) x = x.Flatten(1);
                x = m.Forward(x);
                onOutput?.Invoke(name, m, x);
            }
        }
        return x;
    }

    /// <summary>True when running the layers one by one gives the model's own output on <paramref name="input"/>
    /// (within <paramref name="tolerance"/>); put the model in eval mode first, or dropout makes them differ.</summary>
    public static bool MatchesForward(Module model, Tensor input, float tolerance = 1e-4f)
    {
        Tensor expected;
        using (GradMode.NoGrad()) expected = model.Forward(input);
        var got = Run(model, input);
        if (!got.Shape.SequenceEqual(expected.Shape)) return false;
        var a = got.ToArray();
        var b = expected.ToArray();
        for (int i = 0; i < a.Length; i++)
            if (!(Math.Abs(a[i] - b[i]) <= tolerance * (1 + Math.Abs(b[i])))) return false;
        return true;
    }
}
