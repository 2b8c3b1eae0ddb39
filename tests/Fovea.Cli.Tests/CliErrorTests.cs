namespace Fovea.Cli.Tests;

/// <summary>Bad input gets one clear line on stderr and a non-zero exit, never a stack trace.</summary>
public class CliErrorTests
{
    private static void AssertOneLineError((int Exit, string Out, string Err) r, params string[] mentions)
    {
        Assert.NotEqual(0, r.Exit);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("Exception", r.Err);
        foreach (var m in mentions) Assert.Contains(m, r.Err + r.Out);
    }

    [Fact]
    public void HelpListsEverySubCommandAndTheirOptions()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "--help");
        Assert.Equal(0, r.Exit);
        foreach (var c in new[] { "train", "eval", "predict", "summary", "data" }) Assert.Contains(c, r.Out);
        var t = FoveaProcess.Run(FoveaProcess.TempDir(), "train", "--help");
        Assert.Equal(0, t.Exit);
        foreach (var o in new[] { "--model", "--dataset", "--epochs", "--batch-size", "--optimizer", "--lr", "--schedule", "--weight-decay", "--seed", "--threads", "--output", "--resume" })
            Assert.Contains(o, t.Out);
    }

    [Fact]
    public void UnknownModelListsTheKnownOnes() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "train", "--model", "resnet50"), "unknown model 'resnet50'", "lenet5", "vgg16");

    [Fact]
    public void UnknownDatasetListsTheKnownOnes() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "train", "--dataset", "cifar10"), "unknown data set 'cifar10'", "mnist", "fashion-mnist");

    [Theory]
    [InlineData("topk:0")]
    [InlineData("topk:2")]
    [InlineData("top-k")]
    public void BadGradientCompressionSaysWhatItExpects(string value) =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "train", "--replicas", "2", "--grad-compression", value),
            "--grad-compression", "'none' or 'topk:RATIO' with RATIO in (0, 1]", $"got '{value}'");

    [Fact]
    public void GradientCompressionWithoutReplicasOrRanksIsRefused() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "train", "--grad-compression", "topk:0.01"), "--replicas", "--distributed mpi");

    [Fact]
    public void UnknownOptionIsRejected() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "train", "--epochz", "3"), "--epochz");

    [Theory]
    [InlineData("--lr", "abc", "a number")]
    [InlineData("--epochs", "x", "a whole number")]
    [InlineData("--epochs", "1.5", "a whole number")]
    public void AValueOfTheWrongTypeSaysWhatTheOptionTakes(string option, string value, string expected)
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "train", option, value);
        AssertOneLineError(r, $"{option} expects {expected}, got '{value}'", "fovea train --help");
        Assert.DoesNotContain("System.", r.Err);
    }

    [Fact]
    public void ASubCommandsParseErrorPointsAtItsOwnHelp() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "viz", "filters", "--checkpoint", "run"), "--output", "(see 'fovea viz filters --help')");

    [Fact]
    public void AValueOutsideAnOptionsChoicesIsOneLineNamingThem()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "train", "--optimizer", "rmsprop");
        AssertOneLineError(r, "--optimizer expects one of sgd, adam, adamw, got 'rmsprop' (see 'fovea train --help')");
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [Fact]
    public void AMissingOnnxModelIsNamedAsOne() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "predict", "--model", "none.onnx", "--input", "x.npy"), "no such ONNX model: 'none.onnx'");

    [Fact]
    public void AGroupOfCommandsGivenNoneNamesItsCommands() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "viz"), "'fovea viz' needs a command: ", "filters", "curves", "(see 'fovea viz --help')");

    [Fact]
    public void AnErrorFromTheLibraryDoesNotNameItsCSharpParameter()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "export", "--model", "resnet50", "--output", "m.onnx");
        AssertOneLineError(r, "unknown model 'resnet50'", "vgg16");
        Assert.DoesNotContain("(Parameter", r.Err);
    }

    [Fact]
    public void AnOutputFolderBehindAFileIsAOneLineErrorNamingIt()
    {
        var dir = FoveaProcess.TempDir();
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "x");
        AssertOneLineError(FoveaProcess.Run(dir, "train", "--output", "notes.txt/run"), "cannot create the folder 'notes.txt/run'");
    }

    [Fact]
    public void MissingCheckpointSaysWhatWasExpected() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "eval", "--checkpoint", "/nonexistent/run"), "no checkpoint at");

    [Fact]
    public void TruncatedCheckpointIsAOneLineError()
    {
        var dir = FoveaProcess.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "checkpoint.safetensors"), [1, 2, 3]);
        AssertOneLineError(FoveaProcess.Run(dir, "eval", "--checkpoint", dir), "not a valid safetensors file");
    }

    [Fact]
    public void SummaryRejectsABadInputSize() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "summary", "--model", "lenet5", "--input", "28x28"), "CxHxW");

    [Fact]
    public void SummaryOfAnInputTooSmallNamesTheLayer() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "summary", "--model", "alexnet", "--input", "3x32x32"));

    [Theory]
    [InlineData("lots")]
    [InlineData("16XB")]
    [InlineData("-1GB")]
    [InlineData("0")]
    public void SummaryRejectsABadFitSize(string size) =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "summary", "--model", "lenet5", "--fit", size), "--fit", "16GB", "MiB", $"'{size}'");

    [Fact]
    public void SummaryRejectsABatchOfZero() =>
        AssertOneLineError(FoveaProcess.Run(FoveaProcess.TempDir(), "summary", "--model", "lenet5", "--batch", "0"), "--batch", "positive");
}
