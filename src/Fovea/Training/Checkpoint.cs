using System.Text.Json;
using Fovea.IO;
using Fovea.NN;
using Fovea.Optim;

namespace Fovea.Training;

/// <summary>
/// A training checkpoint in one safetensors file, written atomically: the model's weights under their state-dict
/// names (so PyTorch's safetensors loader reads them), the optimiser's state under "optimizer.", and a JSON config
/// (model name, classes, input shape, epoch, learning rate, ...) in the metadata.
/// </summary>
public sealed class Checkpoint
{
    public const string FileName = "checkpoint.safetensors";
    private const string OptimizerPrefix = "optimizer.";
    private const string ConfigKey = "fovea_config";

    public required Dictionary<string, Tensor> Weights { get; init; }
    public Dictionary<string, Tensor> OptimizerState { get; init; } = [];

    /// <summary>Free-form settings; the trainer stores model, dataset, classes, input_shape, epoch, lr, seed.</summary>
    public Dictionary<string, JsonElement> Config { get; init; } = [];

    public string? GetString(string key) => Config.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    public int? GetInt(string key) => Config.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
    public double? GetDouble(string key) => Config.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
    public int[]? GetInts(string key) => Config.TryGetValue(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => e.GetInt32()).ToArray() : null;

    /// <summary>Makes a checkpoint of a model (and optimiser) with the given config values.</summary>
    public static Checkpoint Of(Module model, Optimizer? optimizer, IReadOnlyDictionary<string, object?> config) => new()
    {
        Weights = model.StateDict(),
        OptimizerState = optimizer?.StateDict() ?? [],
        Config = config.ToDictionary(kv => kv.Key, kv => JsonValues.ToElement(kv.Value)),
    };

    /// <summary>Writes OUT/checkpoint.safetensors (or the given .safetensors path) atomically.</summary>
    public void Save(string path)
    {
        var all = new Dictionary<string, Tensor>(Weights);
        foreach (var (k, t) in OptimizerState) all[OptimizerPrefix + k] = t;
        var meta = new Dictionary<string, string> { [ConfigKey] = JsonValues.Serialize(Config), ["format"] = "pt" };
        Safetensors.Save(ResolvePath(path), all, meta);
    }

    /// <summary>A checkpoint folder's file, or the path itself when it names a file.</summary>
    public static string ResolvePath(string path) =>
        path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? path : Path.Combine(path, FileName);

    /// <summary>Reads a checkpoint; a missing, truncated or foreign file is an error that says which and why.</summary>
    public static Checkpoint Load(string path)
    {
        // A file under any name is read as it is (and refused if it is not safetensors), not taken for a folder.
        var file = File.Exists(path) ? path : ResolvePath(path);
        if (!File.Exists(file))
            throw new FileNotFoundException($"no checkpoint at '{file}' (expected a folder written by 'fovea train' or a .safetensors file)", file);
        var (tensors, meta) = Safetensors.Load(file);
        var config = new Dictionary<string, JsonElement>();
        if (meta.TryGetValue(ConfigKey, out var json))
        {
            // JsonDocument rather than the reflection serializer, which emits code at run time: ~60 ms of the start of
            // 'fovea predict'.
            try
            {
                using var doc = JsonDocument.Parse(json);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"'{file}': checkpoint config is not a JSON object");
                foreach (var p in doc.RootElement.EnumerateObject()) config[p.Name] = p.Value.Clone();
            }
            catch (JsonException e) { throw new InvalidDataException($"'{file}': checkpoint config is not valid JSON ({e.Message})", e); }
        }
        return new Checkpoint
        {
            Weights = tensors.Where(kv => !kv.Key.StartsWith(OptimizerPrefix, StringComparison.Ordinal)).ToDictionary(),
            OptimizerState = tensors.Where(kv => kv.Key.StartsWith(OptimizerPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[OptimizerPrefix.Length..], kv => kv.Value),
            Config = config,
        };
    }
}
