using System.Buffers;
using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Softmax and log-softmax over the middle axis of x [outer, dim, inner], stable by subtracting each line's maximum.
/// With inner = 1 a line is a contiguous row; otherwise whole inner rows are combined at once so loads stay
/// sequential and SIMD (TensorPrimitives) does the arithmetic.
/// </summary>
internal static class Softmax
{
    // x, y [outer, dim, inner]
    public static void Forward(bool log, float[] x, int outer, int dim, int inner, float[] y)
    {
        if (dim == 0) return;
        CpuParallel.For(outer, 4L * dim * inner, new ForwardLines(log, x, dim, inner, y));
    }

    private readonly struct ForwardLines(bool log, float[] x, int dim, int inner, float[] y) : CpuParallel.IItems
    {
        public void Run(int o)
        {
            var xo = x.AsSpan(o * dim * inner, dim * inner);
            var yo = y.AsSpan(o * dim * inner, dim * inner);
            if (inner == 1) Row(log, xo, yo);
            else Planes(log, xo, dim, inner, yo);
        }
    }

    // y, dy, dx [outer, dim, inner]. softmax: dx = y·(dy − Σ dy·y); log-softmax: dx = dy − exp(y)·Σ dy.
    public static void Backward(bool log, float[] y, float[] dy, int outer, int dim, int inner, float[] dx)
    {
        if (dim == 0) return;
        CpuParallel.For(outer, 4L * dim * inner, new BackwardLines(log, y, dy, dim, inner, dx));
    }

    private readonly struct BackwardLines(bool log, float[] y, float[] dy, int dim, int inner, float[] dx) : CpuParallel.IItems
    {
        public void Run(int o)
        {
            int at = o * dim * inner, n = dim * inner;
            var yo = y.AsSpan(at, n);
            var dyo = dy.AsSpan(at, n);
            var dxo = dx.AsSpan(at, n);
            if (inner == 1)
            {
                if (log)
                {
                    float sum = TensorPrimitives.Sum(dyo);
                    TensorPrimitives.Exp(yo, dxo);
                    TensorPrimitives.MultiplyAdd(dxo, -sum, dyo, dxo);
                }
                else
                {
                    float dot = TensorPrimitives.Dot(dyo, yo);
                    TensorPrimitives.Subtract(dyo, dot, dxo);
                    TensorPrimitives.Multiply(dxo, yo, dxo);
                }
                return;
            }
            // s[i] = Σ_d dy·y (softmax) or Σ_d dy (log-softmax), for each inner position at once.
            var buffer = ArrayPool<float>.Shared.Rent(inner);
            var s = buffer.AsSpan(0, inner);
            s.Clear();
            for (int d = 0; d < dim; d++)
            {
                var dyr = dyo.Slice(d * inner, inner);
                if (log) TensorPrimitives.Add(s, dyr, s);
                else TensorPrimitives.MultiplyAdd(dyr, yo.Slice(d * inner, inner), s, s);
            }
            for (int d = 0; d < dim; d++)
            {
                var yr = yo.Slice(d * inner, inner);
                var dyr = dyo.Slice(d * inner, inner);
                var dxr = dxo.Slice(d * inner, inner);
                if (log)
                {
                    TensorPrimitives.Exp(yr, dxr);
                    TensorPrimitives.Multiply(dxr, s, dxr);
                    TensorPrimitives.Subtract(dyr, dxr, dxr);
                }
                else
                {
                    TensorPrimitives.Subtract(dyr, s, dxr);
                    TensorPrimitives.Multiply(dxr, yr, dxr);
                }
            }
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    private static void Row(bool log, ReadOnlySpan<float> x, Span<float> y)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        if (log)
        {
            // log-softmax = (x − max) − log Σ exp(x − max), without ever dividing.
            float logSum = MathF.Log(SumExp(y));
            TensorPrimitives.Subtract(y, logSum, y);
        }
        else
        {
            TensorPrimitives.Exp(y, y);
            TensorPrimitives.Multiply(y, 1f / TensorPrimitives.Sum(y), y);
        }
    }

    private static float SumExp(ReadOnlySpan<float> shifted)
    {
        Span<float> buffer = stackalloc float[256];
        float sum = 0f;
        for (int i = 0; i < shifted.Length; i += buffer.Length)
        {
            var part = shifted.Slice(i, Math.Min(buffer.Length, shifted.Length - i));
            var e = buffer[..part.Length];
            TensorPrimitives.Exp(part, e);
            sum += TensorPrimitives.Sum(e);
        }
        return sum;
    }

    private static void Planes(bool log, ReadOnlySpan<float> x, int dim, int inner, Span<float> y)
    {
        var buffer = ArrayPool<float>.Shared.Rent(3 * inner);
        var max = buffer.AsSpan(0, inner);
        var sum = buffer.AsSpan(inner, inner);
        var exp = buffer.AsSpan(2 * inner, inner);
        sum.Clear();
        x[..inner].CopyTo(max);
        for (int d = 1; d < dim; d++) TensorPrimitives.Max(max, x.Slice(d * inner, inner), max);
        for (int d = 0; d < dim; d++)
        {
            var yr = y.Slice(d * inner, inner);
            TensorPrimitives.Subtract(x.Slice(d * inner, inner), max, yr);
            if (log)
            {
                // y keeps x − max; the exponentials only feed the sum.
                TensorPrimitives.Exp(yr, exp);
                TensorPrimitives.Add(sum, exp, sum);
            }
            else
            {
                TensorPrimitives.Exp(yr, yr);
                TensorPrimitives.Add(sum, yr, sum);
            }
        }
        if (log)
        {
            TensorPrimitives.Log(sum, sum);
            for (int d = 0; d < dim; d++) TensorPrimitives.Subtract(y.Slice(d * inner, inner), sum, y.Slice(d * inner, inner));
        }
        else
        {
            TensorPrimitives.Reciprocal(sum, sum);
            for (int d = 0; d < dim; d++) TensorPrimitives.Multiply(y.Slice(d * inner, inner), sum, y.Slice(d * inner, inner));
        }
        ArrayPool<float>.Shared.Return(buffer);
    }
}
