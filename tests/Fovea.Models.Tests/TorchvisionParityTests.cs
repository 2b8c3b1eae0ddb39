using System.Text.Json;
using Fovea.NN;

namespace Fovea.Models.Tests;

/// <summary>
/// State-dict names and shapes against torchvision 0.14's, read from Fixtures/torchvision_keys.json (written by
/// tools/fixtures/torchvision_keys.py; keys and shapes only, no weights).
/// </summary>
public class TorchvisionParityTests
{
    private sealed record Reference(long Params, IReadOnlyList<(string Key, int[] Shape)> StateDict);

    private static readonly Lazy<Dictionary<string, Reference>> References = new(Load);

    private static Dictionary<string, Reference> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "torchvision_keys.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var result = new Dictionary<string, Reference>();
        foreach (var model in doc.RootElement.GetProperty("models").EnumerateObject())
        {
            var entries = model.Value.GetProperty("state_dict").EnumerateArray()
                .Select(e => (e[0].GetString()!, e[1].EnumerateArray().Select(d => d.GetInt32()).ToArray()))
                .ToList();
            result[model.Name] = new Reference(model.Value.GetProperty("params").GetInt64(), entries);
        }
        return result;
    }

    public static TheoryData<string> TorchvisionNames =>
        ["alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"];

    private static Module Build(string name) => name switch
    {
        "alexnet" => SharedModels.AlexNet,
        "vgg16" => SharedModels.Vgg16,
        "vgg11_bn" => SharedModels.Vgg11Bn,
        _ => ModelZoo.Create(name, generator: new Generator(3)),
    };

    [Theory]
    [MemberData(nameof(TorchvisionNames))]
    public void StateDictNamesAndShapesEqualTorchvision(string name)
    {
        var reference = References.Value[name];
        var model = Build(name);

        // torchvision's BatchNorm2d also saves num_batches_tracked (a scalar step counter used only when
        // momentum=None, for a cumulative average). Fovea's BatchNorm has no such buffer, so it is left out here;
        // a loader of torchvision checkpoints drops it.
        var expected = reference.StateDict.Where(e => !e.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .ToDictionary(e => e.Key, e => e.Shape);
        var actual = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Shape);

        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, shape) in expected) Assert.True(shape.SequenceEqual(actual[key]),
            $"{name}: {key} is {Shapes.Format(actual[key])} in Fovea, {Shapes.Format(shape)} in torchvision");

        // Parameters in torchvision's order (the state dict lists each module's parameters before its buffers).
        var torchParams = reference.StateDict.Where(e => !e.Key.Contains("running_") && !e.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .Select(e => e.Key);
        Assert.Equal(torchParams, model.NamedParameters().Select(p => p.Name));

        Assert.Equal(reference.Params, model.Parameters().Sum(p => (long)Shapes.Count(p.Shape)));
    }

    [Fact]
    public void AlexNetHas61100840Parameters() =>
        Assert.Equal(61_100_840L, SharedModels.AlexNet.Parameters().Sum(p => (long)Shapes.Count(p.Shape)));

    [Fact]
    public void Vgg16Has138357544Parameters() =>
        Assert.Equal(138_357_544L, SharedModels.Vgg16.Parameters().Sum(p => (long)Shapes.Count(p.Shape)));
}
