using System.Text.Json;

namespace Fovea.Viz;

/// <summary>One line of a run's <c>metrics.jsonl</c>, as <c>fovea train</c> writes it (accuracies as fractions).</summary>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy);

/// <summary>Reads <c>metrics.jsonl</c>: one JSON object per line with keys epoch, train_loss, train_accuracy,
/// test_loss, test_accuracy (other keys are ignored; a missing value reads as NaN).</summary>
public static class MetricsLog
{
    /// <summary>The file name <c>fovea train</c> writes in its output folder.</summary>
    public const string FileName = "metrics.jsonl";

    /// <summary>Reads a metrics file, or the one in a run folder.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">A line is not a JSON object with an epoch, or the file has no lines.</exception>
    public static IReadOnlyList<EpochMetrics> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) path = Path.Combine(path, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"no metrics file at '{path}' (written by 'fovea train' in its output folder)", path);
        var list = new List<EpochMetrics>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var o = doc.RootElement;
                if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty("epoch", out var e) || e.ValueKind != JsonValueKind.Number)
                    throw new InvalidDataException($"{path}:{lineNo}: expected a JSON object with an \"epoch\" number");
                list.Add(new EpochMetrics(e.GetInt32(), Get(o, "train_loss"), Get(o, "train_accuracy"), Get(o, "test_loss"), Get(o, "test_accuracy")));
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}:{lineNo}: not JSON ({ex.Message})", ex);
            }
        }
        if (list.Count == 0) throw new InvalidDataException($"'{path}' holds no epochs");
        return list;
    }

    private static double Get(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
}
