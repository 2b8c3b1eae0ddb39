using System.Buffers;
using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Local response normalisation across channels (AlexNet; torch.nn.LocalResponseNorm) over x [N, C, S]:
/// scale[c] = k + alpha/size · Σ x[c']² for c' in [c − ⌊size/2⌋, c + ⌈size/2⌉ − 1] clipped to the channels (PyTorch
/// pads size/2 zero channels before and (size−1)/2 after), and y = x · scale^(−beta). Every channel row of S values
/// is one SIMD operation.
/// </summary>
internal static class LocalResponseNorm
{
    // x, y, scale [N, C, S]
    public static void Forward(float[] x, int n, int c, int s, int size, float alpha, float beta, float k, float[] y, float[] scale)
    {
        Check(size);
        CpuParallel.For(n * c, (long)(size + 4) * s, new ForwardRows(x, c, s, size, alpha, beta, k, y, scale));
    }

    private readonly struct ForwardRows(float[] x, int c, int s, int size, float alpha, float beta, float k, float[] y, float[] scale)
        : CpuParallel.IItems
    {
        public void Run(int row)
        {
            int before = size / 2, after = (size - 1) / 2;
            int b = row / c, ch = row % c;
            var sr = scale.AsSpan(row * s, s);
            sr.Clear();
            for (int j = Math.Max(0, ch - before); j <= Math.Min(c - 1, ch + after); j++)
            {
                var xj = x.AsSpan((b * c + j) * s, s);
                TensorPrimitives.MultiplyAdd(xj, xj, sr, sr);
            }
            TensorPrimitives.Multiply(sr, alpha / size, sr);
            TensorPrimitives.Add(sr, k, sr);
            var yr = y.AsSpan(row * s, s);
            PowNegative(sr, beta, yr);
            TensorPrimitives.Multiply(x.AsSpan(row * s, s), yr, yr);
        }
    }

    // x, y, scale, dy, dx [N, C, S]:
    // dx[c] = dy[c]·scale[c]^(−β) − (2αβ/size)·x[c]·Σ_{c' whose window holds c} dy[c']·x[c']·scale[c']^(−β−1),
    // where x[c']·scale[c']^(−β−1) = y[c']/scale[c'] saves a power per element.
    public static void Backward(float[] x, float[] y, float[] scale, float[] dy, int n, int c, int s, int size, float alpha, float beta, float[] dx)
    {
        Check(size);
        CpuParallel.For(n, (long)c * s * (size + 6), new BackwardSamples(x, y, scale, dy, c, s, size, alpha, beta, dx));
    }

    private readonly struct BackwardSamples(float[] x, float[] y, float[] scale, float[] dy, int c, int s, int size, float alpha, float beta,
        float[] dx) : CpuParallel.IItems
    {
        public void Run(int b)
        {
            // Channel c lies in the window of c' for c' in [c − (size−1)/2, c + size/2]: the forward's window mirrored.
            int before = (size - 1) / 2, after = size / 2;
            float factor = -2f * alpha * beta / size;
            // t[c'] = dy[c']·y[c']/scale[c'] for the whole sample, computed once and read by up to size channels.
            // Pooled: for AlexNet's first LRN this is over a megabyte per sample.
            float[] tBuffer = ArrayPool<float>.Shared.Rent(c * s), accBuffer = ArrayPool<float>.Shared.Rent(s);
            var t = tBuffer.AsSpan(0, c * s);
            var acc = accBuffer.AsSpan(0, s);
            int at = b * c * s;
            TensorPrimitives.Multiply(dy.AsSpan(at, c * s), y.AsSpan(at, c * s), t);
            TensorPrimitives.Divide(t, scale.AsSpan(at, c * s), t);
            for (int ch = 0; ch < c; ch++)
            {
                acc.Clear();
                for (int j = Math.Max(0, ch - before); j <= Math.Min(c - 1, ch + after); j++)
                    TensorPrimitives.Add(acc, t.Slice(j * s, s), acc);
                int row = at + ch * s;
                var dxr = dx.AsSpan(row, s);
                TensorPrimitives.Multiply(x.AsSpan(row, s), acc, acc);
                PowNegative(scale.AsSpan(row, s), beta, dxr);
                TensorPrimitives.Multiply(dxr, dy.AsSpan(row, s), dxr);
                TensorPrimitives.MultiplyAdd(acc, factor, dxr, dxr);
            }
            ArrayPool<float>.Shared.Return(tBuffer);
            ArrayPool<float>.Shared.Return(accBuffer);
        }
    }

    /// <summary>result = v^(−beta), with AlexNet's beta = 0.75 as 1/√(v·√v): square roots are SIMD instructions, a general power is not.</summary>
    internal static void PowNegative(ReadOnlySpan<float> v, float beta, Span<float> result)
    {
        if (beta == 0.75f)
        {
            TensorPrimitives.Sqrt(v, result);
            TensorPrimitives.Multiply(v, result, result);
            TensorPrimitives.Sqrt(result, result);
            TensorPrimitives.Divide(1f, result, result);
        }
        else TensorPrimitives.Pow(v, -beta, result);
    }

    private static void Check(int size)
    {
        if (size <= 0) throw new ArgumentException($"local response norm needs a positive size, got {size}");
    }
}
