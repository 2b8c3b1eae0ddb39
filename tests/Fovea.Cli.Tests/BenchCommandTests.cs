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
        var item = OnlyItem(FoveaProcess.Run(FoveaProcess.TempDir(), "bench", "-w", "lenet5_infer_b256", "--quick", "--runs", "2", "--json", "--threads", "1"));
        Assert.Equal("lenet5_infer_b256", item.GetProperty("workload").GetString());
        Assert.Equal(256, item.GetProperty("batch").GetInt32());
        Assert.Equal("images/s", item.GetProperty("unit").GetString());
        double min = item.GetProperty("min").GetDouble(), median = item.GetProperty("median").GetDouble(), max = item.GetProperty("max").GetDouble();
        Assert.True(min > 0 && min <= median && median <= max, $"min {min}, median {median}, max {max}");
        Assert.True(item.GetProperty("allocated_bytes_per_iteration").GetDouble() >= 0);
        Assert.True(item.GetProperty("gen0_collections").GetInt32() >= 0);
    }

    [Fact]
    public void TheFmaPeakIsReportedInGflopsOnEveryThread()
    {
        var r = FoveaProcess.Run(FoveaProcess.TempDir(), "bench", "-w", "fma_peak", "--quick", "--runs", "2", "--json", "--threads", "2");
        var item = OnlyItem(r);
        Assert.Equal("fma_peak", item.GetProperty("workload").GetString());
        Assert.Equal("GFLOP/s", item.GetProperty("unit").GetString());
        Assert.True(item.GetProperty("min").GetDouble() > 0);
        Assert.Contains("2 threads", r.Err);
    }

    /// <summary>
    /// Bytes the process allocated per timed step. The runtime's tiered compiler recompiles hot methods on a
    /// background thread, and on a slow machine it is still doing so during a short run's timed steps (411 bytes a
    /// step measured with two busy cores beside it, 0 without); it is switched off so that only the step is counted.
    /// </summary>
    private static double AllocatedPerStep(params string[] extra)
    {
        var r = FoveaProcess.RunWith(new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" }, FoveaProcess.TempDir(),
            ["bench", "-w", "lenet5_train_b64", "--quick", "--runs", "2", "--json", "--threads", "1", .. extra]);
        return OnlyItem(r).GetProperty("allocated_bytes_per_iteration").GetDouble();
    }

    /// <summary>The one workload a successful <c>fovea bench --json</c> run printed.</summary>
    private static JsonElement OnlyItem((int Exit, string Out, string Err) r)
    {
        Assert.True(r.Exit == 0, $"fovea bench exited {r.Exit}: {r.Err}");
        return Assert.Single(JsonDocument.Parse(r.Out).RootElement.EnumerateArray());
    }

    [Fact]
    public void AReplayedTrainingStepAllocatesNextToNothingWhereAnEagerOneAllocatesKilobytes()
    {
        // An eager LeNet-5 step makes its tensors, tape nodes and closures, about 13 KB.
        double replayed = AllocatedPerStep(), eager = AllocatedPerStep("--eager");
        Assert.True(replayed < 200, $"replayed steps allocated {replayed} bytes each");
        Assert.True(eager > 5_000, $"eager steps allocated {eager} bytes each");
    }
}
