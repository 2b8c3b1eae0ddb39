namespace Fovea.Backends.Cpu;

// Padding, pooling, softmax and normalisation. (Being written.)
public sealed partial class CpuBackend
{
    public void Pad2d(in PadGeometry g, Storage x, Storage y) => throw new NotImplementedException();
    public void Pad2dBackward(in PadGeometry g, Storage dy, Storage dx) => throw new NotImplementedException();
    public void Pool2d(in PoolGeometry g, PoolKind kind, Storage x, Storage y, Storage? argmax) => throw new NotImplementedException();
    public void Pool2dBackward(in PoolGeometry g, PoolKind kind, Storage dy, Storage? argmax, Storage dx) => throw new NotImplementedException();
    public void AdaptiveAvgPool2d(int planes, int inH, int inW, int outH, int outW, Storage x, Storage y) => throw new NotImplementedException();
    public void AdaptiveAvgPool2dBackward(int planes, int inH, int inW, int outH, int outW, Storage dy, Storage dx) => throw new NotImplementedException();
    public void Softmax(bool log, Storage x, int outer, int dim, int inner, Storage y) => throw new NotImplementedException();
    public void SoftmaxBackward(bool log, Storage y, Storage dy, int outer, int dim, int inner, Storage dx) => throw new NotImplementedException();
    public void BatchNormStatistics(Storage x, int n, int c, int s, Storage mean, Storage variance) => throw new NotImplementedException();
    public void BatchNormApply(Storage x, int n, int c, int s, Storage mean, Storage invStd, Storage? gamma, Storage? beta, Storage y) => throw new NotImplementedException();
    public void BatchNormBackward(Storage x, Storage dy, int n, int c, int s, Storage mean, Storage invStd, Storage? gamma,
        Storage dx, Storage? dgamma, Storage? dbeta) => throw new NotImplementedException();
    public void LocalResponseNorm(Storage x, int n, int c, int s, int size, float alpha, float beta, float k, Storage y, Storage scale) => throw new NotImplementedException();
    public void LocalResponseNormBackward(Storage x, Storage y, Storage scale, Storage dy, int n, int c, int s, int size, float alpha, float beta, Storage dx) => throw new NotImplementedException();
}
