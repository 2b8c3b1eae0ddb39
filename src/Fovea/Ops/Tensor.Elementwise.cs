using Fovea.Autograd;

namespace Fovea;

// Element-wise maths with NumPy broadcasting. Each op's backward is the closure under its forward.
public partial class Tensor
{
    private Tensor NewLike(int[] shape) => new(Backend.Allocate(DType.Float32, Shapes.Count(shape)), shape);

    // An element-wise kernel writes every element of its output, so that starts uninitialised (IBackend.AllocateUninitialized).
    private Tensor EmptyLike(int[] shape) => new(Backend.AllocateUninitialized(DType.Float32, Shapes.Count(shape)), shape);

    internal Tensor Unary(UnaryOp op, float alpha = 0f)
    {
        RequireFloat(OpNames.Of(op));
        var x = Dense();
        var y = x.EmptyLike(x.Shape);
        x.Backend.Unary(op, x.Storage, y.Storage, x.NumEl, alpha);
        return Recorder.Record(y, OpNames.Of(op), [x], UnaryBackward(op, x, y, alpha));
    }

    // dx from the op's input x and output y (the kernel reads whichever the op's derivative needs). Each dx[i] needs only
    // dy[i], so when the engine says nothing else reads dy (Engine.IsSpare) dx is written over it: the backward then
    // holds one gradient instead of two (the masked ReLU below does the same).
    private static Func<Tensor, Tensor?[]> UnaryBackward(UnaryOp op, Tensor x, Tensor y, float alpha) => g =>
    {
        var dx = SpareOrNew(g, x);
        x.Backend.UnaryBackward(op, x.Storage, y.Storage, g.Dense().Storage, dx.Storage, x.NumEl, alpha);
        return [dx];
    };

    // An element-wise backward's dx: the gradient g itself when the engine says nothing else reads it, else a new
    // tensor shaped like x.
    private static Tensor SpareOrNew(Tensor g, Tensor x) =>
        Autograd.Engine.IsSpare(g) && g.IsContiguous && g.Offset == 0 ? g : x.EmptyLike(x.Shape);

    /// <summary>
    /// ReLU written over this tensor's own buffer, as PyTorch's <c>relu_</c> and <c>ReLU(inplace=True)</c> do: a
    /// convolution's output is read by nothing after the ReLU, so it need not be kept beside it (VGG-16 at batch 4:
    /// 217 MB). The result shares this tensor's storage. Where overwriting could change what a backward reads (a
    /// strided view, a leaf that wants a gradient, the output of an op whose backward reads it, a frozen tensor) it makes
    /// a new tensor instead, so the result is always the same as <see cref="Relu"/>'s.
    /// </summary>
    public Tensor ReluInPlace()
    {
        RequireFloat("relu");
        bool overwrite = IsContiguous && Offset == 0 && !(RequiresGrad && GradFn is null) && GradFn is not { ReadsOutput: true }
            && !Storage.Frozen;
        if (!overwrite) return Relu();
        return MaskedRelu(this, new Tensor(Storage, Shape), "relu_");
    }

    /// <summary>Rectified linear unit, max(x, 0).</summary>
    public Tensor Relu()
    {
        RequireFloat("relu");
        var x = Dense();
        return MaskedRelu(x, x.EmptyLike(x.Shape), "relu");
    }

    // The backward needs only where the output is positive (x > 0 exactly when y > 0). Recorded, the forward keeps that
    // as a bit an element and the backward reads neither x nor y, so the buffer they live in goes back (or takes the
    // gradient of the op before) once the ops after the ReLU are done with it; VGG-16 at batch 4 then runs each
    // block's backward in the block's own activation buffers.
    private static Tensor MaskedRelu(Tensor x, Tensor y, string name)
    {
        var backend = x.Backend;
        int n = x.NumEl;
        if (!Recorder.Needs(x))
        {
            backend.Unary(UnaryOp.Relu, x.Storage, y.Storage, n, 0f);
            return y;
        }
        var mask = backend.Allocate(DType.Int64, Backends.Cpu.ReluMaskKernels.Words(n));
        backend.ReluMasked(x.Storage, y.Storage, mask, n);
        return Recorder.Record(y, name, [x], g =>
        {
            var dx = SpareOrNew(g, x);
            backend.ReluMaskedBackward(mask, g.Dense().Storage, dx.Storage, n);
            // The engine runs a closure once; the mask is read by nothing else.
            StepMemory.ReturnLongs(mask);
            return [dx];
        }, readsOutput: false, readsInputs: false);
    }

    private static Tensor BinaryOp(Fovea.BinaryOp op, Tensor a, Tensor b)
    {
        a.RequireFloat(OpNames.Of(op));
        b.RequireFloat(OpNames.Of(op));
        if (!a.Device.Equals(b.Device)) throw new ArgumentException($"{op}: tensors are on different devices ({a.Device} and {b.Device})");
        var shape = Shapes.Broadcast(a._shape, b._shape);
        var y = a.EmptyLike(shape);
        a.Backend.Binary(op, a.Storage, a.Offset, Shapes.BroadcastStrides(a._shape, a._strides, shape),
            b.Storage, b.Offset, Shapes.BroadcastStrides(b._shape, b._strides, shape), shape, y.Storage);
        var aShape = a.Shape;
        var bShape = b.Shape;
        return Recorder.Record(y, OpNames.Of(op), [a, b], g => op switch
        {
            Fovea.BinaryOp.Add => [g.SumTo(aShape), g.SumTo(bShape)],
            Fovea.BinaryOp.Sub => [g.SumTo(aShape), g.Neg().SumTo(bShape)],
            Fovea.BinaryOp.Mul => [(g * b).SumTo(aShape), (g * a).SumTo(bShape)],
            Fovea.BinaryOp.Div => [(g / b).SumTo(aShape), (g.Neg() * a / (b * b)).SumTo(bShape)],
            // Max/min route the gradient to the chosen side (ties to a).
            Fovea.BinaryOp.Max => [(g * Mask(a, b, y, true)).SumTo(aShape), (g * Mask(a, b, y, false)).SumTo(bShape)],
            Fovea.BinaryOp.Min => [(g * Mask(a, b, y, true)).SumTo(aShape), (g * Mask(a, b, y, false)).SumTo(bShape)],
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        });
    }

    // 1 where the output took its value from a (or b), else 0; ties go to a.
    private static Tensor Mask(Tensor a, Tensor b, Tensor y, bool forA)
    {
        var shape = y.Shape;
        var av = a.Expand(shape).ToArray();
        var yv = y.ToArray();
        var m = new float[yv.Length];
        for (int i = 0; i < m.Length; i++) m[i] = (av[i] == yv[i]) == forA ? 1f : 0f;
        return FromArray(m, shape, y.Device);
    }

    /// <summary>Sums a broadcast gradient back down to <paramref name="shape"/>.</summary>
    internal Tensor SumTo(int[] shape)
    {
        if (Shapes.Equal(_shape, shape)) return this;
        var t = this;
        int lead = Rank - shape.Length;
        for (int i = 0; i < lead; i++) t = t.Sum(0);
        for (int d = 0; d < shape.Length; d++)
            if (shape[d] == 1 && t._shape[d] != 1) t = t.Sum(d, keepDim: true);
        return t.Reshape(shape);
    }

    internal void RequireFloat(string op)
    {
        if (DType != DType.Float32) throw new ArgumentException($"{op} needs a float32 tensor, got {DType}");
    }

    public Tensor Add(Tensor other) => BinaryOp(Fovea.BinaryOp.Add, this, other);
    public Tensor Sub(Tensor other) => BinaryOp(Fovea.BinaryOp.Sub, this, other);
    public Tensor Mul(Tensor other) => BinaryOp(Fovea.BinaryOp.Mul, this, other);
    public Tensor Div(Tensor other) => BinaryOp(Fovea.BinaryOp.Div, this, other);
    /// <summary>Element-wise maximum of two tensors.</summary>
    public Tensor Maximum(Tensor other) => BinaryOp(Fovea.BinaryOp.Max, this, other);
    public Tensor Minimum(Tensor other) => BinaryOp(Fovea.BinaryOp.Min, this, other);

    public Tensor Add(float s) => Unary(UnaryOp.AddScalar, s);
    public Tensor Mul(float s) => Unary(UnaryOp.MulScalar, s);
    public Tensor Pow(float p) => Unary(UnaryOp.PowScalar, p);
    public Tensor Neg() => Unary(UnaryOp.Neg);
    public Tensor Exp() => Unary(UnaryOp.Exp);
    public Tensor Log() => Unary(UnaryOp.Log);
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt);
    public Tensor Abs() => Unary(UnaryOp.Abs);
    public Tensor Square() => Unary(UnaryOp.Square);
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal);
    public Tensor LeakyRelu(float negativeSlope = 0.01f) => Unary(UnaryOp.LeakyRelu, negativeSlope);
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid);
    public Tensor Tanh() => Unary(UnaryOp.Tanh);

    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator -(Tensor a) => a.Neg();
    public static Tensor operator +(Tensor a, float s) => a.Add(s);
    public static Tensor operator +(float s, Tensor a) => a.Add(s);
    public static Tensor operator -(Tensor a, float s) => a.Add(-s);
    public static Tensor operator -(float s, Tensor a) => a.Neg().Add(s);
    public static Tensor operator *(Tensor a, float s) => a.Mul(s);
    public static Tensor operator *(float s, Tensor a) => a.Mul(s);
    public static Tensor operator /(Tensor a, float s) => a.Mul(1f / s);
    public static Tensor operator /(float s, Tensor a) => a.Reciprocal().Mul(s);
}
