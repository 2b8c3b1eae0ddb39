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
}
