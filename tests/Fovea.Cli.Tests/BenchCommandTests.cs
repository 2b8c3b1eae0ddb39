using System.Text.Json;

namespace Fovea.Cli.Tests;

public class BenchCommandTests
{
    [Fact]
    public void UnknownWorkloadIsOneLineListingTheKnownOnes()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "bench", "--workload", "resnet50_train");
        Assert.Equal(1, r.Exit);
        Assert.Contains("unknown workload 'resnet50_train'", r.Err);
        Assert.Contains("vgg16_train_b4", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public void JsonListsMedianMinMaxAndUnit()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "bench", "-w", "lenet5_infer_b256", "--quick", "--runs", "2", "--json", "--threads", "1");
        Assert.Equal(0, r.Exit);
        var item = Assert.Single(JsonDocument.Parse(r.Out).RootElement.EnumerateArray());
        Assert.Equal("lenet5_infer_b256", item.GetProperty("workload").GetString());
        Assert.Equal(256, item.GetProperty("batch").GetInt32());
        Assert.Equal("images/s", item.GetProperty("unit").GetString());
        double min = item.GetProperty("min").GetDouble(), median = item.GetProperty("median").GetDouble(), max = item.GetProperty("max").GetDouble();
        Assert.True(min > 0 && min <= median && median <= max, $"min {min}, median {median}, max {max}");
    }
}
