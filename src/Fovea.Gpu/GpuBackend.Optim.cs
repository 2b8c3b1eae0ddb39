using ILGPU;
using ILGPU.Runtime;
using Fovea.Gpu.Kernels;

namespace Fovea.Gpu;

// Dropout masks and optimiser updates: kernels in Kernels/DropoutKernels.cs and Kernels/OptimizerKernels.cs.
public sealed partial class GpuBackend
{
    private Action<Index1D, ArrayView<float>, ulong, float>? _dropout;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.SgdArgs>? _sgd;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.AdamArgs>? _adam;

    public void DropoutMask(Storage mask, int n, float p, Generator generator)
    {
        ulong seed = generator.NextUInt64();
        if (n == 0) return;
        Kernel(ref _dropout, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ulong, float>(DropoutKernels.Mask))(n, F(mask), seed, p);
    }

    public void SgdStep(Storage param, Storage grad, Storage? momentumBuffer, int n, float lr, float momentum, float dampening,
        bool nesterov, float weightDecay, bool firstStep)
    {
        if (n == 0) return;
        var args = new OptimizerKernels.SgdArgs
        {
            Lr = lr,
            Momentum = momentum,
            Dampening = dampening,
            WeightDecay = weightDecay,
            Nesterov = nesterov ? 1 : 0,
            FirstStep = firstStep ? 1 : 0,
            HasMomentum = momentum != 0f && momentumBuffer is not null ? 1 : 0,
        };
        Kernel(ref _sgd, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.SgdArgs>(OptimizerKernels.Sgd))(
            n, F(param), F(grad), FOrDummy(momentumBuffer), args);
    }

    public void AdamStep(Storage param, Storage grad, Storage m, Storage v, int n, float lr, float beta1, float beta2, float eps,
        float weightDecay, bool decoupled, int step)
    {
        if (n == 0) return;
        // The bias corrections are per step, not per element: worked out once here, in double as the CPU backend does.
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        var args = new OptimizerKernels.AdamArgs
        {
            Lr = lr,
            Beta1 = beta1,
            Beta2 = beta2,
            Eps = eps,
            WeightDecay = weightDecay,
            StepSize = (float)(lr / bc1),
            Bc2Sqrt = (float)Math.Sqrt(bc2),
            Decoupled = decoupled ? 1 : 0,
        };
        Kernel(ref _adam, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.AdamArgs>(OptimizerKernels.Adam))(
            n, F(param), F(grad), F(m), F(v), args);
    }
}
