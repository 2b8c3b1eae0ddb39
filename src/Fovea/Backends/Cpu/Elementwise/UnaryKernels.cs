using System.Numerics;
using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>Element-wise functions of one input and their derivatives, over spans with SIMD (TensorPrimitives).</summary>
internal static class UnaryKernels
{
    /// <summary>
    /// An element's weight against <see cref="CpuParallel.MinWorkPerThread"/>: a pass is split over threads from
    /// 64K elements (256 KB), where a hand-off (a few microseconds) is small beside streaming the arrays.
    /// </summary>
    internal const long WorkPerElement = 1;

    public static void Forward(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float alpha)
    {
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Relu: TensorPrimitives.Max(x, 0f, y); break;
            case UnaryOp.LeakyRelu:
                for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : alpha * x[i];
                break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Reciprocal: TensorPrimitives.Divide(1f, x, y); break;
            case UnaryOp.AddScalar: TensorPrimitives.Add(x, alpha, y); break;
            case UnaryOp.MulScalar: TensorPrimitives.Multiply(x, alpha, y); break;
            case UnaryOp.PowScalar: TensorPrimitives.Pow(x, alpha, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    public static void Backward(UnaryOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float alpha)
    {
        int n = dx.Length;
        switch (op)
        {
            case UnaryOp.Neg: TensorPrimitives.Negate(dy, dx); break;
            case UnaryOp.Exp: TensorPrimitives.Multiply(dy, y, dx); break;
            case UnaryOp.Log: TensorPrimitives.Divide(dy, x, dx); break;
            case UnaryOp.Sqrt: for (int i = 0; i < n; i++) dx[i] = dy[i] * 0.5f / y[i]; break;
            case UnaryOp.Abs: for (int i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : x[i] < 0 ? -dy[i] : 0f; break;
            case UnaryOp.Relu: ReluBackward(x, dy, dx, 0f, leaky: false); break;
            case UnaryOp.LeakyRelu: ReluBackward(x, dy, dx, alpha, leaky: true); break;
            case UnaryOp.Sigmoid: for (int i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1f - y[i]); break;
            case UnaryOp.Tanh: for (int i = 0; i < n; i++) dx[i] = dy[i] * (1f - y[i] * y[i]); break;
            case UnaryOp.Square: for (int i = 0; i < n; i++) dx[i] = 2f * x[i] * dy[i]; break;
            case UnaryOp.Reciprocal: for (int i = 0; i < n; i++) dx[i] = -dy[i] * y[i] * y[i]; break;
            case UnaryOp.AddScalar: dy.CopyTo(dx); break;
            case UnaryOp.MulScalar: TensorPrimitives.Multiply(dy, alpha, dx); break;
            case UnaryOp.PowScalar: for (int i = 0; i < n; i++) dx[i] = dy[i] * alpha * MathF.Pow(x[i], alpha - 1f); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    // dx = x > 0 ? dy : (leaky ? slope·dy : 0), as the scalar loop at the end writes it. The select is done a vector
    // at a time because the scalar loop's branch follows the sign of x, which after a ReLU is a coin toss: it was
    // mispredicted half the time and made this the slowest step of LeNet-5's backward (about 4 ns an element).
    // A compare-and-mask gives the same bits: NaN in x compares false (0, or slope·dy), NaN in dy passes through.
    internal static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float slope, bool leaky)
    {
        int n = dx.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var vs = new Vector<float>(slope);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var xv = new Vector<float>(x.Slice(i, Vector<float>.Count));
                var gv = new Vector<float>(dy.Slice(i, Vector<float>.Count));
                var positive = Vector.GreaterThan(xv, Vector<float>.Zero);
                var r = leaky ? Vector.ConditionalSelect(positive, gv, vs * gv) : Vector.BitwiseAnd(gv, Vector.AsVectorSingle(positive));
                r.CopyTo(dx.Slice(i, Vector<float>.Count));
            }
        }
        ReluBackwardReference(x[i..], dy[i..], dx[i..], slope, leaky);
    }

    /// <summary>The plain loop: the vector loop's tail, and the oracle its tests compare with.</summary>
    internal static void ReluBackwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float slope, bool leaky)
    {
        for (int i = 0; i < dx.Length; i++) dx[i] = x[i] > 0 ? dy[i] : leaky ? slope * dy[i] : 0f;
    }
}
