using System.Diagnostics;
using Fovea.IO;

namespace Fovea.Distributed.Tests;

/// <summary>
/// Runs the MPI driver under mpirun (Open MPI). These tests need `apt-get install -y openmpi-bin libopenmpi-dev`;
/// without mpirun they fail and say so.
/// </summary>
[Trait("Category", "Slow")]
public class MpiTests
{
    private static string DriverDll()
    {
        // The driver builds beside this project: tests/Fovea.Distributed.MpiDriver/bin/<config>/<tfm>/.
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = here.Name, config = here.Parent!.Name;
        var testsDir = here.Parent.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(testsDir, "Fovea.Distributed.MpiDriver", "bin", config, tfm, "Fovea.Distributed.MpiDriver.dll");
        Assert.True(File.Exists(dll), $"the MPI driver is not built at {dll}: run `dotnet build tests/Fovea.Distributed.MpiDriver`");
        return dll;
    }

    private static string Mpirun()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "mpirun"))) return Path.Combine(dir, "mpirun");
        Assert.Fail("mpirun not found: install Open MPI with `apt-get install -y openmpi-bin libopenmpi-dev` to run the MPI tests");
        return "";
    }

    private static (int ExitCode, string Output, TimeSpan Took) Launch(int ranks, string arguments, int timeoutSeconds = 120, string collectiveTimeout = "30",
        int bucketFloats = 1 << 20)
    {
        var psi = new ProcessStartInfo(Mpirun(),
            $"--allow-run-as-root --oversubscribe -np {ranks} -x TERM=dumb -x FOVEA_MPI_TIMEOUT -x FOVEA_MPI_BUCKET dotnet \"{DriverDll()}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["FOVEA_MPI_TIMEOUT"] = collectiveTimeout;
        psi.Environment["FOVEA_MPI_BUCKET"] = bucketFloats.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"mpirun {arguments} did not finish within {timeoutSeconds} s");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result, clock.Elapsed);
    }

    [Theory]
    [InlineData(2, 10, 1 << 20)]
    [InlineData(3, 10, 50)] // unequal shards; the 236-float gradient-and-loss buffer goes in 5 buckets, the last partial
    public void Ranks_under_mpirun_train_to_the_weights_of_one_process(int ranks, int batch, int bucketFloats)
    {
        const int steps = 4;
        var path = Path.Combine(Path.GetTempPath(), $"fovea-mpi-{Guid.NewGuid():N}.npy");
        try
        {
            var (code, output, _) = Launch(ranks, $"train \"{path}\" {steps} {batch}", bucketFloats: bucketFloats);
            Assert.True(code == 0, $"mpirun exited with {code}:\n{output}");
            Assert.Contains($"on {ranks} ranks", output);
            var got = Npy.Load(path).ToArray();
            var (x, y) = SmallCnn.Data(batch);
            var want = SmallCnn.Flat(SmallCnn.TrainSingle(x, y, steps));
            double diff = SmallCnn.MaxRelativeDifference(got, want);
            Assert.True(diff < 1e-5, $"MPI-trained weights differ from one process by {diff:E2} (relative)");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Two_ranks_exchanging_the_top_one_percent_converge_in_step()
    {
        // SmallCnn has 235 parameters: topk:0.01 sends 2 entries (16 bytes) per rank per step instead of 940 bytes.
        const int steps = 150;
        var path = Path.Combine(Path.GetTempPath(), $"fovea-mpi-{Guid.NewGuid():N}.npy");
        try
        {
            // The driver exits 4 if any rank's weights differ from rank 0's at the end.
            var (code, output, _) = Launch(2, $"train \"{path}\" {steps} 16 topk:0.01", timeoutSeconds: 180);
            Assert.True(code == 0, $"mpirun exited with {code}:\n{output}");
            Assert.Contains("on 2 ranks, 16 bytes sent", output);
            var losses = output.Split('\n').Where(l => l.StartsWith("step ", StringComparison.Ordinal))
                .Select(l => double.Parse(l.Split("loss ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(steps, losses.Length);
            double first = losses[..10].Average(), last = losses[^10..].Average();
            Assert.True(last < 0.7 * first, $"the loss went from {first:F4} to {last:F4} over {steps} steps");
            var weights = Npy.Load(path).ToArray();
            Assert.All(weights, w => Assert.True(float.IsFinite(w)));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_rank_that_dies_ends_the_job_with_an_error_naming_it()
    {
        var (code, output, took) = Launch(2, "die 1", timeoutSeconds: 60);
        Assert.NotEqual(0, code);
        Assert.Contains("rank 1: exiting on purpose", output);
        Assert.Contains("[[", output); // mpirun's report of the process that exited, e.g. "Process name: [[2474,1],1]"
        Assert.True(took < TimeSpan.FromSeconds(30), $"the job took {took.TotalSeconds:F0} s to stop");
    }

    [Fact]
    public void A_rank_that_stops_answering_makes_the_others_time_out_and_abort()
    {
        var (code, output, took) = Launch(2, "hang 1", timeoutSeconds: 60, collectiveTimeout: "3");
        Assert.NotEqual(0, code);
        Assert.Contains("rank 0 of 2: all-reduce", output);
        Assert.Contains("did not complete within 3 s", output);
        Assert.True(took < TimeSpan.FromSeconds(30), $"the job took {took.TotalSeconds:F0} s to stop");
    }

    [Fact]
    public void Without_mpirun_a_program_is_rank_0_of_1()
    {
        Mpirun();
        var psi = new ProcessStartInfo("dotnet", $"\"{DriverDll()}\" train \"{Path.Combine(Path.GetTempPath(), $"fovea-mpi-{Guid.NewGuid():N}.npy")}\" 1 4")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "the driver did not finish");
        Assert.True(p.ExitCode == 0, output);
        Assert.Contains("on 1 ranks", output);
    }
}
