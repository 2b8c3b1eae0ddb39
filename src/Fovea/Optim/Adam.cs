using Fovea.NN;

namespace Fovea.Optim;

/// <summary>Adam (Kingma &amp; Ba) with bias correction and L2 weight decay added to the gradient: torch.optim.Adam.</summary>
public class Adam : Optimizer
{
    public Adam(IEnumerable<Parameter> parameters, float lr = 1e-3f, (float, float)? betas = null, float eps = 1e-8f, float weightDecay = 0f)
        : base(parameters, lr)
    {
        (Beta1, Beta2) = betas ?? (0.9f, 0.999f);
        if (Beta1 < 0 || Beta1 >= 1 || Beta2 < 0 || Beta2 >= 1) throw new ArgumentException($"Adam betas must be in [0, 1), got ({Beta1}, {Beta2})");
        if (eps < 0) throw new ArgumentException($"Adam eps must not be negative, got {eps}");
        Eps = eps;
        WeightDecay = weightDecay;
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }

    /// <summary>AdamW decays the weights directly instead of through the gradient.</summary>
    protected virtual bool Decoupled => false;

    protected override void Update(Parameter p, Tensor grad, Dictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("exp_avg", out var m)) state["exp_avg"] = m = Tensor.ZerosLike(p);
        if (!state.TryGetValue("exp_avg_sq", out var v)) state["exp_avg_sq"] = v = Tensor.ZerosLike(p);
        // Each parameter counts its own steps, as PyTorch does, so one that first gets a gradient late is corrected right.
        if (!state.TryGetValue("step", out var s)) state["step"] = s = Tensor.Zeros(1);
        int step = (int)s.Item() + 1;
        // Counted in place (exact in float32 to 2^24 steps), so that a step makes no new tensor per parameter.
        s.Backend.Fill(s.Storage, step);
        p.Backend.AdamStep(p.Storage, grad.Storage, m.Storage, v.Storage, p.NumEl, LearningRate, Beta1, Beta2, Eps, WeightDecay, Decoupled, step);
    }
}

/// <summary>Adam with decoupled weight decay (Loshchilov &amp; Hutter): torch.optim.AdamW, default decay 0.01.</summary>
public sealed class AdamW(IEnumerable<Parameter> parameters, float lr = 1e-3f, (float, float)? betas = null, float eps = 1e-8f, float weightDecay = 1e-2f)
    : Adam(parameters, lr, betas, eps, weightDecay)
{
    protected override bool Decoupled => true;
}
