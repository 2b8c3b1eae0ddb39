namespace Fovea.Backends.Cpu;

// Padding, pooling, softmax and normalisation: the kernels live in Pool/ and Norm/ beside this file.
public sealed partial class CpuBackend
{
    public void Pad2d(in PadGeometry g, Storage x, Storage y) => Cpu.Pad2d.Forward(g, F(x), F(y));

    public void Pad2dBackward(in PadGeometry g, Storage dy, Storage dx) => Cpu.Pad2d.Backward(g, F(dy), F(dx));

    public void Pool2d(in PoolGeometry g, PoolKind kind, Storage x, Storage y) => Cpu.Pool2d.Forward(g, kind, F(x), F(y), null);

    public void Pool2dBackward(in PoolGeometry g, PoolKind kind, Storage x, Storage dy, Storage dx) =>
        Cpu.Pool2d.Backward(g, kind, F(x), F(dy), F(dx));

    public void AdaptiveAvgPool2d(int planes, int inH, int inW, int outH, int outW, Storage x, Storage y) =>
        Cpu.AdaptiveAvgPool2d.Forward(planes, inH, inW, outH, outW, F(x), F(y));

    public void AdaptiveAvgPool2dBackward(int planes, int inH, int inW, int outH, int outW, Storage dy, Storage dx) =>
        Cpu.AdaptiveAvgPool2d.Backward(planes, inH, inW, outH, outW, F(dy), F(dx));

    public void Softmax(bool log, Storage x, int outer, int dim, int inner, Storage y) =>
        Cpu.Softmax.Forward(log, F(x), outer, dim, inner, F(y));

    public void SoftmaxBackward(bool log, Storage y, Storage dy, int outer, int dim, int inner, Storage dx) =>
        Cpu.Softmax.Backward(log, F(y), F(dy), outer, dim, inner, F(dx));

    public void BatchNormStatistics(Storage x, int n, int c, int s, Storage mean, Storage variance) =>
        BatchNorm.Statistics(F(x), n, c, s, F(mean), F(variance));

    public void BatchNormApply(Storage x, int n, int c, int s, Storage mean, Storage invStd, Storage? gamma, Storage? beta, Storage y) =>
        BatchNorm.Apply(F(x), n, c, s, F(mean), F(invStd), gamma is null ? null : F(gamma), beta is null ? null : F(beta), F(y));

    public void BatchNormBackward(Storage x, Storage dy, int n, int c, int s, Storage mean, Storage invStd, Storage? gamma,
        Storage dx, Storage? dgamma, Storage? dbeta) =>
        BatchNorm.Backward(F(x), F(dy), n, c, s, F(mean), F(invStd), gamma is null ? null : F(gamma), F(dx),
            dgamma is null ? null : F(dgamma), dbeta is null ? null : F(dbeta));

    public void LocalResponseNorm(Storage x, int n, int c, int s, int size, float alpha, float beta, float k, Storage y, Storage scale) =>
        Cpu.LocalResponseNorm.Forward(F(x), n, c, s, size, alpha, beta, k, F(y), F(scale));

    public void LocalResponseNormBackward(Storage x, Storage y, Storage scale, Storage dy, int n, int c, int s, int size, float alpha, float beta, Storage dx) =>
        Cpu.LocalResponseNorm.Backward(F(x), F(y), F(scale), F(dy), n, c, s, size, alpha, beta, F(dx));
}
