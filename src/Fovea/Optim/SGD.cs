using Fovea.NN;

namespace Fovea.Optim;

/// <summary>Stochastic gradient descent with momentum, dampening, Nesterov and weight decay: torch.optim.SGD's rules.</summary>
public sealed class SGD : Optimizer
{
    public SGD(IEnumerable<Parameter> parameters, float lr, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : base(parameters, lr)
    {
        if (momentum < 0) throw new ArgumentException($"momentum must not be negative, got {momentum}");
        if (weightDecay < 0) throw new ArgumentException($"weight decay must not be negative, got {weightDecay}");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening");
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    public float Momentum { get; }
    public float Dampening { get; }
    public float WeightDecay { get; }
    public bool Nesterov { get; }

    protected override void Update(Parameter p, Tensor grad, Dictionary<string, Tensor> state)
    {
        Tensor? buf = null;
        bool first = false;
        if (Momentum != 0f && !state.TryGetValue("momentum_buffer", out buf))
        {
            state["momentum_buffer"] = buf = Tensor.ZerosLike(p);
            first = true;
        }
        p.Backend.SgdStep(p.Storage, grad.Storage, buf?.Storage, p.NumEl, LearningRate, Momentum, Dampening, Nesterov, WeightDecay, first);
    }
}
