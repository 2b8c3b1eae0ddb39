using System.Numerics.Tensors;

namespace Fovea.Backends.Cpu;

/// <summary>
/// Element-wise functions of two broadcast inputs. The common shapes get SIMD fast paths: equal dense shapes,
/// a scalar operand, and a row (or per-channel) operand repeated over the inner dims, as bias adds are.
/// </summary>
internal static class BinaryKernels
{
    public static void Run(BinaryOp op, float[] a, int aOff, ReadOnlySpan<int> aStr, float[] b, int bOff, ReadOnlySpan<int> bStr,
        ReadOnlySpan<int> shape, float[] y)
    {
        int n = Shapes.Count(shape);
        bool aDense = IsDense(shape, aStr), bDense = IsDense(shape, bStr);
        if (aDense && bDense)
        {
            Dense(op, a.AsSpan(aOff, n), b.AsSpan(bOff, n), y.AsSpan(0, n));
            return;
        }
        if (aDense && IsZero(bStr))
        {
            DenseScalar(op, a.AsSpan(aOff, n), b[bOff], y.AsSpan(0, n), scalarOnLeft: false);
            return;
        }
        if (bDense && IsZero(aStr))
        {
            DenseScalar(op, b.AsSpan(bOff, n), a[aOff], y.AsSpan(0, n), scalarOnLeft: true);
            return;
        }
        // General path: walk the innermost dim with each side's own stride.
        Reference(op, a, aOff, aStr, b, bOff, bStr, shape, y);
    }

    /// <summary>The plain strided loop; the fast paths above are tested against it.</summary>
    public static void Reference(BinaryOp op, float[] a, int aOff, ReadOnlySpan<int> aStr, float[] b, int bOff, ReadOnlySpan<int> bStr,
        ReadOnlySpan<int> shape, float[] y)
    {
        if (shape.Length == 0) { y[0] = Apply(op, a[aOff], b[bOff]); return; }
        int inner = shape[^1], sa = aStr[^1], sb = bStr[^1];
        // Both operands' rows advance in lockstep over the output's row-major order.
        var rowsA = new StridedRows(shape, aStr, aOff, stackalloc int[shape.Length]);
        var rowsB = new StridedRows(shape, bStr, bOff, stackalloc int[shape.Length]);
        for (int o = 0; rowsA.MoveNext() && rowsB.MoveNext(); o += inner)
        {
            int pa = rowsA.Offset, pb = rowsB.Offset;
            if (sa == 1 && sb == 1) Dense(op, a.AsSpan(pa, inner), b.AsSpan(pb, inner), y.AsSpan(o, inner));
            else if (sa == 1 && sb == 0) DenseScalar(op, a.AsSpan(pa, inner), b[pb], y.AsSpan(o, inner), false);
            else if (sa == 0 && sb == 1) DenseScalar(op, b.AsSpan(pb, inner), a[pa], y.AsSpan(o, inner), true);
            else for (int i = 0; i < inner; i++) y[o + i] = Apply(op, a[pa + i * sa], b[pb + i * sb]);
        }
    }

    // Row-major contiguous, as Shapes.ContiguousStrides lays a shape out (a dim of size 1 may have any stride), worked
    // out dim by dim from the last instead of into an array, which a call would allocate.
    private static bool IsDense(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int contiguous = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] != 1 && strides[d] != contiguous) return false;
            contiguous *= Math.Max(shape[d], 1);
        }
        return true;
    }

    private static bool IsZero(ReadOnlySpan<int> strides)
    {
        foreach (var s in strides) if (s != 0) return false;
        return true;
    }

    public static float Apply(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Max => MathF.Max(a, b),
        BinaryOp.Min => MathF.Min(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static void Dense(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            case BinaryOp.Max: TensorPrimitives.Max(a, b, y); break;
            case BinaryOp.Min: TensorPrimitives.Min(a, b, y); break;
        }
    }

    private static void DenseScalar(BinaryOp op, ReadOnlySpan<float> v, float s, Span<float> y, bool scalarOnLeft)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(v, s, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(v, s, y); break;
            case BinaryOp.Max: TensorPrimitives.Max(v, s, y); break;
            case BinaryOp.Min: TensorPrimitives.Min(v, s, y); break;
            case BinaryOp.Sub:
                if (scalarOnLeft) TensorPrimitives.Subtract(s, v, y); else TensorPrimitives.Subtract(v, s, y);
                break;
            case BinaryOp.Div:
                if (scalarOnLeft) TensorPrimitives.Divide(s, v, y); else TensorPrimitives.Divide(v, s, y);
                break;
        }
    }
}
