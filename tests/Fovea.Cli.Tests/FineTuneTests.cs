using System.Runtime.InteropServices;
using Fovea.Training;
using SkiaSharp;

namespace Fovea.Cli.Tests;

/// <summary>
/// Image folders for two tasks (a source and a small target, each two classes told apart by colour) and one
/// epoch of LeNet-5 on the source, shared by the fine-tuning tests.
/// </summary>
public sealed class FineTuneSource
{
    public FineTuneSource()
    {
        Root = FoveaProcess.TempDir();
        Folders("source", 24, ("red", new SKColor(200, 40, 40)), ("blue", new SKColor(40, 60, 200)));
        Folders("target", 16, ("green", new SKColor(40, 190, 60)), ("yellow", new SKColor(210, 200, 40)));
        var r = FoveaProcess.Run(Root, "train", "--model", "lenet5", "--dataset", $"imagefolder:{Source}", "--image-size", "28",
            "--epochs", "1", "--batch-size", "8", "--seed", "3", "--output", Run);
        Assert.True(r.Exit == 0, r.Err + r.Out);
    }

    public string Root { get; }
    public string Source => Path.Combine(Root, "source");
    public string Target => Path.Combine(Root, "target");
    public string Run => Path.Combine(Root, "source-run");

    private void Folders(string task, int perClass, params (string Name, SKColor Colour)[] classes) =>
        ColourImages.Folders(Path.Combine(Root, task), [("train", perClass), ("val", 4)], classes, 28);
}

/// <summary><c>fovea train --from RUN --freeze features</c>: the frozen layers keep the source's weights bit for bit.</summary>
public class FineTuneTests(FineTuneSource source) : IClassFixture<FineTuneSource>
{
    private string[] TrainOnTarget(string output) =>
        ["train", "--model", "lenet5", "--dataset", $"imagefolder:{source.Target}", "--image-size", "28", "--epochs", "1",
            "--batch-size", "8", "--seed", "4", "--output", output];

    private static bool SameBits(Tensor a, Tensor b) =>
        a.Shape.SequenceEqual(b.Shape) && MemoryMarshal.AsBytes(a.ToArray().AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(b.ToArray().AsSpan()));

    [Fact]
    public void FrozenFeaturesKeepTheSourceWeightsWhileTheClassifierTrains()
    {
        var run = Path.Combine(source.Root, "frozen");
        var r = FoveaProcess.Run(source.Root, [.. TrainOnTarget(run), "--from", source.Run, "--freeze", "features"]);
        Assert.True(r.Exit == 0, r.Err + r.Out);
        // Both tasks have two classes, so every tensor fits, the head included.
        Assert.Contains("loaded 10 of 10 tensors", r.Err);
        var before = Checkpoint.Load(source.Run).Weights;
        var after = Checkpoint.Load(run).Weights;
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        var features = after.Keys.Where(k => k.StartsWith("features.", StringComparison.Ordinal)).ToList();
        var classifier = after.Keys.Where(k => k.StartsWith("classifier.", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, features.Count);
        Assert.Equal(6, classifier.Count);
        foreach (var k in features) Assert.True(SameBits(before[k], after[k]), $"{k} changed although frozen");
        foreach (var k in classifier) Assert.False(SameBits(before[k], after[k]), $"{k} did not train");
        // The frozen parameters get no optimizer state: only the classifier's momentum buffers are saved.
        Assert.Equal(classifier.Count, Checkpoint.Load(run).OptimizerState.Keys.Count(k => k.EndsWith(".momentum_buffer", StringComparison.Ordinal)));
    }

    [Fact]
    public void WithoutFreezeTheFeaturesTrainToo()
    {
        // The control for the test above: the same fine-tuning run unfrozen moves every feature tensor.
        var run = Path.Combine(source.Root, "unfrozen");
        var r = FoveaProcess.Run(source.Root, [.. TrainOnTarget(run), "--from", source.Run]);
        Assert.True(r.Exit == 0, r.Err + r.Out);
        var before = Checkpoint.Load(source.Run).Weights;
        var after = Checkpoint.Load(run).Weights;
        foreach (var k in after.Keys) Assert.False(SameBits(before[k], after[k]), $"{k} did not train");
    }

    [Fact]
    public void FreezingAnUnknownModuleNamesItAndTheKnownOnes()
    {
        var r = FoveaProcess.Run(source.Root, [.. TrainOnTarget(Path.Combine(source.Root, "bad-freeze")), "--from", source.Run, "--freeze", "nosuchlayer"]);
        Assert.NotEqual(0, r.Exit);
        var error = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("nosuchlayer", StringComparison.Ordinal));
        Assert.Contains("features, classifier", error);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public void FromACheckpointWithNoFittingWeightsIsRefused()
    {
        // A checkpoint of some other network: its tensors are named weight and bias, none of LeNet-5's names.
        var other = Path.Combine(source.Root, "other.safetensors");
        Checkpoint.Of(new Fovea.NN.Linear(3, 2), null, new Dictionary<string, object?>()).Save(other);
        var r = FoveaProcess.Run(source.Root, [.. TrainOnTarget(Path.Combine(source.Root, "bad-from")), "--from", other]);
        Assert.NotEqual(0, r.Exit);
        Assert.Contains($"no weight in '{other}' fits this model", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }
}
