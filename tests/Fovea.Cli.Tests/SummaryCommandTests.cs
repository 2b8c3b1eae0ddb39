using System.Text.Json;

namespace Fovea.Cli.Tests;

public class SummaryCommandTests
{
    [Fact]
    public void JsonHasTheLecturesArithmeticForLeNet5()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "summary", "--model", "lenet5", "--json");
        Assert.Equal(0, r.Exit);
        var doc = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal(61706, doc.GetProperty("total_params").GetInt64());
        var layers = doc.GetProperty("layers").EnumerateArray().ToList();
        var conv1 = layers[0];
        Assert.Equal("Conv2d", conv1.GetProperty("type").GetString());
        Assert.Equal(new[] { 1, 6, 28, 28 }, conv1.GetProperty("output_shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(156, conv1.GetProperty("params").GetInt64());
        Assert.Equal(6L * 28 * 28 * 25, conv1.GetProperty("macs").GetInt64());
        Assert.Equal(5, conv1.GetProperty("receptive_field").GetInt32());
    }

    [Fact]
    public void CountsEqualTorchvisionsForAlexNetAndVgg16()
    {
        var a = JsonDocument.Parse(FoveaProcess.Run(FoveaProcess.TempDir(), "summary", "--model", "alexnet", "--json").Out).RootElement;
        Assert.Equal(61_100_840, a.GetProperty("total_params").GetInt64());
        var v = JsonDocument.Parse(FoveaProcess.Run(FoveaProcess.TempDir(), "summary", "--model", "vgg16", "--json").Out).RootElement;
        Assert.Equal(138_357_544, v.GetProperty("total_params").GetInt64());
    }

    [Fact]
    public void TableShowsReceptiveFieldsAndTheDenseComparison()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "summary", "--model", "lenet5");
        Assert.Equal(0, r.Exit);
        Assert.Contains("total parameters: 61,706", r.Out);
        Assert.Contains("dense layer from the raw 784-value image", r.Out);
    }

    private static JsonElement Json(params string[] args)
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), ["summary", .. args, "--json"]);
        Assert.True(r.Exit == 0, r.Err);
        return JsonDocument.Parse(r.Out).RootElement;
    }

    [Fact]
    public void BatchAddsMemoryToTheJsonAndKeepsTheRest()
    {
        var doc = Json("--model", "lenet5", "--batch", "4");
        Assert.Equal(61706, doc.GetProperty("total_params").GetInt64());
        var memory = doc.GetProperty("memory");
        Assert.Equal(4, memory.GetProperty("batch").GetInt32());
        // SGD with momentum by default: one buffer per parameter, as many bytes as the parameters.
        Assert.Equal(4L * 61706, memory.GetProperty("parameters_bytes").GetInt64());
        Assert.Equal(4L * 61706, memory.GetProperty("optimizer_bytes").GetInt64());
        Assert.Equal(4L * 4 * 28 * 28, memory.GetProperty("input_bytes").GetInt64());
        long training = doc.GetProperty("training_bytes").GetInt64();
        Assert.Equal(training, memory.GetProperty("training_bytes").GetInt64());
        Assert.True(training > doc.GetProperty("inference_bytes").GetInt64(), "training needs gradients, optimizer state and backward buffers on top");
        var conv1 = doc.GetProperty("layers")[0];
        Assert.Equal(5, conv1.GetProperty("receptive_field").GetInt32());
        var m = conv1.GetProperty("memory");
        Assert.Equal(4L * 156, m.GetProperty("parameters_bytes").GetInt64());
        Assert.Equal(4L * 4 * 6 * 28 * 28, m.GetProperty("activations_bytes").GetInt64());

        var adam = Json("--model", "lenet5", "--batch", "4", "--optimizer", "adam").GetProperty("memory");
        Assert.Equal(2 * 4L * 61706, adam.GetProperty("optimizer_bytes").GetInt64());
        var plain = Json("--model", "lenet5", "--batch", "4", "--momentum", "0").GetProperty("memory");
        Assert.Equal(0, plain.GetProperty("optimizer_bytes").GetInt64());
    }

    [Fact]
    public void FitPrintsTheLargestBatchThatFits()
    {
        var doc = Json("--model", "lenet5", "--fit", "16MB");
        var fit = doc.GetProperty("fit");
        Assert.Equal(16_000_000, fit.GetProperty("budget_bytes").GetInt64());
        int b = fit.GetProperty("largest_batch").GetInt32();
        Assert.True(b > 1, $"16 MB should hold more than one LeNet-5 image, got {b}");
        Assert.True(Json("--model", "lenet5", "--batch", $"{b}").GetProperty("training_bytes").GetInt64() <= 16_000_000);
        Assert.True(Json("--model", "lenet5", "--batch", $"{b + 1}").GetProperty("training_bytes").GetInt64() > 16_000_000);

        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "summary", "--model", "lenet5", "--batch", "8", "--fit", "16MiB");
        Assert.Equal(0, r.Exit);
        Assert.Contains("training step at batch 8", r.Out);
        Assert.Contains("inference at batch 8", r.Out);
        Assert.Contains("largest batch whose training step fits in 16,777,216 bytes (16 MiB): ", r.Out);
    }
}
