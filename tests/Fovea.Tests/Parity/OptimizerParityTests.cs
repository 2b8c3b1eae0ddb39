using Fovea.NN;
using Fovea.Optim;
using Fovea.Tests.Support;

namespace Fovea.Tests.Parity;

/// <summary>Optimiser trajectories over several steps equal PyTorch's, given the same gradients.</summary>
public class OptimizerParityTests
{
    public static IEnumerable<object[]> Cases => Fixture.Cases("optim");

    [Theory]
    [MemberData(nameof(Cases))]
    public void TrajectoryMatchesPyTorch(string name)
    {
        var f = new Fixture("optim", name);
        var kw = f.Case.GetProperty("kwargs");
        float Get(string k, float d) => kw.TryGetProperty(k, out var v) ? v.GetSingle() : d;
        (float, float)? betas = kw.TryGetProperty("betas", out var b) ? (b[0].GetSingle(), b[1].GetSingle()) : null;
        var p = new Parameter(f.Tensor("param_init"));
        Optimizer opt = f.Case.GetProperty("optimizer").GetString() switch
        {
            "SGD" => new SGD([p], Get("lr", 0.1f), Get("momentum", 0), Get("dampening", 0), Get("weight_decay", 0),
                kw.TryGetProperty("nesterov", out var n) && n.GetBoolean()),
            "Adam" => new Adam([p], Get("lr", 1e-3f), betas, Get("eps", 1e-8f), Get("weight_decay", 0)),
            "AdamW" => new AdamW([p], Get("lr", 1e-3f), betas, Get("eps", 1e-8f), Get("weight_decay", 1e-2f)),
            var o => throw new InvalidOperationException($"unknown optimizer {o}"),
        };
        int steps = f.Case.GetProperty("steps").GetInt32();
        for (int t = 0; t < steps; t++)
        {
            p.Grad = f.Tensor($"grad_{t}");
            opt.Step();
            Close.Assert(f.Doubles($"param_{t}"), p.ToArray(), $"{name} step {t}", rtol: 1e-5, atol: 1e-6);
        }
    }
}

public class ScheduleParityTests
{
    public static IEnumerable<object[]> Cases =>
        Directory.GetFiles(Path.Combine(Fixture.Root, "schedules"), "*.json").Select(f => new object[] { Path.GetFileNameWithoutExtension(f) });

    [Theory]
    [MemberData(nameof(Cases))]
    public void LearningRatesMatchPyTorch(string name)
    {
        var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture.Root, "schedules", name + ".json"))).RootElement;
        var kw = doc.GetProperty("kwargs");
        var opt = new SGD([new Parameter(Tensor.Zeros(1))], doc.GetProperty("base_lr").GetSingle());
        LRScheduler s = doc.GetProperty("scheduler").GetString() switch
        {
            "StepLR" => new StepLR(opt, kw.GetProperty("step_size").GetInt32(), kw.GetProperty("gamma").GetSingle()),
            "MultiStepLR" => new MultiStepLR(opt, kw.GetProperty("milestones").EnumerateArray().Select(m => m.GetInt32()).ToList(), kw.GetProperty("gamma").GetSingle()),
            "CosineAnnealingLR" => new CosineAnnealingLR(opt, kw.GetProperty("T_max").GetInt32(), kw.GetProperty("eta_min").GetSingle()),
            "ReduceLROnPlateau" => new ReduceLROnPlateau(opt, kw.GetProperty("factor").GetSingle(), kw.GetProperty("patience").GetInt32(),
                kw.GetProperty("threshold").GetSingle(), kw.GetProperty("cooldown").GetInt32(), kw.GetProperty("min_lr").GetSingle()),
            var o => throw new InvalidOperationException($"unknown scheduler {o}"),
        };
        var lrs = doc.GetProperty("lrs").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var metrics = doc.TryGetProperty("metrics", out var m) ? m.EnumerateArray().Select(v => v.GetSingle()).ToArray() : null;
        for (int e = 0; e < lrs.Length; e++)
        {
            Assert.True(Math.Abs(opt.LearningRate - lrs[e]) <= 1e-6 * Math.Max(1e-3, lrs[e]) + 1e-9, $"{name} epoch {e}: lr {opt.LearningRate}, PyTorch {lrs[e]}");
            s.Step(metrics?[e]);
        }
    }
}
