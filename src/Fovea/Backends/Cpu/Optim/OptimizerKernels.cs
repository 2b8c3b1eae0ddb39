using System.Numerics;

namespace Fovea.Backends.Cpu;

/// <summary>Parameter updates with exactly PyTorch's rules (torch.optim.SGD, Adam, AdamW), and dropout masks.</summary>
internal static class OptimizerKernels
{
    // PyTorch SGD: g += wd·p; buf = first ? g : momentum·buf + (1−dampening)·g; g = nesterov ? g + momentum·buf : buf; p −= lr·g.
    // Memory-bound (three arrays read, two written), so it runs a vector at a time and large tensors are split over
    // the threads: AlexNet's 61 M parameters took 135 ms a step in the scalar loop. The vector body rounds exactly as
    // SgdReference does (separate multiplies and adds, no fused multiply-add), so both give the same bits.
    public static void Sgd(float[] p, float[] grad, float[]? buf, int n, float lr, float momentum, float dampening,
        bool nesterov, float weightDecay, bool firstStep)
    {
        int blocks = (n + SgdBlock - 1) / SgdBlock;
        if (blocks == 1)
        {
            SgdRange(p, grad, buf, 0, n, lr, momentum, dampening, nesterov, weightDecay, firstStep);
            return;
        }
        CpuParallel.ForChunks(blocks, 5L * SgdBlock, new SgdBlocks(p, grad, buf, n, lr, momentum, dampening, nesterov, weightDecay, firstStep));
    }

    private const int SgdBlock = 1 << 14;

    private readonly struct SgdBlocks(float[] p, float[] grad, float[]? buf, int n, float lr, float momentum, float dampening,
        bool nesterov, float weightDecay, bool firstStep) : CpuParallel.IChunks
    {
        public void Run(int b0, int b1) =>
            SgdRange(p, grad, buf, b0 * SgdBlock, Math.Min(n, b1 * SgdBlock), lr, momentum, dampening, nesterov, weightDecay, firstStep);
    }

    private static void SgdRange(float[] p, float[] grad, float[]? buf, int start, int end, float lr, float momentum,
        float dampening, bool nesterov, float weightDecay, bool firstStep)
    {
        int w = Vector<float>.Count, i = start;
        if (momentum == 0f || buf is not null)
        {
            Vector<float> vlr = new(lr), vm = new(momentum), vd = new(1f - dampening), vwd = new(weightDecay);
            for (; i + w <= end; i += w)
            {
                var g = Vector.LoadUnsafe(ref grad[0], (nuint)i);
                var pv = Vector.LoadUnsafe(ref p[0], (nuint)i);
                if (weightDecay != 0f) g += vwd * pv;
                if (momentum != 0f)
                {
                    var b = firstStep ? g : vm * Vector.LoadUnsafe(ref buf![0], (nuint)i) + vd * g;
                    b.StoreUnsafe(ref buf![0], (nuint)i);
                    g = nesterov ? g + vm * b : b;
                }
                (pv - vlr * g).StoreUnsafe(ref p[0], (nuint)i);
            }
        }
        SgdReference(p.AsSpan(i, end - i), grad.AsSpan(i, end - i), buf is null ? default : buf.AsSpan(i, end - i),
            lr, momentum, dampening, nesterov, weightDecay, firstStep);
    }

    /// <summary>The plain loop: the vector path's tail and the tests' reference.</summary>
    internal static void SgdReference(Span<float> p, ReadOnlySpan<float> grad, Span<float> buf, float lr, float momentum, float dampening,
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
        var rng = new SeededRandom(unchecked((int)(seed ^ (seed >> 32))), stackalloc int[SeededRandom.StateLength]);
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextSingle() >= p ? keep : 0f;
    }
}
