using System.Globalization;
using Fovea.Models;
using Fovea.NN;

namespace Fovea.Distributed;

/// <summary>
/// AlexNet 2012 laid out as the paper ran it: two towers, one per device. Each tower holds half of every
/// convolution's filters and half of every fully connected layer's neurons. The grouped convolutions (conv2, conv4,
/// conv5) see only their own tower's maps; the dense layers (conv3 and the fully connected layers) need both
/// towers' maps, so there the towers exchange their halves with <see cref="Tensor.To"/> (recorded for autograd, so
/// gradients cross back the same way). conv1's two halves each see the whole image, copied to both devices.
/// <para>
/// One difference from the paper, so that the output equals the one-device <see cref="AlexNet2012"/>: local
/// response normalisation there runs over all 96 (or 256) maps, so a map at the edge of a tower's half is
/// normalised with a few maps of the other tower. Each tower therefore also fetches a halo of <c>size</c> maps from
/// the other before normalising; the paper normalised within each tower alone.
/// </para>
/// <para>
/// Parameters are the towers' own copies, named <c>features.{i}.tower{t}.weight</c>;
/// <see cref="MergedStateDict"/> gives them (and their gradients, via <see cref="MergedGradients"/>) back under
/// <see cref="AlexNet2012"/>'s names.
/// </para>
/// </summary>
public sealed class TwoTowerAlexNet : Module
{
    private readonly Module[] _features, _classifier;
    private readonly Dictionary<Module, Module[]> _towers = new(ReferenceEqualityComparer.Instance);
    private readonly Device[] _devices;

    /// <param name="source">The one-device model whose weights are split; it is not changed.</param>
    /// <param name="device0">Tower 0's device; the output is returned there.</param>
    /// <param name="device1">Tower 1's device.</param>
    public TwoTowerAlexNet(AlexNet2012 source, Device device0, Device device1)
    {
        _devices = [device0, device1];
        _features = source.Features.Layers.ToArray();
        _classifier = source.Classifier.Layers.ToArray();
        SplitLayers("features", _features);
        SplitLayers("classifier", _classifier);
        Train(source.Training);
    }

    public IReadOnlyList<Device> Devices => _devices;

    private void SplitLayers(string prefix, Module[] layers)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            Module[]? towers = layers[i] switch
            {
                Conv2d c => SplitConv(c),
                Linear l => SplitLinear(l),
                _ => null,
            };
            if (towers is null) continue;
            _towers[layers[i]] = towers;
            for (int t = 0; t < 2; t++)
            {
                towers[t].To(_devices[t]);
                RegisterModule($"{prefix}.{i.ToString(CultureInfo.InvariantCulture)}.tower{t}", towers[t]);
            }
        }
    }

    // Grouped (groups = 2) convs keep their group's filters and see only their tower's maps; dense convs split
    // their filters in two and see all maps.
    private static Module[] SplitConv(Conv2d c)
    {
        if (c.Groups is not (1 or 2)) throw new ArgumentException($"two towers need convolutions with 1 or 2 groups, got {c.Groups}");
        if (c.OutChannels % 2 != 0) throw new ArgumentException($"cannot split {c.OutChannels} filters over two towers");
        var towers = new Module[2];
        int half = c.OutChannels / 2, inPerTower = c.Groups == 2 ? c.InChannels / 2 : c.InChannels;
        for (int t = 0; t < 2; t++)
        {
            var conv = new Conv2d(inPerTower, half, c.KernelSize, c.Stride, c.Padding, c.Dilation, 1, c.Bias is not null, c.PaddingMode, new Generator(0))
            {
                Algorithm = c.Algorithm,
            };
            conv.Weight.CopyFrom(c.Weight.Narrow(0, t * half, half));
            if (c.Bias is { } b) conv.Bias!.CopyFrom(b.Narrow(0, t * half, half));
            towers[t] = conv;
        }
        return towers;
    }

    private static Module[] SplitLinear(Linear l)
    {
        var slices = BatchSplit.Slices(l.OutFeatures, 2);
        if (slices[1].Length == 0) throw new ArgumentException("cannot split a Linear of one output over two towers");
        var towers = new Module[2];
        for (int t = 0; t < 2; t++)
        {
            var lin = new Linear(l.InFeatures, slices[t].Length, l.Bias is not null, new Generator(0));
            lin.Weight.CopyFrom(l.Weight.Narrow(0, slices[t].Start, slices[t].Length));
            if (l.Bias is { } b) lin.Bias!.CopyFrom(b.Narrow(0, slices[t].Start, slices[t].Length));
            towers[t] = lin;
        }
        return towers;
    }

    public override Tensor Forward(Tensor input)
    {
        // The activation as two halves (one per tower, split along dim 1), or as one whole tensor copied to each.
        var h = new[] { input.To(_devices[0]), input.To(_devices[1]) };
        bool whole = true;
        foreach (var layer in _features) (h, whole) = Apply(layer, h, whole);
        h = [h[0].Flatten(1), h[1].Flatten(1)];
        foreach (var layer in _classifier) (h, whole) = Apply(layer, h, whole);
        return whole ? h[0] : Tensor.Cat([h[0], h[1].To(_devices[0])], 1);
    }

    private (Tensor[] H, bool Whole) Apply(Module layer, Tensor[] h, bool whole)
    {
        if (_towers.TryGetValue(layer, out var towers))
        {
            bool grouped = layer is Conv2d { Groups: 2 };
            if (grouped && whole) throw new InvalidOperationException("a grouped convolution needs the maps split between the towers");
            var inputs = grouped || whole ? h : Exchange(h);
            return ([towers[0].Forward(inputs[0]), towers[1].Forward(inputs[1])], false);
        }
        if (layer is LocalResponseNorm lrn && !whole) return (NormaliseWithHalo(lrn, h), false);
        // Element-wise, per-map and per-feature layers (ReLU, pooling, dropout) run on each tower's part as it is.
        return ([layer.Forward(h[0]), layer.Forward(h[1])], whole);
    }

    // Each tower gets both halves, concatenated in tower order, on its own device.
    private Tensor[] Exchange(Tensor[] h) =>
        [Tensor.Cat([h[0], h[1].To(_devices[0])], 1), Tensor.Cat([h[0].To(_devices[1]), h[1]], 1)];

    private Tensor[] NormaliseWithHalo(LocalResponseNorm lrn, Tensor[] h)
    {
        int c0 = h[0].Size(1), c1 = h[1].Size(1);
        int halo0 = Math.Min(lrn.Size, c1), halo1 = Math.Min(lrn.Size, c0);
        var t0 = lrn.Forward(Tensor.Cat([h[0], h[1].Narrow(1, 0, halo0).To(_devices[0])], 1)).Narrow(1, 0, c0);
        var t1 = lrn.Forward(Tensor.Cat([h[0].Narrow(1, c0 - halo1, halo1).To(_devices[1]), h[1]], 1)).Narrow(1, halo1, c1);
        return [t0, t1];
    }

    /// <summary>The towers' weights joined back under <see cref="AlexNet2012"/>'s state-dict names.</summary>
    public Dictionary<string, Tensor> MergedStateDict() => Merge(p => p);

    /// <summary>The towers' gradients joined under <see cref="AlexNet2012"/>'s parameter names (after Backward).</summary>
    public Dictionary<string, Tensor> MergedGradients() =>
        Merge(p => p.Grad ?? throw new InvalidOperationException("a tower parameter has no gradient: run Backward first"));

    private Dictionary<string, Tensor> Merge(Func<Parameter, Tensor> pick)
    {
        var d = new Dictionary<string, Tensor>();
        using var _ = GradMode.NoGrad();
        foreach (var (prefix, layers) in new[] { ("features", _features), ("classifier", _classifier) })
            for (int i = 0; i < layers.Length; i++)
            {
                if (!_towers.TryGetValue(layers[i], out var towers)) continue;
                var p0 = towers[0].NamedParameters().ToList();
                var p1 = towers[1].NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
                foreach (var (name, p) in p0)
                    d[$"{prefix}.{i.ToString(CultureInfo.InvariantCulture)}.{name}"] =
                        Tensor.Cat([pick(p).Detach(), pick(p1[name]).Detach().To(p.Device)], 0);
            }
        return d;
    }
}
