using Fovea.IO;
using Fovea.Models;
using Fovea.Training;

namespace Fovea.Cli.Tests;

/// <summary>
/// The tool published with Native AOT (the CPU build that starts in milliseconds, docs/performance.md): it must
/// publish without a reflection or trimming warning that would break a command, predict what the library
/// computes, train and save a checkpoint (whose config the reflection serializer used to write), and refuse a GPU
/// device with a clear error. Publishing takes a minute or two and needs clang and zlib1g-dev, so this is a slow check.
/// </summary>
[Trait("Category", "Slow")]
public class NativeAotTests
{
    private static readonly Lazy<string> Published = new(Publish);

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Fovea.slnx"))) return d.FullName;
        throw new InvalidOperationException("cannot find the repository root (Fovea.slnx) above " + AppContext.BaseDirectory);
    }

    private static string Publish()
    {
        if (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, "clang"))))
            throw new InvalidOperationException("Native AOT needs clang on PATH: apt-get install clang zlib1g-dev (.ci/run installs them)");
        string output = FoveaProcess.TempDir();
        var r = FoveaProcess.RunProgram("dotnet", RepositoryRoot(),
            "publish", "src/Fovea.Cli", "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", output, "-nologo");
        Assert.True(r.Exit == 0, $"dotnet publish -p:PublishAot=true failed:\n{r.Out}\n{r.Err}");
        // A trimming or AOT warning means some code path may fail at run time in this build only.
        var warnings = r.Out.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"warning IL\d{4}")).Distinct().ToList();
        Assert.True(warnings.Count == 0, "Native AOT publish warnings:\n" + string.Join('\n', warnings));
        return Path.Combine(output, "fovea");
    }

    [Fact]
    public void PredictsWhatTheLibraryComputes()
    {
        string dir = FoveaProcess.TempDir();
        var model = ModelZoo.Create("lenet5", 10, [1, 28, 28], new Generator(1));
        Checkpoint.Of(model, null, new Dictionary<string, object?>
        {
            ["model"] = "lenet5",
            ["classes"] = 10,
            ["input_shape"] = new[] { 1, 28, 28 },
            ["mean"] = new[] { 0.1307f },
            ["std"] = new[] { 0.3081f },
        }).Save(dir);
        var x = Tensor.Uniform([3, 1, 28, 28], 0f, 1f, new Generator(2));
        Npy.Save(Path.Combine(dir, "x.npy"), x);

        var r = FoveaProcess.RunProgram(Published.Value, dir, "predict", "-c", dir, "-i", "x.npy", "--output", "logits.npy");
        Assert.True(r.Exit == 0, r.Out + r.Err);
        Assert.Contains("sample 2", r.Out);
        model.Eval();
        float[] expected;
        using (GradMode.NoGrad()) expected = model.Forward((x - 0.1307f) / 0.3081f).ToArray();
        var actual = Npy.Load(Path.Combine(dir, "logits.npy")).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        // The AOT build's kernels are AVX2 ones; the test's may be AVX-512, which round differently.
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"logit {i}: {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void TrainsAndWritesACheckpointItCanResume()
    {
        string dir = FoveaProcess.TempDir();
        var r = FoveaProcess.RunProgram(Published.Value, dir, "train", "--epochs", "1", "--seed", "4", "--output", dir);
        Assert.True(r.Exit == 0, r.Out + r.Err);
        Assert.Contains("test accuracy", r.Out + r.Err);
        Assert.True(File.Exists(Path.Combine(dir, "checkpoint.safetensors")));
        var line = File.ReadLines(Path.Combine(dir, "metrics.jsonl")).First();
        Assert.Contains("\"epoch\":1", line);
        var eval = FoveaProcess.RunProgram(Published.Value, dir, "eval", "-c", dir);
        Assert.True(eval.Exit == 0, eval.Out + eval.Err);
    }

    [Fact]
    public void AGpuDeviceIsAClearError()
    {
        string dir = FoveaProcess.TempDir();
        var r = FoveaProcess.RunProgram(Published.Value, dir, "predict", "-c", "runs/none", "-i", "x.npy", "--device", "cuda");
        Assert.Equal(1, r.Exit);
        Assert.Contains("Native AOT", r.Err);
        Assert.Contains("--device cpu", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }
}
