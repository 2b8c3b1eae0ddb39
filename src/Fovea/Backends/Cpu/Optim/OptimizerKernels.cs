namespace Fovea.Backends.Cpu;

/// <summary>Parameter updates with exactly PyTorch's rules (torch.optim.SGD, Adam, AdamW), and dropout masks.</summary>
internal static class OptimizerKernels
{
    // PyTorch SGD: g += wd·p; buf = first ? g : momentum·buf + (1−dampening)·g; g = nesterov ? g + momentum·buf : buf; p −= lr·g.
    public static void Sgd(Span<float> p, ReadOnlySpan<float> grad, Span<float> buf, float lr, float momentum, float dampening,
        bool nesterov, float weightDecay, bool firstStep)
    {
        for (int i = 0; i < p.Length; i++)
        {
            float g = grad[i];
            if (weightDecay != 0f) g += weightDecay * p[i];
            if (momentum != 0f)
            {
                float b = firstStep ? g : momentum * buf[i] + (1f - dampening) * g;
                buf[i] = b;
                g = nesterov ? g + momentum * b : b;
            }
            p[i] -= lr * g;
        }
    }

    // PyTorch Adam (decoupled=false: g += wd·p) and AdamW (decoupled: p *= 1 − lr·wd), with bias correction.
    public static void Adam(Span<float> p, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, float lr, float beta1, float beta2,
        float eps, float weightDecay, bool decoupled, int step)
    {
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        float stepSize = (float)(lr / bc1);
        float bc2Sqrt = (float)Math.Sqrt(bc2);
        for (int i = 0; i < p.Length; i++)
        {
            float g = grad[i];
            if (decoupled) p[i] *= 1f - lr * weightDecay;
            else if (weightDecay != 0f) g += weightDecay * p[i];
            m[i] = beta1 * m[i] + (1f - beta1) * g;
            v[i] = beta2 * v[i] + (1f - beta2) * g * g;
            float denom = MathF.Sqrt(v[i]) / bc2Sqrt + eps;
            p[i] -= stepSize * m[i] / denom;
        }
    }

    public static void DropoutMask(Span<float> mask, float p, ulong seed)
    {
        var rng = new Random(unchecked((int)(seed ^ (seed >> 32))));
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextSingle() >= p ? keep : 0f;
    }
}
