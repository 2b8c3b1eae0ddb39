namespace Fovea.Onnx;

/// <summary>
/// A value known when the graph is loaded (or once the input's shape is known): shape arithmetic, pads, axes,
/// Constant nodes. Held as doubles (int64 shape values fit exactly below 2^53), with the ONNX element type kept so
/// that Cast and Div round the way ONNX does. Small by nature, so the plain N-d loops here are fast enough.
/// </summary>
internal sealed class ConstTensor
{
    public ConstTensor(double[] data, int[] shape, bool isInteger)
    {
        if (Shapes.Count(shape) != data.Length)
            throw new InvalidDataException($"constant of shape {Shapes.Format(shape)} holds {data.Length} values");
        Data = data;
        Shape = shape;
        IsInteger = isInteger;
    }

    public double[] Data { get; }
    public int[] Shape { get; }
    public bool IsInteger { get; }
    public int Rank => Shape.Length;

    public static ConstTensor Ints(params long[] values) => new(Array.ConvertAll(values, v => (double)v), [values.Length], true);

    public long[] ToLongs() => Array.ConvertAll(Data, v => (long)v);
    public int[] ToInts() => Array.ConvertAll(Data, v => checked((int)v));

    public Tensor ToTensor()
    {
        if (IsInteger) return Tensor.FromArray(ToLongs(), (int[])Shape.Clone());
        return Tensor.FromArray(Array.ConvertAll(Data, v => (float)v), (int[])Shape.Clone());
    }

    public static ConstTensor FromTensor(Tensor t) =>
        t.DType == DType.Int64
            ? new ConstTensor(Array.ConvertAll(t.ToLongArray(), v => (double)v), t.Shape, true)
            : new ConstTensor(Array.ConvertAll(t.ToArray(), v => (double)v), t.Shape, false);

    private static int[] Strides(int[] shape) => Shapes.ContiguousStrides(shape);

    /// <summary>Walks every index of <paramref name="outShape"/> in C order, giving the flat source offset for each.</summary>
    private static double[] Gather(int[] outShape, Func<int[], int> source, double[] src)
    {
        int n = Shapes.Count(outShape);
        var y = new double[n];
        var idx = new int[outShape.Length];
        for (int i = 0; i < n; i++)
        {
            y[i] = src[source(idx)];
            for (int d = outShape.Length - 1; d >= 0; d--)
            {
                if (++idx[d] < outShape[d]) break;
                idx[d] = 0;
            }
        }
        return y;
    }

    public ConstTensor Reshape(int[] shape) => new(Data, shape, IsInteger);

    public ConstTensor Transpose(int[] perm)
    {
        var st = Strides(Shape);
        var outShape = perm.Select(p => Shape[p]).ToArray();
        return new ConstTensor(Gather(outShape, idx =>
        {
            int o = 0;
            for (int d = 0; d < idx.Length; d++) o += idx[d] * st[perm[d]];
            return o;
        }, Data), outShape, IsInteger);
    }

    /// <summary>ONNX Slice on one axis: start/end clamped, negative steps walking backwards.</summary>
    public ConstTensor Slice(int axis, long start, long end, long step)
    {
        var (s, count) = SliceRange(Shape[axis], start, end, step);
        var outShape = (int[])Shape.Clone();
        outShape[axis] = count;
        var st = Strides(Shape);
        return new ConstTensor(Gather(outShape, idx =>
        {
            int o = 0;
            for (int d = 0; d < idx.Length; d++) o += (d == axis ? s + idx[d] * (int)step : idx[d]) * st[d];
            return o;
        }, Data), outShape, IsInteger);
    }

    /// <summary>ONNX's Slice clamping rules for one axis of size <paramref name="dim"/>: (first index, count).</summary>
    public static (int Start, int Count) SliceRange(int dim, long start, long end, long step)
    {
        if (step == 0) throw new InvalidDataException("Slice step must not be 0");
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            return ((int)start, (int)Math.Max(0, (end - start + step - 1) / step));
        }
        start = Math.Clamp(start, 0, dim - 1);
        end = Math.Clamp(end, -1, dim - 1);
        return ((int)start, (int)Math.Max(0, (start - end + (-step) - 1) / (-step)));
    }

    public static ConstTensor Concat(IReadOnlyList<ConstTensor> parts, int axis)
    {
        var outShape = (int[])parts[0].Shape.Clone();
        outShape[axis] = parts.Sum(p => p.Shape[axis]);
        int outer = 1;
        for (int d = 0; d < axis; d++) outer *= outShape[d];
        var y = new List<double>(Shapes.Count(outShape));
        for (int o = 0; o < outer; o++)
            foreach (var p in parts)
            {
                int block = p.Data.Length / Math.Max(outer, 1);
                y.AddRange(new ArraySegment<double>(p.Data, o * block, block));
            }
        return new ConstTensor(y.ToArray(), outShape, parts.All(p => p.IsInteger));
    }

    public ConstTensor GatherAxis(ConstTensor indices, int axis)
    {
        int dim = Shape[axis];
        var outShape = Shape[..axis].Concat(indices.Shape).Concat(Shape[(axis + 1)..]).ToArray();
        var st = Strides(Shape);
        int ir = indices.Rank;
        var ist = Strides(indices.Shape);
        return new ConstTensor(Gather(outShape, idx =>
        {
            int o = 0;
            for (int d = 0; d < axis; d++) o += idx[d] * st[d];
            int flat = 0;
            for (int d = 0; d < ir; d++) flat += idx[axis + d] * ist[d];
            long k = (long)indices.Data[flat];
            if (k < 0) k += dim;
            o += (int)k * st[axis];
            for (int d = axis + 1; d < Shape.Length; d++) o += idx[d + ir - 1] * st[d];
            return o;
        }, Data), outShape, IsInteger);
    }

    public static ConstTensor Binary(ConstTensor a, ConstTensor b, Func<double, double, double> f, bool? integerResult = null)
    {
        var shape = Shapes.Broadcast(a.Shape, b.Shape);
        var sa = Shapes.BroadcastStrides(a.Shape, Strides(a.Shape), shape);
        var sb = Shapes.BroadcastStrides(b.Shape, Strides(b.Shape), shape);
        int n = Shapes.Count(shape);
        var y = new double[n];
        var idx = new int[shape.Length];
        for (int i = 0; i < n; i++)
        {
            int oa = 0, ob = 0;
            for (int d = 0; d < shape.Length; d++) { oa += idx[d] * sa[d]; ob += idx[d] * sb[d]; }
            y[i] = f(a.Data[oa], b.Data[ob]);
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return new ConstTensor(y, shape, integerResult ?? (a.IsInteger && b.IsInteger));
    }

    public ConstTensor Map(Func<double, double> f, bool? integerResult = null) =>
        new(Array.ConvertAll(Data, v => f(v)), Shape, integerResult ?? IsInteger);
}
