using ILGPU;
using ILGPU.Runtime;
using Fovea.Gpu.Kernels;

namespace Fovea.Gpu;

// Padding, pooling, softmax and normalisation: kernels in Kernels/{Pad,Pool,Softmax,BatchNorm,Lrn}Kernels.cs.
// Backwards that scatter (pad, pools) zero dx first and add atomically, since windows and pad sources overlap.
public sealed partial class GpuBackend
{
    private Action<Index1D, ArrayView<float>, ArrayView<float>, PadKernels.Shape>? _pad;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, PadKernels.Shape>? _padBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, PoolKernels.Shape>? _maxPool;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolKernels.Shape>? _maxPoolBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, PoolKernels.Shape, int>? _avgPool;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, PoolKernels.Shape, int>? _avgPoolBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>? _adaptive;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>? _adaptiveBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>? _softmax;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>? _softmaxBackward;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>? _bnStatistics;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>? _bnApply;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>? _bnBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float, float, float>? _lrn;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float, float>? _lrnBackward;

    public void Pad2d(in PadGeometry g, Storage x, Storage y)
    {
        g.Validate();
        int n = g.Planes * g.OutHeight * g.OutWidth;
        if (n == 0) return;
        Kernel(ref _pad, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PadKernels.Shape>(PadKernels.Forward))(
            n, F(x), F(y), PadKernels.Shape.From(g));
    }

    public void Pad2dBackward(in PadGeometry g, Storage dy, Storage dx)
    {
        g.Validate();
        Fill(dx, 0f);
        int n = g.Planes * g.OutHeight * g.OutWidth;
        if (n == 0) return;
        Kernel(ref _padBackward, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PadKernels.Shape>(PadKernels.Backward))(
            n, F(dy), F(dx), PadKernels.Shape.From(g));
    }

    public void Pool2d(in PoolGeometry g, PoolKind kind, Storage x, Storage y)
    {
        g.Validate();
        int n = g.Batch * g.Channels * g.OutHeight * g.OutWidth;
        if (n == 0) return;
        var shape = PoolKernels.Shape.From(g);
        if (kind == PoolKind.Max)
            Kernel(ref _maxPool, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolKernels.Shape>(PoolKernels.Max))(
                n, F(x), F(y), shape);
        else
            Kernel(ref _avgPool, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolKernels.Shape, int>(PoolKernels.Average))(
                n, F(x), F(y), shape, kind == PoolKind.Sum ? 1 : 0);
    }

    public void Pool2dBackward(in PoolGeometry g, PoolKind kind, Storage x, Storage dy, Storage dx)
    {
        g.Validate();
        Fill(dx, 0f);
        int n = g.Batch * g.Channels * g.OutHeight * g.OutWidth;
        if (n == 0) return;
        var shape = PoolKernels.Shape.From(g);
        if (kind == PoolKind.Max)
            Kernel(ref _maxPoolBackward, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, PoolKernels.Shape>(PoolKernels.MaxBackward))(
                n, F(x), F(dy), F(dx), shape);
        else
            Kernel(ref _avgPoolBackward, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolKernels.Shape, int>(PoolKernels.AverageBackward))(
                n, F(dy), F(dx), shape, kind == PoolKind.Sum ? 1 : 0);
    }

    public void AdaptiveAvgPool2d(int planes, int inH, int inW, int outH, int outW, Storage x, Storage y)
    {
        CheckAdaptive(inH, inW, outH, outW);
        if (planes == 0) return;
        Kernel(ref _adaptive, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(PoolKernels.Adaptive))(
            planes * outH * outW, F(x), F(y), inH, inW, outH, outW);
    }

    public void AdaptiveAvgPool2dBackward(int planes, int inH, int inW, int outH, int outW, Storage dy, Storage dx)
    {
        CheckAdaptive(inH, inW, outH, outW);
        Fill(dx, 0f);
        if (planes == 0) return;
        Kernel(ref _adaptiveBackward, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(PoolKernels.AdaptiveBackward))(
            planes * outH * outW, F(dy), F(dx), inH, inW, outH, outW);
    }

    private static void CheckAdaptive(int inH, int inW, int outH, int outW) =>
        Check(inH > 0 && inW > 0 && outH > 0 && outW > 0, $"adaptive pooling needs positive sizes, got input {inH}x{inW} and output {outH}x{outW}");

    public void Softmax(bool log, Storage x, int outer, int dim, int inner, Storage y)
    {
        if (outer * inner * dim == 0) return;
        Kernel(ref _softmax, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxKernels.Forward))(
            outer * inner, F(x), F(y), dim, inner, log ? 1 : 0);
    }

    public void SoftmaxBackward(bool log, Storage y, Storage dy, int outer, int dim, int inner, Storage dx)
    {
        if (outer * inner * dim == 0) return;
        Kernel(ref _softmaxBackward, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(SoftmaxKernels.Backward))(
            outer * inner, F(y), F(dy), F(dx), dim, inner, log ? 1 : 0);
    }

    public void BatchNormStatistics(Storage x, int n, int c, int s, Storage mean, Storage variance)
    {
        if (c == 0) return;
        Kernel(ref _bnStatistics, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(BatchNormKernels.Statistics))(
            new KernelConfig(c, ReduceGroup), F(x), F(mean), F(variance), n, c, s);
    }

    public void BatchNormApply(Storage x, int n, int c, int s, Storage mean, Storage invStd, Storage? gamma, Storage? beta, Storage y)
    {
        if (n * c * s == 0) return;
        Kernel(ref _bnApply, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(
            BatchNormKernels.Apply))(n * c * s, F(x), F(y), F(mean), F(invStd), FOrDummy(gamma), FOrDummy(beta), c, s, gamma is null ? 0 : 1, beta is null ? 0 : 1);
    }

    public void BatchNormBackward(Storage x, Storage dy, int n, int c, int s, Storage mean, Storage invStd, Storage? gamma,
        Storage dx, Storage? dgamma, Storage? dbeta)
    {
        if (c == 0) return;
        int flags = (gamma is null ? 0 : 1) | (dgamma is null ? 0 : 2) | (dbeta is null ? 0 : 4);
        Kernel(ref _bnBackward, a => a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(
            BatchNormKernels.Backward))(new KernelConfig(c, ReduceGroup), F(x), F(dy), F(mean), F(invStd), FOrDummy(gamma), F(dx), FOrDummy(dgamma), FOrDummy(dbeta), n, c, s, flags);
    }

    public void LocalResponseNorm(Storage x, int n, int c, int s, int size, float alpha, float beta, float k, Storage y, Storage scale)
    {
        Check(size > 0, $"local response norm needs a positive size, got {size}");
        if (n * c * s == 0) return;
        Kernel(ref _lrn, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float, float, float>(LrnKernels.Forward))(
            n * c * s, F(x), F(y), F(scale), c, s, size, alpha, beta, k);
    }

    public void LocalResponseNormBackward(Storage x, Storage y, Storage scale, Storage dy, int n, int c, int s, int size, float alpha, float beta, Storage dx)
    {
        Check(size > 0, $"local response norm needs a positive size, got {size}");
        if (n * c * s == 0) return;
        Kernel(ref _lrnBackward, a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float, float>(LrnKernels.Backward))(
            n * c * s, F(x), F(y), F(scale), F(dy), F(dx), c, s, size, alpha, beta);
    }
}
