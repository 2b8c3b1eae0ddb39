using ILGPU;
using ILGPU.Algorithms;

namespace Fovea.Gpu.Kernels;

/// <summary>
/// Element-wise kernels, one thread per element: unary functions and their derivatives, broadcast binary ops,
/// axpy, fills, and strided gathers and scatters. The op is a uniform int argument, so every thread of a launch
/// takes the same branch.
/// </summary>
internal static class ElementwiseKernels
{
    // x, y [n]
    public static void Unary(Index1D i, ArrayView<float> x, ArrayView<float> y, int op, float alpha) => y[i] = Apply(op, x[i], alpha);

    private static float Apply(int op, float v, float alpha)
    {
        switch ((UnaryOp)op)
        {
            case UnaryOp.Neg: return -v;
            case UnaryOp.Exp: return XMath.Exp(v);
            case UnaryOp.Log: return XMath.Log(v);
            case UnaryOp.Sqrt: return XMath.Sqrt(v);
            case UnaryOp.Abs: return XMath.Abs(v);
            case UnaryOp.Relu: return v > 0f || XMath.IsNaN(v) ? v : 0f;
            case UnaryOp.LeakyRelu: return v > 0f ? v : alpha * v;
            case UnaryOp.Sigmoid: return 1f / (1f + XMath.Exp(-v));
            case UnaryOp.Tanh: return XMath.Tanh(v);
            case UnaryOp.Square: return v * v;
            case UnaryOp.Reciprocal: return 1f / v;
            case UnaryOp.AddScalar: return v + alpha;
            case UnaryOp.MulScalar: return v * alpha;
            default: return Pow(v, alpha);
        }
    }

    /// <summary>v^p with MathF.Pow's sign for a negative base and a whole exponent (a plain exp·log would give NaN).</summary>
    private static float Pow(float v, float p)
    {
        if (v >= 0f) return XMath.Pow(v, p);
        if (XMath.Floor(p) != p) return float.NaN;
        float r = XMath.Pow(-v, p);
        return XMath.Abs(p % 2f) == 1f ? -r : r;
    }

    // x, y [n], mask [words]: one thread a 64-bit word of the mask, so that no two threads write one word.
    public static void ReluMasked(Index1D word, ArrayView<float> x, ArrayView<float> y, ArrayView<long> mask, int n)
    {
        long bits = 0;
        int start = word * 64;
        for (int j = 0; j < 64 && start + j < n; j++)
        {
            float v = Apply((int)UnaryOp.Relu, x[start + j], 0f);
            y[start + j] = v;
            if (v > 0f) bits |= 1L << j;
        }
        mask[word] = bits;
    }

    // mask [words], dy, dx [n]: dx = dy where the element's bit is set.
    public static void ReluMaskedBackward(Index1D i, ArrayView<long> mask, ArrayView<float> dy, ArrayView<float> dx) =>
        dx[i] = ((mask[i / 64] >> (i % 64)) & 1L) != 0 ? dy[i] : 0f;

    // x, y, dy, dx [n]: dx = dy · f'(x), using the output y where that is cheaper.
    public static void UnaryBackward(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int op, float alpha)
    {
        float xv = x[i], yv = y[i], g = dy[i], r;
        switch ((UnaryOp)op)
        {
            case UnaryOp.Neg: r = -g; break;
            case UnaryOp.Exp: r = g * yv; break;
            case UnaryOp.Log: r = g / xv; break;
            case UnaryOp.Sqrt: r = g * 0.5f / yv; break;
            case UnaryOp.Abs: r = xv > 0f ? g : xv < 0f ? -g : 0f; break;
            case UnaryOp.Relu: r = xv > 0f ? g : 0f; break;
            case UnaryOp.LeakyRelu: r = xv > 0f ? g : alpha * g; break;
            case UnaryOp.Sigmoid: r = g * yv * (1f - yv); break;
            case UnaryOp.Tanh: r = g * (1f - yv * yv); break;
            case UnaryOp.Square: r = 2f * xv * g; break;
            case UnaryOp.Reciprocal: r = -g * yv * yv; break;
            case UnaryOp.AddScalar: r = g; break;
            case UnaryOp.MulScalar: r = g * alpha; break;
            default: r = g * alpha * Pow(xv, alpha - 1f); break;
        }
        dx[i] = r;
    }

    // y [shape] = a op b, each side read through its own broadcast strides.
    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, StridedIndex ai, StridedIndex bi, int op)
    {
        float u = a[ai.At(i)], v = b[bi.At(i)], r;
        switch ((BinaryOp)op)
        {
            case BinaryOp.Add: r = u + v; break;
            case BinaryOp.Sub: r = u - v; break;
            case BinaryOp.Mul: r = u * v; break;
            case BinaryOp.Div: r = u / v; break;
            // MathF.Max/Min propagate NaN, as the CPU backend's TensorPrimitives do.
            case BinaryOp.Max: r = XMath.IsNaN(u) || XMath.IsNaN(v) ? float.NaN : u > v ? u : v; break;
            default: r = XMath.IsNaN(u) || XMath.IsNaN(v) ? float.NaN : u < v ? u : v; break;
        }
        y[i] = r;
    }

    // y[i] += alpha · x[i]
    public static void Axpy(Index1D i, ArrayView<float> x, ArrayView<float> y, float alpha) => y[i] += alpha * x[i];

    public static void FillFloat(Index1D i, ArrayView<float> y, float value) => y[i] = value;

    public static void FillLong(Index1D i, ArrayView<long> y, long value) => y[i] = value;

    // destination[dOffset + i] = source[strided(i)]
    public static void CopyStrided<T>(Index1D i, ArrayView<T> source, ArrayView<T> destination, StridedIndex si, int destinationOffset)
        where T : unmanaged => destination[destinationOffset + i] = source[si.At(i)];

    // destination[strided(i)] = source[i]
    public static void ScatterStrided(Index1D i, ArrayView<float> source, ArrayView<float> destination, StridedIndex di) =>
        destination[di.At(i)] = source[i];
}
