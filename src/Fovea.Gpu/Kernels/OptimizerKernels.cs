using ILGPU;
using ILGPU.Algorithms;

namespace Fovea.Gpu.Kernels;

/// <summary>PyTorch's SGD and Adam / AdamW updates, one thread per parameter element (the CPU backend's rules).</summary>
internal static class OptimizerKernels
{
    /// <summary>SGD's hyper-parameters.</summary>
    internal struct SgdArgs
    {
        public float Lr, Momentum, Dampening, WeightDecay;
        public int Nesterov, FirstStep, HasMomentum;
    }

    /// <summary>Adam's hyper-parameters, with the bias corrections worked out on the host.</summary>
    internal struct AdamArgs
    {
        public float Lr, Beta1, Beta2, Eps, WeightDecay, StepSize, Bc2Sqrt;
        public int Decoupled;
    }

    public static void Sgd(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> buf, SgdArgs a)
    {
        float g = grad[i];
        if (a.WeightDecay != 0f) g += a.WeightDecay * p[i];
        if (a.HasMomentum != 0)
        {
            float b = a.FirstStep != 0 ? g : a.Momentum * buf[i] + (1f - a.Dampening) * g;
            buf[i] = b;
            g = a.Nesterov != 0 ? g + a.Momentum * b : b;
        }
        p[i] -= a.Lr * g;
    }

    public static void Adam(Index1D i, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamArgs a)
    {
        float g = grad[i];
        if (a.Decoupled != 0) p[i] *= 1f - a.Lr * a.WeightDecay;
        else if (a.WeightDecay != 0f) g += a.WeightDecay * p[i];
        float mi = a.Beta1 * m[i] + (1f - a.Beta1) * g;
        float vi = a.Beta2 * v[i] + (1f - a.Beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        p[i] -= a.StepSize * mi / (XMath.Sqrt(vi) / a.Bc2Sqrt + a.Eps);
    }
}
